/**
 * The one justice transaction a version 0 kit stands for, built the same way by the client (which
 * signs it) and by the tower (which adds the witness and publishes it): the revoked commitment's
 * to_local output, found by its script (BOLT 3 to_local with the kit's keys and delay), spent with the
 * revocation key (witness `<revocation_sig> 1 <script>`, BOLT 5) into one output paying the client's
 * sweep script, less the fee at the session's feerate. Version 2, nLockTime 0, nSequence 0xfffffffd.
 *
 * Everything is fixed by the kit, the commitment and the session, so the client's SIGHASH_ALL
 * signature covers the whole transaction: the tower cannot change where the money goes or the fee.
 */
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import { secp } from '../crypto/secp256k1.ts';
import { p2wsh, toLocalScript } from '../tx/scripts.ts';
import { SIGHASH_ALL } from '../tx/commitment.ts';
import { dustLimit, estimateWeight, feeForWeight, MAX_SIG_SIZE, SEQUENCE_RBF, witnessSize } from '../monitor/fees.ts';
import { bytesEqual, hex } from '../util/bytes.ts';
import type { JusticeKit } from './blob.ts';

export interface JusticeOutput {
  /** The revoked commitment's txid (as shown) and its to_local output. */
  txid: string;
  vout: number;
  valueSat: bigint;
}

export interface JusticePlan {
  tx: Transaction;
  witnessScript: Uint8Array;
  valueSat: bigint;
  feeSat: bigint;
}

/** Why a kit gives no transaction for a commitment: the tower skips it, the client does not send it. */
export class JusticeError extends Error {
  constructor(
    readonly reason: 'no_output' | 'dust' | 'bad_signature',
    message: string,
  ) {
    super(message);
    this.name = 'JusticeError';
  }
}

/** The to_local witness script the kit describes. */
export function kitScript(k: Pick<JusticeKit, 'revocationPubkey' | 'csvDelay' | 'localDelayedPubkey'>): Uint8Array {
  return toLocalScript(k.revocationPubkey, k.csvDelay, k.localDelayedPubkey);
}

/** The unsigned justice transaction for the to_local output `out` at `feeratePerKw`. */
export function justiceTx(k: Pick<JusticeKit, 'sweepScript' | 'revocationPubkey' | 'csvDelay' | 'localDelayedPubkey'>, out: JusticeOutput, feeratePerKw: number): JusticePlan {
  const witnessScript = kitScript(k);
  const feeSat = feeForWeight(estimateWeight([witnessSize([MAX_SIG_SIZE, 1, witnessScript.length])], [k.sweepScript]), feeratePerKw);
  const valueSat = out.valueSat - feeSat;
  if (valueSat < dustLimit(k.sweepScript)) throw new JusticeError('dust', `the revoked to_local of ${out.valueSat} sat leaves ${valueSat} sat after a ${feeSat} sat fee, below the dust limit`);
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = 0;
  tx.addInput(Uint8Array.from(hex.decode(out.txid)).reverse(), out.vout, SEQUENCE_RBF);
  tx.addOutput(k.sweepScript, valueSat);
  return { tx, witnessScript, valueSat, feeSat };
}

/** The client's side: its signature (compact, 64 bytes) for the kit, with the revocation secret it never hands out. */
export function signJustice(plan: JusticePlan, out: JusticeOutput, revocationSecret: Uint8Array): Uint8Array {
  const digest = plan.tx.hashForWitnessV0(0, plan.witnessScript, out.valueSat, SIGHASH_ALL);
  return secp.sign(digest, revocationSecret);
}

/** The revoked commitment's output the kit spends, by script: none when the kit is not for this transaction. */
export function findToLocal(k: JusticeKit, commitment: Transaction): JusticeOutput | undefined {
  const script = p2wsh(kitScript(k));
  const vout = commitment.outs.findIndex((o) => bytesEqual(o.script, script));
  return vout < 0 ? undefined : { txid: commitment.getId(), vout, valueSat: commitment.outs[vout]!.value };
}

/**
 * The tower's side: the justice transaction for a breach, signed (the client's signature checked
 * against the revocation key before it is used), ready to publish.
 */
export function assembleJustice(k: JusticeKit, commitment: Transaction, feeratePerKw: number): { tx: Transaction; feeSat: bigint; valueSat: bigint } {
  const out = findToLocal(k, commitment);
  if (!out) throw new JusticeError('no_output', `transaction ${commitment.getId()} has no to_local output with the kit's keys`);
  const plan = justiceTx(k, out, feeratePerKw);
  const digest = plan.tx.hashForWitnessV0(0, plan.witnessScript, out.valueSat, SIGHASH_ALL);
  if (!secp.verify(k.toLocalSig, digest, k.revocationPubkey)) throw new JusticeError('bad_signature', 'the kit\'s signature does not sign the justice transaction under its revocation key');
  plan.tx.setWitness(0, [bscript.signature.encode(k.toLocalSig, SIGHASH_ALL), Uint8Array.of(1), plan.witnessScript]);
  return { tx: plan.tx, feeSat: plan.feeSat, valueSat: plan.valueSat };
}
