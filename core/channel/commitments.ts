/**
 * The commitment transactions of a channel, for either side, at a commitment number: the keys are
 * derived from the holder's per-commitment point and both sides' basepoints (BOLT 3), the amounts
 * from the balances, and the signatures are the 64-byte compact ones BOLT 2 messages carry.
 */
import { buildCommitment } from '../tx/commitment.ts';
import type { Commitment, CommitmentHtlc, CommitmentKeys } from '../tx/commitment.ts';
import { hex } from '@scure/base';
import { FIRST_INDEX, perCommitmentSecret } from '../tx/shachain.ts';
import { derivePubkey, obscuringFactor, revocationPubkey } from '../tx/keys.ts';
import { fundingScript } from '../tx/scripts.ts';
import { secp } from '../crypto/secp256k1.ts';
import { SIGHASH_ALL } from '../tx/commitment.ts';
import type { ChannelState, SideParams } from './types.ts';

export interface Balances {
  /** Balance of the funder and of the fundee, in msat. */
  funderMsat: bigint;
  fundeeMsat: bigint;
}

export function initialBalances(s: ChannelState): Balances {
  return { funderMsat: s.capacitySat * 1000n - s.pushMsat, fundeeMsat: s.pushMsat };
}

/**
 * A commitment's keys: point arithmetic that depends only on the holder's per-commitment point and
 * both sides' basepoints, so the same commitment (signed, then verified, then shown) derives them once.
 */
const KEY_CACHE_SIZE = 256;
const keyCache = new Map<string, CommitmentKeys>();

export function commitmentKeys(own: SideParams, other: SideParams, point: Uint8Array): CommitmentKeys {
  const id = hex.encode(point) + hex.encode(own.basepoints.htlcBasepoint) + hex.encode(other.basepoints.htlcBasepoint);
  const hit = keyCache.get(id);
  if (hit) return hit;
  const keys: CommitmentKeys = {
    revocationPubkey: revocationPubkey(other.basepoints.revocationBasepoint, point),
    localDelayedPubkey: derivePubkey(own.basepoints.delayedPaymentBasepoint, point),
    localHtlcPubkey: derivePubkey(own.basepoints.htlcBasepoint, point),
    remoteHtlcPubkey: derivePubkey(other.basepoints.htlcBasepoint, point),
    remotePaymentPubkey: other.basepoints.paymentBasepoint,
  };
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, keys);
  return keys;
}

const pointCache = new Map<string, { secret: Uint8Array; point: Uint8Array }>();

/**
 * Our per-commitment secret and point for a commitment number, remembered (in memory only): each is
 * wanted several times (the point when the commitment is next, then current; the secret when it is
 * revoked), and a secret costs some 47 SHA-256 rounds of the shachain, a point one more multiplication.
 */
function ourCommitment(commitmentSeed: Uint8Array, commitmentNumber: bigint): { secret: Uint8Array; point: Uint8Array } {
  const id = hex.encode(commitmentSeed) + commitmentNumber.toString();
  const hit = pointCache.get(id);
  if (hit) return hit;
  const secret = perCommitmentSecret(commitmentSeed, FIRST_INDEX - commitmentNumber);
  const entry = { secret, point: secp.getPublicKey(secret) };
  if (pointCache.size >= KEY_CACHE_SIZE) pointCache.delete(pointCache.keys().next().value!);
  pointCache.set(id, entry);
  return entry;
}

/** Our per-commitment point for a commitment number (the shachain secret's public key). */
export function perCommitmentPoint(commitmentSeed: Uint8Array, commitmentNumber: bigint): Uint8Array {
  return ourCommitment(commitmentSeed, commitmentNumber).point;
}

/** Our per-commitment secret for a commitment number: what revokes that commitment (a copy, the caller's to keep). */
export function ourCommitmentSecret(commitmentSeed: Uint8Array, commitmentNumber: bigint): Uint8Array {
  return ourCommitment(commitmentSeed, commitmentNumber).secret.slice();
}

/** The commitment held by `holder` ('local' is us) at `commitmentNumber`, with its per-commitment point. */
export function commitmentFor(s: ChannelState, holder: 'local' | 'remote', point: Uint8Array, commitmentNumber: bigint, balances: Balances, htlcs: CommitmentHtlc[] = []): Commitment {
  const remote = s.remote!;
  const [own, other]: [SideParams, SideParams] = holder === 'local' ? [s.local, remote] : [remote, s.local];
  const holderIsFunder = holder === 'local' ? s.funder : !s.funder;
  const funderBp = s.funder ? s.local.basepoints : remote.basepoints;
  const fundeeBp = s.funder ? remote.basepoints : s.local.basepoints;
  return buildCommitment({
    funding: { txid: s.funding!.txid, vout: s.funding!.vout, amountSat: s.capacitySat, localPubkey: own.basepoints.fundingPubkey, remotePubkey: other.basepoints.fundingPubkey },
    commitmentNumber,
    obscuringFactor: obscuringFactor(funderBp.paymentBasepoint, fundeeBp.paymentBasepoint),
    // The delay on the holder's own output is the one the other side asked for.
    toSelfDelay: other.toSelfDelay,
    dustLimitSat: own.dustLimitSat,
    feeratePerKw: s.feeratePerKw,
    anchors: s.channelType === 'anchors',
    localIsFunder: holderIsFunder,
    toLocalMsat: holderIsFunder ? balances.funderMsat : balances.fundeeMsat,
    toRemoteMsat: holderIsFunder ? balances.fundeeMsat : balances.funderMsat,
    htlcs,
    keys: commitmentKeys(own, other, point),
  });
}

function digest(s: ChannelState, c: Commitment): Uint8Array {
  return c.tx.hashForWitnessV0(0, fundingScript(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey), s.capacitySat, SIGHASH_ALL);
}

/** Our signature (compact, 64 bytes) on a commitment, with our funding key. */
export function signCommitment(s: ChannelState, c: Commitment): Uint8Array {
  return secp.sign(digest(s, c), s.secrets.fundingSecret);
}

export function verifyCommitmentSig(s: ChannelState, c: Commitment, sig: Uint8Array): boolean {
  return secp.verify(sig, digest(s, c), s.remote!.basepoints.fundingPubkey);
}
