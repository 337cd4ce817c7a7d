import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { InitiatorHandshake, ResponderHandshake, transportFor, ACT_ONE_LENGTH, ACT_TWO_LENGTH, ACT_THREE_LENGTH } from '../../../core/transport/index.ts';
import { secp } from '../../../core/crypto/index.ts';

const rand = (n = 32): Uint8Array => new Uint8Array(randomBytes(n));

function parties(): { a: InitiatorHandshake; b: ResponderHandshake; aKey: Uint8Array; bKey: Uint8Array } {
  const aKey = rand();
  const bKey = rand();
  return { a: new InitiatorHandshake(aKey, secp.getPublicKey(bKey)), b: new ResponderHandshake(bKey), aKey, bKey };
}

const code = (c: string) => expect.objectContaining({ name: 'TransportError', code: c });

describe('Noise_XK handshake state', () => {
  it('random keys: both sides derive crossed keys and learn each other', () => {
    for (let i = 0; i < 10; i++) {
      const { a, b, aKey, bKey } = parties();
      const act1 = a.actOne();
      expect(act1.length).toBe(ACT_ONE_LENGTH);
      const act2 = b.actOne(act1);
      expect(act2.length).toBe(ACT_TWO_LENGTH);
      const { actThree, result: ra } = a.actTwo(act2);
      expect(actThree.length).toBe(ACT_THREE_LENGTH);
      const rb = b.actThree(actThree);
      expect(ra.sk).toEqual(rb.rk);
      expect(ra.rk).toEqual(rb.sk);
      expect(ra.ck).toEqual(rb.ck);
      expect(rb.remoteStatic).toEqual(secp.getPublicKey(aKey));
      expect(ra.remoteStatic).toEqual(secp.getPublicKey(bKey));
      const ta = transportFor(ra);
      const tb = transportFor(rb);
      expect(tb.decryptor.feed(ta.encryptor.encrypt(Uint8Array.of(7)))).toEqual([Uint8Array.of(7)]);
      expect(ta.decryptor.feed(tb.encryptor.encrypt(Uint8Array.of(8)))).toEqual([Uint8Array.of(8)]);
    }
  });

  it('every act is checked: version, key, MAC and length, each with its own code', () => {
    const flip = (b: Uint8Array, i: number, v?: number): Uint8Array => {
      const c = new Uint8Array(b);
      c[i] = v ?? c[i]! ^ 1;
      return c;
    };
    let p = parties();
    const act1 = p.a.actOne();
    expect(() => new ResponderHandshake(p.bKey).actOne(flip(act1, 0, 1))).toThrow(code('ACT1_BAD_VERSION'));
    expect(() => new ResponderHandshake(p.bKey).actOne(flip(act1, 1, 4))).toThrow(code('ACT1_BAD_PUBKEY'));
    expect(() => new ResponderHandshake(p.bKey).actOne(flip(act1, 49))).toThrow(code('ACT1_BAD_TAG'));
    expect(() => new ResponderHandshake(p.bKey).actOne(act1.subarray(0, 49))).toThrow(code('ACT1_READ_FAILED'));
    expect(() => new ResponderHandshake(rand()).actOne(act1)).toThrow(code('ACT1_BAD_TAG')); // dialed the wrong key

    const act2 = p.b.actOne(act1);
    const initiatorAt2 = (): InitiatorHandshake => {
      const a = new InitiatorHandshake(rand(), secp.getPublicKey(p.bKey));
      a.actOne();
      return a;
    };
    expect(() => initiatorAt2().actTwo(flip(act2, 0, 2))).toThrow(code('ACT2_BAD_VERSION'));
    expect(() => initiatorAt2().actTwo(flip(act2, 1, 7))).toThrow(code('ACT2_BAD_PUBKEY'));
    expect(() => initiatorAt2().actTwo(act2)).toThrow(code('ACT2_BAD_TAG')); // act two was for another act one
    expect(() => initiatorAt2().actTwo(new Uint8Array(51))).toThrow(code('ACT2_READ_FAILED'));

    const { actThree } = p.a.actTwo(act2);
    const responderAt3 = (): { r: ResponderHandshake; fresh: Uint8Array } => {
      p = parties();
      const r = p.b;
      const fresh = p.a.actTwo(r.actOne(p.a.actOne())).actThree;
      return { r, fresh };
    };
    let s = responderAt3();
    expect(() => s.r.actThree(flip(s.fresh, 0, 1))).toThrow(code('ACT3_BAD_VERSION'));
    s = responderAt3();
    expect(() => s.r.actThree(flip(s.fresh, 10))).toThrow(code('ACT3_BAD_CIPHERTEXT'));
    s = responderAt3();
    expect(() => s.r.actThree(flip(s.fresh, 65))).toThrow(code('ACT3_BAD_TAG'));
    s = responderAt3();
    expect(() => s.r.actThree(s.fresh.subarray(0, 65))).toThrow(code('ACT3_READ_FAILED'));
    s = responderAt3();
    expect(() => s.r.actThree(actThree)).toThrow(code('ACT3_BAD_CIPHERTEXT')); // another session's act three
  });

  it('acts out of order and invalid keys are typed errors', () => {
    const { a, b, bKey } = parties();
    expect(() => a.actTwo(new Uint8Array(50))).toThrow(code('BAD_STATE'));
    expect(() => b.actThree(new Uint8Array(66))).toThrow(code('BAD_STATE'));
    const act1 = a.actOne();
    expect(() => a.actOne()).toThrow(code('BAD_STATE'));
    b.actOne(act1);
    expect(() => b.actOne(act1)).toThrow(code('BAD_STATE'));
    expect(() => new InitiatorHandshake(rand(), new Uint8Array(33))).toThrow(code('BAD_REMOTE_KEY'));
    expect(() => new InitiatorHandshake(rand(), rand(32))).toThrow(code('BAD_REMOTE_KEY'));
    expect(() => new InitiatorHandshake(new Uint8Array(32), secp.getPublicKey(bKey))).toThrow(code('BAD_LOCAL_KEY'));
    expect(() => new ResponderHandshake(new Uint8Array(32).fill(0xff))).toThrow(code('BAD_LOCAL_KEY'));
    expect(() => new ResponderHandshake(bKey, { ephemeralSecret: new Uint8Array(32) })).toThrow(code('BAD_EPHEMERAL_KEY'));
  });
});
