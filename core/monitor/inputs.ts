/**
 * Every way BOLT 5 spends an output of a commitment or HTLC transaction, as a SpendInput: its sequence
 * and locktime (the timelocks the script enforces), the size of its witness before signing, and the
 * witness itself (BOLT 3 gives each stack). The secret handed in is the one the script asks for,
 * already derived (see keys.ts); it is checked against the script before anything is built.
 */
import { crypto as bcrypto } from 'bitcoinjs-lib';
import { secp } from '../crypto/secp256k1.ts';
import { SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY } from '../tx/commitment.ts';
import { p2wpkh, p2wsh } from '../tx/scripts.ts';
import { MAX_SIG_SIZE, SEQUENCE_RBF, witnessSize } from './fees.ts';
import { SweepInputError } from './types.ts';
import type { OutPoint, SpendInput } from './types.ts';

/** A P2WSH output and what it takes to spend it. */
export interface ScriptOutput {
  outpoint: OutPoint;
  valueSat: bigint;
  witnessScript: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const TRUE = Uint8Array.of(1);

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The key a secret gives must be the one in the script (or its hash160, for the revocation path of HTLCs). */
function checkKey(secret: Uint8Array, script: Uint8Array, what: string, hashed = false): Uint8Array {
  const pub = secp.getPublicKey(secret);
  if (!includes(script, hashed ? bcrypto.hash160(pub) : pub)) throw new SweepInputError(`the ${what} key does not match the script of the output it should spend`);
  return pub;
}

function p2wshInput(o: ScriptOutput, label: string, sequence: number, minLocktime: number, items: number[], witness: SpendInput['witness']): SpendInput {
  return { label, outpoint: o.outpoint, valueSat: o.valueSat, prevScript: p2wsh(o.witnessScript), sequence, minLocktime, maxWitnessSize: witnessSize([...items, o.witnessScript.length]), witness };
}

/**
 * A to_local-style output after its delay: our commitment's to_local, or output 0 of our HTLC-timeout
 * or HTLC-success transaction. nSequence = to_self_delay (BIP 68), witness `<local_delayedsig> 0`.
 */
export function delayedInput(o: ScriptOutput & { toSelfDelay: number; delayedSecret: Uint8Array; label?: string }): SpendInput {
  checkKey(o.delayedSecret, o.witnessScript, 'delayed payment');
  if (!Number.isInteger(o.toSelfDelay) || o.toSelfDelay < 1 || o.toSelfDelay > 0xffff) throw new SweepInputError(`to_self_delay ${o.toSelfDelay} is not a block count BIP 68 can express`);
  return p2wshInput(o, o.label ?? 'to_local', o.toSelfDelay, 0, [MAX_SIG_SIZE, 0], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.delayedSecret), EMPTY, o.witnessScript]);
}

/**
 * A revoked to_local-style output (the cheater's to_local, or output 0 of an HTLC transaction it
 * published from a revoked commitment): at once, with the revocation key; witness `<revocation_sig> 1`.
 */
export function revokedDelayedInput(o: ScriptOutput & { revocationSecret: Uint8Array; label?: string }): SpendInput {
  checkKey(o.revocationSecret, o.witnessScript, 'revocation');
  return p2wshInput(o, o.label ?? 'revoked to_local', SEQUENCE_RBF, 0, [MAX_SIG_SIZE, 1], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.revocationSecret), TRUE, o.witnessScript]);
}

/** A revoked commitment's HTLC output, offered or received: witness `<revocation_sig> <revocationpubkey>`. */
export function revokedHtlcInput(o: ScriptOutput & { revocationSecret: Uint8Array; label?: string }): SpendInput {
  const pub = checkKey(o.revocationSecret, o.witnessScript, 'revocation', true);
  return p2wshInput(o, o.label ?? 'revoked htlc', SEQUENCE_RBF, 0, [MAX_SIG_SIZE, 33], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.revocationSecret), pub, o.witnessScript]);
}

/**
 * An HTLC we offered, on the peer's commitment (their received-HTLC script): ours after cltv_expiry,
 * nLockTime = cltv_expiry, witness `<remotehtlcsig> <>`. With anchors the script adds a 1-block CSV.
 */
export function remoteHtlcTimeoutInput(o: ScriptOutput & { cltvExpiry: number; anchors: boolean; htlcSecret: Uint8Array; label?: string }): SpendInput {
  checkKey(o.htlcSecret, o.witnessScript, 'HTLC');
  return p2wshInput(o, o.label ?? 'offered htlc (timeout)', o.anchors ? 1 : SEQUENCE_RBF, o.cltvExpiry, [MAX_SIG_SIZE, 0], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.htlcSecret), EMPTY, o.witnessScript]);
}

/**
 * An HTLC the peer offered us, on its commitment (its offered-HTLC script), claimed with the preimage:
 * witness `<remotehtlcsig> <payment_preimage>`; with anchors, after 1 block (CSV).
 */
export function remoteHtlcSuccessInput(o: ScriptOutput & { preimage: Uint8Array; anchors: boolean; htlcSecret: Uint8Array; label?: string }): SpendInput {
  checkKey(o.htlcSecret, o.witnessScript, 'HTLC');
  if (o.preimage.length !== 32 || !includes(o.witnessScript, bcrypto.ripemd160(bcrypto.sha256(o.preimage)))) throw new SweepInputError('the preimage does not match the payment hash of the HTLC output');
  return p2wshInput(o, o.label ?? 'received htlc (preimage)', o.anchors ? 1 : SEQUENCE_RBF, 0, [MAX_SIG_SIZE, 32], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.htlcSecret), o.preimage, o.witnessScript]);
}

/** The peer's commitment's to_remote under option_anchors: `<remote_sig>`, after 1 block (CSV). */
export function toRemoteAnchorsInput(o: ScriptOutput & { paymentSecret: Uint8Array }): SpendInput {
  checkKey(o.paymentSecret, o.witnessScript, 'payment');
  return p2wshInput(o, 'to_remote', 1, 0, [MAX_SIG_SIZE], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.paymentSecret), o.witnessScript]);
}

/** The peer's commitment's to_remote under option_static_remotekey: a P2WPKH of our payment basepoint. */
export function toRemoteStaticInput(o: { outpoint: OutPoint; valueSat: bigint; paymentSecret: Uint8Array }): SpendInput {
  const pub = secp.getPublicKey(o.paymentSecret);
  // BIP 143: a P2WPKH input is signed over the P2PKH script of its key hash.
  const scriptCode = Uint8Array.from([0x76, 0xa9, 0x14, ...bcrypto.hash160(pub), 0x88, 0xac]);
  return {
    label: 'to_remote',
    outpoint: o.outpoint,
    valueSat: o.valueSat,
    prevScript: p2wpkh(pub),
    sequence: SEQUENCE_RBF,
    minLocktime: 0,
    maxWitnessSize: witnessSize([MAX_SIG_SIZE, 33]),
    witness: (_tx, i, ctx) => [ctx.signAll(i, scriptCode, o.valueSat, o.paymentSecret), pub],
  };
}

/** Our anchor output (option_anchors), spent with our funding key to pay for the commitment (CPFP). */
export function anchorInput(o: ScriptOutput & { fundingSecret: Uint8Array }): SpendInput {
  checkKey(o.fundingSecret, o.witnessScript, 'funding');
  return p2wshInput(o, 'anchor', SEQUENCE_RBF, 0, [MAX_SIG_SIZE], (_tx, i, ctx) => [ctx.signAll(i, o.witnessScript, o.valueSat, o.fundingSecret), o.witnessScript]);
}

/**
 * The HTLC output of our own commitment, spent by its HTLC-timeout or HTLC-success transaction: the
 * 2-of-2 of both HTLC keys, `0 <remotehtlcsig> <localhtlcsig> <payment_preimage or empty>`. The peer's
 * signature came with its commitment_signed (SIGHASH_SINGLE|ANYONECANPAY with anchors, so inputs and
 * outputs may be added after this one); ours is SIGHASH_ALL over the final transaction.
 */
export function htlcSecondStageInput(o: ScriptOutput & {
  offered: boolean;
  cltvExpiry: number;
  anchors: boolean;
  localHtlcSecret: Uint8Array;
  /** The peer's signature with its sighash byte, as it goes in the witness. */
  remoteHtlcSig: Uint8Array;
  preimage?: Uint8Array;
}): SpendInput {
  checkKey(o.localHtlcSecret, o.witnessScript, 'local HTLC');
  const wantType = o.anchors ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL;
  if (o.remoteHtlcSig[o.remoteHtlcSig.length - 1] !== wantType) throw new SweepInputError(`the peer's HTLC signature has sighash type ${o.remoteHtlcSig[o.remoteHtlcSig.length - 1]}, expected ${wantType}`);
  if (!o.offered && (!o.preimage || o.preimage.length !== 32 || !includes(o.witnessScript, bcrypto.ripemd160(bcrypto.sha256(o.preimage))))) {
    throw new SweepInputError('an HTLC-success transaction needs the preimage of the HTLC it claims');
  }
  const last = o.offered ? EMPTY : o.preimage!;
  return p2wshInput(o, o.offered ? 'htlc-timeout' : 'htlc-success', o.anchors ? 1 : 0, o.offered ? o.cltvExpiry : 0, [0, MAX_SIG_SIZE, MAX_SIG_SIZE, last.length], (_tx, i, ctx) => [
    EMPTY,
    o.remoteHtlcSig,
    ctx.signAll(i, o.witnessScript, o.valueSat, o.localHtlcSecret),
    last,
    o.witnessScript,
  ]);
}
