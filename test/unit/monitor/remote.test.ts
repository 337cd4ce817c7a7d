/**
 * The peer's commitment confirmed (BOLT 5): to_remote into the wallet (one block later with anchors),
 * our offered HTLCs back only after their cltv_expiry, its offered HTLCs claimed with the preimage at
 * once; on a playground chain and through the script interpreter.
 */
import { describe, expect, it } from 'vitest';
import { openChannel } from '../../helpers/monitor-channel.ts';
import { claimRemoteHtlcs, remoteHtlcTimeoutInput, sweep, sweepToRemote, theirCommitmentSecrets, toRemoteAnchorsInput } from '../../../core/monitor/index.ts';
import type { Built, BuildResult } from '../../../core/monitor/index.ts';

function ok(r: BuildResult): Built {
  if (!r.ok) throw new Error(`expected a transaction: ${r.message}`);
  return r;
}

describe.each([false, true])("the peer's commitment confirmed (anchors: %s)", (anchors) => {
  it('sweeps to_remote, claims its offered HTLC with the preimage, and ours after expiry only', async () => {
    const ch = await openChannel({ anchors });
    const htlcs = ch.htlcs([{ fromA: true, amountSat: 25_000n, cltvDelta: 30 }, { fromA: false, amountSat: 18_000n, cltvDelta: 60 }]);
    const c = ch.commitment('B', 9n, htlcs);
    await ch.confirm(c.tx);
    const { htlcSecret, paymentSecret } = theirCommitmentSecrets(ch.A.secrets, c.point);

    // to_remote.
    const tr = c.commitment.outputs.findIndex((o) => o.kind === 'to_remote');
    const trOut = c.commitment.outputs[tr]!;
    const output = { outpoint: { txid: c.txid, vout: tr }, valueSat: trOut.amountSat, ...(trOut.witnessScript ? { witnessScript: trOut.witnessScript } : {}) };
    const toRemote = ok(sweepToRemote({ output, anchors, paymentSecret, sweepTo: ch.wallet.script, feeratePerKw: 1500 }));
    expect(toRemote.tx.ins[0]!.sequence).toBe(anchors ? 1 : 0xfffffffd);
    ch.interpret(toRemote.tx, [c.tx]);
    if (anchors) {
      // Without its one-block CSV, the anchors to_remote script refuses the spend.
      const input = toRemoteAnchorsInput({ outpoint: output.outpoint, valueSat: output.valueSat, witnessScript: trOut.witnessScript!, paymentSecret });
      const noDelay = ok(sweep({ inputs: [{ ...input, sequence: 0 }], sweepTo: ch.wallet.script, feeratePerKw: 1500 }));
      expect(() => ch.interpret(noDelay.tx, [c.tx])).toThrow(/mandatory-script-verify-flag-failed/);
    }
    await ch.confirm(toRemote.tx);

    // Its offered HTLC (received by us): the preimage takes it straight from its commitment.
    const theirs = c.commitment.outputs.findIndex((o) => o.kind === 'htlc' && o.htlc.offered);
    const ours = c.commitment.outputs.findIndex((o) => o.kind === 'htlc' && !o.htlc.offered);
    const at = (vout: number) => ({ outpoint: { txid: c.txid, vout }, valueSat: c.commitment.outputs[vout]!.amountSat, witnessScript: c.commitment.outputs[vout]!.witnessScript! });
    const received = htlcs[1]!;
    const claim = ok(claimRemoteHtlcs({ claims: [{ output: at(theirs), preimage: received.preimage, cltvExpiry: received.cltvExpiry }], anchors, htlcSecret, sweepTo: ch.wallet.script, feeratePerKw: 1500 }));
    expect(claim.tx.locktime).toBe(0);
    ch.interpret(claim.tx, [c.tx]);
    const wrong = { ...received, preimage: new Uint8Array(32) };
    expect(() => claimRemoteHtlcs({ claims: [{ output: at(theirs), preimage: wrong.preimage, cltvExpiry: 0 }], anchors, htlcSecret, sweepTo: ch.wallet.script, feeratePerKw: 1500 })).toThrow(/preimage does not match/);
    await ch.confirm(claim.tx);

    // Our offered HTLC: nLockTime = cltv_expiry; a locktime below it fails the script's CHECKLOCKTIMEVERIFY.
    const offered = htlcs[0]!;
    const timeout = ok(claimRemoteHtlcs({ claims: [{ output: at(ours), cltvExpiry: offered.cltvExpiry }], anchors, htlcSecret, sweepTo: ch.wallet.script, feeratePerKw: 1500 }));
    expect(timeout.tx.locktime).toBe(offered.cltvExpiry);
    ch.interpret(timeout.tx, [c.tx]);
    const input = remoteHtlcTimeoutInput({ ...at(ours), cltvExpiry: offered.cltvExpiry, anchors, htlcSecret });
    const early = ok(sweep({ inputs: [{ ...input, minLocktime: offered.cltvExpiry - 1 }], sweepTo: ch.wallet.script, feeratePerKw: 1500 }));
    expect(() => ch.interpret(early.tx, [c.tx])).toThrow(/mandatory-script-verify-flag-failed/);
    expect(() => ch.chain.acceptToMempool(timeout.tx.toHex())).toThrow(/non-final/);
    await ch.mine(offered.cltvExpiry - ch.chain.height - 1);
    expect(() => ch.chain.acceptToMempool(timeout.tx.toHex())).toThrow(/non-final/);
    await ch.mine(1);
    await ch.confirm(timeout.tx);

    // Everything that was ours on its commitment is in the wallet, less the fees.
    const fees = toRemote.feeSat + claim.feeSat + timeout.feeSat;
    const total = trOut.amountSat + c.commitment.outputs[theirs]!.amountSat + c.commitment.outputs[ours]!.amountSat;
    expect(toRemote.sweptSat + claim.sweptSat + timeout.sweptSat).toBe(total - fees);
  });
});
