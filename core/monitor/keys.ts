/**
 * The secret keys each exit of BOLT 5 signs with, from our channel secrets (core/keys/channel-keys)
 * and the per-commitment point (or, for a revoked commitment, the per-commitment secret the peer
 * revealed). BOLT 3, "Key Derivation".
 */
import { secp } from '../crypto/secp256k1.ts';
import { derivePrivkey, revocationPrivkey } from '../tx/keys.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';

/** Our commitment at a per-commitment point of ours: to_local and the HTLC transactions. */
export function ourCommitmentSecrets(ours: ChannelSecrets, ourPoint: Uint8Array): { delayedSecret: Uint8Array; htlcSecret: Uint8Array } {
  return {
    delayedSecret: derivePrivkey(ours.delayedPaymentBasepointSecret, ourPoint),
    htlcSecret: derivePrivkey(ours.htlcBasepointSecret, ourPoint),
  };
}

/**
 * The peer's commitment at its per-commitment point: our HTLC key there, and to_remote's key, which
 * option_static_remotekey (and option_anchors) leave untweaked: our payment basepoint itself.
 */
export function theirCommitmentSecrets(ours: ChannelSecrets, theirPoint: Uint8Array): { htlcSecret: Uint8Array; paymentSecret: Uint8Array } {
  return {
    htlcSecret: derivePrivkey(ours.htlcBasepointSecret, theirPoint),
    paymentSecret: ours.paymentBasepointSecret,
  };
}

/**
 * A revoked commitment of the peer's: the revocation secret from our revocation basepoint secret and
 * the per-commitment secret it gave up, and the point, from which its HTLC transactions' keys follow.
 */
export function revokedCommitmentSecrets(ours: ChannelSecrets, theirPerCommitmentSecret: Uint8Array): { revocationSecret: Uint8Array; theirPoint: Uint8Array } {
  return {
    revocationSecret: revocationPrivkey(ours.revocationBasepointSecret, theirPerCommitmentSecret),
    theirPoint: secp.getPublicKey(theirPerCommitmentSecret),
  };
}
