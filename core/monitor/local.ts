/**
 * Our commitment confirmed (BOLT 5, "Unilateral Close Handling: Local Commitment Transaction"):
 * to_local comes back after to_self_delay; each HTLC goes through its HTLC-timeout (offered, after
 * cltv_expiry) or HTLC-success (received, with the preimage) transaction, whose output comes back
 * after to_self_delay in turn.
 */
import type { CommitmentHtlc } from '../tx/commitment.ts';
import { buildHtlcTx } from '../tx/commitment.ts';
import { attachFeeInputs, signFixed, sweep } from './fees.ts';
import { delayedInput, htlcSecondStageInput } from './inputs.ts';
import type { ScriptOutput } from './inputs.ts';
import type { BuildResult, OutPoint, WalletCoin, WalletSigner } from './types.ts';
import { SweepInputError } from './types.ts';

export interface DelayedSweepOptions {
  /** Our commitment's to_local, or output 0 of one of our HTLC transactions. */
  output: ScriptOutput;
  toSelfDelay: number;
  /** derivePrivkey(delayed_payment_basepoint_secret, our per-commitment point). */
  delayedSecret: Uint8Array;
  sweepTo: Uint8Array;
  feeratePerKw: number;
}

/** Sweeps a to_local-style output of ours once to_self_delay blocks have passed since it confirmed. */
export function sweepDelayed(o: DelayedSweepOptions): BuildResult {
  return sweep({ inputs: [delayedInput({ ...o.output, toSelfDelay: o.toSelfDelay, delayedSecret: o.delayedSecret })], sweepTo: o.sweepTo, feeratePerKw: o.feeratePerKw });
}

export interface SecondStageOptions {
  commitmentTxid: string;
  /** The HTLC output of our commitment. */
  output: { vout: number; valueSat: bigint; witnessScript: Uint8Array; htlc: CommitmentHtlc };
  anchors: boolean;
  /** The commitment's feerate: without anchors the HTLC transaction's fee follows from it (BOLT 3). */
  commitmentFeeratePerKw: number;
  toSelfDelay: number;
  revocationPubkey: Uint8Array;
  localDelayedPubkey: Uint8Array;
  /** derivePrivkey(htlc_basepoint_secret, our per-commitment point). */
  localHtlcSecret: Uint8Array;
  /** The peer's signature for this HTLC transaction from its commitment_signed, with the sighash byte. */
  remoteHtlcSig: Uint8Array;
  /** Required for HTLC-success. */
  preimage?: Uint8Array;
  /**
   * option_anchors: the HTLC transaction pays no fee of its own, so wallet coins are added to pay
   * `feeratePerKw`. Absent, the zero-fee transaction is returned as it is (it can only be mined with
   * a child that pays for it). Ignored without anchors, where the fee is part of what the peer signed.
   */
  fees?: { feeratePerKw: number; coins: readonly WalletCoin[]; changeScript: Uint8Array; signer: WalletSigner };
}

/** What comes out of an HTLC transaction: its output 0, to sweep after the delay (or to be revoked). */
export type SecondStage = BuildResult & { secondStage?: { outpoint: OutPoint; valueSat: bigint; witnessScript: Uint8Array } };

/**
 * Our HTLC-timeout (nLockTime = cltv_expiry) or HTLC-success transaction, fully signed: the peer's
 * stored signature and ours, and with anchors the fee inputs and change.
 */
export function htlcSecondStage(o: SecondStageOptions): SecondStage {
  const h = o.output.htlc;
  if (o.output.valueSat !== h.amountMsat / 1000n) throw new SweepInputError(`HTLC output ${o.output.vout} holds ${o.output.valueSat} sat, not the HTLC's ${h.amountMsat / 1000n}`);
  const { tx: unsigned, witnessScriptOut } = buildHtlcTx({
    commitmentTxid: o.commitmentTxid,
    outputIndex: o.output.vout,
    htlc: h,
    feeratePerKw: o.commitmentFeeratePerKw,
    anchors: o.anchors,
    toSelfDelay: o.toSelfDelay,
    revocationPubkey: o.revocationPubkey,
    localDelayedPubkey: o.localDelayedPubkey,
  });
  const out = unsigned.outs[0]!;
  const input = htlcSecondStageInput({
    outpoint: { txid: o.commitmentTxid, vout: o.output.vout },
    valueSat: o.output.valueSat,
    witnessScript: o.output.witnessScript,
    offered: h.offered,
    cltvExpiry: h.cltvExpiry,
    anchors: o.anchors,
    localHtlcSecret: o.localHtlcSecret,
    remoteHtlcSig: o.remoteHtlcSig,
    ...(o.preimage ? { preimage: o.preimage } : {}),
  });
  const fixed = [{ script: out.script, valueSat: out.value }];
  const result = o.anchors && o.fees
    ? attachFeeInputs({ inputs: [input], outputs: fixed, feeratePerKw: o.fees.feeratePerKw, coins: o.fees.coins, changeScript: o.fees.changeScript, signer: o.fees.signer })
    : signFixed([input], fixed, o.commitmentFeeratePerKw);
  if (!result.ok) return result;
  return { ...result, secondStage: { outpoint: { txid: result.txid, vout: 0 }, valueSat: out.value, witnessScript: witnessScriptOut } };
}
