/**
 * BOLT 4 onion packets (Sphinx): construction by the sender and peeling by each hop. Each hop learns
 * only its own payload and the next packet; the HMAC chain makes any tampering detectable.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256, hmacSha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { Reader } from '../wire/codec.ts';
import { WireError } from '../wire/errors.ts';
import { concatBytes } from '../util/bytes.ts';

export const ROUTING_INFO_SIZE = 1300;
export const PACKET_SIZE = 1 + 33 + ROUTING_INFO_SIZE + 32;
const ZERO_NONCE = new Uint8Array(12);
const enc = new TextEncoder();

export class OnionError extends Error {
  constructor(
    readonly code: 'invalid_version' | 'invalid_key' | 'invalid_hmac' | 'invalid_payload' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'OnionError';
  }
}

export function generateKey(name: 'rho' | 'mu' | 'um' | 'pad' | 'ammag', secret: Uint8Array): Uint8Array {
  return hmacSha256(enc.encode(name), secret);
}

export function cipherStream(key: Uint8Array, length: number): Uint8Array {
  return chacha20(key, ZERO_NONCE, new Uint8Array(length));
}

function xorInto(a: Uint8Array, b: Uint8Array, bOffset = 0): void {
  for (let i = 0; i < a.length; i++) a[i]! ^= b[bOffset + i]!;
}


/** Shared secrets and ephemeral public keys along the route (the blinding of the session key). */
export function sharedSecrets(sessionKey: Uint8Array, hopPubkeys: Uint8Array[]): { secrets: Uint8Array[]; ephemeralPubkeys: Uint8Array[] } {
  let eph = sessionKey;
  const secrets: Uint8Array[] = [];
  const ephemeralPubkeys: Uint8Array[] = [];
  for (const pk of hopPubkeys) {
    const ephPub = secp.getPublicKey(eph);
    const ss = secp.ecdh(eph, pk);
    secrets.push(ss);
    ephemeralPubkeys.push(ephPub);
    eph = secp.privateMultiply(eph, sha256(concatBytes(ephPub, ss)));
  }
  return { secrets, ephemeralPubkeys };
}

/**
 * Builds the onion. `payloads` are each hop's payload as sent (BigSize length prefix included).
 */
export function createOnion(sessionKey: Uint8Array, hops: { pubkey: Uint8Array; payload: Uint8Array }[], associatedData: Uint8Array): Uint8Array {
  const total = hops.reduce((n, h) => n + h.payload.length + 32, 0);
  if (total > ROUTING_INFO_SIZE) throw new OnionError('too_large', `the hop payloads need ${total} bytes, more than the onion's ${ROUTING_INFO_SIZE}`);
  const { secrets, ephemeralPubkeys } = sharedSecrets(sessionKey, hops.map((h) => h.pubkey));
  // The filler: what the last hops will see shifted in at the end, precomputed so HMACs match.
  let filler: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < hops.length - 1; i++) {
    const len = hops[i]!.payload.length + 32;
    const next = concatBytes(filler, new Uint8Array(len));
    xorInto(next, cipherStream(generateKey('rho', secrets[i]!), 2 * ROUTING_INFO_SIZE), ROUTING_INFO_SIZE - filler.length);
    filler = next;
  }
  let mix: Uint8Array = cipherStream(generateKey('pad', sessionKey), ROUTING_INFO_SIZE);
  let hmac: Uint8Array = new Uint8Array(32);
  for (let i = hops.length - 1; i >= 0; i--) {
    const payload = hops[i]!.payload;
    const shifted = concatBytes(payload, hmac, mix.subarray(0, ROUTING_INFO_SIZE - payload.length - 32));
    xorInto(shifted, cipherStream(generateKey('rho', secrets[i]!), ROUTING_INFO_SIZE));
    if (i === hops.length - 1) shifted.set(filler, ROUTING_INFO_SIZE - filler.length);
    mix = shifted;
    hmac = hmacSha256(generateKey('mu', secrets[i]!), concatBytes(mix, associatedData));
  }
  return concatBytes(Uint8Array.of(0), ephemeralPubkeys[0]!, mix, hmac);
}

export interface Peeled {
  /** This hop's payload (without its length prefix). */
  payload: Uint8Array;
  sharedSecret: Uint8Array;
  /** The packet for the next hop, or undefined when this hop is the last. */
  next?: Uint8Array;
}

/** A hop's processing: check the HMAC, decrypt its layer, and build the next packet. */
export function peelOnion(nodeSecret: Uint8Array, packet: Uint8Array, associatedData: Uint8Array): Peeled {
  if (packet.length !== PACKET_SIZE) throw new OnionError('invalid_payload', `an onion is ${PACKET_SIZE} bytes, not ${packet.length}`);
  if (packet[0] !== 0) throw new OnionError('invalid_version', `unknown onion version ${packet[0]}`);
  const ephPub = packet.subarray(1, 34);
  if (!secp.isPoint(ephPub)) throw new OnionError('invalid_key', 'the onion carries an invalid ephemeral key');
  const mix = packet.subarray(34, 34 + ROUTING_INFO_SIZE);
  const hmac = packet.subarray(34 + ROUTING_INFO_SIZE);
  const ss = secp.ecdh(nodeSecret, ephPub);
  const expected = hmacSha256(generateKey('mu', ss), concatBytes(mix, associatedData));
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= expected[i]! ^ hmac[i]!;
  if (diff !== 0) throw new OnionError('invalid_hmac', 'the onion HMAC does not match');
  const data = concatBytes(mix, new Uint8Array(ROUTING_INFO_SIZE));
  xorInto(data, cipherStream(generateKey('rho', ss), 2 * ROUTING_INFO_SIZE));
  let len: number;
  let prefix: number;
  try {
    const r = new Reader(data);
    len = Number(r.bigsize('payload length'));
    prefix = data.length - r.remaining;
  } catch (e) {
    if (e instanceof WireError) throw new OnionError('invalid_payload', e.message);
    throw e;
  }
  if (len === 0 || prefix + len + 32 > ROUTING_INFO_SIZE) throw new OnionError('invalid_payload', 'the hop payload length is out of range');
  const payload = data.slice(prefix, prefix + len);
  const nextHmac = data.slice(prefix + len, prefix + len + 32);
  if (nextHmac.every((b) => b === 0)) return { payload, sharedSecret: ss };
  const nextMix = data.slice(prefix + len + 32, prefix + len + 32 + ROUTING_INFO_SIZE);
  const nextPub = secp.pointMultiply(ephPub, sha256(concatBytes(ephPub, ss)));
  return { payload, sharedSecret: ss, next: concatBytes(Uint8Array.of(0), nextPub, nextMix, nextHmac) };
}
