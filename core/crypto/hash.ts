/** Hashes and key derivation functions, from @noble/hashes. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}

/**
 * BOLT 8's HKDF: HKDF-SHA256 with the chaining key as salt, an empty info, 64 bytes of output split
 * into two 32-byte keys.
 */
export function hkdf2(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(nobleSha256, ikm, salt, new Uint8Array(0), 64);
  return [out.slice(0, 32), out.slice(32, 64)];
}
