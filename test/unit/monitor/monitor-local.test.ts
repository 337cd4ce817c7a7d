/**
 * The chain monitor with our commitment on chain (BOLT 5), driven block by block over a playground
 * chain with real transactions: published on force-close, HTLC-success at once with the preimage,
 * HTLC-timeout from cltv_expiry, to_local and both second-stage outputs after to_self_delay, each HTLC's
 * outcome told once final, and the channel closed when all is; every satoshi accounted for. Also: a
 * restart between blocks (the store opened again and the monitor read back from it, on the embedded
 * store and on PostgreSQL), and a channel with stale data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { openChannel, TO_SELF_DELAY } from '../../helpers/monitor-channel.ts';
import { Driver, monitorData } from '../../helpers/monitor-driver.ts';
import { ANTI_REORG_DELAY } from '../../../core/monitor/monitor.ts';
import { htlcTxFee } from '../../../core/tx/commitment.ts';
import { feeForWeight } from '../../../core/monitor/index.ts';
import { encodeRecord, loadMonitorState, monitorChainOps, MONITOR_UPDATES_NS } from '../../../core/node/monitor-records.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';

const FEERATE = 1000;

describeEachKvBackend('chain monitor: our commitment, its state on the $name store', (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('publishes it on force-close, then claims every output of ours in its time, to the satoshi, across a restart', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const htlcs = ch.htlcs([
      { fromA: true, amountSat: 20_000n, cltvDelta: 30 },
      { fromA: false, amountSat: 15_000n, cltvDelta: 50 },
    ]);
    const local = ch.commitment('A', 7n, htlcs);
    const remote = ch.commitment('B', 7n, htlcs);
    const data = monitorData(ch, { local, localHtlcs: htlcs, remote, remoteHtlcs: htlcs, preimages: [htlcs[1]!.preimage] });
    const dir = await tempDir('monitor-local');
    cleanup.push(() => removeDir(dir));
    let kv = await backend.open(dir);
    cleanup.push(() => kv.close());
    // The data as the channel's records hold it; the monitor's own part written on each `store`.
    await kv.write([{ type: 'put', ns: MONITOR_UPDATES_NS, key: 'chan:0000000000', value: encodeRecord({ v: 1, u: { type: 'open', params: data.params, local: data.local, remote: data.remote, secrets: data.secrets, preimages: data.preimages } }) }]);
    const d = new Driver(ch, data, { secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE });
    const persist = async (): Promise<void> => kv.write(monitorChainOps('chan', d.state.chain));

    // Force-close: our commitment, signed by both, goes out and confirms.
    const fc = d.input({ type: 'force_close' });
    expect(fc.map((a) => a.type)).toEqual(['store', 'broadcast']);
    expect(fc[1]).toMatchObject({ txid: local.txid });
    await d.mine(1);
    const h0 = ch.chain.txHeight(local.txid)!;
    expect(d.of('funding_spent')).toEqual([{ type: 'funding_spent', txid: local.txid, spentBy: 'local', number: 7n }]);
    // The HTLC we were paid, claimed at once with the preimage; nothing else yet.
    expect(d.broadcasts().map((b) => b.label)).toEqual(['our commitment 7', 'htlc-success 1']);
    await persist();

    // A restart: the store opened again, the monitor read back from it, and on from the next block.
    await kv.close();
    kv = await backend.open(dir);
    const reloaded = (await loadMonitorState(kv, 'chan'))!;
    expect(reloaded.chain).toEqual(d.state.chain);
    expect(reloaded.data).toEqual(d.state.data);
    d.state = reloaded;

    await d.mine(TO_SELF_DELAY - 2);
    expect(d.broadcasts().some((b) => b.label === 'to_local')).toBe(false);
    await d.mine(1);
    // to_local is due once the next block can hold it (BIP 68).
    expect(d.broadcasts().some((b) => b.label === 'to_local')).toBe(true);
    await persist();
    const expiry = htlcs[0]!.cltvExpiry;
    await d.mine(expiry - ch.chain.height - 1);
    expect(d.broadcasts().some((b) => b.label.startsWith('htlc-timeout'))).toBe(false);
    await d.mine(1);
    expect(d.broadcasts().some((b) => b.label.startsWith('htlc-timeout'))).toBe(true);
    // The HTLC-timeout's outcome (fail upstream) only once it is ANTI_REORG_DELAY deep.
    await d.mine(ANTI_REORG_DELAY - 1);
    expect(d.of('resolved').filter((r) => !r.htlc.incoming)).toEqual([]);
    await d.mine(TO_SELF_DELAY + ANTI_REORG_DELAY);
    expect(d.refused).toEqual([]);
    expect(d.of('resolved').map((r) => [r.htlc.id, r.htlc.incoming, r.outcome])).toEqual(expect.arrayContaining([[1n, true, 'succeeded'], [0n, false, 'failed']]));
    expect(d.of('resolved')).toHaveLength(2);
    expect(d.of('closed')).toEqual([{ type: 'closed', txid: local.txid }]);
    // Each output swept exactly once, and no second transaction for any claim.
    const broadcastIds = new Set(d.broadcasts().map((b) => b.txid));
    expect(broadcastIds.size).toBe(Object.keys(d.state.chain.claims).length);
    for (const id of broadcastIds) expect(ch.chain.txHeight(id), id).toBeGreaterThanOrEqual(h0);

    // To the satoshi: what reached the wallet is each output of ours less the BOLT 3 HTLC fee and
    // each sweep's own fee, paid at the feerate over the sweep's weight.
    const outs = local.commitment.outputs;
    const toLocal = outs.find((o) => o.kind === 'to_local')!.amountSat;
    const htlcOut = (offered: boolean) => outs.find((o) => o.kind === 'htlc' && o.htlc.offered === offered)!.amountSat - htlcTxFee(offered, local.feeratePerKw, false);
    const sweeps = d.broadcasts().filter((b) => b.label === 'to_local' || b.label.endsWith('output')).map((b) => Transaction.fromHex(b.txHex));
    expect(sweeps).toHaveLength(3);
    // Each sweep's single input, valued from the transaction it spends: to_local, or an HTLC transaction's output 0.
    const secondStage = new Map(d.broadcasts().filter((b) => b.label.startsWith('htlc-')).map((b) => [b.txid, Transaction.fromHex(b.txHex).outs[0]!.value]));
    expect([...secondStage.values()].sort()).toEqual([htlcOut(true), htlcOut(false)].sort());
    let received = 0n;
    for (const t of sweeps) {
      const prev = Buffer.from(t.ins[0]!.hash).reverse().toString('hex');
      const value = prev === local.txid ? toLocal : secondStage.get(prev)!;
      const fee = value - t.outs[0]!.value;
      expect(t.outs[0]!.script).toEqual(ch.wallet.script);
      // The fee is the feerate over the weight estimated before signing (signatures counted at 73 bytes).
      expect(fee).toBeGreaterThanOrEqual(feeForWeight(t.weight(), FEERATE));
      expect(fee).toBeLessThanOrEqual(feeForWeight(t.weight() + 2, FEERATE));
      received += t.outs[0]!.value;
    }
    expect(ch.chain.coinsFor(ch.wallet.script).reduce((a, c) => a + c.coin.value, 0n)).toBe(received);
  });
}, { backends: ['embedded', 'postgres'] });

describe('chain monitor: our commitment, with stale data', () => {

  it('never publishes our commitment when the peer proved our data stale, and takes to_remote from its', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const local = ch.commitment('A', 3n, []);
    const remote = ch.commitment('B', 3n, []);
    const d = new Driver(ch, monitorData(ch, { local, localHtlcs: [], remote, remoteHtlcs: [] }), { secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE });
    d.input({ type: 'update', update: { type: 'stale' } });
    expect(d.input({ type: 'force_close' })).toEqual([{ type: 'refused', reason: expect.stringMatching(/out of date/) }]);
    await d.mine(3);
    expect(d.broadcasts()).toEqual([]);
    // The peer's commitment 9, later than any we know: to_remote is ours all the same (static_remotekey).
    const later = ch.commitment('B', 9n, []);
    await ch.confirm(later.tx);
    d.sync();
    expect(d.of('funding_spent')).toMatchObject([{ spentBy: 'remote_unknown', number: 9n }]);
    await d.mine(1);
    const sweep = d.broadcasts();
    expect(sweep.map((b) => b.label)).toEqual(['to_remote']);
    const toRemote = later.commitment.outputs.find((o) => o.kind === 'to_remote')!.amountSat;
    const tx = Transaction.fromHex(sweep[0]!.txHex);
    expect(ch.chain.txHeight(sweep[0]!.txid)).toBeDefined();
    expect(tx.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).toEqual([later.txid]);
    expect(toRemote - tx.outs[0]!.value).toBeGreaterThanOrEqual(feeForWeight(tx.weight(), FEERATE));
    expect(toRemote - tx.outs[0]!.value).toBeLessThanOrEqual(feeForWeight(tx.weight() + 2, FEERATE));
    expect(ch.chain.coinsFor(ch.wallet.script).reduce((a, c) => a + c.coin.value, 0n)).toBe(tx.outs[0]!.value);
  });
});
