/**
 * Fee-bumping our commitment through our anchor (option_anchors, BOLT 3 "Anchor Outputs"): a child
 * spends the 330-sat anchor with our funding key plus wallet coins, and pays enough that the package
 * (commitment and child) reaches the target feerate. Re-run with a higher target as the deadline of an
 * HTLC nears; the new child replaces the old one (same anchor input).
 */
import type { Transaction } from 'bitcoinjs-lib';
import { attachFeeInputs, effectiveFeerate } from './fees.ts';
import { anchorInput } from './inputs.ts';
import type { ScriptOutput } from './inputs.ts';
import type { BuildResult, WalletCoin, WalletSigner } from './types.ts';
import { SweepInputError } from './types.ts';

export interface AnchorBumpOptions {
  /** Our commitment, signed (its witness counts in the package weight). */
  commitment: Transaction;
  /** The fee the commitment pays on its own (Commitment.feeSat from buildCommitment). */
  commitmentFeeSat: bigint;
  /** Our anchor output of that commitment. */
  anchor: ScriptOutput;
  /** Our funding secret: the anchor's key. */
  fundingSecret: Uint8Array;
  /** The feerate the package should reach, sat/kw. */
  feeratePerKw: number;
  coins: readonly WalletCoin[];
  changeScript: Uint8Array;
  signer: WalletSigner;
}

/** The anchor child; the package feerate it reaches is (commitment fee + child fee) / (both weights). */
export function bumpCommitment(o: AnchorBumpOptions): BuildResult & { packageFeeratePerKw?: number } {
  if (!o.commitment.hasWitnesses()) throw new SweepInputError('the commitment must be signed before its package weight can be known');
  if (o.anchor.outpoint.txid !== o.commitment.getId()) throw new SweepInputError('the anchor is not an output of this commitment');
  const parentWeight = o.commitment.weight();
  const rate = effectiveFeerate(o.feeratePerKw);
  if (o.commitmentFeeSat * 1000n >= BigInt(rate * parentWeight)) {
    return { ok: false, reason: 'nothing-to-sweep', message: `the commitment pays ${o.commitmentFeeSat} sat for ${parentWeight} weight, at least ${rate} sat/kw already; no child is needed` };
  }
  const r = attachFeeInputs({
    inputs: [anchorInput({ ...o.anchor, fundingSecret: o.fundingSecret })],
    outputs: [],
    feeratePerKw: rate,
    coins: o.coins,
    changeScript: o.changeScript,
    signer: o.signer,
    parent: { weight: parentWeight, feeSat: o.commitmentFeeSat },
  });
  if (!r.ok) return r;
  return { ...r, packageFeeratePerKw: Number(((o.commitmentFeeSat + r.feeSat) * 1000n) / BigInt(parentWeight + r.weight)) };
}
