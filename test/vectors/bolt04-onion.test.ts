import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { createOnion, peelOnion, OnionError, generateKey, sharedSecrets } from '../../core/onion/sphinx.ts';
import { createFailurePacket, obfuscateFailure, decodeFailure } from '../../core/onion/failure.ts';
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

interface Returning {
  parameters: { hops: { pubkey: string }[]; session_key: string; failure_source_node: number };
  creation: { encoded_failure_message: string; shared_secret: string; payload: string; um_key: string; raw_error_packet: string };
  forwarding: { node: number; shared_secret: string; ammag_key: string; error_packet: string }[];
}

describe('BOLT 4 returned errors (legacy HMAC; attribution data not yet)', () => {
  const r = (v as unknown as { returning_errors: Returning }).returning_errors;
  it('the failing node builds the packet, every hop obfuscates it, the sender finds who failed', () => {
    const failureLen = (h(r.creation.payload)[0]! << 8) | h(r.creation.payload)[1]!;
    const message = h(r.creation.encoded_failure_message).subarray(0, failureLen);
    const raw = createFailurePacket(h(r.creation.shared_secret), message);
    expect(hex.encode(raw)).toBe(r.creation.raw_error_packet);
    expect(hex.encode(generateKey('um', h(r.creation.shared_secret)))).toBe(r.creation.um_key);
    let packet = raw;
    for (const step of r.forwarding) {
      expect(hex.encode(generateKey('ammag', h(step.shared_secret)))).toBe(step.ammag_key);
      packet = obfuscateFailure(h(step.shared_secret), packet);
      expect(hex.encode(packet), `after node ${step.node}`).toBe(step.error_packet);
    }
    const { secrets } = sharedSecrets(h(r.parameters.session_key), r.parameters.hops.map((x) => h(x.pubkey)));
    const found = decodeFailure(secrets, packet);
    expect(found?.hop).toBe(r.parameters.failure_source_node);
    expect(hex.encode(found!.message)).toBe(hex.encode(message));
    // A corrupted packet names no one.
    packet[500]! ^= 1;
    expect(decodeFailure(secrets, packet)).toBeUndefined();
  });
});
