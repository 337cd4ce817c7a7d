/**
 * BOLT 4 returned errors: the failing node wraps its failure message with an HMAC under its shared
 * secret, every hop on the way back obfuscates it with its own stream, and the sender peels the
 * layers in route order until an HMAC checks out, which names the failing hop.
 */
import { hmacSha256 } from '../crypto/hash.ts';
import { cipherStream, generateKey } from './sphinx.ts';

/** Failure message and padding always total this many bytes, so lengths reveal nothing. */
export const FAILURE_BODY = 1024;

export function createFailurePacket(sharedSecret: Uint8Array, failureMessage: Uint8Array): Uint8Array {
  if (failureMessage.length > FAILURE_BODY) throw new RangeError('failure message too long');
  const pad = FAILURE_BODY - failureMessage.length;
  const payload = new Uint8Array(2 + failureMessage.length + 2 + pad);
  const view = new DataView(payload.buffer);
  view.setUint16(0, failureMessage.length);
  payload.set(failureMessage, 2);
  view.setUint16(2 + failureMessage.length, pad);
  const packet = new Uint8Array(32 + payload.length);
  packet.set(hmacSha256(generateKey('um', sharedSecret), payload), 0);
  packet.set(payload, 32);
  return packet;
}

/** One hop's obfuscation layer (its own or, on the way back, each forwarding hop's). */
export function obfuscateFailure(sharedSecret: Uint8Array, packet: Uint8Array): Uint8Array {
  const stream = cipherStream(generateKey('ammag', sharedSecret), packet.length);
  const out = new Uint8Array(packet.length);
  for (let i = 0; i < packet.length; i++) out[i] = packet[i]! ^ stream[i]!;
  return out;
}

/** At the sender: which hop failed, and its message; undefined when no hop's HMAC matches. */
export function decodeFailure(sharedSecrets: Uint8Array[], packet: Uint8Array): { hop: number; message: Uint8Array } | undefined {
  let p = packet;
  for (let i = 0; i < sharedSecrets.length; i++) {
    p = obfuscateFailure(sharedSecrets[i]!, p);
    const mac = hmacSha256(generateKey('um', sharedSecrets[i]!), p.subarray(32));
    let diff = 0;
    for (let j = 0; j < 32; j++) diff |= mac[j]! ^ p[j]!;
    if (diff === 0 && p.length >= 34) {
      const len = (p[32]! << 8) | p[33]!;
      if (34 + len > p.length) return undefined;
      return { hop: i, message: p.slice(34, 34 + len) };
    }
  }
  return undefined;
}
