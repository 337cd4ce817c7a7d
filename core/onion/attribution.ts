/**
 * BOLT 4 attribution data (`option_attribution_data`): every hop on the way back adds its HTLC hold
 * time and a set of truncated HMACs, so that the sender can tell which hop held the HTLC for how long
 * and, for a failure, which hop (or pair of hops) garbled the return packet.
 *
 * Layout (920 bytes): 20 big-endian u32 hold times (the current hop first), then 210 HMACs truncated to
 * 4 bytes. The HMACs form blocks: block x (x = 0 for the current hop, 1 for the next one downstream,
 * and so on) has 20 - x entries, `hmac_x_y` for y = 19 - x down to 0, where y is the assumed distance
 * of hop x from the node that created the data (the failing node, or the recipient of a payment).
 */
import { hmacSha256 } from '../crypto/hash.ts';
import { cipherStream, generateKey } from './sphinx.ts';

export const MAX_HOPS = 20;
export const HOLD_TIME_SIZE = 4;
export const HMAC_SIZE = 4;
export const HMAC_COUNT = (MAX_HOPS * (MAX_HOPS + 1)) / 2;
export const HOLD_TIMES_SIZE = MAX_HOPS * HOLD_TIME_SIZE;
export const ATTRIBUTION_DATA_SIZE = HOLD_TIMES_SIZE + HMAC_COUNT * HMAC_SIZE;

const enc = new TextEncoder();

/** The key for the attribution data stream (`ammagext`). */
export function ammagExtKey(sharedSecret: Uint8Array): Uint8Array {
  return hmacSha256(enc.encode('ammagext'), sharedSecret);
}

/** Index (in HMACs) of `hmac_x_y` in the truncated HMAC array. */
function hmacIndex(x: number, y: number): number {
  const blockStart = x * MAX_HOPS - (x * (x - 1)) / 2;
  return blockStart + (MAX_HOPS - 1 - x - y);
}

function hmacAt(data: Uint8Array, x: number, y: number): Uint8Array {
  const off = HOLD_TIMES_SIZE + hmacIndex(x, y) * HMAC_SIZE;
  return data.subarray(off, off + HMAC_SIZE);
}

/** `hmac_0_y` of `data` under `umKey`, over the return packet (none on success), hold times and downstream HMACs. */
function computeHmac(umKey: Uint8Array, packet: Uint8Array | undefined, data: Uint8Array, y: number): Uint8Array {
  const pLen = packet?.length ?? 0;
  const msg = new Uint8Array(pLen + (y + 1) * HOLD_TIME_SIZE + y * HMAC_SIZE);
  if (packet) msg.set(packet, 0);
  msg.set(data.subarray(0, (y + 1) * HOLD_TIME_SIZE), pLen);
  let off = pLen + (y + 1) * HOLD_TIME_SIZE;
  for (let j = 1; j <= y; j++) {
    msg.set(hmacAt(data, j, y - j), off);
    off += HMAC_SIZE;
  }
  return hmacSha256(umKey, msg).subarray(0, HMAC_SIZE);
}

/**
 * Shift the data received from downstream one hop along: hold times move right by one slot, every
 * block moves down one position and loses its left-most (now out of range) HMAC. Slot 0 and block 0
 * are left zeroed.
 */
export function shiftAttributionData(data: Uint8Array): Uint8Array {
  if (data.length !== ATTRIBUTION_DATA_SIZE) throw new RangeError('attribution data must be 920 bytes');
  const out = new Uint8Array(ATTRIBUTION_DATA_SIZE);
  out.set(data.subarray(0, HOLD_TIMES_SIZE - HOLD_TIME_SIZE), HOLD_TIME_SIZE);
  for (let x = 0; x < MAX_HOPS - 1; x++) {
    for (let y = 0; y < MAX_HOPS - 1 - x; y++) out.set(hmacAt(data, x, y), HOLD_TIMES_SIZE + hmacIndex(x + 1, y) * HMAC_SIZE);
  }
  return out;
}

/**
 * The inverse view, used by the sender: the data as the next hop downstream produced it, from the data
 * this hop produced (before its obfuscation). What the shift pruned comes back as zeros; no HMAC the
 * sender checks covers it.
 */
function unshiftAttributionData(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ATTRIBUTION_DATA_SIZE);
  out.set(data.subarray(HOLD_TIME_SIZE, HOLD_TIMES_SIZE), 0);
  for (let x = 0; x < MAX_HOPS - 1; x++) {
    for (let y = 0; y < MAX_HOPS - 1 - x; y++) out.set(hmacAt(data, x + 1, y), HOLD_TIMES_SIZE + hmacIndex(x, y) * HMAC_SIZE);
  }
  return out;
}

/** XOR the data with the hop's `ammagext` stream (its own inverse). */
export function obfuscateAttributionData(sharedSecret: Uint8Array, data: Uint8Array): Uint8Array {
  const stream = cipherStream(ammagExtKey(sharedSecret), data.length);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[i]!;
  return out;
}

/**
 * One hop's contribution: take the data received from downstream (or none, at the node that creates
 * it), shift it, put in this hop's hold time (units of 100 ms) and its 20 HMACs, then obfuscate.
 * `packet` is the return packet as this hop received it (before its own `ammag` layer; for the failing
 * node the unobfuscated packet from createFailurePacket); omit it on the success path.
 */
export function addAttribution(
  sharedSecret: Uint8Array,
  holdTime: number,
  packet: Uint8Array | undefined,
  downstream?: Uint8Array,
): Uint8Array {
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 0xffffffff) throw new RangeError('hold time must be a u32');
  const data = downstream ? shiftAttributionData(downstream) : new Uint8Array(ATTRIBUTION_DATA_SIZE);
  new DataView(data.buffer, data.byteOffset, data.byteLength).setUint32(0, holdTime);
  const um = generateKey('um', sharedSecret);
  // Each HMAC covers only downstream blocks (x >= 1), so block 0 can be filled in any order.
  for (let y = 0; y < MAX_HOPS; y++) data.set(computeHmac(um, packet, data, y), HOLD_TIMES_SIZE + hmacIndex(0, y) * HMAC_SIZE);
  return obfuscateAttributionData(sharedSecret, data);
}

export interface AttributionResult {
  /** Hold times (units of 100 ms) of the hops whose HMAC checked out, in route order. */
  holdTimes: number[];
  /** Route index of the first hop whose HMAC did not check out (blame it or its upstream peer). */
  invalidHop?: number;
}

/** Constant-time comparison of two truncated HMACs. */
function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < HMAC_SIZE; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * The sender's check of the data along a route (shared secrets in route order). `packets[i]` is the
 * return packet as hop i received it (omit `packets` on the success path); `lastHop` is the route
 * index of the node that created the data (the failing node, or the final one).
 */
function verify(sharedSecrets: Uint8Array[], data: Uint8Array, lastHop: number, packets?: Uint8Array[]): AttributionResult {
  if (data.length !== ATTRIBUTION_DATA_SIZE) throw new RangeError('attribution data must be 920 bytes');
  if (lastHop >= MAX_HOPS || lastHop >= sharedSecrets.length) throw new RangeError('route too long for attribution data');
  const holdTimes: number[] = [];
  let d = data;
  for (let i = 0; i <= lastHop; i++) {
    d = obfuscateAttributionData(sharedSecrets[i]!, d);
    const mac = computeHmac(generateKey('um', sharedSecrets[i]!), packets?.[i], d, lastHop - i);
    if (!macEqual(mac, hmacAt(d, 0, lastHop - i))) return { holdTimes, invalidHop: i };
    holdTimes.push(new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0));
    d = unshiftAttributionData(d);
  }
  return { holdTimes };
}

/** Success path: hold times reported with `update_fulfill_htlc`, each hop's HMAC checked. */
export function decodeSuccessAttribution(sharedSecrets: Uint8Array[], data: Uint8Array): AttributionResult {
  return verify(sharedSecrets, data, sharedSecrets.length - 1);
}

export interface AttributedFailure extends AttributionResult {
  /** Route index of the failing hop, when its failure packet HMAC matched and the chain checked out up to it. */
  hop?: number;
  /** Its failure message. */
  message?: Uint8Array;
}

/**
 * Failure path at the sender: peel the return packet (`ammag`) and the attribution data (`ammagext`)
 * hop by hop. The failure packet's own HMAC names the failing hop; the attribution HMACs confirm every
 * hop up to it and give their hold times. When the packet names no one (it was garbled), the
 * attribution data is checked against the whole route and the first hop whose HMAC fails is blamed.
 */
export function decodeAttributedFailure(sharedSecrets: Uint8Array[], packet: Uint8Array, data: Uint8Array): AttributedFailure {
  const packets: Uint8Array[] = [];
  let p = packet;
  let failing: { hop: number; message: Uint8Array } | undefined;
  for (let i = 0; i < sharedSecrets.length && i < MAX_HOPS; i++) {
    // What hop i received from downstream (and covered by its HMACs) is what it sent, minus its layer.
    p = xorStream(generateKey('ammag', sharedSecrets[i]!), p);
    packets.push(p);
    const mac = hmacSha256(generateKey('um', sharedSecrets[i]!), p.subarray(32));
    let diff = 0;
    for (let j = 0; j < 32; j++) diff |= mac[j]! ^ p[j]!;
    if (diff === 0 && p.length >= 34) {
      const len = (p[32]! << 8) | p[33]!;
      if (34 + len <= p.length) failing = { hop: i, message: p.slice(34, 34 + len) };
      break;
    }
  }
  const lastHop = failing ? failing.hop : packets.length - 1;
  const r = verify(sharedSecrets, data, lastHop, packets);
  if (failing && r.invalidHop === undefined) return { ...r, hop: failing.hop, message: failing.message };
  return r;
}

function xorStream(key: Uint8Array, data: Uint8Array): Uint8Array {
  const stream = cipherStream(key, data.length);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[i]!;
  return out;
}
