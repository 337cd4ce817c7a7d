/**
 * The chain monitor with the peer's commitment on chain (BOLT 5), over a playground chain with real
 * transactions: its current commitment (to_remote, HTLCs with the preimage at once or learned later,
 * ours by timeout, a preimage the peer reveals told at once), a revoked one (justice takes everything,
 * and again after the cheater's HTLC transaction won a race), and a reorg that takes our commitment
 * away after our sweep was published (planned again from the new chain, nothing swept twice).
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { openChannel, TO_SELF_DELAY } from '../../helpers/monitor-channel.ts';
import type { Channel, SignedCommitment, TestHtlc } from '../../helpers/monitor-channel.ts';
import { Driver, htlcOf, monitorData } from '../../helpers/monitor-driver.ts';
import { ANTI_REORG_DELAY, feeForWeight, htlcSecondStage, ourCommitmentSecrets } from '../../../core/monitor/index.ts';

const FEERATE = 1000;
const env = (ch: Channel) => ({ secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE });
const prevOf = (t: Transaction, i = 0) => `${Buffer.from(t.ins[i]!.hash).reverse().toString('hex')}:${t.ins[i]!.index}`;
const walletSum = (ch: Channel) => ch.chain.coinsFor(ch.wallet.script).reduce((a, c) => a + c.coin.value, 0n);

/**
 * A channel without HTLCs at commitment 7 that we force-closed, our commitment confirmed at `h0`;
 * `remote` is the peer's commitment 7, for a chain that takes ours away.
 */
async function forceClosedWithoutHtlcs() {
  const ch = await openChannel({ anchors: false });
  const local = ch.commitment('A', 7n, []);
  const remote = ch.commitment('B', 7n, []);
  const d = new Driver(ch, monitorData(ch, { local, localHtlcs: [], remote, remoteHtlcs: [] }), env(ch));
  d.input({ type: 'force_close' });
  await d.mine(1);
  const h0 = ch.chain.txHeight(local.txid)!;
  return { ch, local, remote, d, h0 };
}

/** B publishes its HTLC-success for an HTLC A offered, on its own commitment `c` (revoked or not). */
function peerHtlcSuccess(ch: Channel, c: SignedCommitment, h: TestHtlc): Transaction {
  const vout = c.commitment.outputs.findIndex((o) => o.kind === 'htlc' && o.htlc.id === h.id && !o.htlc.offered);
  const o = c.commitment.outputs[vout]!;
  if (o.kind !== 'htlc') throw new Error('not an HTLC output');
  const r = htlcSecondStage({
    commitmentTxid: c.txid,
    output: { vout, valueSat: o.amountSat, witnessScript: o.witnessScript, htlc: o.htlc },
    anchors: false,
    commitmentFeeratePerKw: c.feeratePerKw,
    toSelfDelay: TO_SELF_DELAY,
    revocationPubkey: c.keys.revocationPubkey,
    localDelayedPubkey: c.keys.localDelayedPubkey,
    localHtlcSecret: ourCommitmentSecrets(ch.B.secrets, c.point).htlcSecret,
    remoteHtlcSig: c.remoteHtlcSigs.get(vout)!,
    preimage: h.preimage,
  });
  if (!r.ok) throw new Error(r.message);
  return r.tx;
}

/** Every sweep to the wallet: its fee is the feerate over its weight, and the wallet holds exactly their outputs. */
function checkSweeps(ch: Channel, d: Driver, inputs: Map<string, bigint>): void {
  let received = 0n;
  const sweeps = d.broadcasts().map((b) => Transaction.fromHex(b.txHex)).filter((t) => ch.chain.txHeight(t.getId()) !== undefined);
  for (const t of sweeps) {
    const value = t.ins.reduce((a, _i, n) => a + inputs.get(prevOf(t, n))!, 0n);
    const fee = value - t.outs[0]!.value;
    expect(fee).toBeGreaterThanOrEqual(feeForWeight(t.weight(), FEERATE));
    expect(fee).toBeLessThanOrEqual(feeForWeight(t.weight() + 2 * t.ins.length, FEERATE));
    received += t.outs[0]!.value;
  }
  expect(walletSum(ch)).toBe(received);
}

describe('chain monitor: the peer\'s commitment', () => {
  it('current: to_remote, HTLCs with the preimage (known, then learned), ours by timeout, the peer\'s preimage told at once', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const [x, y, z, w] = ch.htlcs([
      { fromA: true, amountSat: 20_000n, cltvDelta: 30 },
      { fromA: false, amountSat: 15_000n, cltvDelta: 50 },
      { fromA: false, amountSat: 12_000n, cltvDelta: 60 },
      { fromA: true, amountSat: 25_000n, cltvDelta: 35 },
    ]) as [TestHtlc, TestHtlc, TestHtlc, TestHtlc];
    const htlcs = [x, y, z, w];
    const remote = ch.commitment('B', 7n, htlcs);
    const d = new Driver(ch, monitorData(ch, { local: ch.commitment('A', 7n, htlcs), localHtlcs: htlcs, remote, remoteHtlcs: htlcs, preimages: [y.preimage] }), env(ch));
    await ch.confirm(remote.tx);
    d.sync();
    expect(d.of('funding_spent')).toMatchObject([{ spentBy: 'remote', number: 7n, txid: remote.txid }]);
    expect(d.broadcasts().map((b) => b.label).sort()).toEqual(['htlc 1 (preimage)', 'to_remote']);
    await d.mine(1);

    // B takes x with its preimage: told at once, to settle upstream.
    const cheat = peerHtlcSuccess(ch, remote, x);
    await ch.confirm(cheat);
    d.sync();
    expect(d.of('claimed')).toEqual([{ type: 'claimed', htlc: { id: 0n, incoming: false, paymentHash: x.paymentHash, amountMsat: x.amountMsat }, preimage: x.preimage, txid: cheat.getId() }]);
    // z's preimage comes later (we settled it upstream): claimed at once too.
    d.input({ type: 'update', update: { type: 'preimage', preimage: z.preimage } });
    expect(d.broadcasts().map((b) => b.label)).toContain('htlc 2 (preimage)');
    await d.mine(w.cltvExpiry - ch.chain.height - 1);
    expect(d.broadcasts().map((b) => b.label)).not.toContain('htlc 3 (timeout)');
    await d.mine(1);
    expect(d.broadcasts().map((b) => b.label)).toContain('htlc 3 (timeout)');
    await d.mine(ANTI_REORG_DELAY);
    expect(d.refused).toEqual([]);
    expect(d.of('resolved').map((r) => [r.htlc.id, r.outcome]).sort()).toEqual([[1n, 'succeeded'], [2n, 'succeeded'], [3n, 'failed']]);
    expect(d.of('closed')).toEqual([{ type: 'closed', txid: remote.txid }]);
    const inputs = new Map(remote.commitment.outputs.map((o, vout) => [`${remote.txid}:${vout}`, o.amountSat]));
    checkSweeps(ch, d, inputs);
  });

  it('revoked: justice takes every output, and the output of the HTLC transaction the cheater raced us with', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const [p, q] = ch.htlcs([{ fromA: true, amountSat: 30_000n, cltvDelta: 50 }, { fromA: false, amountSat: 20_000n, cltvDelta: 50 }]) as [TestHtlc, TestHtlc];
    const revoked = ch.commitment('B', 4n, [p, q]);
    const current = ch.commitment('B', 5n, []);
    const data = monitorData(ch, { local: ch.commitment('A', 5n, []), localHtlcs: [], remote: current, remoteHtlcs: [], revoked: [{ htlc: htlcOf(p), from: 3n, to: 4n }, { htlc: htlcOf(q), from: 4n, to: 4n }] });
    const d = new Driver(ch, data, env(ch));
    // Our penalty is held back: the cheater gets its HTLC-success in first.
    d.hold = true;
    await ch.confirm(revoked.tx);
    d.sync();
    expect(d.of('funding_spent')).toMatchObject([{ spentBy: 'revoked', number: 4n }]);
    const first = d.broadcasts().filter((b) => b.label === 'justice');
    expect(first).toHaveLength(1);
    expect(Transaction.fromHex(first[0]!.txHex).ins).toHaveLength(3); // to_local and both HTLC outputs
    const cheat = peerHtlcSuccess(ch, revoked, p);
    await ch.confirm(cheat);
    d.hold = false;
    d.sync();
    // The preimage the cheater revealed settles p upstream; the penalty now takes its HTLC transaction's output.
    expect(d.of('claimed')).toMatchObject([{ htlc: { id: 0n, incoming: false }, preimage: p.preimage }]);
    const justice = d.broadcasts().filter((b) => b.label === 'justice');
    expect(justice).toHaveLength(2);
    const j = Transaction.fromHex(justice[1]!.txHex);
    expect(j.ins.map((_i, n) => prevOf(j, n))).toContain(`${cheat.getId()}:0`);
    expect(j.ins).toHaveLength(3);
    await d.mine(1);
    expect(ch.chain.txHeight(justice[1]!.txid)).toBe(ch.chain.height);
    expect(ch.chain.txHeight(first[0]!.txid)).toBeUndefined();
    await d.mine(ANTI_REORG_DELAY);
    expect(d.of('resolved')).toMatchObject([{ htlc: { id: 0n, incoming: false }, outcome: 'failed' }]);
    expect(d.of('closed')).toHaveLength(1);
    // To the satoshi: to_local, q's output, the cheater's HTLC transaction output, and to_remote, less the fees.
    const inputs = new Map(revoked.commitment.outputs.map((o, vout) => [`${revoked.txid}:${vout}`, o.amountSat]));
    inputs.set(`${cheat.getId()}:0`, cheat.outs[0]!.value);
    checkSweeps(ch, d, inputs);
    const taken = revoked.commitment.outputs.filter((o) => o.kind !== 'htlc' || o.htlc.offered).reduce((a, o) => a + o.amountSat, 0n) + cheat.outs[0]!.value;
    const fees = d.broadcasts().filter((b) => ch.chain.txHeight(b.txid) !== undefined).reduce((a, b) => a + Transaction.fromHex(b.txHex).ins.reduce((s, _i, n) => s + inputs.get(prevOf(Transaction.fromHex(b.txHex), n))!, 0n) - Transaction.fromHex(b.txHex).outs[0]!.value, 0n);
    expect(walletSum(ch)).toBe(taken - fees);
  });

  it('a reorg that takes our commitment away after our sweep was published: planned again from the new chain, nothing swept twice', { timeout: 60_000 }, async () => {
    const { ch, local, remote, d, h0 } = await forceClosedWithoutHtlcs();
    await d.mine(TO_SELF_DELAY);
    const sweep = d.broadcasts().find((b) => b.label === 'to_local')!;
    expect(ch.chain.txHeight(sweep.txid)).toBeDefined();
    const mark = d.actions.length;

    // The blocks from our commitment's on are replaced by a branch where the peer's commitment confirms.
    d.hold = true;
    await d.reorgTo(h0 - 1);
    expect(d.state.chain.fundingSpend).toBeUndefined();
    expect(d.state.chain.spends).toEqual({});
    // While the commitment was still in, its sweep went out again, the same transaction; once it was
    // out, our commitment goes out again (held here), and its sweep no more.
    const during = d.of('broadcast', mark);
    for (const b of during.filter((x) => x.label === 'to_local')) expect(b.txid).toBe(sweep.txid);
    expect(during.at(-1)!.label).toBe('our commitment 7');
    const reorged = d.actions.length;
    ch.chain.evict(local.txid);
    await ch.confirm(remote.tx);
    d.hold = false;
    d.sync();
    expect(d.of('funding_spent', mark)).toMatchObject([{ spentBy: 'remote', txid: remote.txid }]);
    await d.mine(ANTI_REORG_DELAY);
    const after = d.of('broadcast', reorged).filter((b) => b.label !== 'our commitment 7');
    expect([...new Set(after.map((b) => b.label))]).toEqual(['to_remote']);
    expect(after.some((b) => b.txid === sweep.txid)).toBe(false);
    expect(ch.chain.txHeight(sweep.txid)).toBeUndefined();
    expect(d.of('closed')).toEqual([{ type: 'closed', txid: remote.txid }]);
    const toRemote = remote.commitment.outputs.find((o) => o.kind === 'to_remote')!;
    checkSweeps(ch, d, new Map([[`${remote.txid}:${remote.commitment.outputs.indexOf(toRemote)}`, toRemote.amountSat]]));
  });

  it('a reorg that takes our commitment away and mines it again: the funding spend is told again, at its new height', { timeout: 60_000 }, async () => {
    const { ch, local, d, h0 } = await forceClosedWithoutHtlcs();
    expect(d.of('funding_spent')).toMatchObject([{ spentBy: 'local', txid: local.txid }]);
    await d.mine(2);
    const mark = d.actions.length;
    // The commitment's block and those after it leave; an empty block comes first, then the commitment.
    d.hold = true;
    await d.reorgTo(h0 - 1);
    ch.chain.evict(local.txid);
    d.hold = false;
    await d.mine(2);
    expect(ch.chain.txHeight(local.txid)).toBe(h0 + 1);
    // The channel forgot the spend with the block (the shell tells it); it must hear of it again.
    expect(d.of('funding_spent', mark)).toMatchObject([{ spentBy: 'local', txid: local.txid }]);
    expect(d.state.chain.fundingSpend?.height).toBe(h0 + 1);
  });
});
