import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hex } from '@scure/base';
import { Reader } from '../../../core/wire/index.ts';
import { decodeFailureMessage, decodePayload, encodeFailureMessage, encodePayload, failureName, PayloadError } from '../../../core/onion/wire.ts';
import { ONION_CSV, ONION_OUTPUT, generate } from '../../../core/wire/gen/generate.ts';
import { loadVectors } from '../../helpers/vectors.ts';

describe('onion wire table', () => {
  it('is up to date with the spec table', () => {
    expect(readFileSync(ONION_OUTPUT, 'utf8')).toBe(generate(ONION_CSV));
  });
});

describe('hop payloads', () => {
  it('round-trip for forwarding and final hops', () => {
    const fwd = { amountMsat: 1_000_000n, outgoingCltv: 700_000, shortChannelId: 0x0102030000040005n };
    expect(decodePayload(encodePayload(fwd), false)).toEqual(fwd);
    const fin = { amountMsat: 5000n, outgoingCltv: 144, paymentSecret: new Uint8Array(32).fill(7), totalMsat: 10_000n };
    expect(decodePayload(encodePayload(fin), true)).toEqual(fin);
  });

  it('decode the payloads of the spec onion vector and encode them back byte for byte', () => {
    const v = loadVectors<{ json_files: Record<string, { content: { generate: { hops: { payload: string }[] } } }> }>('bolt04-onion.json');
    const hops = v.json_files['onion-test.json']!.content.generate.hops;
    for (const [i, hop] of hops.entries()) {
      const r = new Reader(hex.decode(hop.payload));
      r.bigsize('length');
      const body = r.rest();
      const final = i === hops.length - 1;
      const p = decodePayload(body, final);
      expect(p.amountMsat).toBeGreaterThan(0n);
      // Payloads with only the fields we model re-encode to the same bytes.
      if (body.length < 60) expect(hex.encode(encodePayload(p))).toBe(hex.encode(body));
    }
  });

  it('name the missing or bad field, as invalid_onion_payload needs', () => {
    expect(() => decodePayload(encodePayload({ amountMsat: 1n, outgoingCltv: 1 }), false)).toThrow(PayloadError);
    try {
      decodePayload(Uint8Array.of(4, 1, 9), true);
    } catch (e) {
      expect((e as PayloadError).tlvType).toBe(2n);
    }
    expect(() => decodePayload(Uint8Array.of(2, 9), true)).toThrow(/malformed/);
  });
});

describe('failure messages', () => {
  it('carry the flag bits of their codes', () => {
    const m = encodeFailureMessage({ type: 'incorrect_or_unknown_payment_details', htlc_msat: 1000n, height: 800_000 });
    expect(hex.encode(m.subarray(0, 2))).toBe('400f');
    expect(decodeFailureMessage(m)).toEqual({ kind: 'known', code: 0x400f, message: { type: 'incorrect_or_unknown_payment_details', htlc_msat: 1000n, height: 800_000 } });
    expect(hex.encode(encodeFailureMessage({ type: 'temporary_node_failure' }))).toBe('2002');
    expect(hex.encode(encodeFailureMessage({ type: 'invalid_onion_hmac', sha256_of_onion: new Uint8Array(32) }).subarray(0, 2))).toBe('c005');
    expect(decodeFailureMessage(Uint8Array.of(0x12, 0x34))).toEqual({ kind: 'unknown', code: 0x1234 });
    expect(failureName(0x4000 | 15)).toBe('incorrect or unknown payment details');
  });
});
