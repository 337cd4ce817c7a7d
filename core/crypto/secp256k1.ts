/**
 * secp256k1 behind one interface, with two backends: @noble/secp256k1 (pure TypeScript) and
 * tiny-secp256k1 (libsecp256k1 compiled to WebAssembly). `npm run bench` measures both; the node uses
 * whichever `useSecpBackend` selected (tiny-secp256k1 by default, see `secp` below).
 *
 * Keys are 32-byte secrets and 33-byte compressed points; signatures are 64-byte compact (r||s),
 * low-S, deterministic (RFC 6979), over a 32-byte message hash.
 */
import * as noble from '@noble/secp256k1';
import * as tiny from 'tiny-secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { CryptoError } from './errors.ts';

noble.hashes.sha256 = sha256;
noble.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg);

export interface Secp256k1Backend {
  readonly name: 'noble' | 'tiny-secp256k1';
  getPublicKey(secret: Uint8Array): Uint8Array;
  sign(msgHash: Uint8Array, secret: Uint8Array): Uint8Array;
  verify(sig: Uint8Array, msgHash: Uint8Array, pub: Uint8Array): boolean;
  /** BOLT 8 ECDH: sha256 of the compressed shared point. */
  ecdh(secret: Uint8Array, pub: Uint8Array): Uint8Array;
  pointAdd(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** pub·tweak */
  pointMultiply(pub: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** (secret + tweak) mod n */
  privateAdd(secret: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** (secret · tweak) mod n */
  privateMultiply(secret: Uint8Array, tweak: Uint8Array): Uint8Array;
  isPoint(bytes: Uint8Array): boolean;
  isPrivate(bytes: Uint8Array): boolean;
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function toBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function to32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function needSecret(b: Uint8Array, backend: Secp256k1Backend): void {
  if (!(b instanceof Uint8Array) || b.length !== 32 || !backend.isPrivate(b)) throw new CryptoError('invalid_private_key', 'not a valid secp256k1 secret key');
}

function needPoint(b: Uint8Array, backend: Secp256k1Backend): void {
  if (!(b instanceof Uint8Array) || b.length !== 33 || !backend.isPoint(b)) throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
}

function needTweak(t: Uint8Array): bigint {
  if (!(t instanceof Uint8Array) || t.length !== 32) throw new CryptoError('invalid_tweak', 'a tweak is 32 bytes');
  const v = toBigInt(t);
  if (v >= N) throw new CryptoError('invalid_tweak', 'tweak is not below the curve order');
  return v;
}

function need32(b: Uint8Array, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new CryptoError('invalid_length', `${what} must be 32 bytes`);
}

export const nobleBackend: Secp256k1Backend = {
  name: 'noble',
  getPublicKey(secret) {
    needSecret(secret, this);
    return noble.getPublicKey(secret, true);
  },
  sign(msgHash, secret) {
    need32(msgHash, 'message hash');
    needSecret(secret, this);
    return noble.sign(msgHash, secret, { prehash: false, lowS: true });
  },
  verify(sig, msgHash, pub) {
    if (sig.length !== 64 || msgHash.length !== 32 || pub.length !== 33) return false;
    try {
      return noble.verify(sig, msgHash, pub, { prehash: false, lowS: true });
    } catch {
      return false;
    }
  },
  ecdh(secret, pub) {
    needSecret(secret, this);
    needPoint(pub, this);
    return sha256(noble.getSharedSecret(secret, pub, true));
  },
  pointAdd(a, b) {
    needPoint(a, this);
    needPoint(b, this);
    const sum = noble.Point.fromBytes(a).add(noble.Point.fromBytes(b));
    if (sum.equals(noble.Point.ZERO)) throw new CryptoError('invalid_public_key', 'points add up to infinity');
    return sum.toBytes(true);
  },
  pointMultiply(pub, tweak) {
    needPoint(pub, this);
    const t = needTweak(tweak);
    if (t === 0n) throw new CryptoError('invalid_tweak', 'tweak is zero');
    return noble.Point.fromBytes(pub).multiply(t).toBytes(true);
  },
  privateAdd(secret, tweak) {
    needSecret(secret, this);
    const r = (toBigInt(secret) + needTweak(tweak)) % N;
    if (r === 0n) throw new CryptoError('invalid_tweak', 'result is zero');
    return to32(r);
  },
  privateMultiply(secret, tweak) {
    needSecret(secret, this);
    const t = needTweak(tweak);
    if (t === 0n) throw new CryptoError('invalid_tweak', 'tweak is zero');
    return to32((toBigInt(secret) * t) % N);
  },
  isPoint(bytes) {
    return bytes.length === 33 && noble.utils.isValidPublicKey(bytes, true);
  },
  isPrivate(bytes) {
    return bytes.length === 32 && noble.utils.isValidSecretKey(bytes);
  },
};

export const tinyBackend: Secp256k1Backend = {
  name: 'tiny-secp256k1',
  getPublicKey(secret) {
    needSecret(secret, this);
    return tiny.pointFromScalar(secret, true)!;
  },
  sign(msgHash, secret) {
    need32(msgHash, 'message hash');
    needSecret(secret, this);
    return tiny.sign(msgHash, secret);
  },
  verify(sig, msgHash, pub) {
    if (sig.length !== 64 || msgHash.length !== 32 || pub.length !== 33) return false;
    try {
      // libsecp256k1 verifies only low-S signatures when strict; BOLTs require low-S.
      return tiny.verify(msgHash, pub, sig, true);
    } catch {
      return false;
    }
  },
  ecdh(secret, pub) {
    needSecret(secret, this);
    needPoint(pub, this);
    return sha256(tiny.pointMultiply(pub, secret, true)!);
  },
  pointAdd(a, b) {
    needPoint(a, this);
    needPoint(b, this);
    const r = tiny.pointAdd(a, b, true);
    if (!r) throw new CryptoError('invalid_public_key', 'points add up to infinity');
    return r;
  },
  pointMultiply(pub, tweak) {
    needPoint(pub, this);
    if (needTweak(tweak) === 0n) throw new CryptoError('invalid_tweak', 'tweak is zero');
    return tiny.pointMultiply(pub, tweak, true)!;
  },
  privateAdd(secret, tweak) {
    needSecret(secret, this);
    needTweak(tweak);
    const r = tiny.privateAdd(secret, tweak);
    if (!r) throw new CryptoError('invalid_tweak', 'result is zero');
    return r;
  },
  privateMultiply(secret, tweak) {
    return nobleBackend.privateMultiply(secret, tweak);
  },
  isPoint(bytes) {
    return bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3) && tiny.isPoint(bytes);
  },
  isPrivate(bytes) {
    return bytes.length === 32 && tiny.isPrivate(bytes);
  },
};

export const secpBackends: readonly Secp256k1Backend[] = [nobleBackend, tinyBackend];

/**
 * The backend in use. `npm run bench` measured libsecp256k1 (WebAssembly) at about 10x noble for
 * verification and ECDH, which dominate handshakes, gossip and busy channels, so it is the default;
 * noble stays as the fallback and the reference both are tested against.
 */
export let secp: Secp256k1Backend = tinyBackend;

export function useSecpBackend(name: Secp256k1Backend['name']): void {
  const b = secpBackends.find((x) => x.name === name);
  if (!b) throw new Error(`unknown secp256k1 backend ${name}`);
  secp = b;
}
