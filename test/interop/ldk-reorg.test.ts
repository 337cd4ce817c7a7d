/**
 * A reorganization that takes away LDK's commitment after Coulomb's sweep of it confirmed (BOLT 5: a
 * claim depends on the blocks it stands on), between Coulomb and a real LDK 0.1 node on one playground
 * chain, static_remotekey. LDK force-closes; Coulomb's to_remote sweep goes out and confirms. Then the
 * blocks from the commitment's up (fewer than the six after which an outcome is final) are
 * disconnected, LDK told of each, the mempool emptied, and empty blocks take their place: our monitor
 * and channel forget the funding spend, LDK sends its commitment again, and once it is mined again our
 * sweep goes out again as the same transaction. In the end every output of the commitment is spent
 * once, nothing we sent spends an outpoint twice, and our wallet gains to_remote less the sweep's fee,
 * to the satoshi.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkOnChain, txidOf } from './ldk/onchain.ts';
import type { LdkOnChain } from './ldk/onchain.ts';
import { startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { waitFor } from '../helpers/daemon.ts';

/** The to_self_delay Coulomb asks of LDK: LDK's to_local waits this long, the reorganization less. */
const DELAY = 8;

describe('a reorganization after our sweep of LDK\'s commitment confirmed', () => {
  let p: CoulombPair;
  let us: TestNode;
  let ldk: LdkNode;
  const d = new LdkEventDriver();
  let h: LdkOnChain;

  beforeAll(async () => {
    p = await startCoulombPair('ldkreorg', DELAY);
    us = p.bob;
    ldk = await startLdkNode({ alias: 'ldk', onEvent: d.onEvent, logLevel: 'info' });
    d.sweepTo = newKey().script;
    h = ldkOnChain({ p, us, ldk, d, ldkPort: await ldk.listen(0, '127.0.0.1') });
    ldk.syncTo(h.tip(), h.blockAt);
    await p.a().playground_faucet({ addr: (await us.node.handlers().newaddress({})).address, amt: 5_000_000 });
    await h.mine(1);
  }, 60_000);

  afterAll(async () => {
    await ldk?.stop();
    await p?.close();
  });

  it('LDK\'s commitment mined again: our sweep goes out again as the same transaction, every output spent once, to the satoshi', { timeout: 90_000 }, async () => {
    const point = await h.openToLdk(1_000_000, 300_000);
    const before = await p.confirmed(us);
    const r = ldk.channelManager.force_close_broadcasting_latest_txn(h.ldkChannel(point)!.get_channel_id(), Buffer.from(us.node.nodeId, 'hex'), 'test: force close');
    expect(r.is_ok()).toBeTruthy();
    ldk.processEvents();
    const commitment = h.ldkCommitment(point);
    expect(commitment, 'LDK broadcast its commitment').toBeDefined();
    const commitTxid = commitment!.getId();
    await h.mine(1);
    const commitHeight = h.tip();
    expect(h.txOnChain(commitTxid)).toBeDefined();
    const toRemoteVout = commitment!.outs.findIndex((o) => o.script.length === 22);
    const toRemote = `${commitTxid}:${toRemoteVout}`;

    // Our to_remote sweep, confirmed.
    const sweepOnChain = () => Object.values(h.monitorOf(point).chain.claims).find((c) => c.id === `to_remote:${toRemote}` && h.txOnChain(c.txid));
    while (!sweepOnChain() || !h.monitorOf(point).chain.spends[toRemote]) {
      if (h.tip() > commitHeight + 3) throw new Error(`to_remote not swept by ${h.tip()}: ${h.describe(point)}`);
      await h.mine(1);
      await waitFor('our monitor to read the block', () => (h.monitorOf(point).chain.height === h.tip() ? true : undefined), 10_000);
    }
    const picture = () => Object.fromEntries(Object.values(h.monitorOf(point).chain.claims).map((c) => [c.id, c.txid]));
    const claimsBefore = picture();
    // Beside the sweep, our own commitment, planned when we learnt of the close and never mined.
    expect(Object.keys(claimsBefore).sort()).toEqual(['commitment:0', `to_remote:${toRemote}`]);
    const sweepTxid = sweepOnChain()!.txid;
    const depth = h.tip() - commitHeight + 1;
    expect(depth).toBeLessThan(6);

    // Back past the commitment: empty blocks take the place of those lost. Our node sends its own
    // commitment again as soon as the funding output is free (the channel failed when LDK closed it);
    // it is held back here until LDK's is mined again, as a miner that took LDK's would.
    const hold = { on: true, refused: [] as string[] };
    const br = us.node.chain.broadcaster;
    const send = br.broadcast.bind(br);
    br.broadcast = (txHex: string) => {
      if (!hold.on) return send(txHex);
      hold.refused.push(Transaction.fromHex(txHex).getId());
      return Promise.reject(new Error('held back by the test'));
    };
    await h.reorg(commitHeight);
    expect(h.pg().txHeight(commitTxid)).toBeUndefined();
    expect(h.pg().txHeight(sweepTxid)).toBeUndefined();
    expect(ldk.fedHeight).toBe(commitHeight - 1);
    await p.mine(2);
    ldk.syncTo(h.tip(), h.blockAt);
    await waitFor('our monitor and channel to forget the funding spend', () => {
      const m = h.monitorOf(point);
      if (m.chain.height === h.tip() && !m.chain.fundingSpend && Object.keys(m.chain.spends).length === 0 && !h.chanOf(point)?.state.forceClose?.txid) return true;
      throw new Error(`monitor at ${m.chain.height} of ${h.tip()}: ${h.describe(point)}; channel's ${h.chanOf(point)?.state.forceClose?.txid}`);
    }, 10_000);
    expect(h.phaseOf(point)).toBe('FORCE_CLOSING');

    // LDK sends its commitment again; it is mined again.
    await waitFor('LDK to send its commitment again', () => (h.ldkCommitment(point)?.getId() === commitTxid ? true : undefined), 10_000);
    await h.mine(1);
    hold.on = false;
    const newHeight = h.tip();
    expect(h.pg().txHeight(commitTxid)).toBe(newHeight);
    await waitFor('our monitor to see the commitment again', () => (h.monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);

    // Until both sides are done: LDK's to_local after DELAY, swept to its key.
    await h.untilBothDone(point, newHeight, newHeight + DELAY + 20, 0);
    expect(picture()).toEqual(claimsBefore);
    expect(h.pg().txHeight(sweepTxid)).toBeGreaterThan(newHeight - 1);

    // Every output of the commitment spent once, ours by the same sweep; nothing we sent spends an outpoint twice.
    for (let v = 0; v < commitment!.outs.length; v++) expect(h.takersOf(commitTxid, v, newHeight), `output ${v} spent once`).toHaveLength(1);
    expect(h.takersOf(commitTxid, toRemoteVout, newHeight)[0]!.getId()).toBe(sweepTxid);
    h.coulombSpentOnce();
    const book = new TxBook();
    book.add(commitment!);
    const sweep = book.add(h.txOnChain(sweepTxid)!);
    expect(sweep.ins.map((i) => `${txidOf(i)}:${i.index}`)).toEqual([toRemote]);
    expect(await p.confirmed(us)).toBe(before + commitment!.outs[toRemoteVout]!.value - book.feeOf(sweep));
    const closed = (await us.node.handlers().closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('REMOTE_FORCE_CLOSE');
    expect(d.errors).toEqual([]);
  });
});
