/**
 * Our commitment confirmed (BOLT 5): to_local after to_self_delay, HTLC-timeout after cltv_expiry,
 * HTLC-success with the preimage (with anchors, fee inputs added from the wallet), and the HTLC
 * transactions' outputs after the delay; each checked by the script interpreter and by a playground
 * chain's mempool and blocks, timelocks included.
 */
import { describe, expect, it } from 'vitest';
import { openChannel, TO_SELF_DELAY } from '../../helpers/monitor-channel.ts';
import { delayedInput, htlcSecondStage, ourCommitmentSecrets, sweep, sweepDelayed } from '../../../core/monitor/index.ts';
import type { Built, BuildResult } from '../../../core/monitor/index.ts';

function ok(r: BuildResult): Built {
  if (!r.ok) throw new Error(`expected a transaction: ${r.message}`);
  return r;
}

/** The fee paid covers the feerate over the signed weight, and not grossly more. */
function expectFee(r: Built, feeratePerKw: number): void {
  expect(r.feeSat).toBeGreaterThanOrEqual(BigInt(Math.ceil((feeratePerKw * r.weight) / 1000)));
  expect(r.feeSat).toBeLessThanOrEqual(BigInt(Math.ceil((feeratePerKw * (r.weight + 40)) / 1000)));
}

describe.each([false, true])('our commitment confirmed (anchors: %s)', (anchors) => {
  it('sweeps to_local only after to_self_delay blocks, with nSequence = to_self_delay', async () => {
    const ch = await openChannel({ anchors });
    const c = ch.commitment('A', 7n, ch.htlcs([{ fromA: true, amountSat: 20_000n, cltvDelta: 40 }, { fromA: false, amountSat: 15_000n, cltvDelta: 50 }]));
    await ch.confirm(c.tx);
    const vout = c.commitment.outputs.findIndex((o) => o.kind === 'to_local');
    const out = c.commitment.outputs[vout]!;
    const { delayedSecret } = ourCommitmentSecrets(ch.A.secrets, c.point);
    const output = { outpoint: { txid: c.txid, vout }, valueSat: out.amountSat, witnessScript: out.witnessScript! };
    const r = ok(sweepDelayed({ output, toSelfDelay: TO_SELF_DELAY, delayedSecret, sweepTo: ch.wallet.script, feeratePerKw: 2000 }));
    expect(r.tx.ins[0]!.sequence).toBe(TO_SELF_DELAY);
    expect(r.sweptSat).toBe(out.amountSat - r.feeSat);
    expectFee(r, 2000);
    ch.interpret(r.tx, [c.tx]);

    // One block short in nSequence: the script's CHECKSEQUENCEVERIFY refuses it.
    const short = delayedInput({ ...output, toSelfDelay: TO_SELF_DELAY, delayedSecret });
    const early = ok(sweep({ inputs: [{ ...short, sequence: TO_SELF_DELAY - 1 }], sweepTo: ch.wallet.script, feeratePerKw: 2000 }));
    expect(() => ch.interpret(early.tx, [c.tx])).toThrow(/mandatory-script-verify-flag-failed/);

    // The right sweep waits for the delay on chain (BIP 68).
    await ch.mine(TO_SELF_DELAY - 2);
    expect(() => ch.chain.acceptToMempool(r.tx.toHex())).toThrow(/non-BIP68-final/);
    await ch.mine(1);
    await ch.confirm(r.tx);
    expect(ch.chain.coin(r.txid, 0)?.value).toBe(r.sweptSat);
  });

  it('HTLC-timeout after cltv_expiry and HTLC-success with the preimage, then their outputs after the delay', async () => {
    const ch = await openChannel({ anchors });
    const htlcs = ch.htlcs([{ fromA: true, amountSat: 20_000n, cltvDelta: 30 }, { fromA: false, amountSat: 15_000n, cltvDelta: 50 }]);
    const c = ch.commitment('A', 7n, htlcs);
    await ch.confirm(c.tx);
    const { htlcSecret, delayedSecret } = ourCommitmentSecrets(ch.A.secrets, c.point);
    const coins = anchors ? await ch.walletCoins(2, 100_000n) : [];
    const second = (offered: boolean, withFees: boolean) => {
      const vout = c.commitment.outputs.findIndex((o) => o.kind === 'htlc' && o.htlc.offered === offered);
      const o = c.commitment.outputs[vout]!;
      if (o.kind !== 'htlc') throw new Error('not an HTLC output');
      const preimage = offered ? undefined : htlcs.find((h) => h.id === o.htlc.id && !h.fromA)!.preimage;
      return htlcSecondStage({
        commitmentTxid: c.txid,
        output: { vout, valueSat: o.amountSat, witnessScript: o.witnessScript, htlc: o.htlc },
        anchors,
        commitmentFeeratePerKw: c.feeratePerKw,
        toSelfDelay: TO_SELF_DELAY,
        revocationPubkey: c.keys.revocationPubkey,
        localDelayedPubkey: c.keys.localDelayedPubkey,
        localHtlcSecret: htlcSecret,
        remoteHtlcSig: c.remoteHtlcSigs.get(vout)!,
        ...(preimage ? { preimage } : {}),
        ...(withFees ? { fees: { feeratePerKw: 3000, coins: coins.slice(offered ? 0 : 1, offered ? 1 : 2), changeScript: ch.wallet.script, signer: ch.signer } } : {}),
      });
    };

    // HTLC-success goes at once.
    const success = ok(second(false, anchors));
    ch.interpret(success.tx, [c.tx, ...coinParents(ch, success)]);
    if (anchors) {
      expect(success.tx.ins.length).toBe(2);
      expect(success.tx.outs.length).toBe(2);
      expectFee(success, 3000);
      // Without fee inputs it pays nothing and cannot be relayed on its own.
      const bare = ok(second(false, false));
      expect(bare.feeSat).toBe(0n);
      expect(() => ch.chain.acceptToMempool(bare.tx.toHex())).toThrow(/min relay fee not met/);
    }
    await ch.confirm(success.tx);

    // HTLC-timeout: nLockTime = cltv_expiry, so not before; and the peer's signature covers that locktime.
    const timeout = ok(second(true, anchors));
    const expiry = htlcs[0]!.cltvExpiry;
    expect(timeout.tx.locktime).toBe(expiry);
    ch.interpret(timeout.tx, [c.tx, ...coinParents(ch, timeout)]);
    expect(() => ch.chain.acceptToMempool(timeout.tx.toHex())).toThrow(/non-final/);
    const forged = timeout.tx.clone();
    forged.locktime = expiry - 10;
    expect(() => ch.interpret(forged, [c.tx, ...coinParents(ch, timeout)])).toThrow(/mandatory-script-verify-flag-failed/);
    await ch.mine(expiry - ch.chain.height - 1);
    expect(() => ch.chain.acceptToMempool(timeout.tx.toHex())).toThrow(/non-final/);
    await ch.mine(1);
    await ch.confirm(timeout.tx);

    // Both second-stage outputs come back after to_self_delay (the timeout's just confirmed, so not yet).
    const sweeps = [success, timeout].map((s) => {
      const stage = (s as ReturnType<typeof htlcSecondStage> & Built).secondStage!;
      const r = ok(sweepDelayed({ output: stage, toSelfDelay: TO_SELF_DELAY, delayedSecret, sweepTo: ch.wallet.script, feeratePerKw: 1000 }));
      ch.interpret(r.tx, [s.tx]);
      return r;
    });
    expect(() => ch.chain.acceptToMempool(sweeps[1]!.tx.toHex())).toThrow(/non-BIP68-final/);
    await ch.mine(TO_SELF_DELAY - 1);
    for (const r of sweeps) ch.chain.acceptToMempool(r.tx.toHex());
    await ch.mine(1);
    for (const r of sweeps) expect(ch.chain.txHeight(r.txid)).toBe(ch.chain.height);
  });

  it('says dust, not a crash, when the fee would eat the output', async () => {
    const ch = await openChannel({ anchors });
    const c = ch.commitment('A', 1n, []);
    const vout = c.commitment.outputs.findIndex((o) => o.kind === 'to_local');
    const out = c.commitment.outputs[vout]!;
    const { delayedSecret } = ourCommitmentSecrets(ch.A.secrets, c.point);
    const r = sweepDelayed({ output: { outpoint: { txid: c.txid, vout }, valueSat: 1_000n, witnessScript: out.witnessScript! }, toSelfDelay: TO_SELF_DELAY, delayedSecret, sweepTo: ch.wallet.script, feeratePerKw: 5000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('dust');
    expect(r.message).toMatch(/below the 294 sat dust limit/);
  });
});

/** The wallet coins' parents of a transaction (faucet transactions on the playground chain). */
function coinParents(ch: Awaited<ReturnType<typeof openChannel>>, r: Built) {
  return r.tx.ins.slice(1).map((i) => {
    const id = Buffer.from(i.hash).reverse().toString('hex');
    const h = ch.chain.txHeight(id)!;
    return ch.chain.entries[h]!.block.transactions!.find((t) => t.getId() === id)!;
  });
}
