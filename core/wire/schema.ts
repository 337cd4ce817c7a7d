/**
 * The generic codec that reads and writes any field list declared in the wire tables (messages,
 * TLV records, subtypes). One implementation serves every message of every BOLT.
 *
 * Values: byte/u8/u16/u32/s8/s16/s32/tu16/tu32 → number; u64/s64/tu64/bigsize/short_channel_id → bigint;
 * fixed-size types (point, signature, sha256, …) and byte arrays → Uint8Array; utf8 arrays → string;
 * arrays of anything else → T[]; subtypes → objects. A field that only gives the length of a later
 * field is not part of the value: it is derived on encode and checked on decode.
 */
import { Reader, Writer } from './codec.ts';
import { WireError } from './errors.ts';

/** `count`: a fixed number, the name of an earlier length field, or '...' for "the rest". */
export interface FieldDef {
  readonly name: string;
  readonly type: string;
  readonly count?: number | string;
}

export interface TlvRecordDef {
  readonly name: string;
  readonly type: number;
  readonly fields: readonly FieldDef[];
}

export interface MessageDef {
  readonly name: string;
  readonly type: number;
  readonly fields: readonly FieldDef[];
  readonly tlvStream?: string;
}

export interface WireTables {
  readonly messages: readonly MessageDef[];
  readonly tlvStreams: Readonly<Record<string, readonly TlvRecordDef[]>>;
  readonly subtypes: Readonly<Record<string, readonly FieldDef[]>>;
}

export interface UnknownTlv {
  type: bigint;
  value: Uint8Array;
}

type Value = unknown;
type Obj = Record<string, Value>;

const FIXED: Readonly<Record<string, number>> = { chain_hash: 32, channel_id: 32, sha256: 32, signature: 64, bip340sig: 64, point: 33 };
const TRUNCATED: Readonly<Record<string, number>> = { tu16: 2, tu32: 4, tu64: 8 };

/** Names of fields that another field in the same list uses as its length. */
const implicitCache = new WeakMap<readonly FieldDef[], Set<string>>();
export function implicitFields(fields: readonly FieldDef[]): Set<string> {
  let s = implicitCache.get(fields);
  if (!s) {
    s = new Set(fields.map((f) => f.count).filter((c): c is string => typeof c === 'string' && c !== '...'));
    implicitCache.set(fields, s);
  }
  return s;
}

export class SchemaCodec {
  private readonly streamIndex = new Map<string, Map<bigint, TlvRecordDef>>();

  constructor(readonly tables: WireTables) {
    for (const [name, records] of Object.entries(tables.tlvStreams)) {
      this.streamIndex.set(name, new Map(records.map((r) => [BigInt(r.type), r])));
    }
  }

  // ---- decoding -------------------------------------------------------------------------------

  private readOne(r: Reader, type: string, what: string): Value {
    switch (type) {
      case 'byte':
      case 'u8':
        return r.u8(what);
      case 'u16':
        return r.u16(what);
      case 'u32':
        return r.u32(what);
      case 'u64':
      case 'short_channel_id':
        return r.u64(what);
      case 's8':
        return Number(r.signed(1, what));
      case 's16':
        return Number(r.signed(2, what));
      case 's32':
        return Number(r.signed(4, what));
      case 's64':
        return r.signed(8, what);
      case 'bigsize':
        return r.bigsize(what);
      case 'sciddir_or_pubkey': {
        // BOLT 12: 0/1 + short_channel_id (a direction), or 2/3 + the rest of a compressed point.
        const first = r.u8(what);
        if (first > 3) throw new WireError('invalid_value', `${what} has an unknown prefix ${first}`);
        const rest = r.bytes(first <= 1 ? 8 : 32, what);
        const out = new Uint8Array(rest.length + 1);
        out[0] = first;
        out.set(rest, 1);
        return out;
      }
      default: {
        const fixed = FIXED[type];
        if (fixed !== undefined) {
          const b = r.bytes(fixed, what).slice();
          if (type === 'point' && b[0] !== 2 && b[0] !== 3) throw new WireError('invalid_point', `${what} is not a valid point`);
          return b;
        }
        const trunc = TRUNCATED[type];
        if (trunc !== undefined) {
          const v = r.truncated(trunc, what);
          return type === 'tu64' ? v : Number(v);
        }
        const sub = this.tables.subtypes[type];
        if (sub) return this.readFields(r, sub, what);
        throw new WireError('invalid_value', `no codec for type ${type}`);
      }
    }
  }

  readFields(r: Reader, fields: readonly FieldDef[], ctx: string): Obj {
    const out: Obj = {};
    const lengths: Record<string, number> = {};
    const implicit = implicitFields(fields);
    for (const f of fields) {
      const what = `${ctx}.${f.name}`;
      if (f.count === undefined) {
        const v = this.readOne(r, f.type, what);
        if (implicit.has(f.name)) lengths[f.name] = Number(v);
        else out[f.name] = v;
        continue;
      }
      const n = f.count === '...' ? -1 : typeof f.count === 'number' ? f.count : lengths[f.count];
      if (n === undefined) throw new WireError('invalid_value', `${what}: length field ${String(f.count)} not read`);
      if (f.type === 'byte' || f.type === 'u8') {
        out[f.name] = (n < 0 ? r.rest() : r.bytes(n, what)).slice();
      } else if (f.type === 'utf8') {
        const b = n < 0 ? r.rest() : r.bytes(n, what);
        try {
          out[f.name] = new TextDecoder('utf-8', { fatal: true }).decode(b);
        } catch {
          throw new WireError('invalid_utf8', `${what} is not valid UTF-8`);
        }
      } else {
        const items: Value[] = [];
        if (n < 0) while (r.remaining > 0) items.push(this.readOne(r, f.type, what));
        else for (let i = 0; i < n; i++) items.push(this.readOne(r, f.type, what));
        out[f.name] = items;
      }
    }
    return out;
  }

  /** BOLT 1 TLV stream: strictly increasing types, unknown even types are an error, unknown odd kept. */
  readTlvStream(bytes: Uint8Array, stream: string | undefined): Obj {
    const index = stream ? this.streamIndex.get(stream) : undefined;
    const r = new Reader(bytes);
    const out: Obj = {};
    const unknown: UnknownTlv[] = [];
    let last = -1n;
    while (r.remaining > 0) {
      const type = r.bigsize('tlv type');
      if (type <= last) throw new WireError('tlv_order', `TLV type ${type} after ${last}: types must strictly increase`);
      last = type;
      const length = r.bigsize('tlv length');
      if (length > BigInt(r.remaining)) throw new WireError('truncated', `TLV ${type} value truncated: length ${length}, ${r.remaining} bytes left`);
      const value = r.bytes(Number(length));
      const def = index?.get(type);
      if (!def) {
        // "It's ok to be odd": unknown odd records are kept and passed on; unknown even ones are fatal.
        if (type % 2n === 0n) throw new WireError('tlv_unknown_even', `unknown even TLV type ${type}${stream ? ` in ${stream}` : ''}`);
        unknown.push({ type, value: value.slice() });
        continue;
      }
      const sub = new Reader(value);
      let rec: Obj;
      try {
        rec = this.readFields(sub, def.fields, `${stream}.${def.name}`);
      } catch (e) {
        if (e instanceof WireError && e.code === 'truncated') throw new WireError('tlv_length', `less than encoding length for ${stream}'s ${def.name}`);
        throw e;
      }
      if (sub.remaining > 0) throw new WireError('tlv_length', `greater than encoding length for ${stream}'s ${def.name}`);
      out[def.name] = rec;
    }
    if (unknown.length) out.unknown = unknown;
    return out;
  }

  // ---- encoding -------------------------------------------------------------------------------

  private writeOne(w: Writer, type: string, v: Value, what: string): void {
    switch (type) {
      case 'byte':
      case 'u8':
        return void w.u8(num(v, what, 0, 0xff));
      case 'u16':
        return void w.u16(num(v, what, 0, 0xffff));
      case 'u32':
        return void w.u32(num(v, what, 0, 0xffffffff));
      case 'u64':
      case 'short_channel_id':
        return void w.u64(big(v, what, 0n, (1n << 64n) - 1n));
      case 's8':
        return void w.signed(1, BigInt(num(v, what, -128, 127)));
      case 's16':
        return void w.signed(2, BigInt(num(v, what, -32768, 32767)));
      case 's32':
        return void w.signed(4, BigInt(num(v, what, -2147483648, 2147483647)));
      case 's64':
        return void w.signed(8, big(v, what, -(1n << 63n), (1n << 63n) - 1n));
      case 'bigsize':
        return void w.bigsize(big(v, what, 0n, (1n << 64n) - 1n));
      case 'tu16':
        return void w.truncated(BigInt(num(v, what, 0, 0xffff)));
      case 'tu32':
        return void w.truncated(BigInt(num(v, what, 0, 0xffffffff)));
      case 'tu64':
        return void w.truncated(big(v, what, 0n, (1n << 64n) - 1n));
      case 'sciddir_or_pubkey':
        return void w.bytes(bytes(v, what));
      default: {
        const fixed = FIXED[type];
        if (fixed !== undefined) {
          const b = bytes(v, what);
          if (b.length !== fixed) throw new WireError('invalid_value', `${what} must be ${fixed} bytes, got ${b.length}`);
          return void w.bytes(b);
        }
        const sub = this.tables.subtypes[type];
        if (sub) return this.writeFields(w, sub, v as Obj, what);
        throw new WireError('invalid_value', `no codec for type ${type}`);
      }
    }
  }

  writeFields(w: Writer, fields: readonly FieldDef[], obj: Obj, ctx: string): void {
    const implicit = implicitFields(fields);
    // Derive each length field from the field(s) that use it; they must agree.
    const lengths: Record<string, number> = {};
    for (const f of fields) {
      if (typeof f.count !== 'string' || f.count === '...') continue;
      const v = obj[f.name];
      const len = f.type === 'utf8' ? new TextEncoder().encode(str(v, `${ctx}.${f.name}`)).length : arr(v, `${ctx}.${f.name}`).length;
      const prev = lengths[f.count];
      if (prev !== undefined && prev !== len) throw new WireError('length_mismatch', `${ctx}: fields sharing ${f.count} have different lengths`);
      lengths[f.count] = len;
    }
    for (const f of fields) {
      const what = `${ctx}.${f.name}`;
      if (implicit.has(f.name)) {
        this.writeOne(w, f.type, f.type === 'u64' || f.type === 'bigsize' ? BigInt(lengths[f.name]!) : lengths[f.name]!, what);
        continue;
      }
      const v = obj[f.name];
      if (f.count === undefined) {
        this.writeOne(w, f.type, v, what);
        continue;
      }
      if (f.type === 'byte' || f.type === 'u8') {
        const b = bytes(v, what);
        if (typeof f.count === 'number' && b.length !== f.count) throw new WireError('invalid_value', `${what} must be ${f.count} bytes, got ${b.length}`);
        w.bytes(b);
      } else if (f.type === 'utf8') {
        w.bytes(new TextEncoder().encode(str(v, what)));
      } else {
        const items = arr(v, what);
        if (typeof f.count === 'number' && items.length !== f.count) throw new WireError('invalid_value', `${what} must have ${f.count} items`);
        for (const item of items) this.writeOne(w, f.type, item, what);
      }
    }
  }

  writeTlvStream(w: Writer, stream: string | undefined, tlvs: Obj | undefined): void {
    if (!tlvs) return;
    const defs = stream ? (this.tables.tlvStreams[stream] ?? []) : [];
    const records: { type: bigint; value: Uint8Array }[] = [];
    for (const def of defs) {
      const rec = tlvs[def.name];
      if (rec === undefined) continue;
      const sub = new Writer();
      this.writeFields(sub, def.fields, rec as Obj, `${stream}.${def.name}`);
      records.push({ type: BigInt(def.type), value: sub.finish() });
    }
    for (const u of (tlvs.unknown as UnknownTlv[] | undefined) ?? []) records.push(u);
    records.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    for (let i = 1; i < records.length; i++) {
      if (records[i]!.type === records[i - 1]!.type) throw new WireError('tlv_order', `duplicate TLV type ${records[i]!.type}`);
    }
    for (const rec of records) w.bigsize(rec.type).bigsize(BigInt(rec.value.length)).bytes(rec.value);
  }
}

function num(v: Value, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new WireError('invalid_value', `${what} must be an integer in [${min}, ${max}]`);
  return v;
}
function big(v: Value, what: string, min: bigint, max: bigint): bigint {
  if (typeof v !== 'bigint' || v < min || v > max) throw new WireError('invalid_value', `${what} must be a bigint in [${min}, ${max}]`);
  return v;
}
function bytes(v: Value, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new WireError('invalid_value', `${what} must be bytes`);
  return v;
}
function str(v: Value, what: string): string {
  if (typeof v !== 'string') throw new WireError('invalid_value', `${what} must be a string`);
  return v;
}
function arr(v: Value, what: string): ArrayLike<unknown> & Iterable<unknown> {
  if (v instanceof Uint8Array || Array.isArray(v)) return v;
  throw new WireError('invalid_value', `${what} must be an array`);
}
