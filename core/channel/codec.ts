/**
 * Channel states as JSON for the store: bytes as `{ "$b": hex }`, bigints as `{ "$n": decimal }`.
 * Round-trips every value a ChannelState holds except its secrets: those never reach the disk; they
 * are derived again from the wallet's seed (core/keys/channel-keys.ts) and handed back on reading.
 */
import { hex } from '@scure/base';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { bytesEqual } from '../util/bytes.ts';
import type { ChannelState } from './types.ts';
import type { Commitments, DirectedHtlc, Htlc, Spec, Update } from './updates.ts';

export function toStored(s: ChannelState): unknown {
  return JSON.parse(storedJson(withoutSecrets(s))) as unknown;
}

function withoutSecrets(s: ChannelState): Omit<ChannelState, 'secrets'> {
  const { secrets: _secrets, ...rest } = s;
  return rest;
}

/**
 * `value` as the JSON the store keeps — what JSON.stringify gives with bytes as `{ "$b": hex }` and
 * bigints as `{ "$n": decimal }` — written in one pass: a channel is encoded at every commitment
 * step, and a replacer (called for every value, then parsed back and stringified again) made that
 * the largest cost of a write.
 */
export function storedJson(value: unknown): string {
  return encodeValue(value) ?? 'null';
}

/** JSON text already encoded, put in a value for encodeValue to copy as it is. */
class Encoded {
  constructor(readonly json: string) {}
}

function encodeValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return `{"$n":"${v.toString()}"}`;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return 'null';
  if (v instanceof Encoded) return v.json;
  if (v instanceof Uint8Array) return `{"$b":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"}`;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + (encodeValue(v[i]) ?? 'null');
    return out + ']';
  }
  const o = v as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof o.toJSON === 'function') return encodeValue(o.toJSON());
  let out = '{';
  let first = true;
  for (const k of Object.keys(o)) {
    const e = encodeValue(o[k]);
    if (e === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + e;
    first = false;
  }
  return out + '}';
}

export function fromStored(o: unknown, secrets: ChannelSecrets): ChannelState {
  const state = JSON.parse(JSON.stringify(o), (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const r = v as Record<string, unknown>;
      if (typeof r.$b === 'string' && Object.keys(r).length === 1) return hex.decode(r.$b);
      if (typeof r.$n === 'string' && Object.keys(r).length === 1) return BigInt(r.$n);
    }
    return v;
  }) as Omit<ChannelState, 'secrets'>;
  return { ...state, secrets };
}

/** Which HTLC an onion belongs to within its channel: `in` (the peer offered it) or `out`, and its id. */
export type OnionRef = `${'in' | 'out'}:${string}`;

export function onionRef(incoming: boolean, id: bigint): OnionRef {
  return `${incoming ? 'in' : 'out'}:${id.toString().padStart(20, '0')}`;
}

type Stripped = { $onion: OnionRef };

/**
 * A channel state for the store with its HTLC onions apart: the state refers to each onion by its
 * HTLC's direction and id, and each onion (1366 bytes, the largest thing an HTLC carries) is kept once
 * however many commitments and updates hold its HTLC. `onions` lists those the state refers to.
 */
export function toStoredParts(s: ChannelState): { state: unknown; onions: Map<OnionRef, Uint8Array> } {
  const { json, onions } = toStoredJson(s);
  return { state: JSON.parse(json) as unknown, onions };
}

/**
 * The stored JSON of an HTLC with its onion referred to, by HTLC object: HTLCs are never modified
 * once made, and each stays in a channel's commitments for several steps (in several of them at once),
 * so a channel with many HTLCs in flight encodes each one once, not at every step.
 */
const htlcJson = { in: new WeakMap<Htlc, Encoded>(), out: new WeakMap<Htlc, Encoded>() };

/** As toStoredParts, with the state as its JSON text (storedJson): what a write of the channel holds. */
export function toStoredJson(s: ChannelState): { json: string; onions: Map<OnionRef, Uint8Array> } {
  const onions = new Map<OnionRef, Uint8Array>();
  if (!s.commit) return { json: storedJson(withoutSecrets(s)), onions };
  const commit = mapHtlcs(s.commit, (h, incoming) => {
    const hasOnion = h.onion instanceof Uint8Array && h.onion.length > 0;
    const ref = onionRef(incoming, h.id);
    if (hasOnion) {
      const had = onions.get(ref);
      // One HTLC id in one direction has one onion within a state (an id reused after a disconnect
      // replaces the dropped add). Were two to differ, the second stays inline rather than be lost.
      if (had && had !== h.onion && !bytesEqual(had, h.onion)) return h;
      onions.set(ref, h.onion);
    }
    const cache = htlcJson[incoming ? 'in' : 'out'];
    let e = cache.get(h);
    if (!e) {
      e = new Encoded(encodeValue(hasOnion ? { ...h, onion: { $onion: ref } satisfies Stripped } : h)!);
      cache.set(h, e);
    }
    return e as unknown as Htlc;
  });
  return { json: storedJson(withoutSecrets({ ...s, commit })), onions };
}

/** The inverse of toStoredParts: `onion` finds an onion the state refers to (undefined when it is missing). */
export function fromStoredParts(o: unknown, onion: (ref: OnionRef) => Uint8Array | undefined, secrets: ChannelSecrets): ChannelState {
  const s = fromStored(o, secrets);
  if (!s.commit) return s;
  const commit = mapHtlcs(s.commit, (h) => {
    const ref = (h.onion as unknown as Partial<Stripped> | undefined)?.$onion;
    if (typeof ref !== 'string') return h;
    const bytes = onion(ref);
    if (!bytes) throw new MissingOnionError(ref);
    return { ...h, onion: bytes };
  });
  return { ...s, commit };
}

export class MissingOnionError extends Error {
  constructor(readonly ref: string) {
    super(`the onion of HTLC ${ref} is missing`);
    this.name = 'MissingOnionError';
  }
}

function withIncoming(h: Htlc, incoming: boolean): DirectedHtlc {
  // An encoded HTLC of a spec was encoded from the spec's own object, `incoming` included.
  return h instanceof Encoded ? (h as unknown as DirectedHtlc) : { ...h, incoming };
}

/** Every HTLC a channel's commitments hold (specs and add updates), each mapped by `f`; `incoming` when the peer offered it. */
function mapHtlcs(c: Commitments, f: (h: Htlc, incoming: boolean) => Htlc): Commitments {
  // A spec's HTLC is stored with its direction: `incoming` is set again after f (an HTLC's own field).
  const spec = (sp: Spec): Spec => ({ ...sp, htlcs: sp.htlcs.map((h) => withIncoming(f(h, h.incoming), h.incoming)) });
  const updates = (us: Update[], incoming: boolean): Update[] => us.map((u) => (u.kind === 'add' ? { ...u, htlc: f(u.htlc, incoming) } : u));
  return {
    ...c,
    localSpec: spec(c.localSpec),
    remoteSpec: spec(c.remoteSpec),
    ...(c.remoteNext ? { remoteNext: { ...c.remoteNext, spec: spec(c.remoteNext.spec) } } : {}),
    localChanges: { proposed: updates(c.localChanges.proposed, false), signed: updates(c.localChanges.signed, false), acked: updates(c.localChanges.acked, false) },
    remoteChanges: { proposed: updates(c.remoteChanges.proposed, true), acked: updates(c.remoteChanges.acked, true), signed: updates(c.remoteChanges.signed, true) },
  };
}
