/**
 * A channel's funding output is watched from the moment it exists, and its spend is recorded from the
 * blocks the node follows (no -txindex, no getrawtransaction): two Coulomb nodes on the playground
 * chain (one of them reaching it as a plain bitcoind over JSON-RPC) open a channel and close it
 * cooperatively; once the closing transaction is mined, each node's chain watch holds the spend with
 * the closing transaction whole, logs it, and still holds it after a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { Outpoint } from '../../core/chain/chain-watch.ts';

describe('the spend of a funding output', () => {
  const nodes: TestNode[] = [];
  afterAll(async () => {
    for (const n of nodes.reverse()) await n.close();
  });

  it('is recorded by both sides with the closing transaction, logged, and kept across a restart', { timeout: 120_000 }, async () => {
    const alice = await startTestNode('spend-alice');
    nodes.push(alice);
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const bob = await startTestNode('spend-bob', undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
    nodes.push(bob);
    const a = alice.node.handlers();
    const b = bob.node.handlers();
    const pokeBoth = async (): Promise<void> => {
      for (const t of [alice, bob]) await t.node.chain.source.poke();
    };
    await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
    await pokeBoth();
    await a.connect({ addr: bob.uri });
    const { funding_txid } = await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000 });
    await a.playground_mine({ blocks: 3 });
    await pokeBoth();
    const active = (h: typeof a) => async () => (await h.listchannels({})).channels.find((c) => c.active)?.channel_point;
    const chanPoint = await waitFor('the channel to be active on both sides', async () => (await active(b)()) && (await active(a)()), 30_000);
    const [txid, vout] = chanPoint.split(':');
    const funding: Outpoint = { txid: txid!, vout: Number(vout) };
    expect(funding.txid).toBe(funding_txid);
    // Registered under the channel's key by both sides, and not spent yet.
    for (const t of [alice, bob]) {
      expect(t.node.chainWatch.ownersOf(funding)).toEqual([t.node.channels.list()[0]!.key]);
      expect(t.node.chainWatch.spend(funding)).toBeUndefined();
    }

    const { closing_txid } = await a.closechannel({ chan_point: chanPoint });
    await a.playground_mine({ blocks: 1 });
    await pokeBoth();
    const height = alice.node.chain.source.status().height;
    for (const t of [alice, bob]) {
      const spend = await waitFor('the spend to be recorded', () => t.node.chainWatch.spend(funding), 30_000);
      expect(spend).toMatchObject({ txid: closing_txid, input: 0, height });
      // The spending transaction whole, as mined (its witness is what a monitor reads).
      const closing = Transaction.fromHex(spend.rawTx);
      expect(closing.getId()).toBe(closing_txid);
      expect(closing.ins[0]!.witness.length).toBeGreaterThan(0);
      expect(t.logs.some((l) => l.includes(`was spent by ${closing_txid}`) && l.includes('the funding output of channel'))).toBe(true);
    }

    // After a restart the spend is still known, from the store.
    await bob.restart();
    expect(bob.node.chainWatch.spend(funding)).toMatchObject({ txid: closing_txid, height });
  });
});
