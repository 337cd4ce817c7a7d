import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { nobleBackend, tinyBackend, CryptoError, sha256, aeadBackends, nobleAead, nodeAead, nodeHasChaCha } from '../../../core/crypto/index.ts';

const rand = (n = 32): Uint8Array => new Uint8Array(randomBytes(n));

describe('secp256k1 backends agree', () => {
  it('on keys, signatures, ECDH and tweaks for random inputs', () => {
    for (let i = 0; i < 40; i++) {
      const a = rand();
      const b = rand();
      const t = rand();
      const msg = sha256(rand(64));
      const A = nobleBackend.getPublicKey(a);
      expect(tinyBackend.getPublicKey(a)).toEqual(A);
      const sig = nobleBackend.sign(msg, a);
      expect(tinyBackend.sign(msg, a)).toEqual(sig); // RFC 6979: deterministic, identical
      expect(nobleBackend.verify(sig, msg, A)).toBe(true);
      expect(tinyBackend.verify(sig, msg, A)).toBe(true);
      const wrong = sha256(msg);
      expect(nobleBackend.verify(sig, wrong, A)).toBe(false);
      expect(tinyBackend.verify(sig, wrong, A)).toBe(false);
      const B = nobleBackend.getPublicKey(b);
      expect(nobleBackend.ecdh(a, B)).toEqual(tinyBackend.ecdh(b, A));
      expect(nobleBackend.pointAdd(A, B)).toEqual(tinyBackend.pointAdd(A, B));
      expect(nobleBackend.pointMultiply(A, t)).toEqual(tinyBackend.pointMultiply(A, t));
      expect(nobleBackend.privateAdd(a, t)).toEqual(tinyBackend.privateAdd(a, t));
      // (a·t)·G = t·(a·G)
      expect(nobleBackend.getPublicKey(nobleBackend.privateMultiply(a, t))).toEqual(tinyBackend.pointMultiply(A, t));
    }
  });

  it.each([nobleBackend, tinyBackend].map((b) => [b.name, b] as const))('%s rejects invalid input with CryptoError', (_n, b) => {
    const zero = new Uint8Array(32);
    const n = Uint8Array.from(Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'));
    expect(() => b.getPublicKey(zero)).toThrow(CryptoError);
    expect(() => b.getPublicKey(n)).toThrow(CryptoError);
    expect(() => b.ecdh(rand(), Uint8Array.from([4, ...rand(32)]))).toThrow(CryptoError);
    expect(() => b.ecdh(rand(), new Uint8Array(33))).toThrow(CryptoError);
    expect(() => b.pointMultiply(b.getPublicKey(rand()), n)).toThrow(CryptoError);
    expect(() => b.sign(rand(31), rand())).toThrow(CryptoError);
    expect(b.verify(new Uint8Array(64), rand(), b.getPublicKey(rand()))).toBe(false);
    const P = b.getPublicKey(rand());
    const negP = Uint8Array.from([P[0] === 2 ? 3 : 2, ...P.subarray(1)]);
    expect(() => b.pointAdd(P, negP)).toThrow(CryptoError);
  });
});

describe('AEAD backends', () => {
  it('Node offers ChaCha20-Poly1305 here, so both backends are in use', () => {
    expect(nodeHasChaCha()).toBe(true);
    expect(aeadBackends.map((b) => b.name)).toEqual(['node', 'noble']);
  });
  it('agree byte for byte and both reject a forged tag', () => {
    for (const len of [0, 1, 100, 65535]) {
      const key = rand();
      const nonce = rand(12);
      const ad = rand(len % 40);
      const pt = rand(len);
      const c1 = nodeAead.encrypt(key, nonce, ad, pt);
      const c2 = nobleAead.encrypt(key, nonce, ad, pt);
      expect(c1).toEqual(c2);
      expect(nodeAead.decrypt(key, nonce, ad, c2)).toEqual(pt);
      expect(nobleAead.decrypt(key, nonce, ad, c1)).toEqual(pt);
      c1[c1.length - 1]! ^= 1;
      expect(() => nodeAead.decrypt(key, nonce, ad, c1)).toThrow(expect.objectContaining({ code: 'bad_mac' }));
      expect(() => nobleAead.decrypt(key, nonce, ad, c1)).toThrow(expect.objectContaining({ code: 'bad_mac' }));
    }
    expect(() => nobleAead.decrypt(rand(), rand(12), new Uint8Array(0), rand(5))).toThrow(CryptoError);
  });
});
