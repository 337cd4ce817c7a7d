/**
 * Fee bumping of the chain monitor's claims (core/monitor/bump.ts): the feerate schedule from the
 * blocks left, when a new version is due, what makes it a valid replacement (BIP 125), and, over a
 * playground chain, the monitor doing it: our anchors commitment's CPFP child replaced by ones paying
 * more as the estimates rise and the deadline nears (each taken by the mempool in place of the last,
 * the latest mined with the commitment), a justice transaction raised the same way, and an older
 * version of a claim that confirms after all still counted as ours.
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { openChannel } from '../../helpers/monitor-channel.ts';
import type { TestHtlc } from '../../helpers/monitor-channel.ts';
import { Driver, htlcOf, monitorData } from '../../helpers/monitor-driver.ts';
import { ANTI_REORG_DELAY, buildReplacement, bumpTarget, claimVersion, isValidReplacement, minReplacementFee, scheduledFeerate } from '../../../core/monitor/index.ts';
import type { BuildResult, Claim, FeeEstimates, MonitorEnv } from '../../../core/monitor/index.ts';

const E: FeeEstimates = { urgent: 8000, normal: 4000, economy: 2000 };

/** A builder whose fee is the feerate over a fixed weight, as a sweep's is. */
function fakeBuild(weight: number): (rate: number) => BuildResult {
  return (rate) => {
    const tx = new Transaction();
    tx.addOutput(new Uint8Array(22), BigInt(rate));
    return { ok: true, tx, txid: tx.getId(), weight, feeSat: BigInt(Math.ceil((rate * weight) / 1000)), feeratePerKw: rate, sweptSat: 0n };
  };
}

describe('fee schedule and replacement rules', () => {
  it('follows the blocks left: economy far out, normal at 6, urgent at 2, twice urgent at the last block, never falling', () => {
    expect(scheduledFeerate(500, E)).toBe(2000);
    expect(scheduledFeerate(144, E)).toBe(2000);
    expect(scheduledFeerate(6, E)).toBe(4000);
    expect(scheduledFeerate(2, E)).toBe(8000);
    expect(scheduledFeerate(1, E)).toBe(16_000);
    expect(scheduledFeerate(0, E)).toBe(16_000);
    expect(scheduledFeerate(-5, E)).toBe(16_000);
    const mid = scheduledFeerate(30, E);
    expect(mid).toBeGreaterThan(2000);
    expect(mid).toBeLessThan(4000);
    for (const e of [E, { urgent: 1000, normal: 3000, economy: 9000 }]) {
      let last = 0;
      for (let left = 300; left >= -2; left--) {
        const r = scheduledFeerate(left, e);
        expect(r, `${left} blocks left`).toBeGreaterThanOrEqual(last);
        last = r;
      }
    }
  });

  it('bumps only when the schedule asks a quarter more than the last version paid', () => {
    expect(bumpTarget(2000, 200, E)).toBeUndefined();
    expect(bumpTarget(3300, 6, E)).toBeUndefined();
    expect(bumpTarget(3200, 6, E)).toBe(4000);
    expect(bumpTarget(4000, 1, E)).toBe(16_000);
  });

  it('a replacement pays the replaced fee plus 1 sat/vB of its own size, at a higher feerate', () => {
    expect(minReplacementFee({ feeSat: 1000n, weight: 800 }, 801)).toBe(1000n + 201n);
    expect(isValidReplacement({ feeSat: 1000n, weight: 800 }, { feeSat: 1200n, weight: 800 })).toBe(true);
    expect(isValidReplacement({ feeSat: 1000n, weight: 800 }, { feeSat: 1199n, weight: 800 })).toBe(false);
    // More fee in total, but a lower feerate: refused.
    expect(isValidReplacement({ feeSat: 1000n, weight: 400 }, { feeSat: 1500n, weight: 1200 })).toBe(false);
  });

  it('raises the feerate past the target when the target alone would not outbid the version before', () => {
    const build = fakeBuild(1000);
    // The old version paid 3000 sat for 1000 weight (3000 sat/kw); a target of 3100 pays 100 sat more, under the 250 needed.
    const r = buildReplacement(build, 3100, { feeSat: 3000n, weight: 1000 });
    if (!r.ok) throw new Error(r.message);
    expect(r.feeSat).toBeGreaterThanOrEqual(3250n);
    expect(isValidReplacement({ feeSat: 3000n, weight: 1000 }, r)).toBe(true);
    expect(buildReplacement(build, 5000, { feeSat: 3000n, weight: 1000 })).toMatchObject({ feeSat: 5000n });
  });

  it('keeps a version while no bump is due, and a claim stored before fees were kept as it is', () => {
    const build = fakeBuild(1000);
    const first = claimVersion({ id: 'x', label: 'x', deadline: 300, tip: 100, estimates: E, build });
    expect(first.claim).toMatchObject({ feeratePerKw: 2000, feeSat: 2000n, weight: 1000 });
    expect(first.claim!.replaced).toBeUndefined();
    const same = claimVersion({ id: 'x', label: 'x', deadline: 300, tip: 150, estimates: E, build, kept: first.claim! });
    expect(same.claim).toBe(first.claim);
    const near = claimVersion({ id: 'x', label: 'x', deadline: 300, tip: 298, estimates: E, build, kept: first.claim! });
    expect(near.bumped).toBe(true);
    expect(near.claim!.feeratePerKw).toBe(8000);
    expect(near.claim!.replaced).toEqual([first.claim!.txid]);
    const old: Claim = { id: 'x', label: 'x', txid: 'aa'.repeat(32), txHex: '00', deadline: 300 };
    expect(claimVersion({ id: 'x', label: 'x', deadline: 300, tip: 299, estimates: E, build, kept: old }).claim).toBe(old);
  });
});

describe('chain monitor: fees raised as deadlines near', () => {
  it("replaces our anchors commitment's CPFP child as the estimates rise and the deadline nears; the latest is mined with it", { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: true });
    const htlcs = ch.htlcs([{ fromA: true, amountSat: 40_000n, cltvDelta: 30 }]);
    const local = ch.commitment('A', 3n, htlcs, { feeratePerKw: 253 });
    const remote = ch.commitment('B', 3n, htlcs, { feeratePerKw: 253 });
    const coins = await ch.walletCoins(3, 40_000n);
    await ch.mine(1);
    const env: MonitorEnv = { secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: 1000, feerates: { urgent: 1000, normal: 1000, economy: 1000 }, wallet: { get coins() { return coins.filter((c) => ch.chain.coin(c.outpoint.txid, c.outpoint.vout)); }, changeScript: ch.wallet.script, signer: ch.signer } };
    const d = new Driver(ch, monitorData(ch, { local, localHtlcs: htlcs, remote, remoteHtlcs: htlcs }), env);
    const deadline = htlcs[0]!.cltvExpiry;
    const child = (): Claim => d.state.chain.claims[`anchor:${local.txid}`]!;
    const packageRate = (c: Claim): number => Number(((local.commitment.feeSat + c.feeSat!) * 1000n) / BigInt(local.tx.weight() + c.weight!));

    d.input({ type: 'force_close' });
    expect(d.broadcasts().map((b) => b.label)).toEqual(['our commitment 3', 'anchor CPFP child']);
    const v1 = child();
    expect(v1.deadline).toBe(deadline);
    expect(packageRate(v1)).toBeGreaterThanOrEqual(1000);
    expect(ch.chain.mempool.has(v1.txid)).toBe(true);

    // The estimates rise: a new child, a valid replacement the mempool takes in place of the first.
    env.feerates = { ...E };
    const acts = d.input({ type: 'block_connected', height: d.height, spent: [] });
    expect(acts.filter((a) => a.type === 'store')).toHaveLength(1);
    const v2 = child();
    expect(v2.txid).not.toBe(v1.txid);
    expect(v2.replaced).toEqual([v1.txid]);
    expect(packageRate(v2)).toBeGreaterThanOrEqual(scheduledFeerate(deadline - d.height, E));
    expect(isValidReplacement({ feeSat: v1.feeSat!, weight: v1.weight! }, { feeSat: v2.feeSat!, weight: v2.weight! })).toBe(true);
    expect(d.refused).toEqual([]);
    expect(ch.chain.mempool.has(v2.txid)).toBe(true);
    expect(ch.chain.mempool.has(v1.txid)).toBe(false);
    // The same estimates next block: nothing new.
    d.input({ type: 'block_connected', height: d.height, spent: [] });
    expect(child().txid).toBe(v2.txid);

    // Blocks pass with the commitment out of every mempool: at the last block the aggressive rate.
    ch.chain.evict(local.txid);
    d.hold = true;
    await d.mine(deadline - 1 - ch.chain.height);
    // A version at each step of the schedule (normal, urgent, aggressive), each outbidding the last.
    const v3 = child();
    expect(v3.replaced!.slice(0, 2)).toEqual([v1.txid, v2.txid]);
    expect(v3.replaced!.length).toBeGreaterThanOrEqual(3);
    expect(v3.feeratePerKw).toBeGreaterThanOrEqual(2 * E.urgent);
    const anchorVout = local.commitment.outputs.findIndex((o) => o.kind === 'anchor_local');
    const values = new Map([[`${local.txid}:${anchorVout}`, local.commitment.outputs[anchorVout]!.amountSat], ...coins.map((c) => [`${c.outpoint.txid}:${c.outpoint.vout}`, c.valueSat] as const)]);
    const versions = [...v3.replaced!, v3.txid].map((id) => Transaction.fromHex(d.broadcasts().find((b) => b.txid === id)!.txHex));
    const feeOf = (t: Transaction): bigint => t.ins.reduce((a, i) => a + values.get(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`)!, 0n) - t.outs.reduce((a, o) => a + o.value, 0n);
    for (let i = 1; i < versions.length; i++) {
      expect(isValidReplacement({ feeSat: feeOf(versions[i - 1]!), weight: versions[i - 1]!.weight() }, { feeSat: feeOf(versions[i]!), weight: versions[i]!.weight() }), `version ${i + 1}`).toBe(true);
    }
    expect(packageRate(v3)).toBeGreaterThanOrEqual(2 * E.urgent);
    d.hold = false;
    await d.mine(2);
    expect(ch.chain.txHeight(local.txid)).toBeDefined();
    expect(ch.chain.txHeight(v3.txid)).toBe(ch.chain.txHeight(local.txid));
    expect(d.refused).toEqual([]);
    // Every version spent the anchor: one of them confirmed, the others never can.
    for (const v of versions) expect(v.ins.some((i) => Buffer.from(i.hash).reverse().toString('hex') === local.txid && i.index === anchorVout)).toBe(true);
  });

  it('raises the justice transaction, and counts an older version of a claim that confirms as ours', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const [x, y] = ch.htlcs([{ fromA: false, amountSat: 15_000n, cltvDelta: 30 }, { fromA: true, amountSat: 20_000n, cltvDelta: 30 }]) as [TestHtlc, TestHtlc];
    // The peer's current commitment, with an HTLC it offered us whose preimage we know.
    const remote = ch.commitment('B', 7n, [x]);
    const env: MonitorEnv = { secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: 1000, feerates: { urgent: 1000, normal: 1000, economy: 1000 } };
    const d = new Driver(ch, monitorData(ch, { local: ch.commitment('A', 7n, [x]), localHtlcs: [x], remote, remoteHtlcs: [x], preimages: [x.preimage] }), env);
    await ch.confirm(remote.tx);
    d.sync();
    const id = Object.keys(d.state.chain.claims).find((k) => d.state.chain.claims[k]!.label === 'htlc 0 (preimage)')!;
    const v1 = d.state.chain.claims[id]!;
    expect(ch.chain.mempool.has(v1.txid)).toBe(true);
    // The estimates rise; the new version is held back, so the first one is mined instead.
    d.hold = true;
    env.feerates = { ...E };
    d.input({ type: 'block_connected', height: d.height, spent: [] });
    expect(d.state.chain.claims[id]!.replaced).toEqual([v1.txid]);
    await d.mine(1);
    expect(ch.chain.txHeight(v1.txid)).toBe(ch.chain.height);
    d.hold = false;
    await d.mine(ANTI_REORG_DELAY);
    // Ours: the HTLC succeeded (the peer's spend would have failed it).
    expect(d.of('resolved').map((r) => [r.htlc.id, r.outcome])).toEqual([[0n, 'succeeded']]);

    // A revoked commitment of the peer's: justice at the first estimates, then raised and mined.
    const ch2 = await openChannel({ anchors: false });
    const [p] = ch2.htlcs([{ fromA: true, amountSat: 30_000n, cltvDelta: 50 }]) as [TestHtlc];
    const revoked = ch2.commitment('B', 4n, [p]);
    const env2: MonitorEnv = { secrets: ch2.A.secrets, sweepScript: ch2.wallet.script, feeratePerKw: 1000, feerates: { urgent: 1000, normal: 1000, economy: 1000 } };
    const d2 = new Driver(ch2, monitorData(ch2, { local: ch2.commitment('A', 5n, []), localHtlcs: [], remote: ch2.commitment('B', 5n, []), remoteHtlcs: [], revoked: [{ htlc: htlcOf(p), from: 4n, to: 4n }] }), env2);
    await ch2.confirm(revoked.tx);
    d2.sync();
    const justice = (): Claim[] => Object.values(d2.state.chain.claims).filter((c) => c.label === 'justice');
    const j1 = justice()[0]!;
    expect(ch2.chain.mempool.has(j1.txid)).toBe(true);
    env2.feerates = { ...E };
    d2.input({ type: 'block_connected', height: d2.height, spent: [] });
    expect(justice()).toHaveLength(1);
    const j2 = justice()[0]!;
    expect(j2.replaced).toEqual([j1.txid]);
    expect(Transaction.fromHex(j2.txHex).ins).toHaveLength(Transaction.fromHex(j1.txHex).ins.length);
    expect(ch2.chain.mempool.has(j2.txid)).toBe(true);
    await d2.mine(1);
    expect(ch2.chain.txHeight(j2.txid)).toBe(ch2.chain.height);
    expect(d2.refused).toEqual([]);
    void y;
  });
});
