import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { sha256, hmacSha256, hkdf, hkdf2 } from '../../../core/crypto/index.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('hashes', () => {
  it('sha256 (FIPS 180-2 "abc")', () => {
    expect(hex.encode(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('HMAC-SHA256 (RFC 4231 test case 2)', () => {
    expect(hex.encode(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('hkdf: RFC 5869 extract+expand with empty info, 64 bytes split in two', () => {
    // RFC 5869 test case 3 (zero-length salt and info) gives 42 bytes; the first 42 of our 64 must match.
    const ikm = hex.decode('0b'.repeat(22));
    const [a, b] = hkdf(new Uint8Array(0), ikm);
    expect(a.length).toBe(32);
    expect(b.length).toBe(32);
    expect(hex.encode(new Uint8Array([...a, ...b]).subarray(0, 42))).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
    expect(hkdf2).toBe(hkdf);
  });
});
