/**
 * Property tests over every message in the wire table: arbitraries are built from the same rows the
 * codec runs on, so a new message row is covered the moment it is added.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, implicitFields, WireError, PEER_WIRE } from '../../core/wire/index.ts';
import type { FieldDef, Message } from '../../core/wire/index.ts';
import { MESSAGES, SUBTYPES, TLV_STREAMS } from '../../core/wire/spec/peer_wire.ts';

const point = fc.tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([p, b]) => Uint8Array.from([p, ...b]));
const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function one(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'byte':
    case 'u8':
      return fc.integer({ min: 0, max: 255 });
    case 'u16':
    case 'tu16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'u32':
    case 'tu32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 's8':
      return fc.integer({ min: -128, max: 127 });
    case 's16':
      return fc.integer({ min: -32768, max: 32767 });
    case 's32':
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case 's64':
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'u64':
    case 'tu64':
    case 'bigsize':
    case 'short_channel_id':
      return u64;
    case 'point':
      return point;
    case 'chain_hash':
    case 'channel_id':
    case 'sha256':
      return bytesOf(32);
    case 'signature':
    case 'bip340sig':
      return bytesOf(64);
    case 'sciddir_or_pubkey':
      return fc.oneof(fc.tuple(fc.constantFrom(0, 1), bytesOf(8)).map(([p, b]) => Uint8Array.from([p, ...b])), point);
    default: {
      const sub = SUBTYPES[type];
      if (!sub) throw new Error(`no arbitrary for ${type}`);
      return fields(sub);
    }
  }
}

function fields(defs: readonly FieldDef[]): fc.Arbitrary<Record<string, unknown>> {
  const implicit = implicitFields(defs);
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of defs) {
    if (implicit.has(f.name)) continue;
    if (f.count === undefined) rec[f.name] = one(f.type);
    else if (f.type === 'byte' || f.type === 'u8') rec[f.name] = typeof f.count === 'number' ? bytesOf(f.count) : fc.uint8Array({ maxLength: 80 });
    else if (f.type === 'utf8') rec[f.name] = fc.string({ maxLength: 40 });
    else rec[f.name] = typeof f.count === 'number' ? fc.array(one(f.type), { minLength: f.count, maxLength: f.count }) : fc.array(one(f.type), { maxLength: 4 });
  }
  return fc.record(rec);
}

function tlvs(stream: string): fc.Arbitrary<Record<string, unknown>> {
  const recs: Record<string, fc.Arbitrary<unknown>> = {};
  const taken = new Set(TLV_STREAMS[stream]!.map((r) => r.type));
  for (const r of TLV_STREAMS[stream]!) recs[r.name] = fields(r.fields);
  // Unknown odd records must survive a round trip, in order.
  const unknown = fc
    .uniqueArray(fc.integer({ min: 0, max: 5000 }).map((n) => n * 2 + 1).filter((t) => !taken.has(t)), { maxLength: 3 })
    .chain((types) => fc.tuple(...types.sort((a, b) => a - b).map((t) => fc.uint8Array({ maxLength: 20 }).map((value) => ({ type: BigInt(t), value })))));
  return fc.tuple(fc.record(recs, { requiredKeys: [] }), unknown).map(([known, unk]) => (unk.length ? { ...known, unknown: unk } : known));
}

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  ...MESSAGES.map((m) => {
    const base = fields(m.fields).map((f) => ({ type: m.name, ...f }));
    return (m.tlvStream ? fc.tuple(base, tlvs(m.tlvStream)).map(([b, t]) => ({ ...b, tlvs: t })) : base) as fc.Arbitrary<Message>;
  }),
);

describe('wire properties', () => {
  it('decode(encode(m)) = m for every message in the table', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const d = decodeMessage(encodeMessage(m));
        expect(d.kind).toBe('known');
        if (d.kind === 'known') expect(d.message).toEqual(m);
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes make decodeMessage return or throw WireError, nothing else', () => {
    const types = fc.constantFrom(...MESSAGES.map((m) => m.type), 1, 2, 32768, 32769);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(types, fc.uint8Array({ maxLength: 400 })).map(([t, b]) => Uint8Array.from([t >> 8, t & 0xff, ...b])),
    );
    fc.assert(
      fc.property(input, (b) => {
        try {
          decodeMessage(b);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes make a TLV stream decoder return or throw WireError, nothing else', () => {
    const streams = Object.keys(TLV_STREAMS);
    fc.assert(
      fc.property(fc.constantFrom(...streams), fc.uint8Array({ maxLength: 200 }), (s, b) => {
        try {
          PEER_WIRE.readTlvStream(b, s);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
