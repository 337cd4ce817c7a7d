/**
 * A revoked commitment confirmed (BOLT 5): the justice transaction takes the cheater's to_local and
 * every HTLC output with the revocation key, at once, batched under the weight limit; and the output
 * of an HTLC transaction the cheater raced us with is taken too. On a playground chain, so the whole
 * consensus path (scripts, locks, amounts) checks them.
 */
import { describe, expect, it } from 'vitest';
import { derivePubkey } from '../../../core/tx/keys.ts';
import { openChannel, TO_SELF_DELAY } from '../../helpers/monitor-channel.ts';
import type { Channel } from '../../helpers/monitor-channel.ts';
import { buildJustice, htlcSecondStage, ourCommitmentSecrets, revokedCommitmentInputs, revokedCommitmentSecrets, revokedSecondStageInputs } from '../../../core/monitor/index.ts';
import type { Built } from '../../../core/monitor/index.ts';

function htlcSpecs(n: number) {
  return Array.from({ length: n }, (_, i) => ({ fromA: i % 2 === 0, amountSat: 3_000n + BigInt(i) * 7n, cltvDelta: 100 + (i % 40) }));
}

async function confirmAll(ch: Channel, txs: Built[]): Promise<void> {
  for (const t of txs) ch.chain.acceptToMempool(t.tx.toHex());
  await ch.mine(1);
  for (const t of txs) expect(ch.chain.txHeight(t.txid)).toBe(ch.chain.height);
}

describe.each([false, true])('justice (anchors: %s)', (anchors) => {
  it.each([0, 1, 30, 483])('takes to_local and all of %i HTLC outputs of a revoked commitment', async (n) => {
    const ch = await openChannel({ anchors });
    const revoked = ch.commitment('B', 4n, ch.htlcs(htlcSpecs(n)), { feeratePerKw: 253 });
    // B moved on to commitment 5 and revealed the secret of 4; then published 4.
    await ch.confirm(revoked.tx);
    const { revocationSecret } = revokedCommitmentSecrets(ch.A.secrets, ch.B.secret(4n));
    const inputs = revokedCommitmentInputs({ commitmentTxid: revoked.txid, outputs: revoked.commitment.outputs, revocationSecret });
    const outs = revoked.commitment.outputs;
    expect(inputs.length).toBe(1 + n);
    const r = buildJustice({ inputs, sweepTo: ch.wallet.script, feeratePerKw: 1000 });
    expect(r.notBuilt).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.built.length).toBe(1);
    if (n <= 30) ch.interpret(r.built[0]!.tx, [revoked.tx]);
    // At once: no delay in nSequence, no locktime.
    expect(r.built[0]!.tx.locktime).toBe(0);
    await confirmAll(ch, r.built);
    const taken = outs.filter((o) => o.kind === 'to_local' || o.kind === 'htlc').reduce((a, o) => a + o.amountSat, 0n);
    const fees = r.built.reduce((a, b) => a + b.feeSat, 0n);
    expect(r.built.reduce((a, b) => a + b.sweptSat, 0n)).toBe(taken - fees);
    for (const b of r.built) expect(b.feeSat).toBeGreaterThanOrEqual(BigInt(b.weight));
  }, 120_000);

  it('splits a batch that would pass the weight limit into several transactions', async () => {
    const ch = await openChannel({ anchors });
    const revoked = ch.commitment('B', 4n, ch.htlcs(htlcSpecs(483)), { feeratePerKw: 253 });
    await ch.confirm(revoked.tx);
    const { revocationSecret } = revokedCommitmentSecrets(ch.A.secrets, ch.B.secret(4n));
    const inputs = revokedCommitmentInputs({ commitmentTxid: revoked.txid, outputs: revoked.commitment.outputs, revocationSecret });
    const r = buildJustice({ inputs, sweepTo: ch.wallet.script, feeratePerKw: 1000, maxWeight: 60_000 });
    expect(r.built.length).toBeGreaterThan(3);
    for (const b of r.built) expect(b.weight).toBeLessThanOrEqual(60_000);
    // to_local goes in the first one, and every output is spent exactly once.
    expect(r.built[0]!.tx.ins[0]!.index).toBe(revoked.commitment.outputs.findIndex((o) => o.kind === 'to_local'));
    const spent = r.built.flatMap((b) => b.tx.ins.map((i) => i.index)).sort((a, b) => a - b);
    expect(spent).toEqual(inputs.map((i) => i.outpoint.vout).sort((a, b) => a - b));
    await confirmAll(ch, r.built);
  }, 120_000);

  it('leaves out an output worth less than its input costs, and says so', async () => {
    const ch = await openChannel({ anchors });
    const revoked = ch.commitment('B', 4n, ch.htlcs([{ fromA: true, amountSat: 2_000n, cltvDelta: 50 }, { fromA: false, amountSat: 40_000n, cltvDelta: 50 }]), { feeratePerKw: 253 });
    const { revocationSecret } = revokedCommitmentSecrets(ch.A.secrets, ch.B.secret(4n));
    const inputs = revokedCommitmentInputs({ commitmentTxid: revoked.txid, outputs: revoked.commitment.outputs, revocationSecret });
    // At 10,000 sat/kw a revoked HTLC input (~410 weight) costs more than 2,000 sat.
    const r = buildJustice({ inputs, sweepTo: ch.wallet.script, feeratePerKw: 10_000 });
    expect(r.skipped.map((s) => s.valueSat)).toEqual([2_000n]);
    expect(r.built[0]!.tx.ins.length).toBe(2);
  });

  it("takes the output of an HTLC transaction the cheater published from its revoked commitment", async () => {
    const ch = await openChannel({ anchors });
    const htlcs = ch.htlcs([{ fromA: true, amountSat: 30_000n, cltvDelta: 50 }, { fromA: false, amountSat: 20_000n, cltvDelta: 50 }]);
    const revoked = ch.commitment('B', 4n, htlcs, { feeratePerKw: 1000 });
    await ch.confirm(revoked.tx);
    // B knows the preimage of the HTLC A offered it, and races us with its HTLC-success transaction.
    const vout = revoked.commitment.outputs.findIndex((o) => o.kind === 'htlc' && !o.htlc.offered);
    const o = revoked.commitment.outputs[vout]!;
    if (o.kind !== 'htlc') throw new Error('not an HTLC output');
    const bKeys = ourCommitmentSecrets(ch.B.secrets, revoked.point);
    const coins = anchors ? await ch.walletCoins(1, 50_000n) : [];
    const cheat = htlcSecondStage({
      commitmentTxid: revoked.txid,
      output: { vout, valueSat: o.amountSat, witnessScript: o.witnessScript, htlc: o.htlc },
      anchors,
      commitmentFeeratePerKw: revoked.feeratePerKw,
      toSelfDelay: TO_SELF_DELAY,
      revocationPubkey: revoked.keys.revocationPubkey,
      localDelayedPubkey: revoked.keys.localDelayedPubkey,
      localHtlcSecret: bKeys.htlcSecret,
      remoteHtlcSig: revoked.remoteHtlcSigs.get(vout)!,
      preimage: htlcs[0]!.preimage,
      ...(anchors ? { fees: { feeratePerKw: 2000, coins, changeScript: ch.wallet.script, signer: ch.signer } } : {}),
    });
    if (!cheat.ok) throw new Error(cheat.message);
    await ch.confirm(cheat.tx);

    const { revocationSecret, theirPoint } = revokedCommitmentSecrets(ch.A.secrets, ch.B.secret(4n));
    const second = revokedSecondStageInputs({ htlcTx: cheat.tx, revocationSecret, theirDelayedPubkey: derivePubkey(ch.B.bp.delayedPaymentBasepoint, theirPoint), toSelfDelay: TO_SELF_DELAY });
    expect(second.map((i) => i.outpoint.vout)).toEqual([0]);
    const rest = revokedCommitmentInputs({ commitmentTxid: revoked.txid, outputs: revoked.commitment.outputs, revocationSecret, spentVouts: new Set([vout]) });
    const r = buildJustice({ inputs: [...rest, ...second], sweepTo: ch.wallet.script, feeratePerKw: 1000 });
    expect(r.built.length).toBe(1);
    ch.interpret(r.built[0]!.tx, [revoked.tx, cheat.tx]);
    // Well before the cheater's own delay runs out.
    await confirmAll(ch, r.built);
    expect(r.built[0]!.sweptSat + r.built[0]!.feeSat).toBe(cheat.tx.outs[0]!.value + rest.reduce((a, i) => a + i.valueSat, 0n));
  });
});
