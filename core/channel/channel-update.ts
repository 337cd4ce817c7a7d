/**
 * channel_update between the two ends of a channel (BOLT 7). This node announces no channels, but it
 * tells each channel peer its forwarding policy for that channel, as BOLT 7 asks for private
 * channels; the peer then knows what we charge to forward over it and can name us in its invoices'
 * route hints. The peer's own channel_update tells us its policy, which our invoices' hints carry.
 */
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { compareBytes } from '../tx/scripts.ts';
import { encodeMessage } from '../wire/index.ts';
import type { ChannelUpdateMessage } from '../wire/index.ts';

/** What this node charges to forward a payment, and the blocks it keeps between incoming and outgoing expiry. */
export const FORWARDING_POLICY = { feeBaseMsat: 1000n, feeProportionalMillionths: 100n, cltvExpiryDelta: 40 };

export interface ForwardingPolicy {
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
  htlcMinimumMsat: bigint;
  htlcMaximumMsat: bigint;
}

/** What a channel_update signs: the double SHA-256 of the message after its signature. */
function digest(m: ChannelUpdateMessage): Uint8Array {
  // type (2 bytes) and signature (64 bytes) come first in the encoding.
  return sha256(sha256(encodeMessage(m).subarray(2 + 64)));
}

/** Our channel_update for one channel: its direction bit says which end we are. */
export function signChannelUpdate(o: { chainHash: Uint8Array; shortChannelId: bigint; ourNodeId: Uint8Array; peerNodeId: Uint8Array; nodeSecret: Uint8Array; policy: ForwardingPolicy; timestamp: number }): ChannelUpdateMessage {
  const direction = compareBytes(o.ourNodeId, o.peerNodeId) < 0 ? 0 : 1;
  const m: ChannelUpdateMessage = {
    type: 'channel_update',
    signature: new Uint8Array(64),
    chain_hash: o.chainHash,
    short_channel_id: o.shortChannelId,
    timestamp: o.timestamp,
    // Bit 0 of message_flags must be one (htlc_maximum_msat is always there now).
    message_flags: 1,
    channel_flags: direction,
    cltv_expiry_delta: o.policy.cltvExpiryDelta,
    htlc_minimum_msat: o.policy.htlcMinimumMsat,
    fee_base_msat: o.policy.feeBaseMsat,
    fee_proportional_millionths: o.policy.feeProportionalMillionths,
    htlc_maximum_msat: o.policy.htlcMaximumMsat,
  };
  return { ...m, signature: secp.sign(digest(m), o.nodeSecret) };
}

/** The peer's channel_update, if it is the peer's (signature and direction) and for this chain. */
export function readChannelUpdate(m: ChannelUpdateMessage, o: { chainHash: Uint8Array; ourNodeId: Uint8Array; peerNodeId: Uint8Array }): ForwardingPolicy | string {
  if (compareBytes(m.chain_hash, o.chainHash) !== 0) return 'a channel_update for another chain';
  const peerDirection = compareBytes(o.peerNodeId, o.ourNodeId) < 0 ? 0 : 1;
  if ((m.channel_flags & 1) !== peerDirection) return 'a channel_update for our own direction of the channel';
  if (!secp.verify(m.signature, digest(m), o.peerNodeId)) return 'a channel_update with a bad signature';
  return {
    feeBaseMsat: m.fee_base_msat,
    feeProportionalMillionths: m.fee_proportional_millionths,
    cltvExpiryDelta: m.cltv_expiry_delta,
    htlcMinimumMsat: m.htlc_minimum_msat,
    htlcMaximumMsat: m.htlc_maximum_msat,
  };
}
