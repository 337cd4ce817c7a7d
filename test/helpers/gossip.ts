/** Signed gossip for tests: keys from labels, and channel_announcement / channel_update / node_announcement built and signed with them. */
import { sha256 } from '../../core/crypto/hash.ts';
import { secp } from '../../core/crypto/secp256k1.ts';
import { signChannelAnnouncement, signChannelUpdate, signNodeAnnouncement } from '../../core/gossip/sign.ts';
import { CHAIN_HASHES, encodeMessage } from '../../core/wire/index.ts';
import type { ChannelAnnouncementMessage, ChannelUpdateMessage, NodeAnnouncementMessage } from '../../core/wire/index.ts';

export const REGTEST = CHAIN_HASHES.regtest;

export interface TestKey {
  secret: Uint8Array;
  pub: Uint8Array;
}

/** The same key for the same label, every run. */
export function testKey(label: string): TestKey {
  const secret = sha256(new TextEncoder().encode(`coulomb test key ${label}`));
  return { secret, pub: secp.getPublicKey(secret) };
}

function lesserFirst(a: TestKey, b: TestKey): [TestKey, TestKey] {
  return Buffer.compare(Buffer.from(a.pub), Buffer.from(b.pub)) < 0 ? [a, b] : [b, a];
}

/** A channel between two nodes, each with a funding key: node1 is the node whose id is the lesser. */
export interface TestChannel {
  scid: bigint;
  node1: TestKey;
  node2: TestKey;
  funding1: TestKey;
  funding2: TestKey;
}

export function testChannel(scid: bigint, a: string, b: string): TestChannel {
  const [n1, n2] = lesserFirst(testKey(a), testKey(b));
  return { scid, node1: n1, node2: n2, funding1: testKey(`${a}/${b}/${scid}/1`), funding2: testKey(`${a}/${b}/${scid}/2`) };
}

export function announce(c: TestChannel, o: { chainHash?: Uint8Array; features?: Uint8Array } = {}): { message: ChannelAnnouncementMessage; raw: Uint8Array } {
  const message = signChannelAnnouncement(
    {
      features: o.features ?? new Uint8Array(0),
      chain_hash: o.chainHash ?? REGTEST,
      short_channel_id: c.scid,
      node_id_1: c.node1.pub,
      node_id_2: c.node2.pub,
      bitcoin_key_1: c.funding1.pub,
      bitcoin_key_2: c.funding2.pub,
    },
    { nodeSecret1: c.node1.secret, nodeSecret2: c.node2.secret, bitcoinSecret1: c.funding1.secret, bitcoinSecret2: c.funding2.secret },
  );
  return { message, raw: encodeMessage(message) };
}

export interface UpdateFields {
  timestamp: number;
  disabled?: boolean;
  dontForward?: boolean;
  cltvExpiryDelta?: number;
  htlcMinimumMsat?: bigint;
  htlcMaximumMsat?: bigint;
  feeBaseMsat?: number;
  feeProportionalMillionths?: number;
  chainHash?: Uint8Array;
  /** Sign with this key instead of the direction's node (a forgery). */
  signer?: TestKey;
}

export function update(c: TestChannel, direction: 0 | 1, f: UpdateFields): { message: ChannelUpdateMessage; raw: Uint8Array } {
  const message = signChannelUpdate(
    {
      chain_hash: f.chainHash ?? REGTEST,
      short_channel_id: c.scid,
      timestamp: f.timestamp,
      message_flags: 1 | (f.dontForward ? 2 : 0),
      channel_flags: direction | (f.disabled ? 2 : 0),
      cltv_expiry_delta: f.cltvExpiryDelta ?? 40,
      htlc_minimum_msat: f.htlcMinimumMsat ?? 1000n,
      fee_base_msat: f.feeBaseMsat ?? 1000,
      fee_proportional_millionths: f.feeProportionalMillionths ?? 100,
      htlc_maximum_msat: f.htlcMaximumMsat ?? 99_000_000n,
    },
    (f.signer ?? (direction === 0 ? c.node1 : c.node2)).secret,
  );
  return { message, raw: encodeMessage(message) };
}

export function aliasBytes(text: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(new TextEncoder().encode(text).subarray(0, 32));
  return out;
}

export function nodeAnnouncement(
  key: TestKey,
  f: { timestamp: number; alias?: string; addresses?: Uint8Array; features?: Uint8Array; rgb?: Uint8Array },
): { message: NodeAnnouncementMessage; raw: Uint8Array } {
  const message = signNodeAnnouncement(
    {
      features: f.features ?? new Uint8Array(0),
      timestamp: f.timestamp,
      node_id: key.pub,
      rgb_color: f.rgb ?? Uint8Array.of(1, 2, 3),
      alias: aliasBytes(f.alias ?? 'test'),
      addresses: f.addresses ?? new Uint8Array(0),
    },
    key.secret,
  );
  return { message, raw: encodeMessage(message) };
}

/** The raw bytes with one bit flipped at `at` (counting the 2-byte type), decoded fields left as they were. */
export function flipBit(raw: Uint8Array, at: number): Uint8Array {
  const out = Uint8Array.from(raw);
  out[at]! ^= 1;
  return out;
}
