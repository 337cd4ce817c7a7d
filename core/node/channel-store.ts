/**
 * The channels in the node's KvStore (core/store/kv/types.ts), written the way a commitment step
 * changes them: each `store` is one atomic write (durable, or lazy where the step allows: see
 * ChannelAction 'store') of one channel's record and of the HTLC
 * onions that came or went with that step, never of the other channels.
 *
 * Records
 * - `channels/<key>`: one channel (its key is the hex of its temporary id, stable for its whole
 *   life): `{ key, peer, index, state, fundingTxHex?, private, remotePolicy? }`, JSON with bytes as
 *   `{ "$b": hex }` and bigints as `{ "$n": decimal }` (core/channel/codec.ts). The state refers to
 *   HTLC onions by reference, never holds one, and holds no secret (those are derived from the seed).
 * - `htlc-onions/<key>:<in|out>:<htlc id, 20 digits>`: one HTLC's 1366-byte onion, raw; written when
 *   the HTLC first appears in a stored state, deleted with the first stored state that no longer
 *   refers to it. A payment's onion is thus written once, not once per commitment it lives through.
 * - `meta/channel-index`: the next BIP32 key index for a new channel (decimal).
 * - `monitors`, `monitor-updates`, `monitor-archive`: what each channel's chain monitor must know,
 *   added to the same writes (core/node/monitor-records.ts).
 *
 * A data directory of a Coulomb that kept channels in `channels.json` moves into these records on the
 * first start (core/store/kv/migrate.ts; the file stays as `channels.json.migrated`).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { toStoredParts, toStoredJson, fromStoredParts, MissingOnionError } from '../channel/codec.ts';
import type { OnionRef } from '../channel/codec.ts';
import type { ChannelState } from '../channel/types.ts';
import { deriveChannelSecrets } from '../keys/channel-keys.ts';
import type { Network } from '../keys/node-key.ts';
import { checkDerivedBasepoints, dropStoredChannelSecrets } from '../keys/at-rest.ts';
import { StoreError } from '../store/errors.ts';
import { openStore } from '../store/store.ts';
import { readFileIfExists } from '../store/durable-file.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';
import { bytesEqual } from '../util/bytes.ts';
import { MonitorRecords } from './monitor-records.ts';

export interface ChannelRecord {
  /** Hex of the temporary id: stable key for the channel's whole life. */
  key: string;
  peer: string;
  index: number;
  state: unknown;
  fundingTxHex?: string;
  private: boolean;
  /** The peer's forwarding policy for this channel, from its channel_update. */
  remotePolicy?: { feeBaseMsat: number; feeProportionalMillionths: number; cltvExpiryDelta: number };
}

/** What channels.json held (schema 2): core/node/channels.ts before the KvStore. */
interface ChannelsJson {
  nextIndex: number;
  channels: Record<string, ChannelRecord>;
}

export const CHANNELS_NS = 'channels';
export const ONIONS_NS = 'htlc-onions';
const INDEX_KEY = 'channel-index';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export class ChannelStore {
  /** Changes with every stored change to any channel. */
  revision = 0;
  /** Told of every stored change to a channel, with the state it replaces (undefined for a new channel). */
  onSaved: ((rec: ChannelRecord, state: ChannelState, prev: ChannelState | undefined) => void) | undefined;
  /** The onions on disk, per channel: what the next write of that channel adds or deletes. */
  private readonly onionsOnDisk = new Map<string, Map<OnionRef, Uint8Array>>();
  /** Each channel's last write: a step that asks to store the same state again writes nothing. */
  private readonly lastSaved = new Map<string, { state: ChannelState; recJson: string; done: Promise<void>; durable: boolean }>();
  /** Writes under way. */
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(
    private readonly kv: KvStore,
    private nextIndex: number,
    /** The chain monitors' update records, written with the channel steps they come from. */
    readonly monitors: MonitorRecords,
  ) {}

  /**
   * Opens the channels in `kv` (after moving `<dir>/channels.json` into it, once) and returns them
   * with their states, secrets derived again from the seed and checked against the stored keys.
   */
  static async open(kv: KvStore, opts: { dir: string; seed: Uint8Array; network: Network; warn?: (message: string) => void }): Promise<{ store: ChannelStore; channels: { rec: ChannelRecord; state: ChannelState }[] }> {
    await migrateChannelsJson(kv, opts);
    const rawIndex = await kv.get('meta', INDEX_KEY);
    const nextIndex = rawIndex ? Number(dec.decode(rawIndex)) : 0;
    if (!Number.isSafeInteger(nextIndex) || nextIndex < 0) throw corrupt(kv, `meta/${INDEX_KEY}`);
    const store = new ChannelStore(kv, nextIndex, await MonitorRecords.open(kv));
    const onions = new Map<string, Map<OnionRef, Uint8Array>>();
    for (const { key, value } of await kv.range(ONIONS_NS)) {
      const at = key.indexOf(':');
      const channel = key.slice(0, at);
      let m = onions.get(channel);
      if (!m) onions.set(channel, (m = new Map()));
      m.set(key.slice(at + 1) as OnionRef, value);
    }
    const channels: { rec: ChannelRecord; state: ChannelState }[] = [];
    for (const { key, value } of await kv.range(CHANNELS_NS)) {
      let rec: ChannelRecord;
      try {
        rec = JSON.parse(dec.decode(value)) as ChannelRecord;
      } catch (e) {
        throw corrupt(kv, `${CHANNELS_NS}/${key}`, e);
      }
      if (rec.key !== key || typeof rec.index !== 'number') throw corrupt(kv, `${CHANNELS_NS}/${key}`);
      // Secrets are never stored: derived again from the seed, and checked against the stored basepoints.
      const secrets = deriveChannelSecrets(opts.seed, opts.network, rec.index);
      const mine = onions.get(key) ?? new Map<OnionRef, Uint8Array>();
      onions.delete(key);
      let state: ChannelState;
      try {
        state = fromStoredParts(rec.state, (ref) => mine.get(ref), secrets);
        if (typeof state.local?.basepoints !== 'object') throw new TypeError('the state has no basepoints');
      } catch (e) {
        throw corrupt(kv, e instanceof MissingOnionError ? `${ONIONS_NS}/${key}:${e.ref}` : `${CHANNELS_NS}/${key}`, e);
      }
      checkDerivedBasepoints(key, state.local.basepoints, secrets);
      // Onions the state no longer refers to (a crash cannot leave any: they go in the same write as
      // the state) are deleted with the channel's next write.
      store.onionsOnDisk.set(key, mine);
      store.monitors.setBase(key, state);
      channels.push({ rec: { ...rec, state: null }, state });
    }
    // Onions of no channel: none is ever written so; left as found, and said nowhere but here.
    return { store, channels };
  }

  /** A key index for a new channel, durable before it is used (an index is never handed out twice). */
  async allocateIndex(): Promise<number> {
    const index = this.nextIndex++;
    this.revision++;
    await this.track(this.kv.write([{ type: 'put', ns: 'meta', key: INDEX_KEY, value: enc.encode(String(index + 1)) }]));
    return index;
  }

  /**
   * Makes the next index `next` at least (durable when it resolves): channels restored from a backup
   * keep their indexes, and a new channel must never derive the same keys.
   */
  async reserveIndexes(next: number): Promise<void> {
    if (next <= this.nextIndex) return;
    this.nextIndex = next;
    this.revision++;
    await this.track(this.kv.write([{ type: 'put', ns: 'meta', key: INDEX_KEY, value: enc.encode(String(next)) }]));
  }

  /** Resolves once every write called so far has finished (whether or not it succeeded). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = (): void => void this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Stores one channel: its record, the onions its state refers to that are not on disk yet, and the
   * deletion of those it no longer refers to, in one atomic write; resolves once durable, or with
   * `durable: false` once applied (it reaches the disk with the store's next durable write). A second
   * call with the state and record already stored (a step that asks twice) writes nothing. Calls for
   * one channel are made in step order (the channel's queue sees to it); a call need not wait for the
   * previous one to be durable.
   */
  /** Monitor updates that come from no channel step (a preimage for a channel closing on chain), durable. */
  writeMonitorUpdates(channel: string, updates: Parameters<MonitorRecords['opsForUpdates']>[1]): Promise<void> {
    const ops = this.monitors.opsForUpdates(channel, updates);
    return ops.length ? this.track(this.kv.write(ops)) : Promise.resolve();
  }

  save(rec: ChannelRecord, state: ChannelState, opts: { durable?: boolean } = {}): Promise<void> {
    const durable = opts.durable !== false;
    // The record without its state (which goes first, below): `{"key":…}`, never empty.
    const recJson = JSON.stringify({ ...rec, state: undefined });
    const last = this.lastSaved.get(rec.key);
    if (last && last.state === state && last.recJson === recJson) {
      // Written already; asked durable now where it was written lazily: it gets there with the rest.
      return durable && !last.durable ? last.done.then(() => this.track(this.kv.flush())) : last.done;
    }
    const { json: stateJson, onions } = toStoredJson(state);
    const ops: KvOp[] = [];
    const onDisk = this.onionsOnDisk.get(rec.key) ?? new Map<OnionRef, Uint8Array>();
    for (const [ref, bytes] of onions) {
      const had = onDisk.get(ref);
      // Compared by content: an id comes back with another onion when updates nobody signed are
      // forgotten at a disconnect, and the new onion must replace the old one.
      if (had !== bytes && !(had && bytesEqual(had, bytes))) ops.push({ type: 'put', ns: ONIONS_NS, key: `${rec.key}:${ref}`, value: bytes });
    }
    for (const ref of onDisk.keys()) if (!onions.has(ref)) ops.push({ type: 'delete', ns: ONIONS_NS, key: `${rec.key}:${ref}` });
    // What the chain monitor must know of this step, durable with it (before anything it sends).
    for (const op of this.monitors.opsFor(rec.key, state)) ops.push(op);
    ops.push({ type: 'put', ns: CHANNELS_NS, key: rec.key, value: enc.encode(`{"state":${stateJson},${recJson.slice(1)}`) });
    this.revision++;
    // What the next write compares with: this one's, as soon as it is made (the store commits writes
    // in the order they are made, and a channel's next save may come before this one is durable).
    const done = this.track(this.kv.write(ops, durable ? undefined : { durable: false }));
    this.onionsOnDisk.set(rec.key, onions);
    this.lastSaved.set(rec.key, { state, recJson, done, durable });
    this.onSaved?.(rec, state, last?.state);
    // After a failed write (the store then takes no more), nothing counts as stored.
    done.catch(() => this.lastSaved.delete(rec.key));
    return done;
  }
}

function corrupt(kv: KvStore, record: string, cause?: unknown): StoreError {
  return new StoreError('corrupt', kv.location, `the channel record ${record} in ${kv.location} is damaged or missing: restore the data directory from a backup`, cause === undefined ? undefined : { cause });
}

/**
 * `channels.json` into the KvStore, once. A file of schema 1 held channel secrets in plaintext: it is
 * first upgraded in place as before (each secret checked against the seed, then dropped; the copy of
 * schema 1 that upgrade keeps is removed), so the backup the move leaves holds no secret either.
 */
async function migrateChannelsJson(kv: KvStore, opts: { dir: string; seed: Uint8Array; network: Network; warn?: (message: string) => void }): Promise<void> {
  const file = join(opts.dir, 'channels.json');
  const raw = await readFileIfExists(file);
  if (raw === undefined) return;
  if (schemaOf(raw) === 1) {
    const migrations = [(d: unknown) => dropStoredChannelSecrets(d, (index) => deriveChannelSecrets(opts.seed, opts.network, index))];
    const db = await openStore<ChannelsJson>({ dir: opts.dir, name: 'channels', version: 2, migrations, defaults: () => ({ nextIndex: 0, channels: {} }) });
    await db.close();
  }
  await rm(join(opts.dir, 'channels.v1.bak.json'), { force: true });
  await migrateJsonStore<ChannelsJson>(kv, {
    dir: opts.dir,
    name: 'channels',
    version: 2,
    // Schema 1 was upgraded above; one written meanwhile by hand is refused rather than moved with its secrets.
    migrations: [() => {
      throw new Error('a channel store of schema 1 holds secrets; start Coulomb again to upgrade it first');
    }],
    validate: validateChannelsJson,
    toOps: (data) => channelsJsonOps(data, opts),
    warn: opts.warn,
  });
}

/** The schema_version a JSON store file declares, if it is readable. */
function schemaOf(raw: Uint8Array): unknown {
  try {
    return (JSON.parse(dec.decode(raw)) as { schema_version?: unknown }).schema_version;
  } catch {
    return undefined; // migrateJsonStore reports the damage
  }
}

/** Why a channels.json (schema 2) cannot be moved as it is, in words for its owner; undefined when it can. */
function validateChannelsJson(d: unknown): string | undefined {
  const o = d as Partial<ChannelsJson> | null;
  if (!o || typeof o !== 'object' || !Number.isSafeInteger(o.nextIndex) || o.nextIndex! < 0 || !o.channels || typeof o.channels !== 'object') return 'it does not hold a list of channels';
  for (const [key, rec] of Object.entries(o.channels)) {
    const r = rec as Partial<ChannelRecord> | null;
    if (!/^[0-9a-f]{64}$/.test(key) || !r || r.key !== key || typeof r.peer !== 'string' || !Number.isSafeInteger(r.index) || r.index! < 0 || !r.state || typeof r.state !== 'object') return `the channel ${key} in it is not a channel record`;
  }
  return undefined;
}

/** The records that hold what a channels.json of schema 2 held. */
function channelsJsonOps(data: ChannelsJson, opts: { seed: Uint8Array; network: Network }): KvOp[] {
  const ops: KvOp[] = [{ type: 'put', ns: 'meta', key: INDEX_KEY, value: enc.encode(String(data.nextIndex)) }];
  for (const rec of Object.values(data.channels)) {
    const secrets = deriveChannelSecrets(opts.seed, opts.network, rec.index);
    const state = fromStoredParts(rec.state, () => undefined, secrets);
    checkDerivedBasepoints(rec.key, state.local.basepoints, secrets);
    const parts = toStoredParts(state);
    for (const [ref, bytes] of parts.onions) ops.push({ type: 'put', ns: ONIONS_NS, key: `${rec.key}:${ref}`, value: bytes });
    ops.push({ type: 'put', ns: CHANNELS_NS, key: rec.key, value: enc.encode(JSON.stringify({ ...rec, state: parts.state })) });
  }
  return ops;
}
