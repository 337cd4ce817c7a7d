import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { CryptoError, aeadBackends, defaultAead, nobleAead, nodeAead, nodeHasChaCha, TAG_LENGTH } from '../../../core/crypto/index.ts';

const rand = (n = 32): Uint8Array => new Uint8Array(randomBytes(n));
const both = [nodeAead, nobleAead];

describe('ChaCha20-Poly1305 backends', () => {
  it('Node offers ChaCha20-Poly1305 here, so both backends are in use and Node\'s is preferred', () => {
    expect(nodeHasChaCha()).toBe(true);
    expect(aeadBackends.map((b) => b.name)).toEqual(['node', 'noble']);
    expect(defaultAead()).toBe(nodeAead);
  });

  it('RFC 8439 §2.8.2 test vector, on both backends', () => {
    const key = hex.decode('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex.decode('070000004041424344454647');
    const ad = hex.decode('50515253c0c1c2c3c4c5c6c7');
    const pt = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    for (const b of both) {
      const c = b.encrypt(key, nonce, ad, pt);
      expect(hex.encode(c.subarray(0, 16))).toBe('d31a8d34648e60db7b86afbc53ef7ec2');
      expect(hex.encode(c.subarray(c.length - TAG_LENGTH))).toBe('1ae10b594f09e26a7e902ecbd0600691');
      expect(b.decrypt(key, nonce, ad, c)).toEqual(pt);
    }
  });

  it('agree byte for byte (whole and in parts) and both reject a forged tag, body or AD', () => {
    for (const len of [0, 1, 100, 65535]) {
      const key = rand();
      const nonce = rand(12);
      const ad = rand(len % 40);
      const pt = rand(len);
      const c1 = nodeAead.encrypt(key, nonce, ad, pt);
      const c2 = nobleAead.encrypt(key, nonce, ad, pt);
      expect(c1).toEqual(c2);
      for (const b of both) expect(Buffer.concat(b.encryptParts(key, nonce, ad, pt))).toEqual(Buffer.from(c1));
      expect(nodeAead.decrypt(key, nonce, ad, c2)).toEqual(pt);
      expect(nobleAead.decrypt(key, nonce, ad, c1)).toEqual(pt);
      const forgeries = [
        (() => { const f = new Uint8Array(c1); f[f.length - 1]! ^= 1; return { c: f, ad }; })(),
        ...(len ? [(() => { const f = new Uint8Array(c1); f[0]! ^= 0x80; return { c: f, ad }; })()] : []),
        { c: c1, ad: Uint8Array.from([...ad, 0]) },
      ];
      for (const f of forgeries) {
        for (const b of both) expect(() => b.decrypt(key, nonce, f.ad, f.c)).toThrow(expect.objectContaining({ name: 'CryptoError', code: 'bad_mac' }));
      }
    }
  });

  it('typed errors for short ciphertexts and wrong key or nonce sizes', () => {
    for (const b of both) {
      expect(() => b.decrypt(rand(), rand(12), new Uint8Array(0), rand(5))).toThrow(expect.objectContaining({ code: 'bad_mac' }));
      expect(() => b.encrypt(rand(31), rand(12), new Uint8Array(0), rand(5))).toThrow(expect.objectContaining({ code: 'invalid_length' }));
      expect(() => b.encrypt(rand(), rand(8), new Uint8Array(0), rand(5))).toThrow(CryptoError);
      expect(() => b.decrypt(rand(), rand(24), new Uint8Array(0), rand(40))).toThrow(expect.objectContaining({ code: 'invalid_length' }));
    }
  });
});
