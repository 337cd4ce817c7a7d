/**
 * The chain monitors' records in the node's KvStore, appended and compacted (the pattern of issue 12):
 * each channel step that changes what its monitor keeps (core/channel/monitor-updates.ts) adds small
 * update records to the same atomic write as the channel's own record, so they are durable before any
 * message of that step leaves; every COMPACT_EVERY updates they are folded into the channel's snapshot
 * and deleted, in that same write.
 *
 * Records (JSON, bytes as `{ "$b": hex }`, bigints as `{ "$n": decimal }`, each with a version `v`):
 * - `monitor-updates/<channel>:<seq, 10 digits>`: `{ v, u: MonitorUpdate }`, a few hundred bytes;
 * - `monitors/<channel>`: `{ v, seq, data: MonitorData }`, the fold of every update before `seq`,
 *   except the revoked HTLCs that can grow no more, which are in:
 * - `monitor-archive/<channel>:<seq, 10 digits>`: `{ v, ranges: RevokedHtlc[] }`, written once each.
 *   So a compaction writes what is still live, never the whole history again.
 */
import { hex } from '@scure/base';
import { storedJson } from '../channel/codec.ts';
import { monitorUpdatesFor } from '../channel/monitor-updates.ts';
import type { ChannelState } from '../channel/types.ts';
import { applyUpdate, MONITOR_VERSION } from '../monitor/state.ts';
import type { MonitorData, MonitorUpdate, RevokedHtlc } from '../monitor/state.ts';
import { newMonitor } from '../monitor/monitor.ts';
import type { MonitorChain, MonitorState } from '../monitor/monitor.ts';
import { StoreError } from '../store/errors.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';

export const MONITORS_NS = 'monitors';
export const MONITOR_UPDATES_NS = 'monitor-updates';
export const MONITOR_ARCHIVE_NS = 'monitor-archive';
/** Updates folded into the snapshot at once: at most this many update records per channel are kept. */
export const COMPACT_EVERY = 64;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

const seqKey = (channel: string, seq: number): string => `${channel}:${String(seq).padStart(10, '0')}`;

export function encodeRecord(value: unknown): Uint8Array {
  return enc.encode(storedJson(value));
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return JSON.parse(dec.decode(bytes), (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const r = v as Record<string, unknown>;
      if (typeof r.$b === 'string' && Object.keys(r).length === 1) return hex.decode(r.$b);
      if (typeof r.$n === 'string' && Object.keys(r).length === 1) return BigInt(r.$n);
    }
    return v;
  }) as T;
}

interface Snapshot {
  v: number;
  seq: number;
  data: MonitorData;
}

/** One channel's monitor as the records stand: the fold of the snapshot and the updates after it. */
interface Tail {
  /** Without the archived ranges (the channel store needs only the ones that can still grow). */
  data?: MonitorData;
  /** The next update's sequence number. */
  seq: number;
  /** Keys of the update records not yet folded into the snapshot. */
  pending: string[];
  /** The channel state the last updates were derived from. */
  base?: ChannelState;
}

export type MonitorUpdateListener = (channel: string, updates: readonly MonitorUpdate[]) => void;

export class MonitorRecords {
  private readonly tails = new Map<string, Tail>();
  private readonly listeners = new Set<MonitorUpdateListener>();

  private constructor(private readonly kv: KvStore) {}

  /** Reads every channel's snapshot and pending updates (archives are read by loadMonitor only). */
  static async open(kv: KvStore): Promise<MonitorRecords> {
    const m = new MonitorRecords(kv);
    for (const { key, value } of await kv.range(MONITORS_NS)) {
      const snap = parse<Snapshot>(kv, `${MONITORS_NS}/${key}`, value);
      m.tails.set(key, { data: snap.data, seq: snap.seq, pending: [] });
    }
    for (const { key, value } of await kv.range(MONITOR_UPDATES_NS)) {
      const channel = key.slice(0, key.lastIndexOf(':'));
      const rec = parse<{ v: number; u: MonitorUpdate }>(kv, `${MONITOR_UPDATES_NS}/${key}`, value);
      let t = m.tails.get(channel);
      if (!t) m.tails.set(channel, (t = { seq: 0, pending: [] }));
      t.data = applyUpdate(t.data, rec.u);
      t.pending.push(key);
      t.seq = Number(key.slice(key.lastIndexOf(':') + 1)) + 1;
    }
    return m;
  }

  /** The state a channel was loaded with: the next step's updates are what changed from it. */
  setBase(channel: string, state: ChannelState): void {
    const t = this.tail(channel);
    t.base = state;
  }

  /** Told, in write order, of the updates each write carries, as the write is made (before it is durable). */
  subscribe(fn: MonitorUpdateListener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** The monitor's data as folded so far, without the archived ranges (tests, and what the store keeps). */
  data(channel: string): MonitorData | undefined {
    return this.tails.get(channel)?.data;
  }

  /**
   * The records the step from the channel's last stored state to `state` adds (and, every
   * COMPACT_EVERY updates, the snapshot that replaces them): to go in the same write as the state.
   */
  opsFor(channel: string, state: ChannelState): KvOp[] {
    const t = this.tail(channel);
    // A monitor that has none of its records yet (a channel from before monitors) starts whole.
    const updates = monitorUpdatesFor(t.data ? t.base : undefined, state);
    t.base = state;
    if (!updates.length) return [];
    const ops: KvOp[] = [];
    for (const u of updates) {
      t.data = applyUpdate(t.data, u);
      const key = seqKey(channel, t.seq++);
      ops.push({ type: 'put', ns: MONITOR_UPDATES_NS, key, value: encodeRecord({ v: MONITOR_VERSION, u }) });
      t.pending.push(key);
    }
    if (t.pending.length >= COMPACT_EVERY) ops.push(...this.compact(channel, t));
    for (const fn of this.listeners) fn(channel, updates);
    return ops;
  }

  /**
   * The records of updates that come from no channel step: a preimage learned for an HTLC of a channel
   * that is closing on chain (its state takes no more updates, its monitor still claims with it).
   */
  opsForUpdates(channel: string, updates: readonly MonitorUpdate[]): KvOp[] {
    const t = this.tail(channel);
    if (!t.data || !updates.length) return [];
    const ops: KvOp[] = [];
    for (const u of updates) {
      t.data = applyUpdate(t.data, u);
      const key = seqKey(channel, t.seq++);
      ops.push({ type: 'put', ns: MONITOR_UPDATES_NS, key, value: encodeRecord({ v: MONITOR_VERSION, u }) });
      t.pending.push(key);
    }
    for (const fn of this.listeners) fn(channel, updates);
    return ops;
  }

  /** The snapshot of everything so far, the closed revoked ranges archived, the folded updates deleted. */
  private compact(channel: string, t: Tail): KvOp[] {
    const d = t.data!;
    const live = (r: RevokedHtlc): boolean => r.to === d.remote.number - 1n && d.remote.htlcs.some((h) => h.id === r.htlc.id && h.incoming === r.htlc.incoming);
    const closed = d.revokedHtlcs.filter((r) => !live(r));
    const ops: KvOp[] = [];
    if (closed.length) ops.push({ type: 'put', ns: MONITOR_ARCHIVE_NS, key: seqKey(channel, t.seq), value: encodeRecord({ v: MONITOR_VERSION, ranges: closed }) });
    t.data = { ...d, revokedHtlcs: d.revokedHtlcs.filter(live) };
    ops.push({ type: 'put', ns: MONITORS_NS, key: channel, value: encodeRecord({ v: MONITOR_VERSION, seq: t.seq, data: t.data }) });
    for (const key of t.pending) ops.push({ type: 'delete', ns: MONITOR_UPDATES_NS, key });
    t.pending = [];
    return ops;
  }

  private tail(channel: string): Tail {
    let t = this.tails.get(channel);
    if (!t) this.tails.set(channel, (t = { seq: 0, pending: [] }));
    return t;
  }
}

/**
 * A channel's monitor data whole, from its records: the snapshot, every archived range and the
 * updates after the snapshot. Undefined when the channel has none (it never had a signed commitment).
 */
export async function loadMonitor(kv: KvStore, channel: string): Promise<MonitorData | undefined> {
  const snap = await kv.get(MONITORS_NS, channel);
  let data = snap ? parse<Snapshot>(kv, `${MONITORS_NS}/${channel}`, snap).data : undefined;
  const within = { gte: `${channel}:`, lt: `${channel};` };
  const archived: RevokedHtlc[] = [];
  for (const { key, value } of await kv.range(MONITOR_ARCHIVE_NS, within)) archived.push(...parse<{ v: number; ranges: RevokedHtlc[] }>(kv, `${MONITOR_ARCHIVE_NS}/${key}`, value).ranges);
  if (data && archived.length) data = { ...data, revokedHtlcs: [...archived, ...data.revokedHtlcs] };
  for (const { key, value } of await kv.range(MONITOR_UPDATES_NS, within)) data = applyUpdate(data, parse<{ v: number; u: MonitorUpdate }>(kv, `${MONITOR_UPDATES_NS}/${key}`, value).u);
  return data;
}

function parse<T extends { v: number }>(kv: KvStore, record: string, value: Uint8Array): T {
  let r: T;
  try {
    r = decodeRecord<T>(value);
  } catch (e) {
    throw new StoreError('corrupt', kv.location, `the chain monitor record ${record} in ${kv.location} is damaged: restore the data directory from a backup`, { cause: e });
  }
  if (r.v !== MONITOR_VERSION) throw new StoreError('newer_version', kv.location, `the chain monitor record ${record} in ${kv.location} has version ${String(r.v)}, which this Coulomb does not know: run the Coulomb that wrote it, or a newer one`);
  return r;
}

/** What a monitor learned from the chain and decided (core/monitor/monitor.ts), one record per channel. */
export const MONITOR_CHAIN_NS = 'monitor-chain';

/** The write of a monitor's `store` action. */
export function monitorChainOps(channel: string, chain: MonitorChain): KvOp[] {
  return [{ type: 'put', ns: MONITOR_CHAIN_NS, key: channel, value: encodeRecord(chain) }];
}

/** A channel's monitor as it was stored: its data from the channel's records, its chain part from its own. */
export async function loadMonitorState(kv: KvStore, channel: string): Promise<MonitorState | undefined> {
  const data = await loadMonitor(kv, channel);
  if (!data) return undefined;
  const raw = await kv.get(MONITOR_CHAIN_NS, channel);
  const s = newMonitor(channel, data);
  return raw ? { ...s, chain: parse<MonitorChain>(kv, `${MONITOR_CHAIN_NS}/${channel}`, raw) } : s;
}
