import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { nobleBackend, tinyBackend, nativeBackend, secpBackends, useSecpBackend, CryptoError, sha256 } from '../../../core/crypto/index.ts';
import * as crypto from '../../../core/crypto/index.ts';

const rand = (n = 32): Uint8Array => new Uint8Array(randomBytes(n));
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const scalar = (v: bigint): Uint8Array => hex.decode(v.toString(16).padStart(64, '0'));
const big = (b: Uint8Array): bigint => BigInt('0x' + hex.encode(b));

describe('secp256k1 backends agree', () => {
  it.each(secpBackends.filter((b) => b !== nobleBackend).map((b) => [b.name, b] as const))('%s agrees with noble on keys, signatures, ECDH and tweaks for random inputs', (_n, other) => {
    for (let i = 0; i < 40; i++) {
      const a = rand();
      const b = rand();
      const t = rand();
      const msg = sha256(rand(64));
      const A = nobleBackend.getPublicKey(a);
      expect(A.length).toBe(33);
      expect(other.getPublicKey(a)).toEqual(A);
      const sig = nobleBackend.sign(msg, a);
      expect(sig.length).toBe(64);
      expect(other.sign(msg, a)).toEqual(sig); // RFC 6979: deterministic, identical
      expect(big(sig.subarray(32))).toBeLessThanOrEqual(N / 2n); // low-S
      expect(nobleBackend.verify(sig, msg, A)).toBe(true);
      expect(other.verify(sig, msg, A)).toBe(true);
      const wrong = sha256(msg);
      expect(nobleBackend.verify(sig, wrong, A)).toBe(false);
      expect(other.verify(sig, wrong, A)).toBe(false);
      const B = nobleBackend.getPublicKey(b);
      // ECDH is symmetric and the same on both backends.
      const shared = nobleBackend.ecdh(a, B);
      expect(other.ecdh(a, B)).toEqual(shared);
      expect(other.ecdh(b, A)).toEqual(shared);
      expect(nobleBackend.pointAdd(A, B)).toEqual(other.pointAdd(A, B));
      expect(nobleBackend.pointMultiply(A, t)).toEqual(other.pointMultiply(A, t));
      expect(nobleBackend.privateAdd(a, t)).toEqual(other.privateAdd(a, t));
      expect(nobleBackend.privateMultiply(a, t)).toEqual(other.privateMultiply(a, t));
      expect(nobleBackend.privateNegate!(a)).toEqual(other.privateNegate!(a));
      // The algebra holds: (a+t)·G = A + t·G, (a·t)·G = t·A, (−a)·G + A = infinity.
      expect(nobleBackend.getPublicKey(nobleBackend.privateAdd(a, t))).toEqual(other.pointAdd(A, other.getPublicKey(t)));
      expect(nobleBackend.getPublicKey(nobleBackend.privateMultiply(a, t))).toEqual(other.pointMultiply(A, t));
      expect(() => other.pointAdd(A, nobleBackend.getPublicKey(nobleBackend.privateNegate!(a)))).toThrow(CryptoError);
      // A + t·G in one step, on both backends; A + (−a)·G is infinity.
      expect(other.pointAddScalar(A, t)).toEqual(nobleBackend.getPublicKey(nobleBackend.privateAdd(a, t)));
      expect(nobleBackend.pointAddScalar(A, t)).toEqual(other.pointAddScalar(A, t));
      for (const b of [nobleBackend, other]) expect(() => b.pointAddScalar(A, nobleBackend.privateNegate!(a))).toThrow(CryptoError);
    }
  });

  it.each(secpBackends.map((b) => [b.name, b] as const))('%s leaves its private-key arguments as they were', (_n, b) => {
    const a = rand();
    const t = rand();
    const before = a.slice();
    b.privateAdd(a, t);
    b.privateMultiply(a, t);
    b.privateNegate?.(a);
    b.sign(sha256(t), a);
    expect(a).toEqual(before);
  });

  it('signRecoverable and recoverPublicKey: the signer comes back from the signature, and noble agrees on the signature', () => {
    for (let i = 0; i < 20; i++) {
      const a = rand();
      const msg = sha256(rand(64));
      const { signature, recoveryId } = crypto.signRecoverable(msg, a);
      expect(signature).toEqual(nobleBackend.sign(msg, a));
      expect(crypto.recoverPublicKey(msg, signature, recoveryId)).toEqual(nobleBackend.getPublicKey(a));
      expect(crypto.recoverPublicKey(msg, signature, recoveryId ^ 1)).not.toEqual(nobleBackend.getPublicKey(a));
    }
    expect(crypto.recoverPublicKey(rand(), new Uint8Array(64), 0)).toBeNull();
    expect(crypto.recoverPublicKey(rand(), rand(64), 4)).toBeNull();
  });

  it('the native addon loads where it ships a prebuilt library (Linux x64, as the CI machine)', () => {
    if (process.platform === 'linux' && process.arch === 'x64') expect(nativeBackend?.name).toBe('native');
    expect(crypto.secp).toBe(nativeBackend ?? tinyBackend);
  });

  it('BOLT 8 ECDH is sha256 of the compressed shared point (spec handshake key pair)', () => {
    // From BOLT 8's initiator vector: ECDH(e.priv, rs.pub) = ss.
    const e = hex.decode('1212121212121212121212121212121212121212121212121212121212121212');
    const rs = hex.decode('028d7500dd4c12685d1f568b4c2b5048e8534b873319f3a8daa612b469132ec7f7');
    for (const b of secpBackends) expect(hex.encode(b.ecdh(e, rs))).toBe('1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3');
  });

  it('verify refuses a high-S signature (BOLTs require low-S)', () => {
    const a = rand();
    const msg = sha256(rand());
    const sig = nobleBackend.sign(msg, a);
    const high = new Uint8Array(sig);
    high.set(scalar(N - big(sig.subarray(32))), 32);
    for (const b of secpBackends) expect(b.verify(high, msg, b.getPublicKey(a))).toBe(false);
  });

  it.each(secpBackends.map((b) => [b.name, b] as const))('%s rejects invalid input with CryptoError, never a crash', (_n, b) => {
    const zero = new Uint8Array(32);
    const n = scalar(N);
    const good = rand();
    const P = b.getPublicKey(good);
    const notAPoint = Uint8Array.from([2, ...new Uint8Array(32).fill(0xff)]); // x ≥ p
    const bad: [string, () => unknown, string][] = [
      ['zero secret', () => b.getPublicKey(zero), 'invalid_private_key'],
      ['secret = n', () => b.getPublicKey(n), 'invalid_private_key'],
      ['short secret', () => b.getPublicKey(rand(31)), 'invalid_private_key'],
      ['not bytes', () => b.getPublicKey('00' as unknown as Uint8Array), 'invalid_private_key'],
      ['uncompressed prefix', () => b.ecdh(good, Uint8Array.from([4, ...rand(32)])), 'invalid_public_key'],
      ['all-zero point', () => b.ecdh(good, new Uint8Array(33)), 'invalid_public_key'],
      ['x beyond the field', () => b.ecdh(good, notAPoint), 'invalid_public_key'],
      ['65-byte point', () => b.pointAdd(P, new Uint8Array(65)), 'invalid_public_key'],
      ['added point off the curve', () => b.pointAdd(notAPoint, P), 'invalid_public_key'],
      ['multiplied point off the curve', () => b.pointMultiply(notAPoint, good), 'invalid_public_key'],
      ['tweaked point off the curve', () => b.pointAddScalar(notAPoint, good), 'invalid_public_key'],
      ['tweak = n added', () => b.pointAddScalar(P, n), 'invalid_tweak'],
      ['tweak = n', () => b.pointMultiply(P, n), 'invalid_tweak'],
      ['zero tweak', () => b.pointMultiply(P, zero), 'invalid_tweak'],
      ['short tweak', () => b.privateAdd(good, rand(31)), 'invalid_tweak'],
      ['multiply by zero', () => b.privateMultiply(good, zero), 'invalid_tweak'],
      ['sum is zero', () => b.privateAdd(good, b.privateNegate!(good)), 'invalid_tweak'],
      ['short hash', () => b.sign(rand(31), good), 'invalid_length'],
      ['sign with zero key', () => b.sign(rand(), zero), 'invalid_private_key'],
      ['negate zero', () => b.privateNegate!(zero), 'invalid_private_key'],
    ];
    for (const [what, fn, code] of bad) expect(fn, what).toThrow(expect.objectContaining({ name: 'CryptoError', code }));
    const negP = Uint8Array.from([P[0] === 2 ? 3 : 2, ...P.subarray(1)]);
    expect(() => b.pointAdd(P, negP)).toThrow(CryptoError);
    // verify never throws: anything malformed is simply not a valid signature.
    const msg = rand();
    expect(b.verify(new Uint8Array(64), msg, P)).toBe(false);
    expect(b.verify(rand(63), msg, P)).toBe(false);
    expect(b.verify(b.sign(msg, good), msg, notAPoint)).toBe(false);
    expect(b.verify(b.sign(msg, good), rand(31), P)).toBe(false);
    expect(b.verify(undefined as unknown as Uint8Array, msg, P)).toBe(false);
    expect(b.isPoint(P)).toBe(true);
    expect(b.isPoint(notAPoint)).toBe(false);
    expect(b.isPrivate(good)).toBe(true);
    expect(b.isPrivate(n)).toBe(false);
  });
});

describe('backend selection', () => {
  const initial = crypto.secp.name;
  afterEach(() => {
    useSecpBackend(initial);
  });

  it('useSecpBackend switches the module-level secp (a live binding) and refuses unknown names', () => {
    expect(useSecpBackend('noble')).toBe(nobleBackend);
    expect(crypto.secp).toBe(nobleBackend);
    useSecpBackend('tiny-secp256k1');
    expect(crypto.secp).toBe(tinyBackend);
    expect(() => useSecpBackend('openssl' as 'noble')).toThrow(expect.objectContaining({ code: 'unknown_backend' }));
    expect(crypto.secp).toBe(tinyBackend);
    if (nativeBackend) expect(useSecpBackend('native')).toBe(nativeBackend);
  });
});
