/** Hashes and key derivation functions, from @noble/hashes. */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';

const NO_INFO = new Uint8Array(0);

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}

/**
 * BOLT 8's HKDF: HKDF-SHA256 (RFC 5869 extract then expand) with the chaining key as salt and an
 * empty info, 64 bytes of output split into two 32-byte keys.
 */
export function hkdf(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = nobleHkdf(nobleSha256, ikm, salt, NO_INFO, 64);
  return [out.slice(0, 32), out.slice(32, 64)];
}

/** The same function under the name the first callers used. */
export const hkdf2 = hkdf;
