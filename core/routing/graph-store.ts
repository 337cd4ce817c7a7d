/**
 * The channel graph in the node's KvStore (namespace `graph`): 256 channel buckets and 256 node buckets
 * (a slot's bucket is `slot % 256`), each one binary record, plus a `meta` record. A save writes only
 * the buckets that changed since the last one, in one atomic write, so the stored graph is always one
 * the node had; a mainnet graph is about 7 MB in 512 records, read back in one range read.
 *
 * Records keep the graph's slots: a stored channel names its nodes by slot (4 bytes, not 33), and the
 * load puts every node and channel back where it was.
 *
 * Formats (version 1, all integers big-endian):
 *   meta         JSON { version, nodeSlots, channelSlots }
 *   n-<000-255> u8 1 | u32 count | per node: u32 slot, 33 node_id, u32 timestamp, u8 announced,
 *                [u16 flen, features, 3 rgb, 32 alias, u16 alen, addresses, u8 routable]
 *   c-<000-255> u8 1 | u32 count | per channel: u32 slot, u64 scid, u32 node1, u32 node2,
 *                f64 capacity_sat (NaN: unknown), u32 announced_at, u32 spent_at, u8 flags,
 *                u16 flen, features, then per direction: u32 timestamp (0: none),
 *                [u8 message_flags, u8 channel_flags, u16 cltv_expiry_delta, u64 htlc_minimum_msat,
 *                 u32 fee_base_msat, u32 fee_proportional_millionths, u64 htlc_maximum_msat]
 * The graph can always be learnt again from gossip: a record that does not read is reported as
 * corrupt, and the node may drop the namespace (`clearGraph`) and sync afresh.
 */
import { StoreError } from '../store/errors.ts';
import { kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';
import { BUCKETS, CHAN_USED, Graph } from './graph.ts';
import type { NodeInfo } from './graph.ts';

export const GRAPH_NS = 'graph';
const VERSION = 1;
const META = 'meta';

interface Meta {
  version: number;
  nodeSlots: number;
  channelSlots: number;
}

const bucketKey = (kind: 'n' | 'c', b: number): string => `${kind}-${String(b).padStart(3, '0')}`;

/** A growable byte buffer with big-endian writes. */
class Out {
  buf = new Uint8Array(4096);
  view = new DataView(this.buf.buffer);
  at = 0;
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.at++, v);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.at, v);
    this.at += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.at, v);
    this.at += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.at, v);
    this.at += 8;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v);
    this.at += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

class In {
  private readonly view: DataView;
  at = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): number {
    const at = this.at;
    if (at + n > this.buf.length) throw new RangeError(`${this.where} ends early`);
    this.at += n;
    return at;
  }
  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2));
  }
  u32(): number {
    return this.view.getUint32(this.need(4));
  }
  u64(): bigint {
    return this.view.getBigUint64(this.need(8));
  }
  f64(): number {
    return this.view.getFloat64(this.need(8));
  }
  /** A copy, so the graph never holds a view into a large record. */
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.slice(at, at + n);
  }
  get done(): boolean {
    return this.at === this.buf.length;
  }
}

function encodeNodeBucket(g: Graph, b: number): Uint8Array | undefined {
  const out = new Out();
  out.u8(VERSION);
  out.u32(0);
  let count = 0;
  for (let n = b; n < g.nodeHigh; n += BUCKETS) {
    if (!g.nodeUsed[n]) continue;
    count++;
    out.u32(n);
    out.bytes(g.nodeKeys.subarray(n * 33, n * 33 + 33));
    out.u32(g.nodeTs[n]!);
    const info = g.nodeInfo[n];
    out.u8(info ? 1 : 0);
    if (!info) continue;
    out.u16(info.features.length);
    out.bytes(info.features);
    out.bytes(info.rgbColor);
    out.bytes(info.alias);
    out.u16(info.addresses.length);
    out.bytes(info.addresses);
    out.u8(info.routable ? 1 : 0);
  }
  if (count === 0) return undefined;
  out.view.setUint32(1, count);
  return out.done();
}

function encodeChannelBucket(g: Graph, b: number): Uint8Array | undefined {
  const out = new Out();
  out.u8(VERSION);
  out.u32(0);
  let count = 0;
  for (let s = b; s < g.chanHigh; s += BUCKETS) {
    if (!(g.chanFlags[s]! & CHAN_USED)) continue;
    count++;
    out.u32(s);
    out.u32(g.scidHi[s]!);
    out.u32(g.scidLo[s]!);
    out.u32(g.chanNode1[s]!);
    out.u32(g.chanNode2[s]!);
    out.f64(g.capacitySat[s]!);
    out.u32(g.announcedAt[s]!);
    out.u32(g.spentAt[s]!);
    out.u8(g.chanFlags[s]! & ~CHAN_USED);
    const f = g.chanFeatures[s];
    out.u16(f?.length ?? 0);
    if (f) out.bytes(f);
    for (const i of [2 * s, 2 * s + 1]) {
      const ts = g.pTimestamp[i]!;
      out.u32(ts);
      if (ts === 0) continue;
      out.u8(g.pMessageFlags[i]!);
      out.u8(g.pChannelFlags[i]!);
      out.u16(g.pCltv[i]!);
      out.u64(g.pHtlcMin[i]!);
      out.u32(g.pFeeBase[i]!);
      out.u32(g.pFeeProp[i]!);
      out.u64(g.pHtlcMax[i]!);
    }
  }
  if (count === 0) return undefined;
  out.view.setUint32(1, count);
  return out.done();
}

function decodeNodeBucket(g: Graph, bytes: Uint8Array, where: string): void {
  const r = new In(bytes, where);
  if (r.u8() !== VERSION) throw new RangeError(`${where} has an unknown format`);
  for (let count = r.u32(); count > 0; count--) {
    const slot = r.u32();
    const nodeId = r.bytes(33);
    const ts = r.u32();
    let info: NodeInfo | undefined;
    if (r.u8()) {
      const features = r.bytes(r.u16());
      const rgbColor = r.bytes(3);
      const alias = r.bytes(32);
      const addresses = r.bytes(r.u16());
      info = { features, rgbColor, alias, addresses, routable: r.u8() === 1 };
    }
    g.restoreNode(slot, nodeId, ts, info);
  }
  if (!r.done) throw new RangeError(`${where} has bytes after its last node`);
}

/** Whether this machine keeps a u64 as its low 32 bits first (x64 and arm64 do). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function decodeChannelBucket(g: Graph, bytes: Uint8Array, where: string): void {
  const r = new In(bytes, where);
  // The msat amounts go in as two 32-bit halves where the machine allows, so no BigInt is made for them.
  let min32 = new Uint32Array(g.pHtlcMin.buffer);
  let max32 = new Uint32Array(g.pHtlcMax.buffer);
  if (r.u8() !== VERSION) throw new RangeError(`${where} has an unknown format`);
  // Straight into the graph's arrays: a mainnet graph is 70,000 of these, and no object is made per channel.
  for (let count = r.u32(); count > 0; count--) {
    const s = r.u32();
    g.reserveChannels(s + 1);
    if (min32.buffer !== g.pHtlcMin.buffer) [min32, max32] = [new Uint32Array(g.pHtlcMin.buffer), new Uint32Array(g.pHtlcMax.buffer)];
    g.scidHi[s] = r.u32();
    g.scidLo[s] = r.u32();
    g.chanNode1[s] = r.u32();
    g.chanNode2[s] = r.u32();
    g.capacitySat[s] = r.f64();
    g.announcedAt[s] = r.u32();
    g.spentAt[s] = r.u32();
    const flags = r.u8();
    const flen = r.u16();
    g.chanFeatures[s] = flen ? r.bytes(flen) : undefined;
    for (let i = 2 * s; i < 2 * s + 2; i++) {
      const timestamp = r.u32();
      g.pTimestamp[i] = timestamp;
      if (timestamp === 0) continue;
      g.pMessageFlags[i] = r.u8();
      g.pChannelFlags[i] = r.u8();
      g.pCltv[i] = r.u16();
      if (LITTLE_ENDIAN) {
        min32[2 * i + 1] = r.u32();
        min32[2 * i] = r.u32();
      } else g.pHtlcMin[i] = r.u64();
      g.pFeeBase[i] = r.u32();
      g.pFeeProp[i] = r.u32();
      if (LITTLE_ENDIAN) {
        max32[2 * i + 1] = r.u32();
        max32[2 * i] = r.u32();
      } else g.pHtlcMax[i] = r.u64();
    }
    g.attachRestoredChannel(s, flags);
  }
  if (!r.done) throw new RangeError(`${where} has bytes after its last channel`);
}

/**
 * Writes the buckets that changed since the last save (all of them the first time), in one atomic
 * write. `durable: false` suits a periodic save: a crash then loses at most the gossip since the last
 * durable write, which peers send again. Returns how many buckets were written.
 */
export async function saveGraph(kv: KvStore, g: Graph, opts: { durable?: boolean } = {}): Promise<number> {
  const nodes = [...g.dirtyNodeBuckets];
  const chans = [...g.dirtyChanBuckets];
  if (nodes.length === 0 && chans.length === 0) return 0;
  g.dirtyNodeBuckets.clear();
  g.dirtyChanBuckets.clear();
  const ops: KvOp[] = [];
  const put = (key: string, value: Uint8Array | undefined): void => void ops.push(value ? { type: 'put', ns: GRAPH_NS, key, value } : { type: 'delete', ns: GRAPH_NS, key });
  for (const b of nodes) put(bucketKey('n', b), encodeNodeBucket(g, b));
  for (const b of chans) put(bucketKey('c', b), encodeChannelBucket(g, b));
  const meta: Meta = { version: VERSION, nodeSlots: g.nodeHigh, channelSlots: g.chanHigh };
  put(META, kvJson.encode(meta));
  try {
    await kv.write(ops, { durable: opts.durable !== false });
  } catch (e) {
    // Not written: these buckets still differ from the store.
    for (const b of nodes) g.dirtyNodeBuckets.add(b);
    for (const b of chans) g.dirtyChanBuckets.add(b);
    throw e;
  }
  return nodes.length + chans.length;
}

/** Marks every bucket changed, so the next save rewrites the whole graph (after `clearGraph`, or into a new store). */
export function markAllDirty(g: Graph): void {
  for (let b = 0; b < BUCKETS; b++) {
    g.dirtyNodeBuckets.add(b);
    g.dirtyChanBuckets.add(b);
  }
}

/** Reads the graph back (an empty one when none is stored). Throws StoreError('corrupt' | 'newer_version'). */
export async function loadGraph(kv: KvStore): Promise<Graph> {
  const records = await kv.range(GRAPH_NS);
  const metaRec = records.find((r) => r.key === META);
  if (!metaRec) {
    if (records.length) throw corrupt(kv, 'the graph store has buckets but no meta record');
    return new Graph();
  }
  const meta = kvJson.decode<Meta>(metaRec.value, `${kv.location} ${GRAPH_NS}/${META}`);
  if (meta.version > VERSION) throw new StoreError('newer_version', kv.location, `the channel graph was stored by a newer Coulomb (format ${meta.version}): update Coulomb, or drop the graph and let gossip rebuild it`);
  const g = new Graph({ nodes: meta.nodeSlots, channels: meta.channelSlots });
  try {
    // Nodes first: channels name them by slot. Keys sort `c-…`, `meta`, `n-…`.
    for (const r of records) if (r.key.startsWith('n-')) decodeNodeBucket(g, r.value, `${GRAPH_NS}/${r.key}`);
    for (const r of records) if (r.key.startsWith('c-')) decodeChannelBucket(g, r.value, `${GRAPH_NS}/${r.key}`);
    g.finishRestore();
  } catch (e) {
    throw corrupt(kv, e instanceof Error ? e.message : String(e), e);
  }
  return g;
}

/** Drops the stored graph (all of the namespace), in one write. */
export async function clearGraph(kv: KvStore): Promise<void> {
  const records = await kv.range(GRAPH_NS);
  if (records.length) await kv.write(records.map((r) => ({ type: 'delete', ns: GRAPH_NS, key: r.key })));
}

function corrupt(kv: KvStore, why: string, cause?: unknown): StoreError {
  return new StoreError('corrupt', kv.location, `the stored channel graph does not read (${why}); it can be dropped and learnt again from gossip`, { cause });
}
