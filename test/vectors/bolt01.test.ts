import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { decodeBigSize, encodeBigSize, Reader, Writer, WireError, SchemaCodec, decodeMessage, encodeMessage, scidToParts } from '../../core/wire/index.ts';
import { TLV_STREAMS } from '../../core/wire/spec/peer_wire.ts';

interface BigSizeVectors {
  decoding: { name: string; bytes: string; valid: boolean; value: string | null; error_kind: string | null }[];
  encoding: { name: string; value: string; bytes: string }[];
}
interface TlvVectors {
  decoding_failures: { stream: string; namespaces: string[]; reason: string }[];
  decoding_successes: { stream: string; namespaces: string[]; records: { type: number; name: string; values: Record<string, unknown> }[] }[];
  stream_decoding_failures: { stream: string; namespaces: string[]; reason: string }[];
}

describe('BOLT 1 BigSize vectors', () => {
  const v = loadVectors<BigSizeVectors>('bolt01-bigsize.json');
  it.each(v.decoding.map((d) => [d.name, d] as const))('decode: %s', (_n, d) => {
    if (d.valid) {
      expect(decodeBigSize(hex.decode(d.bytes))).toBe(BigInt(d.value!));
    } else {
      expect(() => decodeBigSize(hex.decode(d.bytes))).toThrow(WireError);
      try {
        decodeBigSize(hex.decode(d.bytes));
      } catch (e) {
        expect((e as WireError).code).toBe(d.error_kind === 'non_canonical' ? 'non_canonical' : 'truncated');
      }
    }
  });
  it.each(v.encoding.map((d) => [d.name, d] as const))('encode: %s', (_n, d) => {
    expect(hex.encode(encodeBigSize(BigInt(d.value)))).toBe(d.bytes);
  });
});

describe('BOLT 1 signed integer vectors', () => {
  const v = loadVectors<{ vectors: { value: string; bytes: string; type: 's8' | 's16' | 's32' | 's64' }[] }>('bolt01-signed-integers.json');
  const size = { s8: 1, s16: 2, s32: 4, s64: 8 } as const;
  it.each(v.vectors.map((x) => [`${x.type} ${x.value}`, x] as const))('%s', (_n, x) => {
    expect(hex.encode(new Writer().signed(size[x.type], BigInt(x.value)).finish())).toBe(x.bytes);
    expect(new Reader(hex.decode(x.bytes)).signed(size[x.type], x.type)).toBe(BigInt(x.value));
  });
});

describe('BOLT 1 TLV vectors (n1 and n2 namespaces from the wire table)', () => {
  const v = loadVectors<TlvVectors>('bolt01-tlv.json');
  const codec = new SchemaCodec({ messages: [], tlvStreams: TLV_STREAMS, subtypes: {} });

  /** The vectors print values as JSON; ours are bigint/number/bytes. */
  function normalize(rec: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(rec)) {
      if (k === 'scid') out[k] = ((p) => ({ block_height: p.block, tx_index: p.tx, output_index: p.output }))(scidToParts(val as bigint));
      else if (val instanceof Uint8Array) out[k] = hex.encode(val);
      else if (typeof val === 'bigint') out[k] = val.toString();
      else out[k] = val;
    }
    return out;
  }

  for (const ns of ['n1', 'n2']) {
    it.each(v.decoding_failures.filter((f) => f.namespaces.includes(ns)).map((f) => [`${f.stream || '(empty)'}: ${f.reason}`, f] as const))(`${ns} rejects %s`, (_n, f) => {
      expect(() => codec.readTlvStream(hex.decode(f.stream), ns)).toThrow(WireError);
    });
    it.each(v.stream_decoding_failures.filter((f) => f.namespaces.includes(ns)).map((f) => [`${f.stream}: ${f.reason}`, f] as const))(`${ns} rejects stream %s`, (_n, f) => {
      expect(() => codec.readTlvStream(hex.decode(f.stream), ns)).toThrow(WireError);
    });
    it.each(v.decoding_successes.filter((s) => s.namespaces.includes(ns)).map((s) => [s.stream || '(empty)', s] as const))(`${ns} decodes %s`, (_n, s) => {
      const got = codec.readTlvStream(hex.decode(s.stream), ns);
      const known = Object.fromEntries(Object.entries(got).filter(([k]) => k !== 'unknown').map(([k, val]) => [k, normalize(val as Record<string, unknown>)]));
      expect(known).toEqual(Object.fromEntries(s.records.map((r) => [r.name, r.values])));
      // Re-encoding gives back the same bytes, unknown odd records included.
      const w = new Writer();
      codec.writeTlvStream(w, ns, got);
      expect(hex.encode(w.finish())).toBe(s.stream);
    });
  }
});

describe('BOLT 1 message extension vectors', () => {
  const v = loadVectors<{ valid: { message: string }[]; invalid: { message: string; explanation: string }[] }>('bolt01-message-extension.json');
  it.each(v.valid.map((x) => [x.message] as const))('accepts %s and re-encodes it', (m) => {
    const d = decodeMessage(hex.decode(m));
    expect(d.kind).toBe('known');
    if (d.kind === 'known') expect(hex.encode(encodeMessage(d.message))).toBe(m);
  });
  it.each(v.invalid.map((x) => [x.explanation, x.message] as const))('rejects: %s', (_e, m) => {
    expect(() => decodeMessage(hex.decode(m))).toThrow(WireError);
  });
});
