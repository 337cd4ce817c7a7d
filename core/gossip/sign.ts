/**
 * Signing gossip (BOLT 7): the channel_announcement both ends of a channel sign, and a node's own
 * node_announcement and channel_update. The signatures cover the encoded message after them
 * (validate.ts, `gossipDigest`), so a message is encoded with blank signatures, hashed, then signed.
 */
import { secp } from '../crypto/secp256k1.ts';
import type { ChannelAnnouncementMessage, ChannelUpdateMessage, NodeAnnouncementMessage } from '../wire/spec/peer_wire.ts';
import { gossipDigest } from './validate.ts';

const BLANK = new Uint8Array(64);

export interface ChannelAnnouncementSecrets {
  nodeSecret1: Uint8Array;
  nodeSecret2: Uint8Array;
  bitcoinSecret1: Uint8Array;
  bitcoinSecret2: Uint8Array;
}

/** The fields of a channel_announcement without its signatures; node_id_1 must be the lesser id. */
export type UnsignedChannelAnnouncement = Omit<ChannelAnnouncementMessage, 'type' | 'node_signature_1' | 'node_signature_2' | 'bitcoin_signature_1' | 'bitcoin_signature_2'>;

/** All four signatures at once (tests, and a channel whose both ends are ours). */
export function signChannelAnnouncement(fields: UnsignedChannelAnnouncement, s: ChannelAnnouncementSecrets): ChannelAnnouncementMessage {
  const m: ChannelAnnouncementMessage = { type: 'channel_announcement', node_signature_1: BLANK, node_signature_2: BLANK, bitcoin_signature_1: BLANK, bitcoin_signature_2: BLANK, ...fields };
  const h = gossipDigest('channel_announcement', { message: m });
  return {
    ...m,
    node_signature_1: secp.sign(h, s.nodeSecret1),
    node_signature_2: secp.sign(h, s.nodeSecret2),
    bitcoin_signature_1: secp.sign(h, s.bitcoinSecret1),
    bitcoin_signature_2: secp.sign(h, s.bitcoinSecret2),
  };
}

/** One end's two signatures (its `announcement_signatures`) over the announcement both will build. */
export function channelAnnouncementSignatures(fields: UnsignedChannelAnnouncement, nodeSecret: Uint8Array, bitcoinSecret: Uint8Array): { nodeSignature: Uint8Array; bitcoinSignature: Uint8Array } {
  const m: ChannelAnnouncementMessage = { type: 'channel_announcement', node_signature_1: BLANK, node_signature_2: BLANK, bitcoin_signature_1: BLANK, bitcoin_signature_2: BLANK, ...fields };
  const h = gossipDigest('channel_announcement', { message: m });
  return { nodeSignature: secp.sign(h, nodeSecret), bitcoinSignature: secp.sign(h, bitcoinSecret) };
}

export function signNodeAnnouncement(fields: Omit<NodeAnnouncementMessage, 'type' | 'signature'>, nodeSecret: Uint8Array): NodeAnnouncementMessage {
  const m: NodeAnnouncementMessage = { type: 'node_announcement', signature: BLANK, ...fields };
  return { ...m, signature: secp.sign(gossipDigest('node_announcement', { message: m }), nodeSecret) };
}

export function signChannelUpdate(fields: Omit<ChannelUpdateMessage, 'type' | 'signature'>, nodeSecret: Uint8Array): ChannelUpdateMessage {
  const m: ChannelUpdateMessage = { type: 'channel_update', signature: BLANK, ...fields };
  return { ...m, signature: secp.sign(gossipDigest('channel_update', { message: m }), nodeSecret) };
}
