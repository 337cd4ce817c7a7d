/**
 * The watchtower wire messages, after lnd's `wtwire`: a 2-byte big-endian type, then fixed fields
 * (big-endian integers, byte strings with a 2-byte length), carried over BOLT 8 like peer messages but
 * on the tower's own port. Declared once as rows of fields, from which encode and decode follow.
 *
 *   600 init                    features (u16-len bytes), chain_hash (32)
 *   601 error                   code (u16), data (u16-len bytes)
 *   602 create_session          blob_type (u16), max_updates (u16), reward_base (u32), reward_rate (u32), sweep_feerate (u64, sat/kw)
 *   603 create_session_reply    code (u16), last_applied (u16), data (u16-len bytes)
 *   604 state_update            seq_num (u16), last_applied (u16), is_complete (u8), hint (16), blob (u16-len bytes)
 *   605 state_update_reply      code (u16), last_applied (u16)
 *   606 delete_session          (nothing)
 *   607 delete_session_reply    code (u16)
 *
 * A message that does not parse (unknown type, short, trailing bytes, a field out of its size) is a
 * WireError: the connection that sent it is closed, nothing else is affected.
 */
import { HINT_SIZE } from './blob.ts';

type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes' | 'hint' | 'hash';

const ROWS = {
  init: { type: 600, fields: [['features', 'bytes'], ['chainHash', 'hash']] },
  error: { type: 601, fields: [['code', 'u16'], ['data', 'bytes']] },
  create_session: { type: 602, fields: [['blobType', 'u16'], ['maxUpdates', 'u16'], ['rewardBase', 'u32'], ['rewardRate', 'u32'], ['sweepFeeRate', 'u64']] },
  create_session_reply: { type: 603, fields: [['code', 'u16'], ['lastApplied', 'u16'], ['data', 'bytes']] },
  state_update: { type: 604, fields: [['seqNum', 'u16'], ['lastApplied', 'u16'], ['isComplete', 'u8'], ['hint', 'hint'], ['blob', 'bytes']] },
  state_update_reply: { type: 605, fields: [['code', 'u16'], ['lastApplied', 'u16']] },
  delete_session: { type: 606, fields: [] },
  delete_session_reply: { type: 607, fields: [['code', 'u16']] },
} as const satisfies Record<string, { type: number; fields: readonly (readonly [string, FieldKind])[] }>;

type Rows = typeof ROWS;
type KindType<K extends FieldKind> = K extends 'u64' ? bigint : K extends 'bytes' | 'hint' | 'hash' ? Uint8Array : number;
type Fields<F extends readonly (readonly [string, FieldKind])[]> = { [E in F[number] as E[0]]: KindType<E[1]> };

export type TowerMessageType = keyof Rows;
export type TowerMessage = { [T in TowerMessageType]: { type: T } & Fields<Rows[T]['fields']> }[TowerMessageType];
export type TowerMessageOf<T extends TowerMessageType> = Extract<TowerMessage, { type: T }>;

/** Codes of error, create_session_reply, state_update_reply and delete_session_reply (lnd's numbers). */
export const CODE = {
  ok: 0,
  temporaryFailure: 40,
  permanentFailure: 50,
  /** create_session: this key has a session already (its last_applied comes with it). */
  alreadyExists: 60,
  rejectMaxUpdates: 61,
  rejectRewardRate: 62,
  rejectSweepFeeRate: 63,
  rejectBlobType: 64,
  /** state_update: no session for this key. */
  sessionNotFound: 70,
  /** state_update: seq_num past the session's max_updates. */
  maxUpdatesExceeded: 71,
  /** state_update: seq_num is not last_applied + 1 (nor a repeat of it). */
  seqNumOutOfOrder: 72,
  /** state_update: the client says the tower applied more than it did. */
  clientBehind: 73,
  /** state_update: the hint or blob is not the session's size. */
  invalidBlob: 74,
  /** Too many requests: try again later. */
  rateLimited: 75,
} as const;

/** Largest payload a tower message may have (BOLT 8's frame limit). */
export const MAX_TOWER_MESSAGE = 65535;

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

const byType = new Map<number, TowerMessageType>(Object.entries(ROWS).map(([name, r]) => [r.type, name as TowerMessageType]));

export function encodeTowerMessage(m: TowerMessage): Uint8Array {
  const row = ROWS[m.type];
  const parts: Uint8Array[] = [];
  const u = (n: number, size: number): Uint8Array => {
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** (8 * size)) throw new WireError(`${m.type}: ${n} does not fit ${size} bytes`);
    if (size === 1) v.setUint8(0, n);
    else if (size === 2) v.setUint16(0, n);
    else v.setUint32(0, n);
    return b;
  };
  parts.push(u(row.type, 2));
  const rec = m as unknown as Record<string, number | bigint | Uint8Array>;
  for (const [name, kind] of row.fields) {
    const val = rec[name]!;
    if (kind === 'u8') parts.push(u(val as number, 1));
    else if (kind === 'u16') parts.push(u(val as number, 2));
    else if (kind === 'u32') parts.push(u(val as number, 4));
    else if (kind === 'u64') {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, val as bigint);
      parts.push(b);
    } else {
      const bytes = val as Uint8Array;
      const want = kind === 'hint' ? HINT_SIZE : kind === 'hash' ? 32 : undefined;
      if (want !== undefined && bytes.length !== want) throw new WireError(`${m.type}.${name} must be ${want} bytes`);
      if (want === undefined) parts.push(u(bytes.length, 2));
      parts.push(bytes);
    }
  }
  const len = parts.reduce((a, p) => a + p.length, 0);
  if (len > MAX_TOWER_MESSAGE) throw new WireError(`${m.type} of ${len} bytes is over ${MAX_TOWER_MESSAGE}`);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeTowerMessage(b: Uint8Array): TowerMessage {
  if (b.length < 2) throw new WireError('a tower message shorter than its type');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = byType.get(v.getUint16(0));
  if (!type) throw new WireError(`unknown tower message type ${v.getUint16(0)}`);
  let at = 2;
  const need = (n: number, what: string): void => {
    if (at + n > b.length) throw new WireError(`${type} ends inside ${what}`);
  };
  const out: Record<string, unknown> = { type };
  for (const [name, kind] of ROWS[type].fields as readonly (readonly [string, FieldKind])[]) {
    if (kind === 'u8') {
      need(1, name);
      out[name] = v.getUint8(at);
      at += 1;
    } else if (kind === 'u16') {
      need(2, name);
      out[name] = v.getUint16(at);
      at += 2;
    } else if (kind === 'u32') {
      need(4, name);
      out[name] = v.getUint32(at);
      at += 4;
    } else if (kind === 'u64') {
      need(8, name);
      out[name] = v.getBigUint64(at);
      at += 8;
    } else {
      let n = kind === 'hint' ? HINT_SIZE : 32;
      if (kind === 'bytes') {
        need(2, `${name}'s length`);
        n = v.getUint16(at);
        at += 2;
      }
      need(n, name);
      out[name] = b.slice(at, at + n);
      at += n;
    }
  }
  if (at !== b.length) throw new WireError(`${type} has ${b.length - at} bytes after its last field`);
  return out as TowerMessage;
}
