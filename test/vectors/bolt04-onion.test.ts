import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { createOnion, peelOnion, OnionError } from '../../core/onion/sphinx.ts';
import { Reader } from '../../core/wire/index.ts';

interface OnionTest {
  generate: { session_key: string; associated_data: string; hops: { pubkey: string; payload: string }[] };
  onion: string;
  decode: string[];
}
const v = loadVectors<{ json_files: Record<string, { content: unknown }> }>('bolt04-onion.json');
const t = v.json_files['onion-test.json']!.content as OnionTest;
const h = hex.decode;

describe('BOLT 4 onion (onion-test.json)', () => {
  it('builds the packet byte for byte', () => {
    const onion = createOnion(h(t.generate.session_key), t.generate.hops.map((x) => ({ pubkey: h(x.pubkey), payload: h(x.payload) })), h(t.generate.associated_data));
    expect(hex.encode(onion)).toBe(t.onion);
  });

  it('each hop peels exactly its own payload, the last one knows it is last', () => {
    let packet = h(t.onion);
    t.decode.forEach((secret, i) => {
      const peeled = peelOnion(h(secret), packet, h(t.generate.associated_data));
      const r = new Reader(h(t.generate.hops[i]!.payload));
      r.bigsize();
      expect(hex.encode(peeled.payload)).toBe(hex.encode(r.rest()));
      if (i < t.decode.length - 1) packet = peeled.next!;
      else expect(peeled.next).toBeUndefined();
    });
  });

  it('a tampered packet or the wrong associated data fails the HMAC', () => {
    const packet = h(t.onion);
    packet[100]! ^= 1;
    expect(() => peelOnion(h(t.decode[0]!), packet, h(t.generate.associated_data))).toThrow(OnionError);
    expect(() => peelOnion(h(t.decode[0]!), h(t.onion), new Uint8Array(32))).toThrow(/HMAC/);
    const v1 = h(t.onion);
    v1[0] = 1;
    expect(() => peelOnion(h(t.decode[0]!), v1, h(t.generate.associated_data))).toThrow(/version/);
  });
});
