/**
 * The peer's commitment confirmed, its current one or its next not yet revoked (BOLT 5, "Unilateral
 * Close Handling: Remote Commitment Transaction"): to_remote is ours, our offered HTLCs come back after
 * their cltv_expiry, and HTLCs it offered us are ours with the preimage, straight from its commitment
 * (no second stage on this side).
 */
import { sweep } from './fees.ts';
import { remoteHtlcSuccessInput, remoteHtlcTimeoutInput, toRemoteAnchorsInput, toRemoteStaticInput } from './inputs.ts';
import type { ScriptOutput } from './inputs.ts';
import type { BuildResult, OutPoint } from './types.ts';

export interface ToRemoteOptions {
  /** The witness script is needed with anchors only (P2WSH with a 1-block CSV). */
  output: { outpoint: OutPoint; valueSat: bigint; witnessScript?: Uint8Array };
  anchors: boolean;
  /** Our payment basepoint secret (to_remote is not tweaked under static_remotekey and anchors). */
  paymentSecret: Uint8Array;
  sweepTo: Uint8Array;
  feeratePerKw: number;
}

/**
 * to_remote of the peer's commitment into the wallet. With anchors it waits one block after the
 * commitment confirms (nSequence 1). Without anchors (option_static_remotekey) it is already a plain
 * P2WPKH of our payment basepoint and needs no delay; but that key is a channel key (m/1017'), not an
 * address the BIP 84 wallet scans, so it is swept all the same to make it spendable from the wallet.
 */
export function sweepToRemote(o: ToRemoteOptions): BuildResult {
  if (o.anchors) {
    if (!o.output.witnessScript) return { ok: false, reason: 'nothing-to-sweep', message: 'an anchors to_remote output needs its witness script to be swept' };
    const input = toRemoteAnchorsInput({ outpoint: o.output.outpoint, valueSat: o.output.valueSat, witnessScript: o.output.witnessScript, paymentSecret: o.paymentSecret });
    return sweep({ inputs: [input], sweepTo: o.sweepTo, feeratePerKw: o.feeratePerKw });
  }
  return sweep({ inputs: [toRemoteStaticInput({ outpoint: o.output.outpoint, valueSat: o.output.valueSat, paymentSecret: o.paymentSecret })], sweepTo: o.sweepTo, feeratePerKw: o.feeratePerKw });
}

export interface RemoteHtlcClaim {
  /** The HTLC output of the peer's commitment. */
  output: ScriptOutput;
  /** Present for an HTLC the peer offered us, whose preimage we know; absent for one we offered. */
  preimage?: Uint8Array;
  /** For HTLCs we offered: the transaction may not confirm before this height (nLockTime). */
  cltvExpiry: number;
}

export interface RemoteHtlcOptions {
  claims: readonly RemoteHtlcClaim[];
  anchors: boolean;
  /** derivePrivkey(htlc_basepoint_secret, the peer's per-commitment point). */
  htlcSecret: Uint8Array;
  sweepTo: Uint8Array;
  feeratePerKw: number;
}

/**
 * Claims HTLC outputs of the peer's commitment in one transaction: those it offered, with their
 * preimages, and those we offered, by timeout (nLockTime is then the largest cltv_expiry among them,
 * so the monitor batches timeouts that are due together and claims preimages at once on their own).
 */
export function claimRemoteHtlcs(o: RemoteHtlcOptions): BuildResult {
  const inputs = o.claims.map((c) =>
    c.preimage
      ? remoteHtlcSuccessInput({ ...c.output, preimage: c.preimage, anchors: o.anchors, htlcSecret: o.htlcSecret })
      : remoteHtlcTimeoutInput({ ...c.output, cltvExpiry: c.cltvExpiry, anchors: o.anchors, htlcSecret: o.htlcSecret }),
  );
  return sweep({ inputs, sweepTo: o.sweepTo, feeratePerKw: o.feeratePerKw });
}
