/**
 * secp256k1 behind one interface, with three backends: @noble/secp256k1 (pure TypeScript),
 * tiny-secp256k1 (libsecp256k1 compiled to WebAssembly) and the `secp256k1` package (libsecp256k1 as a
 * native addon, loaded from the prebuilt binaries it ships, where the platform has one). `npm run bench`
 * measures them; the node uses whichever `useSecpBackend` selected (see `secp` below for the default
 * and why).
 *
 * Keys are 32-byte secrets and 33-byte compressed points; signatures are 64-byte compact (r||s),
 * low-S, deterministic (RFC 6979), over a 32-byte message hash. Every function checks its input and
 * throws CryptoError on anything invalid, so neither backend ever sees bytes it could choke on.
 */
import * as noble from '@noble/secp256k1';
import * as tiny from 'tiny-secp256k1';
import { createRequire } from 'node:module';
import type * as NativeSecp from 'secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { CryptoError } from './errors.ts';

// @noble/secp256k1 v3 ships without hashes: RFC 6979 signing needs HMAC-SHA256 and SHA-256.
noble.hashes.sha256 = sha256;
noble.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg);

export interface Secp256k1Backend {
  readonly name: 'noble' | 'tiny-secp256k1' | 'native';
  /** The 33-byte compressed public key of a secret. */
  getPublicKey(secret: Uint8Array): Uint8Array;
  /** 64-byte compact r||s, low-S, RFC 6979 nonce. */
  sign(msgHash: Uint8Array, secret: Uint8Array): Uint8Array;
  /** False for any malformed input, a high-S signature, or a signature that does not check out. */
  verify(sig: Uint8Array, msgHash: Uint8Array, pub: Uint8Array): boolean;
  /** BOLT 8 ECDH: sha256 of the compressed shared point. */
  ecdh(secret: Uint8Array, pub: Uint8Array): Uint8Array;
  /** a + b (throws when they cancel out) */
  pointAdd(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** pub·tweak */
  pointMultiply(pub: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** pub + tweak·G (throws when the result is infinity): BOLT 3's key derivation in one step. */
  pointAddScalar(pub: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** (secret + tweak) mod n */
  privateAdd(secret: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** (secret · tweak) mod n */
  privateMultiply(secret: Uint8Array, tweak: Uint8Array): Uint8Array;
  /** n − secret */
  privateNegate?(secret: Uint8Array): Uint8Array;
  /** A valid 33-byte compressed point. */
  isPoint(bytes: Uint8Array): boolean;
  /** A valid 32-byte secret: 0 < d < n. */
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

function isBytes(b: unknown, length: number): b is Uint8Array {
  return b instanceof Uint8Array && b.length === length;
}

function needSecret(b: Uint8Array, backend: Secp256k1Backend): void {
  if (!backend.isPrivate(b)) throw new CryptoError('invalid_private_key', 'not a valid secp256k1 secret key');
}

function needPoint(b: Uint8Array, backend: Secp256k1Backend): void {
  if (!backend.isPoint(b)) throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
}

/** A tweak is any 32-byte scalar below n; zero is refused where it would yield an invalid key. */
function needTweak(t: Uint8Array, allowZero: boolean): bigint {
  if (!isBytes(t, 32)) throw new CryptoError('invalid_tweak', 'a tweak is 32 bytes');
  const v = toBigInt(t);
  if (v >= N) throw new CryptoError('invalid_tweak', 'tweak is not below the curve order');
  if (v === 0n && !allowZero) throw new CryptoError('invalid_tweak', 'tweak is zero');
  return v;
}

function needHash(b: Uint8Array): void {
  if (!isBytes(b, 32)) throw new CryptoError('invalid_length', 'message hash must be 32 bytes');
}

function verifiable(sig: Uint8Array, msgHash: Uint8Array, pub: Uint8Array): boolean {
  return isBytes(sig, 64) && isBytes(msgHash, 32) && isBytes(pub, 33);
}

export const nobleBackend: Secp256k1Backend = {
  name: 'noble',
  getPublicKey(secret) {
    needSecret(secret, this);
    return noble.getPublicKey(secret, true);
  },
  sign(msgHash, secret) {
    needHash(msgHash);
    needSecret(secret, this);
    return noble.sign(msgHash, secret, { prehash: false, lowS: true });
  },
  verify(sig, msgHash, pub) {
    if (!verifiable(sig, msgHash, pub)) return false;
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
    return noble.Point.fromBytes(pub).multiply(needTweak(tweak, false)).toBytes(true);
  },
  pointAddScalar(pub, tweak) {
    needPoint(pub, this);
    const t = needTweak(tweak, true);
    const p = noble.Point.fromBytes(pub);
    const sum = t === 0n ? p : p.add(noble.Point.BASE.multiply(t));
    if (sum.equals(noble.Point.ZERO)) throw new CryptoError('invalid_tweak', 'the tweaked point is infinity');
    return sum.toBytes(true);
  },
  privateAdd(secret, tweak) {
    needSecret(secret, this);
    const r = (toBigInt(secret) + needTweak(tweak, true)) % N;
    if (r === 0n) throw new CryptoError('invalid_tweak', 'result is zero');
    return to32(r);
  },
  privateMultiply(secret, tweak) {
    needSecret(secret, this);
    return to32((toBigInt(secret) * needTweak(tweak, false)) % N);
  },
  privateNegate(secret) {
    needSecret(secret, this);
    return to32(N - toBigInt(secret));
  },
  isPoint(bytes) {
    return isBytes(bytes, 33) && (bytes[0] === 2 || bytes[0] === 3) && noble.utils.isValidPublicKey(bytes, true);
  },
  isPrivate(bytes) {
    return isBytes(bytes, 32) && noble.utils.isValidSecretKey(bytes);
  },
};

/** A 33-byte compressed encoding (whether it lies on the curve is the backend's check). */
function needCompressed(b: Uint8Array): void {
  if (!isBytes(b, 33) || (b[0] !== 2 && b[0] !== 3)) throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
}

/** Runs a tiny-secp256k1 call whose encodings were checked: a point it refuses is not on the curve. */
function tinyPoint<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TypeError && e.message === 'Expected Point') throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
    throw e;
  }
}

/** tiny-secp256k1 returns null for an infinite result; with checked inputs that cannot happen here. */
function nonNull(r: Uint8Array | null, what: string): Uint8Array {
  if (!r) throw new CryptoError('invalid_tweak', `${what} has no valid result`);
  return r;
}

export const tinyBackend: Secp256k1Backend = {
  name: 'tiny-secp256k1',
  getPublicKey(secret) {
    needSecret(secret, this);
    return nonNull(tiny.pointFromScalar(secret, true), 'public key');
  },
  sign(msgHash, secret) {
    needHash(msgHash);
    needSecret(secret, this);
    return tiny.sign(msgHash, secret);
  },
  verify(sig, msgHash, pub) {
    if (!verifiable(sig, msgHash, pub)) return false;
    try {
      // strict: high-S signatures are refused, as BOLTs require low-S.
      return tiny.verify(msgHash, pub, sig, true);
    } catch {
      return false;
    }
  },
  // tiny-secp256k1 checks every point it is given on the curve itself (and parses it again to use
  // it): only the encoding is checked here, cheaply, and its refusal turned into ours.
  ecdh(secret, pub) {
    needSecret(secret, this);
    needCompressed(pub);
    return sha256(nonNull(tinyPoint(() => tiny.pointMultiply(pub, secret, true)), 'shared point'));
  },
  pointAdd(a, b) {
    needCompressed(a);
    needCompressed(b);
    const r = tinyPoint(() => tiny.pointAdd(a, b, true));
    if (!r) throw new CryptoError('invalid_public_key', 'points add up to infinity');
    return r;
  },
  pointMultiply(pub, tweak) {
    needCompressed(pub);
    needTweak(tweak, false);
    return nonNull(tinyPoint(() => tiny.pointMultiply(pub, tweak, true)), 'point multiplication');
  },
  pointAddScalar(pub, tweak) {
    needCompressed(pub);
    needTweak(tweak, true);
    const r = tinyPoint(() => tiny.pointAddScalar(pub, tweak, true));
    if (!r) throw new CryptoError('invalid_tweak', 'the tweaked point is infinity');
    return r;
  },
  privateAdd(secret, tweak) {
    needSecret(secret, this);
    needTweak(tweak, true);
    const r = tiny.privateAdd(secret, tweak);
    if (!r) throw new CryptoError('invalid_tweak', 'result is zero');
    return r;
  },
  privateMultiply(secret, tweak) {
    // libsecp256k1's scalar multiplication is not exported by tiny-secp256k1; the bigint product is
    // exact and cheap next to any point operation.
    return nobleBackend.privateMultiply(secret, tweak);
  },
  privateNegate(secret) {
    needSecret(secret, this);
    return tiny.privateNegate(secret);
  },
  isPoint(bytes) {
    return isBytes(bytes, 33) && (bytes[0] === 2 || bytes[0] === 3) && tiny.isPoint(bytes);
  },
  isPrivate(bytes) {
    return isBytes(bytes, 32) && tiny.isPrivate(bytes);
  },
};

/**
 * The native addon's bindings, or undefined where none loads: `secp256k1/bindings` loads only the
 * compiled library (the package's own entry point would fall back to a slow pure-JavaScript curve,
 * which noble already covers better).
 */
function loadNative(): typeof NativeSecp | undefined {
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as typeof NativeSecp;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/**
 * Runs a native call on inputs whose encodings were checked; its refusals (a point not on the curve,
 * a tweak that yields an invalid key) are plain Errors, turned into ours with the reason given.
 */
function nativeCall<T>(f: () => T, code: 'invalid_public_key' | 'invalid_tweak', reason: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError(code, reason);
  }
}

/**
 * libsecp256k1 as a native addon: about 5x the WebAssembly build for every operation. The library
 * modifies private-key arguments in place, so those are always copied first; verification refuses
 * high-S signatures as BOLTs require (libsecp256k1's verify accepts only the lower-S form).
 */
export const nativeBackend: Secp256k1Backend | undefined = native && {
  name: 'native',
  getPublicKey(secret) {
    needSecret(secret, this);
    return native.publicKeyCreate(secret, true);
  },
  sign(msgHash, secret) {
    needHash(msgHash);
    needSecret(secret, this);
    return native.ecdsaSign(msgHash, secret).signature;
  },
  verify(sig, msgHash, pub) {
    if (!verifiable(sig, msgHash, pub)) return false;
    try {
      return native.ecdsaVerify(sig, msgHash, pub);
    } catch {
      return false;
    }
  },
  // The library's default ECDH hash is BOLT 8's: sha256 of the compressed shared point.
  ecdh(secret, pub) {
    needSecret(secret, this);
    needCompressed(pub);
    return nativeCall(() => native.ecdh(pub, secret), 'invalid_public_key', 'not a valid compressed secp256k1 public key');
  },
  pointAdd(a, b) {
    needCompressed(a);
    needCompressed(b);
    if (!this.isPoint(a) || !this.isPoint(b)) throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
    return nativeCall(() => native.publicKeyCombine([a, b], true), 'invalid_public_key', 'points add up to infinity');
  },
  pointMultiply(pub, tweak) {
    needCompressed(pub);
    needTweak(tweak, false);
    return nativeCall(() => native.publicKeyTweakMul(pub, tweak, true), 'invalid_public_key', 'not a valid compressed secp256k1 public key');
  },
  pointAddScalar(pub, tweak) {
    needCompressed(pub);
    needTweak(tweak, true);
    if (!this.isPoint(pub)) throw new CryptoError('invalid_public_key', 'not a valid compressed secp256k1 public key');
    return nativeCall(() => native.publicKeyTweakAdd(pub, tweak, true), 'invalid_tweak', 'the tweaked point is infinity');
  },
  privateAdd(secret, tweak) {
    needSecret(secret, this);
    needTweak(tweak, true);
    return nativeCall(() => native.privateKeyTweakAdd(secret.slice(), tweak), 'invalid_tweak', 'result is zero');
  },
  privateMultiply(secret, tweak) {
    needSecret(secret, this);
    needTweak(tweak, false);
    return native.privateKeyTweakMul(secret.slice(), tweak);
  },
  privateNegate(secret) {
    needSecret(secret, this);
    return native.privateKeyNegate(secret.slice());
  },
  isPoint(bytes) {
    return isBytes(bytes, 33) && (bytes[0] === 2 || bytes[0] === 3) && native.publicKeyVerify(bytes);
  },
  isPrivate(bytes) {
    return isBytes(bytes, 32) && native.privateKeyVerify(bytes);
  },
};

export const secpBackends: readonly Secp256k1Backend[] = nativeBackend ? [nobleBackend, tinyBackend, nativeBackend] : [nobleBackend, tinyBackend];

/**
 * The backend in use. `npm run bench` measures libsecp256k1 (WebAssembly) at about 3x noble for
 * signing and 9–12x for verification and ECDH, and the native addon at about 5x the WebAssembly build
 * again; these dominate handshakes, gossip and every commitment of a busy channel (each derives its
 * keys and signs and checks its signatures), so the fastest one present is the default: native where
 * the addon loads, otherwise WebAssembly. noble stays as the reference all are tested against.
 */
export let secp: Secp256k1Backend = nativeBackend ?? tinyBackend;

/**
 * The compressed public key that made a compact signature with recovery id `recid` over `msgHash`
 * (BOLT 11's signature), or null when none can be recovered. The native library where it loads,
 * otherwise WebAssembly (noble has it too, but slowest: a payment decodes its invoice once).
 */
export function recoverPublicKey(msgHash: Uint8Array, sig: Uint8Array, recid: number): Uint8Array | null {
  if (!isBytes(msgHash, 32) || !isBytes(sig, 64) || !Number.isInteger(recid) || recid < 0 || recid > 3) return null;
  try {
    return native ? native.ecdsaRecover(sig, recid, msgHash, true) : tiny.recover(msgHash, sig, recid as 0 | 1 | 2 | 3, true);
  } catch {
    return null; // r or s out of range, or no point for them
  }
}

/** A compact low-S signature with its recovery id (BOLT 11), deterministic (RFC 6979). */
export function signRecoverable(msgHash: Uint8Array, secret: Uint8Array): { signature: Uint8Array; recoveryId: number } {
  needHash(msgHash);
  needSecret(secret, secp);
  if (native) {
    const r = native.ecdsaSign(msgHash, secret);
    return { signature: r.signature, recoveryId: r.recid };
  }
  const r = tiny.signRecoverable(msgHash, secret);
  return { signature: r.signature, recoveryId: r.recoveryId };
}

/** The default backend (the fastest present), to go back to after a test chose another. */
export const defaultSecpBackend: Secp256k1Backend = secp;

export function useSecpBackend(name: Secp256k1Backend['name']): Secp256k1Backend {
  const b = secpBackends.find((x) => x.name === name);
  if (!b) throw new CryptoError('unknown_backend', `unknown secp256k1 backend ${String(name)}`);
  secp = b;
  return b;
}
