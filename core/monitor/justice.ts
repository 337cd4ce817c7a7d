/**
 * A revoked commitment confirmed (BOLT 5, "Revoked Transaction Close Handling"): the peer published a
 * state it gave up the secret of, so its to_local and every HTLC output are ours with the revocation
 * key, at once. The cheater may still race an HTLC output with its own HTLC transaction; the output of
 * that transaction is a to_local-style script with the same revocation key, so it is taken too.
 *
 * The penalty is batched: as many outputs per transaction as fit under Bitcoin Core's standard weight
 * (483 HTLCs each way do not fit in one), largest deadline pressure first (to_local, then the HTLCs in
 * the order given). An output worth less than what spending it costs is left out and reported.
 */
import type { Transaction } from 'bitcoinjs-lib';
import { secp } from '../crypto/secp256k1.ts';
import type { CommitmentOutput } from '../tx/commitment.ts';
import { p2wsh, toLocalScript } from '../tx/scripts.ts';
import { estimateWeight, feeForWeight, inputWeight, MAX_STANDARD_TX_WEIGHT, sweep } from './fees.ts';
import { revokedDelayedInput, revokedHtlcInput } from './inputs.ts';
import type { Built, NotBuilt, SpendInput } from './types.ts';
import { SweepInputError } from './types.ts';

export interface RevokedCommitmentOptions {
  commitmentTxid: string;
  /** The revoked commitment's outputs in transaction order, as buildCommitment gave them. */
  outputs: readonly CommitmentOutput[];
  /** revocationPrivkey(our revocation_basepoint_secret, the per-commitment secret the peer revealed). */
  revocationSecret: Uint8Array;
  /** Outputs already spent (the cheater's HTLC transactions won the race): left out, by index. */
  spentVouts?: ReadonlySet<number>;
}

/** Every output of a revoked commitment the penalty takes: to_local and each HTLC output. */
export function revokedCommitmentInputs(o: RevokedCommitmentOptions): SpendInput[] {
  const toLocal: SpendInput[] = [];
  const htlcs: SpendInput[] = [];
  o.outputs.forEach((out, vout) => {
    if (o.spentVouts?.has(vout)) return;
    const base = { outpoint: { txid: o.commitmentTxid, vout }, valueSat: out.amountSat, revocationSecret: o.revocationSecret };
    if (out.kind === 'to_local') toLocal.push(revokedDelayedInput({ ...base, witnessScript: out.witnessScript!, label: 'revoked to_local' }));
    if (out.kind === 'htlc') htlcs.push(revokedHtlcInput({ ...base, witnessScript: out.witnessScript, label: `revoked htlc ${out.htlc.id} (${out.htlc.offered ? 'offered' : 'received'} by the peer)` }));
  });
  return [...toLocal, ...htlcs];
}

export interface JusticeOptions {
  inputs: readonly SpendInput[];
  sweepTo: Uint8Array;
  feeratePerKw: number;
  /** Largest weight of one transaction; Bitcoin Core's standard limit when absent. */
  maxWeight?: number;
}

export interface JusticeResult {
  /** The penalty transactions, each signed and independent of the others. */
  built: Built[];
  /** Batches that could not be built (all dust at this feerate). */
  notBuilt: NotBuilt[];
  /** Outputs worth less than the fee their input adds at this feerate. */
  skipped: SpendInput[];
}

/** The justice transactions for these revoked outputs, split to stay under the weight limit. */
export function buildJustice(o: JusticeOptions): JusticeResult {
  const maxWeight = o.maxWeight ?? MAX_STANDARD_TX_WEIGHT;
  const skipped: SpendInput[] = [];
  const batches: SpendInput[][] = [];
  let batch: SpendInput[] = [];
  // The weight of a batch grows by each input's own weight (the input count's varint aside, counted at its largest).
  const empty = estimateWeight([], [o.sweepTo]) + 8;
  let weight = empty;
  for (const input of o.inputs) {
    const w = inputWeight(input.maxWitnessSize);
    if (input.valueSat <= feeForWeight(w, o.feeratePerKw)) {
      skipped.push(input);
      continue;
    }
    if (empty + w > maxWeight) throw new SweepInputError(`one input alone (${input.label}) weighs more than the ${maxWeight} weight limit`);
    if (batch.length && weight + w > maxWeight) {
      batches.push(batch);
      batch = [];
      weight = empty;
    }
    batch.push(input);
    weight += w;
  }
  if (batch.length) batches.push(batch);
  const built: Built[] = [];
  const notBuilt: NotBuilt[] = [];
  for (const b of batches) {
    const r = sweep({ inputs: b, sweepTo: o.sweepTo, feeratePerKw: o.feeratePerKw });
    if (r.ok) built.push(r);
    else notBuilt.push(r);
  }
  return { built, notBuilt, skipped };
}

export interface RevokedSecondStageOptions {
  /** An HTLC-timeout or HTLC-success transaction the cheater published from its revoked commitment. */
  htlcTx: Transaction;
  revocationSecret: Uint8Array;
  /** derivePubkey(the peer's delayed_payment_basepoint, the revoked commitment's per-commitment point). */
  theirDelayedPubkey: Uint8Array;
  /** The delay we asked of the peer (its to_self_delay), which its HTLC outputs carry. */
  toSelfDelay: number;
}

/**
 * The revocable outputs of a second-stage HTLC transaction of the cheater's: every output paying the
 * to_local-style script of that commitment (with anchors the cheater may put several HTLCs, and its own
 * fee inputs and change, in one transaction).
 */
export function revokedSecondStageInputs(o: RevokedSecondStageOptions): SpendInput[] {
  const ws = toLocalScript(secp.getPublicKey(o.revocationSecret), o.toSelfDelay, o.theirDelayedPubkey);
  const script = p2wsh(ws);
  const txid = o.htlcTx.getId();
  const inputs: SpendInput[] = [];
  o.htlcTx.outs.forEach((out, vout) => {
    if (out.script.length === script.length && out.script.every((b, i) => b === script[i])) {
      inputs.push(revokedDelayedInput({ outpoint: { txid, vout }, valueSat: out.value, witnessScript: ws, revocationSecret: o.revocationSecret, label: `revoked htlc transaction output ${vout}` }));
    }
  });
  return inputs;
}
