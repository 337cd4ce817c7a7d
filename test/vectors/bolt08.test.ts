import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { InitiatorHandshake, ResponderHandshake, transportFor } from '../../core/transport/handshake.ts';
import { CipherState, MessageDecryptor, MessageEncryptor } from '../../core/transport/cipher.ts';
import { aeadBackends, nobleAead } from '../../core/crypto/aead.ts';
import { hkdf } from '../../core/crypto/hash.ts';

interface Acts {
  act_one?: { input?: string; output?: string };
  act_two?: { input?: string; output?: string };
  act_three?: { input?: string; output?: string };
}
interface HsTest {
  name: string;
  keys: { rs_pub?: string; ls_priv: string; ls_pub: string; e_priv: string; e_pub: string };
  acts: Acts;
  result: { ok: true; sk: string; rk: string } | { ok: false; failed_at: string; error: string };
}
interface Vectors {
  initiator: HsTest[];
  responder: HsTest[];
  message_encryption: {
    ck: string; sk: string; rk: string; plaintext: string;
    outputs: { message_index: number; ciphertext: string }[];
    rotations: { salt: string; ikm: string; new_ck: string; new_key: string; before_message_index: number }[];
  };
}

const v = loadVectors<Vectors>('bolt08-noise.json');
const h = hex.decode;

// Both AEAD backends must replay every vector: Node's built-in and @noble/ciphers.
const backends = aeadBackends.includes(nobleAead) ? aeadBackends : [...aeadBackends, nobleAead];

describe.each(backends.map((b) => [b.name, b] as const))('BOLT 8 vectors with the %s AEAD', (_name, aead) => {
  it.each(v.initiator.map((t) => [t.name, t] as const))('%s', (_n, t) => {
    const hs = new InitiatorHandshake(h(t.keys.ls_priv), h(t.keys.rs_pub!), { ephemeralSecret: h(t.keys.e_priv), aead });
    expect(hex.encode(hs.actOne())).toBe(t.acts.act_one!.output);
    const run = () => hs.actTwo(h(t.acts.act_two!.input!));
    if (t.result.ok) {
      const { actThree, result } = run();
      expect(hex.encode(actThree)).toBe(t.acts.act_three!.output);
      expect(hex.encode(result.sk)).toBe(t.result.sk);
      expect(hex.encode(result.rk)).toBe(t.result.rk);
    } else {
      expect(run).toThrow(expect.objectContaining({ code: t.result.error }));
    }
  });

  it.each(v.responder.map((t) => [t.name, t] as const))('%s', (_n, t) => {
    const hs = new ResponderHandshake(h(t.keys.ls_priv), { ephemeralSecret: h(t.keys.e_priv), aead });
    const fail = t.result.ok ? undefined : t.result;
    if (fail?.failed_at === 'act_one') {
      expect(() => hs.actOne(h(t.acts.act_one!.input!))).toThrow(expect.objectContaining({ code: fail.error }));
      return;
    }
    expect(hex.encode(hs.actOne(h(t.acts.act_one!.input!)))).toBe(t.acts.act_two!.output);
    if (fail) {
      expect(() => hs.actThree(h(t.acts.act_three!.input!))).toThrow(expect.objectContaining({ code: fail.error }));
      return;
    }
    const r = hs.actThree(h(t.acts.act_three!.input!));
    if (!t.result.ok) throw new Error('unreachable');
    expect(hex.encode(r.sk)).toBe(t.result.sk);
    expect(hex.encode(r.rk)).toBe(t.result.rk);
    expect(hex.encode(r.remoteStatic)).toBe(v.initiator[0]!.keys.ls_pub);
  });

  it('message encryption with key rotation (messages 0, 1, 500, 501, 1000, 1001)', () => {
    const m = v.message_encryption;
    const enc = new MessageEncryptor(new CipherState(h(m.sk), h(m.ck), aead));
    const dec = new MessageDecryptor(new CipherState(h(m.sk), h(m.ck), aead));
    const want = new Map(m.outputs.map((o) => [o.message_index, o.ciphertext]));
    for (let i = 0; i <= 1001; i++) {
      const frame = enc.encrypt(h(m.plaintext));
      if (want.has(i)) expect(hex.encode(frame), `message ${i}`).toBe(want.get(i));
      // The receiving side, fed one byte at a time for a few messages, decrypts the same stream.
      const got = i % 250 === 0 ? [...frame].flatMap((b) => dec.feed(new Uint8Array([b]))) : dec.feed(frame);
      expect(got.map((x) => hex.encode(x))).toEqual([m.plaintext]);
    }
  });

  it('key rotation follows the listed HKDF steps', () => {
    for (const r of v.message_encryption.rotations) {
      const [ck, k] = hkdf(h(r.salt), h(r.ikm));
      expect(hex.encode(ck)).toBe(r.new_ck);
      expect(hex.encode(k)).toBe(r.new_key);
    }
  });

  it('a full handshake in memory yields matching keys and a working channel', () => {
    const a = new InitiatorHandshake(h(v.initiator[0]!.keys.ls_priv), h(v.initiator[0]!.keys.rs_pub!), { aead });
    const b = new ResponderHandshake(h(v.responder[0]!.keys.ls_priv), { aead });
    const act2 = b.actOne(a.actOne());
    const { actThree, result: ra } = a.actTwo(act2);
    const rb = b.actThree(actThree);
    const ta = transportFor(ra, aead);
    const tb = transportFor(rb, aead);
    expect(tb.decryptor.feed(ta.encryptor.encrypt(new Uint8Array([1, 2, 3])))).toEqual([new Uint8Array([1, 2, 3])]);
    expect(ta.decryptor.feed(tb.encryptor.encrypt(new Uint8Array(65535)))).toEqual([new Uint8Array(65535)]);
    expect(() => ta.encryptor.encrypt(new Uint8Array(65536))).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }));
  });
});
