/**
 * BOLT 7 gossip checks, pure: `channel_announcement`, `node_announcement` and `channel_update` as a
 * peer sent them, against what the graph already holds (`GossipView`), the chain we are on and the
 * time now. Each answers either what to apply to the graph, or a refusal that says why and what to do
 * about the peer that sent it: `ignore` (stale, unknown, not for us — nothing wrong with the peer) or
 * `warn` (a forged or malformed message: send a `warning`, and count it against the peer).
 *
 * Signatures cover the message bytes as received, from the end of the signatures to the end of the
 * message, fields added by later spec versions included: the raw bytes are checked, not a re-encoding.
 * The cheap checks come first; signatures (the cost of gossip) only once nothing else refuses.
 *
 * The funding output of a new channel is checked against the chain afterwards (funding-check.ts): only
 * a channel that passed both reaches the graph.
 */
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { featureForBit } from '../wire/features.ts';
import type { FeatureContext } from '../wire/features.ts';
import { encodeMessage } from '../wire/message.ts';
import { scidToString } from '../wire/scid.ts';
import type { ChannelAnnouncementMessage, ChannelUpdateMessage, NodeAnnouncementMessage } from '../wire/spec/peer_wire.ts';
import { parseAddresses } from './addresses.ts';
import type { NodeAddress } from './addresses.ts';

/** BOLT 7 "Recommendation on Pruning Stale Entries": two weeks, in seconds. */
export const STALE_AFTER_SECONDS = 1_209_600;
/** A channel_update stamped further ahead than this is "unreasonably far in the future" (BOLT 7 lets us discard it). */
export const MAX_FUTURE_SECONDS = 86_400;

/** Where the signed part of each message starts, counting its 2-byte type. */
export const SIGNED_FROM = { channel_announcement: 2 + 4 * 64, node_announcement: 2 + 64, channel_update: 2 + 64 } as const;
const TYPE_NUMBER = { channel_announcement: 256, node_announcement: 257, channel_update: 258 } as const;

export type GossipRefusalReason =
  | 'unknown_chain'
  | 'invalid_key'
  | 'same_node'
  | 'unordered_nodes'
  | 'bad_signature'
  | 'duplicate'
  | 'unknown_channel'
  | 'unknown_node'
  | 'stale'
  | 'too_old'
  | 'from_future'
  | 'conflicting_update'
  | 'bad_addresses';

/** Why a gossip message was refused, and what to do about the peer that sent it. */
export interface GossipRefusal {
  ok: false;
  reason: GossipRefusalReason;
  /** `ignore`: drop it, the peer did nothing wrong. `warn`: send a `warning`; the peer sent something forged or malformed. */
  action: 'ignore' | 'warn';
  message: string;
}

/** A message as a peer sent it: decoded, and the bytes it was decoded from (type included), which the signatures cover. */
export interface GossipInput<M> {
  message: M;
  /** The message's wire bytes as received, 2-byte type first. Omitted for a message built here: it is encoded. */
  raw?: Uint8Array;
}

/** One direction's forwarding policy, from its newest channel_update (BOLT 7). */
export interface ChannelPolicy {
  timestamp: number;
  messageFlags: number;
  channelFlags: number;
  cltvExpiryDelta: number;
  htlcMinimumMsat: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  htlcMaximumMsat: bigint;
}

/** What the checks need to know of the graph (core/routing/graph.ts implements it). */
export interface GossipView {
  /** The two ends of a known channel (node_id_1 < node_id_2). */
  channelEnds(scid: bigint): { node1: Uint8Array; node2: Uint8Array } | undefined;
  /** The newest policy held for one direction (0: node_id_1's, 1: node_id_2's). */
  policy(scid: bigint, direction: 0 | 1): ChannelPolicy | undefined;
  /** undefined: no channel names this node; 0: known from a channel, never announced; else its node_announcement's timestamp. */
  nodeTimestamp(nodeId: Uint8Array): number | undefined;
}

export interface GossipContext {
  /** The chain we are on (BOLT 0 chain_hash). */
  chainHash: Uint8Array;
  view: GossipView;
  /** Seconds since the epoch, from the shell's clock. */
  now: number;
}

/** A channel_announcement whose signatures hold: next, its funding output is checked on chain. */
export interface AcceptedChannelAnnouncement {
  ok: true;
  scid: bigint;
  node1: Uint8Array;
  node2: Uint8Array;
  bitcoinKey1: Uint8Array;
  bitcoinKey2: Uint8Array;
  features: Uint8Array;
  /** False when `features` sets an even bit we do not know: the channel is kept, but no payment is routed through it. */
  routable: boolean;
}

export interface AcceptedNodeAnnouncement {
  ok: true;
  nodeId: Uint8Array;
  timestamp: number;
  features: Uint8Array;
  /** False when `features` sets an even bit we do not know: no payment goes through (or to) this node. */
  routable: boolean;
  rgbColor: Uint8Array;
  /** 32 bytes as sent; `aliasText` makes it readable. */
  alias: Uint8Array;
  addresses: NodeAddress[];
  /** The descriptors kept, back to back (what the graph stores). */
  addressBytes: Uint8Array;
  /** False when BOLT 7 forbids forwarding it (more than one DNS hostname). */
  forward: boolean;
}

export interface AcceptedChannelUpdate {
  ok: true;
  scid: bigint;
  direction: 0 | 1;
  policy: ChannelPolicy;
  /** False for a `dont_forward` update (meant for the channel peer only). */
  forward: boolean;
}

function refuse(reason: GossipRefusalReason, action: 'ignore' | 'warn', message: string): GossipRefusal {
  return { ok: false, reason, action, message };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The double SHA-256 every gossip signature signs: the message from the end of its signatures on. */
export function gossipDigest(name: keyof typeof SIGNED_FROM, input: GossipInput<ChannelAnnouncementMessage | NodeAnnouncementMessage | ChannelUpdateMessage>): Uint8Array {
  const raw = input.raw ?? encodeMessage(input.message);
  const type = raw.length >= 2 ? (raw[0]! << 8) | raw[1]! : -1;
  if (type !== TYPE_NUMBER[name] || raw.length < SIGNED_FROM[name]) throw new RangeError(`raw bytes given with a ${name} are not a ${name}`);
  return sha256(sha256(raw.subarray(SIGNED_FROM[name])));
}

/** Whether a BOLT 9 feature field sets an even (compulsory) bit we do not know in that context. */
export function hasUnknownEvenBit(features: Uint8Array, context: FeatureContext): boolean {
  for (let i = 0; i < features.length; i++) {
    const byte = features[features.length - 1 - i]!;
    for (let j = 0; j < 8; j += 2) {
      if (!(byte & (1 << j))) continue;
      const def = featureForBit(i * 8 + j);
      if (!def || !def.contexts.includes(context)) return true;
    }
  }
  return false;
}

/** The alias as text: UTF-8 up to its trailing zeros, with anything that is not printable (controls, broken UTF-8) replaced. */
export function aliasText(alias: Uint8Array): string {
  let end = alias.length;
  while (end > 0 && alias[end - 1] === 0) end--;
  // eslint-disable-next-line no-control-regex
  return new TextDecoder('utf-8', { fatal: false }).decode(alias.subarray(0, end)).replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/**
 * channel_announcement (BOLT 7 "The channel_announcement Message", receiving node): our chain, a
 * channel not known already, four valid keys with node_id_1 < node_id_2, then all four signatures.
 */
export function validateChannelAnnouncement(input: GossipInput<ChannelAnnouncementMessage>, ctx: GossipContext): AcceptedChannelAnnouncement | GossipRefusal {
  const m = input.message;
  const what = `channel_announcement for ${scidToString(m.short_channel_id)}`;
  if (!sameBytes(m.chain_hash, ctx.chainHash)) return refuse('unknown_chain', 'ignore', `${what} is for another chain (${hex(m.chain_hash)})`);
  if (ctx.view.channelEnds(m.short_channel_id)) return refuse('duplicate', 'ignore', `${what}: the channel is known already`);
  const keys = [
    ['node_id_1', m.node_id_1],
    ['node_id_2', m.node_id_2],
    ['bitcoin_key_1', m.bitcoin_key_1],
    ['bitcoin_key_2', m.bitcoin_key_2],
  ] as const;
  for (const [name, key] of keys) if (!secp.isPoint(key)) return refuse('invalid_key', 'warn', `${what}: ${name} is not a valid public key`);
  const order = compareBytes(m.node_id_1, m.node_id_2);
  if (order === 0) return refuse('same_node', 'warn', `${what} names the same node at both ends`);
  if (order > 0) return refuse('unordered_nodes', 'warn', `${what}: node_id_1 is not the lesser of the two node ids`);
  const h = gossipDigest('channel_announcement', input);
  const sigs = [
    ['node_signature_1', m.node_signature_1, m.node_id_1],
    ['node_signature_2', m.node_signature_2, m.node_id_2],
    ['bitcoin_signature_1', m.bitcoin_signature_1, m.bitcoin_key_1],
    ['bitcoin_signature_2', m.bitcoin_signature_2, m.bitcoin_key_2],
  ] as const;
  for (const [name, sig, key] of sigs) if (!secp.verify(sig, h, key)) return refuse('bad_signature', 'warn', `${what}: ${name} does not sign it`);
  return {
    ok: true,
    scid: m.short_channel_id,
    node1: m.node_id_1,
    node2: m.node_id_2,
    bitcoinKey1: m.bitcoin_key_1,
    bitcoinKey2: m.bitcoin_key_2,
    features: m.features,
    routable: !hasUnknownEvenBit(m.features, 'C'),
  };
}

/**
 * node_announcement (BOLT 7 "The node_announcement Message", receiving node): a valid key and
 * signature, a node some channel names, a timestamp newer than the one held, addresses that parse.
 */
export function validateNodeAnnouncement(input: GossipInput<NodeAnnouncementMessage>, ctx: GossipContext): AcceptedNodeAnnouncement | GossipRefusal {
  const m = input.message;
  const what = `node_announcement from ${hex(m.node_id)}`;
  if (!secp.isPoint(m.node_id)) return refuse('invalid_key', 'warn', `node_announcement: node_id ${hex(m.node_id)} is not a valid public key`);
  const held = ctx.view.nodeTimestamp(m.node_id);
  if (held === undefined) return refuse('unknown_node', 'ignore', `${what}: no channel we know names this node`);
  if (m.timestamp <= held) return refuse('stale', 'ignore', `${what}: timestamp ${m.timestamp} is not newer than the ${held} we hold`);
  const parsed = parseAddresses(m.addresses);
  if (!parsed.ok) return refuse('bad_addresses', 'warn', `${what}: ${parsed.message}`);
  if (!secp.verify(m.signature, gossipDigest('node_announcement', input), m.node_id)) return refuse('bad_signature', 'warn', `${what}: the signature does not sign it`);
  return {
    ok: true,
    nodeId: m.node_id,
    timestamp: m.timestamp,
    features: m.features,
    routable: !hasUnknownEvenBit(m.features, 'N'),
    rgbColor: m.rgb_color,
    alias: m.alias,
    addresses: parsed.addresses,
    addressBytes: parsed.canonical,
    forward: !parsed.extraHostnames,
  };
}

/** Whether two updates say the same thing, timestamps and signatures aside. */
function samePolicy(a: ChannelPolicy, b: ChannelPolicy): boolean {
  return (
    a.messageFlags === b.messageFlags &&
    a.channelFlags === b.channelFlags &&
    a.cltvExpiryDelta === b.cltvExpiryDelta &&
    a.htlcMinimumMsat === b.htlcMinimumMsat &&
    a.feeBaseMsat === b.feeBaseMsat &&
    a.feeProportionalMillionths === b.feeProportionalMillionths &&
    a.htlcMaximumMsat === b.htlcMaximumMsat
  );
}

export function policyOf(m: ChannelUpdateMessage): ChannelPolicy {
  return {
    timestamp: m.timestamp,
    messageFlags: m.message_flags,
    channelFlags: m.channel_flags,
    cltvExpiryDelta: m.cltv_expiry_delta,
    htlcMinimumMsat: m.htlc_minimum_msat,
    feeBaseMsat: m.fee_base_msat,
    feeProportionalMillionths: m.fee_proportional_millionths,
    htlcMaximumMsat: m.htlc_maximum_msat,
  };
}

/**
 * channel_update (BOLT 7 "The channel_update Message", receiving node): our chain, a known channel, a
 * timestamp within two weeks back and a day ahead and newer than the one held for that direction,
 * then the signature of the node its direction bit names. `htlc_maximum_msat` is a fixed field of
 * the message now, so an update without it does not decode. An update whose htlc range is empty or
 * above the capacity is still taken (it is the node's newest word), and the route finder skips that
 * direction.
 */
export function validateChannelUpdate(input: GossipInput<ChannelUpdateMessage>, ctx: GossipContext): AcceptedChannelUpdate | GossipRefusal {
  const m = input.message;
  const direction = (m.channel_flags & 1) as 0 | 1;
  const what = `channel_update for ${scidToString(m.short_channel_id)} direction ${direction}`;
  if (!sameBytes(m.chain_hash, ctx.chainHash)) return refuse('unknown_chain', 'ignore', `${what} is for another chain (${hex(m.chain_hash)})`);
  const ends = ctx.view.channelEnds(m.short_channel_id);
  if (!ends) return refuse('unknown_channel', 'ignore', `${what}: no such channel is known`);
  if (m.timestamp > ctx.now + MAX_FUTURE_SECONDS) return refuse('from_future', 'ignore', `${what}: timestamp ${m.timestamp} is more than a day ahead of ${ctx.now}`);
  if (m.timestamp < ctx.now - STALE_AFTER_SECONDS) return refuse('too_old', 'ignore', `${what}: timestamp ${m.timestamp} is more than two weeks old`);
  const policy = policyOf(m);
  const held = ctx.view.policy(m.short_channel_id, direction);
  if (held && m.timestamp < held.timestamp) return refuse('stale', 'ignore', `${what}: timestamp ${m.timestamp} is older than the ${held.timestamp} we hold`);
  if (held && m.timestamp === held.timestamp && samePolicy(held, policy)) return refuse('duplicate', 'ignore', `${what}: the same update is held already`);
  const signer = direction === 0 ? ends.node1 : ends.node2;
  if (!secp.verify(m.signature, gossipDigest('channel_update', input), signer)) return refuse('bad_signature', 'warn', `${what}: the signature is not node ${hex(signer)}'s`);
  // Signed, same timestamp, different terms: the node itself contradicts itself (BOLT 7 lets us blacklist it).
  if (held && m.timestamp === held.timestamp) return refuse('conflicting_update', 'ignore', `${what}: node ${hex(signer)} signed different terms with the same timestamp ${m.timestamp}`);
  return { ok: true, scid: m.short_channel_id, direction, policy, forward: (m.message_flags & 2) === 0 };
}
