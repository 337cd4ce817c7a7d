/**
 * BOLT 3 commitment and HTLC transactions, for option_static_remotekey and option_anchors (zero-fee
 * HTLC transactions). Pure: keys and amounts in, unsigned transactions and output descriptions out.
 * "Local" is the side whose commitment this is; it can spend to_local after the delay.
 */
import { Transaction, script as bscript } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { secp } from '../crypto/secp256k1.ts';
import { obscuredCommitment } from './keys.ts';
import { anchorScript, compareBytes, fundingScript, offeredHtlcScript, p2wpkh, p2wsh, receivedHtlcScript, toLocalScript, toRemoteAnchorsScript } from './scripts.ts';

export const ANCHOR_SAT = 330n;

/** Weights BOLT 3 uses for fees. */
export const WEIGHT = {
  commitment: 724,
  commitmentAnchors: 1124,
  htlcOutput: 172,
  htlcTimeout: 663,
  htlcSuccess: 703,
  htlcTimeoutAnchors: 666,
  htlcSuccessAnchors: 706,
} as const;

export interface CommitmentHtlc {
  id: bigint;
  /** Offered by the local side (local → remote), from this commitment's point of view. */
  offered: boolean;
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
}

export interface CommitmentKeys {
  revocationPubkey: Uint8Array;
  localDelayedPubkey: Uint8Array;
  localHtlcPubkey: Uint8Array;
  remoteHtlcPubkey: Uint8Array;
  /** option_static_remotekey: the remote payment_basepoint itself. */
  remotePaymentPubkey: Uint8Array;
}

export interface CommitmentParams {
  funding: { txid: string; vout: number; amountSat: bigint; localPubkey: Uint8Array; remotePubkey: Uint8Array };
  commitmentNumber: bigint;
  obscuringFactor: bigint;
  toSelfDelay: number;
  dustLimitSat: bigint;
  feeratePerKw: number;
  anchors: boolean;
  /** Whether the local side opened the channel (and so pays the fee and the anchors). */
  localIsFunder: boolean;
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  htlcs: CommitmentHtlc[];
  keys: CommitmentKeys;
}

export type CommitmentOutput =
  | { kind: 'to_local' | 'to_remote' | 'anchor_local' | 'anchor_remote'; amountSat: bigint; script: Uint8Array; witnessScript?: Uint8Array }
  | { kind: 'htlc'; amountSat: bigint; script: Uint8Array; witnessScript: Uint8Array; htlc: CommitmentHtlc };

export interface Commitment {
  tx: Transaction;
  /** Outputs in transaction order. */
  outputs: CommitmentOutput[];
  feeSat: bigint;
  fundingScript: Uint8Array;
}

/** The HTLC transaction's fee at this feerate (zero with anchors: fees come from CPFP). */
export function htlcTxFee(offered: boolean, feeratePerKw: number, anchors: boolean): bigint {
  if (anchors) return 0n;
  return BigInt(Math.floor((feeratePerKw * (offered ? WEIGHT.htlcTimeout : WEIGHT.htlcSuccess)) / 1000));
}

/** BOLT 3 trimming: an HTLC whose output (after its HTLC transaction's fee) would be dust is left out. */
export function isTrimmed(h: CommitmentHtlc, dustLimitSat: bigint, feeratePerKw: number, anchors: boolean): boolean {
  return h.amountMsat / 1000n < dustLimitSat + htlcTxFee(h.offered, feeratePerKw, anchors);
}

export function commitmentFee(untrimmedHtlcs: number, feeratePerKw: number, anchors: boolean): bigint {
  const weight = (anchors ? WEIGHT.commitmentAnchors : WEIGHT.commitment) + WEIGHT.htlcOutput * untrimmedHtlcs;
  return BigInt(Math.floor((feeratePerKw * weight) / 1000));
}

export function buildCommitment(p: CommitmentParams): Commitment {
  const { keys, anchors } = p;
  const untrimmed = p.htlcs.filter((h) => !isTrimmed(h, p.dustLimitSat, p.feeratePerKw, anchors));
  const fee = commitmentFee(untrimmed.length, p.feeratePerKw, anchors);
  const anchorCost = anchors ? 2n * ANCHOR_SAT : 0n;
  // The funder pays the fee (and the anchors); amounts are rounded down to whole satoshis.
  let toLocal = p.toLocalMsat / 1000n;
  let toRemote = p.toRemoteMsat / 1000n;
  if (p.localIsFunder) toLocal -= fee + anchorCost;
  else toRemote -= fee + anchorCost;

  const outs: (CommitmentOutput & { cltv: number })[] = [];
  if (toLocal >= p.dustLimitSat) {
    const ws = toLocalScript(keys.revocationPubkey, p.toSelfDelay, keys.localDelayedPubkey);
    outs.push({ kind: 'to_local', amountSat: toLocal, script: p2wsh(ws), witnessScript: ws, cltv: 0 });
  }
  if (toRemote >= p.dustLimitSat) {
    if (anchors) {
      const ws = toRemoteAnchorsScript(keys.remotePaymentPubkey);
      outs.push({ kind: 'to_remote', amountSat: toRemote, script: p2wsh(ws), witnessScript: ws, cltv: 0 });
    } else {
      outs.push({ kind: 'to_remote', amountSat: toRemote, script: p2wpkh(keys.remotePaymentPubkey), cltv: 0 });
    }
  }
  if (anchors) {
    // An anchor for each side that has something at stake in this transaction.
    if (toLocal >= p.dustLimitSat || untrimmed.length) {
      const ws = anchorScript(p.funding.localPubkey);
      outs.push({ kind: 'anchor_local', amountSat: ANCHOR_SAT, script: p2wsh(ws), witnessScript: ws, cltv: 0 });
    }
    if (toRemote >= p.dustLimitSat || untrimmed.length) {
      const ws = anchorScript(p.funding.remotePubkey);
      outs.push({ kind: 'anchor_remote', amountSat: ANCHOR_SAT, script: p2wsh(ws), witnessScript: ws, cltv: 0 });
    }
  }
  const hk = { revocationPubkey: keys.revocationPubkey, localHtlcPubkey: keys.localHtlcPubkey, remoteHtlcPubkey: keys.remoteHtlcPubkey };
  for (const h of untrimmed) {
    const ws = h.offered ? offeredHtlcScript(hk, h.paymentHash, anchors) : receivedHtlcScript(hk, h.paymentHash, h.cltvExpiry, anchors);
    outs.push({ kind: 'htlc', amountSat: h.amountMsat / 1000n, script: p2wsh(ws), witnessScript: ws, htlc: h, cltv: h.cltvExpiry });
  }
  // BIP 69 order (amount, then script), with cltv_expiry breaking ties between identical HTLC outputs.
  outs.sort((a, b) => (a.amountSat < b.amountSat ? -1 : a.amountSat > b.amountSat ? 1 : compareBytes(a.script, b.script) || a.cltv - b.cltv));

  const { locktime, sequence } = obscuredCommitment(p.commitmentNumber, p.obscuringFactor);
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = locktime;
  tx.addInput(Uint8Array.from(hex.decode(p.funding.txid)).reverse(), p.funding.vout, sequence);
  for (const o of outs) tx.addOutput(o.script, o.amountSat);
  return {
    tx,
    outputs: outs.map(({ cltv: _cltv, ...o }) => o as CommitmentOutput),
    feeSat: fee,
    fundingScript: fundingScript(p.funding.localPubkey, p.funding.remotePubkey),
  };
}

export interface HtlcTxParams {
  commitmentTxid: string;
  outputIndex: number;
  htlc: CommitmentHtlc;
  feeratePerKw: number;
  anchors: boolean;
  toSelfDelay: number;
  revocationPubkey: Uint8Array;
  localDelayedPubkey: Uint8Array;
}

/**
 * HTLC-timeout (for an HTLC we offered: locktime = cltv_expiry) or HTLC-success (for one we received),
 * paying into a to_local-style output so the other side can still punish a revoked state.
 */
export function buildHtlcTx(p: HtlcTxParams): { tx: Transaction; witnessScriptOut: Uint8Array } {
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = p.htlc.offered ? p.htlc.cltvExpiry : 0;
  tx.addInput(Uint8Array.from(hex.decode(p.commitmentTxid)).reverse(), p.outputIndex, p.anchors ? 1 : 0);
  const ws = toLocalScript(p.revocationPubkey, p.toSelfDelay, p.localDelayedPubkey);
  tx.addOutput(p2wsh(ws), p.htlc.amountMsat / 1000n - htlcTxFee(p.htlc.offered, p.feeratePerKw, p.anchors));
  return { tx, witnessScriptOut: ws };
}

export const SIGHASH_ALL = Transaction.SIGHASH_ALL;
/** What the remote side signs HTLC transactions with under option_anchors, so fees can be added. */
export const SIGHASH_SINGLE_ANYONECANPAY = Transaction.SIGHASH_SINGLE | Transaction.SIGHASH_ANYONECANPAY;

/** A segwit v0 signature over one input: DER plus the sighash byte, as it goes in a witness. */
export function signInput(tx: Transaction, index: number, witnessScript: Uint8Array, valueSat: bigint, secret: Uint8Array, hashType: number = SIGHASH_ALL): Uint8Array {
  const digest = tx.hashForWitnessV0(index, witnessScript, valueSat, hashType);
  return bscript.signature.encode(secp.sign(digest, secret), hashType);
}

export function verifyInput(tx: Transaction, index: number, witnessScript: Uint8Array, valueSat: bigint, pubkey: Uint8Array, sigWithHashType: Uint8Array): boolean {
  const { signature, hashType } = bscript.signature.decode(sigWithHashType);
  return secp.verify(signature, tx.hashForWitnessV0(index, witnessScript, valueSat, hashType), pubkey);
}
