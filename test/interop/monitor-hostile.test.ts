/**
 * The chain monitor when things go wrong (BOLT 5, issue "bad input"), between two Coulomb nodes on a
 * standalone playground chain:
 * - bitcoind goes away mid-resolution: Alice's commitment is confirmed, then her chain source cannot
 *   reach bitcoind while the blocks that free her to_local are mined; she says so and goes on, and once
 *   bitcoind is back she takes those blocks in, sweeps to_local, and her wallet gains it to the satoshi;
 * - an error in one channel's monitor does not stop the others: with two channels force-closed, one
 *   monitor fails at every block (its keys made unreadable) and says so, while the other channel is
 *   swept and closed as if nothing happened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startCoulombPair } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';

const DELAY = 6;
const prevOf = (i: Transaction['ins'][number]): string => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;

interface LiveMonitors {
  live: Map<string, { state: MonitorState; secrets: unknown }>;
}
const monitorsOf = (t: TestNode): LiveMonitors => (t.node as unknown as { unlocked: { monitors: LiveMonitors } }).unlocked.monitors;
const stateOf = (t: TestNode, key: string): MonitorState => monitorsOf(t).live.get(key)!.state;
const phaseOf = (t: TestNode, key: string): string => t.node.channels.get(key)!.state.phase;

describe('the chain monitor when things go wrong', () => {
  let p: CoulombPair | undefined;
  afterEach(async () => {
    p?.chain?.test.pg.setReachable(true);
    await p?.close();
    p = undefined;
  });

  /** What Alice's wallet got from her claims on chain: their outputs to her, less the wallet coins they spent. */
  const walletNet = (claims: { txHex: string }[], wallet: (o: string) => bigint | undefined, isMine: (script: Uint8Array) => boolean): bigint => {
    let net = 0n;
    for (const c of claims) {
      const tx = Transaction.fromHex(c.txHex);
      for (const o of tx.outs) if (isMine(o.script)) net += o.value;
      for (const i of tx.ins) net -= wallet(prevOf(i)) ?? 0n;
    }
    return net;
  };

  it('bitcoind goes away mid-resolution: the node waits, then sweeps what came due, to the satoshi', { timeout: 180_000 }, async () => {
    p = await startCoulombPair('away', DELAY, { chain: 'standalone' });
    const { alice } = p;
    const pg = p.chain!.test.pg;
    await p.openChannel(1_000_000, 200_000);
    const key = alice.node.channels.list()[0]!.key;
    const before = await p.confirmed(alice);
    const a = p.a();
    const { closing_txid } = await a.closechannel({ chan_point: (await a.listchannels({})).channels[0]!.channel_point, force: true });
    await p.mine(1);
    await waitFor("Alice's monitor to see her commitment", () => (stateOf(alice, key).chain.fundingSpend?.txid === closing_txid ? true : undefined), 10_000);
    const seenAt = stateOf(alice, key).chain.height;

    // bitcoind goes away; the chain goes on without her: every block her to_local waited for is mined.
    pg.setReachable(false);
    await pg.chain.mine(DELAY + 2, pg.faucet.script);
    await alice.node.chain.source.poke().catch(() => undefined);
    await waitFor("Alice's node to say bitcoind is out of reach", () => (alice.node.chain.source.status().error ? true : undefined), 30_000);
    expect(stateOf(alice, key).chain.height).toBe(seenAt);
    expect(Object.values(stateOf(alice, key).chain.claims).some((c) => c.label === 'to_local')).toBe(false);

    // Back: the blocks are taken in, to_local is swept, and once that is final the channel is closed.
    pg.setReachable(true);
    await p.sync();
    await waitFor("Alice's node to be back in sync", () => (!alice.node.chain.source.status().error && stateOf(alice, key).chain.height === pg.chain.height ? true : undefined), 30_000);
    const sweep = await waitFor('the to_local sweep to be published', () => Object.values(stateOf(alice, key).chain.claims).find((c) => c.label === 'to_local'), 10_000);
    await waitFor('the sweep in the mempool', () => (pg.chain.mempool.has(sweep.txid) ? true : undefined), 10_000);
    for (let n = 0; n < 10 && phaseOf(alice, key) !== 'CLOSED'; n++) {
      await p.mine(1);
      await waitFor('Alice to take the block in', () => (stateOf(alice, key)?.chain.height === pg.chain.height || phaseOf(alice, key) === 'CLOSED' ? true : undefined), 10_000);
    }
    expect(phaseOf(alice, key)).toBe('CLOSED');
    p.chain!.sentSpendsOnce();
    // Her wallet gained what her claims (the sweep, and a CPFP child if one was needed) left her.
    const claims = Object.values(stateOf(alice, key).chain.claims).filter((c) => pg.chain.txHeight(c.txid) !== undefined);
    expect(claims.map((c) => c.label)).toContain('to_local');
    const w = (alice.node as unknown as { unlocked: { wallet: { coinValue(txid: string, vout: number): bigint | undefined; isMine(s: Uint8Array): boolean } } }).unlocked.wallet;
    const net = walletNet(claims, (o) => w.coinValue(o.slice(0, 64), Number(o.slice(65))), (s) => w.isMine(s));
    await waitFor("Alice's wallet to hold the sweep", async () => ((await p!.confirmed(alice)) === before + net ? true : undefined), 10_000);
    expect(net).toBeGreaterThan(700_000n);
  });

  it("an error in one channel's monitor does not stop the others", { timeout: 180_000 }, async () => {
    p = await startCoulombPair('isolated', DELAY, { chain: 'standalone' });
    const { alice, bob } = p;
    const pg = p.chain!.test.pg;
    await p.openChannel(1_000_000, 200_000);
    const a = p.a();
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 500_000, private: true });
    await p.mine(3);
    await waitFor('both channels active on both sides', async () => ((await a.listchannels({})).channels.filter((c) => c.active).length === 2 && (await p!.b().listchannels({})).channels.filter((c) => c.active).length === 2 ? true : undefined), 30_000);
    const [broken, healthy] = alice.node.channels.list().map((c) => c.key) as [string, string];
    for (const c of (await a.listchannels({})).channels) await a.closechannel({ chan_point: c.channel_point, force: true });
    await p.mine(1);
    await waitFor('both commitments seen', () => (stateOf(alice, broken).chain.fundingSpend && stateOf(alice, healthy).chain.fundingSpend ? true : undefined), 10_000);

    // One monitor's keys become unreadable: it fails at every block from now on.
    const live = monitorsOf(alice).live.get(broken)!;
    live.secrets = new Proxy({}, {
      get: () => {
        throw new Error('the keys of this channel cannot be read');
      },
    });
    const from = alice.logs.length;
    for (let n = 0; n < DELAY + 12 && phaseOf(alice, healthy) !== 'CLOSED'; n++) {
      await p.mine(1);
      await waitFor('Alice to take the block in', () => (stateOf(alice, healthy)?.chain.height === pg.chain.height || phaseOf(alice, healthy) === 'CLOSED' ? true : undefined), 10_000);
    }
    expect(phaseOf(alice, healthy)).toBe('CLOSED');
    const swept = Object.values(stateOf(alice, healthy).chain.claims).find((c) => c.label === 'to_local')!;
    expect(pg.chain.txHeight(swept.txid)).toBeDefined();
    // The broken one said what failed, each block, and decided nothing more.
    expect(alice.logs.slice(from).filter((l) => l.includes(`the chain monitor of channel ${broken} failed on block_connected`)).length).toBeGreaterThan(DELAY);
    expect(Object.values(stateOf(alice, broken).chain.claims).some((c) => c.label === 'to_local')).toBe(false);
    expect(phaseOf(alice, broken)).toBe('FORCE_CLOSING');
  });
});
