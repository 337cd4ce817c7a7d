import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CipherState, MessageDecryptor, MessageEncryptor, MAX_MESSAGE_LENGTH, TransportError } from '../../../core/transport/index.ts';
import { nobleAead, nodeAead } from '../../../core/crypto/index.ts';

const rand = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function pair(aead = nodeAead): { enc: MessageEncryptor; dec: MessageDecryptor } {
  const k = rand(32);
  const ck = rand(32);
  return { enc: new MessageEncryptor(new CipherState(k, ck, aead)), dec: new MessageDecryptor(new CipherState(k, ck, aead)) };
}

/** Splits bytes at the given cut points (sorted, deduplicated, in range). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('BOLT 8 framing', () => {
  it('a frame is 18 bytes of encrypted length, then the body and its 16-byte MAC', () => {
    const { enc } = pair();
    expect(enc.encrypt(new Uint8Array(0)).length).toBe(18 + 16);
    expect(enc.encrypt(new Uint8Array(100)).length).toBe(18 + 100 + 16);
    expect(enc.encrypt(new Uint8Array(MAX_MESSAGE_LENGTH)).length).toBe(18 + 65535 + 16);
    expect(() => enc.encrypt(new Uint8Array(MAX_MESSAGE_LENGTH + 1))).toThrow(expect.objectContaining({ name: 'TransportError', code: 'MESSAGE_TOO_LARGE' }));
  });

  it('the streaming decryptor returns the same messages however the stream is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.constantFrom(nodeAead, nobleAead),
        (messages, cuts, aead) => {
          const { enc, dec } = pair(aead);
          const stream = Buffer.concat(messages.map((m) => enc.encrypt(m)));
          const got = cut(stream, cuts).flatMap((c) => dec.feed(c));
          expect(got.map((m) => Buffer.from(m).toString('hex'))).toEqual(messages.map((m) => Buffer.from(m).toString('hex')));
          expect(dec.midMessage).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('byte at a time, across key rotations in both directions', () => {
    const k1 = rand(32);
    const k2 = rand(32);
    const ck = rand(32);
    const aToB = { enc: new MessageEncryptor(new CipherState(k1, ck, nodeAead)), dec: new MessageDecryptor(new CipherState(k1, ck, nobleAead)) };
    const bToA = { enc: new MessageEncryptor(new CipherState(k2, ck, nobleAead)), dec: new MessageDecryptor(new CipherState(k2, ck, nodeAead)) };
    // Each message uses two nonces, so a key rotates every 500 messages; 1300 messages rotate twice.
    for (let i = 0; i < 1300; i++) {
      for (const d of [aToB, bToA]) {
        const msg = Uint8Array.of(i >> 8, i & 0xff);
        const frame = d.enc.encrypt(msg);
        const slow = i % 97 === 0 || (i >= 498 && i <= 502) || (i >= 998 && i <= 1002);
        const got = slow ? [...frame].flatMap((b, j) => {
          const out = d.dec.feed(Uint8Array.of(b));
          expect(d.dec.midMessage).toBe(j < frame.length - 1);
          return out;
        }) : d.dec.feed(frame);
        expect(got).toEqual([msg]);
      }
    }
  });

  it.each([nodeAead, nobleAead].map((a) => [a.name, a] as const))('a tampered length MAC, length or body is a typed error, and the stream stays failed (%s)', (_n, aead) => {
    for (const [offset, code] of [[0, 'BAD_LENGTH_MAC'], [17, 'BAD_LENGTH_MAC'], [18, 'BAD_BODY_MAC'], [18 + 5 + 15, 'BAD_BODY_MAC']] as const) {
      const { enc, dec } = pair(aead);
      expect(dec.feed(enc.encrypt(Uint8Array.of(1)))).toEqual([Uint8Array.of(1)]);
      const frame = enc.encrypt(rand(5));
      frame[offset]! ^= 1;
      expect(() => dec.feed(frame)).toThrow(expect.objectContaining({ code }));
      expect(() => dec.feed(enc.encrypt(Uint8Array.of(2)))).toThrow(TransportError);
    }
  });

  it('a frame replayed or reordered fails (the nonce has moved on)', () => {
    const k = rand(32);
    const ck = rand(32);
    const enc = new MessageEncryptor(new CipherState(k, ck, nodeAead));
    const f1 = enc.encrypt(Uint8Array.of(1));
    const f2 = enc.encrypt(Uint8Array.of(2));
    const dec = new MessageDecryptor(new CipherState(k, ck, nodeAead));
    expect(dec.feed(f1)).toEqual([Uint8Array.of(1)]);
    expect(() => dec.feed(f1)).toThrow(expect.objectContaining({ code: 'BAD_LENGTH_MAC' }));
    const reordered = new MessageDecryptor(new CipherState(k, ck, nodeAead));
    expect(() => reordered.feed(f2)).toThrow(expect.objectContaining({ code: 'BAD_LENGTH_MAC' }));
  });
});
