/**
 * The public channel graph (BOLT 7), in memory, sized for mainnet (15,000+ nodes, 70,000+ channels):
 * nodes and channels live in slots of typed arrays (a channel is about 90 bytes plus its map entry,
 * not an object graph), found by node id and short_channel_id through two maps. What gossip
 * validation accepted (core/gossip/validate.ts) is applied here; channels whose funding is spent
 * leave after 12 blocks, and channels without a fresh update in either direction for two weeks are
 * pruned (BOLT 7, "Pruning the Network View"). A node stays while some channel names it.
 *
 * Every change marks the bucket of its slot (slot mod 256) dirty, so the store (graph-store.ts)
 * rewrites only the buckets that changed. Slots are kept as they are across a save and a load, which
 * lets stored channels name their nodes by slot.
 *
 * Amounts in msat are u64 on the wire and kept exact (BigUint64Array); capacities in sat fit a double.
 */
import { aliasText, STALE_AFTER_SECONDS } from '../gossip/validate.ts';
import type { AcceptedChannelAnnouncement, AcceptedChannelUpdate, AcceptedNodeAnnouncement, ChannelPolicy, GossipView } from '../gossip/validate.ts';
import { parseAddresses } from '../gossip/addresses.ts';
import type { NodeAddress } from '../gossip/addresses.ts';
import { ScidIndex, scidHigh, scidLow, scidOf } from './scid-index.ts';

/** Buckets the store splits the graph into; a slot's bucket is `slot % BUCKETS`. */
export const BUCKETS = 256;
/** BOLT 7: a channel whose funding is spent is forgotten after this many blocks (a splice may announce its successor meanwhile). */
export const SPENT_FORGET_DEPTH = 12;

const KEY_BYTES = 33;
/** chanFlags bits. */
export const CHAN_USED = 1;
export const CHAN_UNROUTABLE = 2;

/** What a node_announcement told of a node (absent until one arrives). */
export interface NodeInfo {
  features: Uint8Array;
  rgbColor: Uint8Array;
  alias: Uint8Array;
  /** Address descriptors back to back (core/gossip/addresses.ts `parseAddresses` reads them). */
  addresses: Uint8Array;
  routable: boolean;
}

export interface ChannelView {
  scid: bigint;
  node1: Uint8Array;
  node2: Uint8Array;
  /** From the funding output; undefined when it was not looked up. */
  capacitySat: bigint | undefined;
  features: Uint8Array;
  routable: boolean;
  /** When we took its announcement (seconds). */
  announcedAt: number;
  /** The block height its funding output was spent at, if it was. */
  spentAtHeight: number | undefined;
  /** [node1's direction, node2's direction]. */
  policies: [ChannelPolicy | undefined, ChannelPolicy | undefined];
}

export interface NodeView {
  nodeId: Uint8Array;
  /** Its node_announcement's timestamp; 0 when none arrived. */
  timestamp: number;
  alias: string;
  rgbColor: Uint8Array | undefined;
  features: Uint8Array;
  addresses: NodeAddress[];
  routable: boolean;
  /** Its channels' ids, in ascending order. */
  channels: bigint[];
}

function keyOf(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | BigUint64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a as never);
  return b;
}

const EMPTY = new Uint8Array(0);

export class Graph implements GossipView {
  // Nodes, by slot.
  nodeKeys: Uint8Array;
  nodeTs: Uint32Array;
  nodeUsed: Uint8Array;
  nodeInfo: (NodeInfo | undefined)[] = [];
  /**
   * Each node's channels as a list threaded through the channel ends (end 2·slot is node1's side,
   * 2·slot + 1 node2's): `nodeFirst[node]` is its first end, `endNext[end]` the next, -1 ends it.
   * No array per node: a load makes no garbage for them.
   */
  nodeFirst: Int32Array;
  nodeDegree: Uint32Array;
  endNext: Int32Array;
  /** Slots handed out so far (the high-water mark); free ones below it are in `freeNodes`. */
  nodeHigh = 0;
  private freeNodes: number[] = [];
  private readonly nodeByKey = new Map<string, number>();

  // Channels, by slot; policies by slot * 2 + direction.
  /** A channel's short_channel_id as its two 32-bit halves (`scid-index.ts`). */
  scidHi: Uint32Array;
  scidLo: Uint32Array;
  chanNode1: Uint32Array;
  chanNode2: Uint32Array;
  capacitySat: Float64Array;
  announcedAt: Uint32Array;
  spentAt: Uint32Array;
  chanFlags: Uint8Array;
  chanFeatures: (Uint8Array | undefined)[] = [];
  pTimestamp: Uint32Array;
  pMessageFlags: Uint8Array;
  pChannelFlags: Uint8Array;
  pCltv: Uint16Array;
  pHtlcMin: BigUint64Array;
  pHtlcMax: BigUint64Array;
  pFeeBase: Uint32Array;
  pFeeProp: Uint32Array;
  chanHigh = 0;
  /** Changes whenever a channel takes or leaves a slot, so readers that index by slot (the route finder) know to look again. */
  layoutVersion = 0;
  private freeChans: number[] = [];
  private readonly chanByScid: ScidIndex;

  /** Buckets changed since the store last saved them. */
  readonly dirtyNodeBuckets = new Set<number>();
  readonly dirtyChanBuckets = new Set<number>();

  constructor(capacity: { nodes?: number; channels?: number } = {}) {
    const n = Math.max(16, capacity.nodes ?? 1024);
    const c = Math.max(16, capacity.channels ?? 4096);
    this.nodeKeys = new Uint8Array(n * KEY_BYTES);
    this.nodeTs = new Uint32Array(n);
    this.nodeUsed = new Uint8Array(n);
    this.nodeFirst = new Int32Array(n).fill(-1);
    this.nodeDegree = new Uint32Array(n);
    this.endNext = new Int32Array(2 * c);
    this.scidHi = new Uint32Array(c);
    this.scidLo = new Uint32Array(c);
    this.chanByScid = new ScidIndex(c);
    this.chanNode1 = new Uint32Array(c);
    this.chanNode2 = new Uint32Array(c);
    this.capacitySat = new Float64Array(c);
    this.announcedAt = new Uint32Array(c);
    this.spentAt = new Uint32Array(c);
    this.chanFlags = new Uint8Array(c);
    this.pTimestamp = new Uint32Array(2 * c);
    this.pMessageFlags = new Uint8Array(2 * c);
    this.pChannelFlags = new Uint8Array(2 * c);
    this.pCltv = new Uint16Array(2 * c);
    this.pHtlcMin = new BigUint64Array(2 * c);
    this.pHtlcMax = new BigUint64Array(2 * c);
    this.pFeeBase = new Uint32Array(2 * c);
    this.pFeeProp = new Uint32Array(2 * c);
    this.fillLists();
  }

  get nodeCount(): number {
    return this.nodeByKey.size;
  }

  get channelCount(): number {
    return this.chanByScid.size;
  }

  // ---- GossipView

  channelEnds(scid: bigint): { node1: Uint8Array; node2: Uint8Array } | undefined {
    const s = this.slotOf(scid);
    return s === undefined ? undefined : { node1: this.nodeId(this.chanNode1[s]!), node2: this.nodeId(this.chanNode2[s]!) };
  }

  policy(scid: bigint, direction: 0 | 1): ChannelPolicy | undefined {
    const s = this.slotOf(scid);
    return s === undefined ? undefined : this.policyAt(s * 2 + direction);
  }

  nodeTimestamp(nodeId: Uint8Array): number | undefined {
    const n = this.nodeByKey.get(keyOf(nodeId));
    return n === undefined ? undefined : this.nodeTs[n];
  }

  // ---- changes

  /** A channel whose announcement and funding output were checked. False if it is known already. */
  addChannel(a: AcceptedChannelAnnouncement, o: { capacitySat?: bigint; now: number }): boolean {
    const hi = scidHigh(a.scid);
    const lo = scidLow(a.scid);
    if (this.chanByScid.get(hi, lo) >= 0) return false;
    const n1 = this.nodeSlot(a.node1);
    const n2 = this.nodeSlot(a.node2);
    const s = this.takeChanSlot();
    this.chanByScid.add(hi, lo, s);
    this.scidHi[s] = hi;
    this.scidLo[s] = lo;
    this.chanNode1[s] = n1;
    this.chanNode2[s] = n2;
    this.capacitySat[s] = o.capacitySat === undefined ? NaN : Number(o.capacitySat);
    this.announcedAt[s] = o.now;
    this.spentAt[s] = 0;
    this.chanFlags[s] = CHAN_USED | (a.routable ? 0 : CHAN_UNROUTABLE);
    this.chanFeatures[s] = a.features.length ? a.features : undefined;
    this.pTimestamp[2 * s] = 0;
    this.pTimestamp[2 * s + 1] = 0;
    this.link(n1, 2 * s);
    this.link(n2, 2 * s + 1);
    this.touchChan(s);
    this.layoutVersion++;
    return true;
  }

  /** A checked channel_update. False when the channel is gone or a newer update is held (a race with another peer's copy). */
  applyChannelUpdate(u: AcceptedChannelUpdate): boolean {
    const s = this.slotOf(u.scid);
    if (s === undefined) return false;
    const i = s * 2 + u.direction;
    if (this.pTimestamp[i]! >= u.policy.timestamp && this.pTimestamp[i] !== 0) return false;
    this.setPolicy(i, u.policy);
    this.touchChan(s);
    return true;
  }

  /** A checked node_announcement. False when no channel names the node now, or a newer one is held. */
  applyNodeAnnouncement(n: AcceptedNodeAnnouncement): boolean {
    const slot = this.nodeByKey.get(keyOf(n.nodeId));
    if (slot === undefined || this.nodeTs[slot]! >= n.timestamp) return false;
    this.nodeTs[slot] = n.timestamp;
    this.nodeInfo[slot] = { features: n.features, rgbColor: n.rgbColor, alias: n.alias, addresses: n.addressBytes, routable: n.routable };
    this.dirtyNodeBuckets.add(slot % BUCKETS);
    return true;
  }

  /** Takes a channel out, and any node no other channel names. */
  removeChannel(scid: bigint): boolean {
    const s = this.slotOf(scid);
    if (s === undefined) return false;
    this.chanByScid.delete(this.scidHi[s]!, this.scidLo[s]!);
    this.unlink(this.chanNode1[s]!, 2 * s);
    this.unlink(this.chanNode2[s]!, 2 * s + 1);
    this.chanFlags[s] = 0;
    this.chanFeatures[s] = undefined;
    this.freeChans.push(s);
    this.touchChan(s);
    this.layoutVersion++;
    return true;
  }

  /** The funding output was spent in a block at `height`: no route uses the channel from now on, and it leaves after 12 blocks. */
  markFundingSpent(scid: bigint, height: number): boolean {
    const s = this.slotOf(scid);
    if (s === undefined) return false;
    this.spentAt[s] = height;
    this.touchChan(s);
    return true;
  }

  /** A reorg took the spend away. */
  markFundingUnspent(scid: bigint): boolean {
    const s = this.slotOf(scid);
    if (s === undefined || this.spentAt[s] === 0) return false;
    this.spentAt[s] = 0;
    this.touchChan(s);
    return true;
  }

  /** Removes the channels whose funding was spent at least 12 blocks below `tipHeight`; returns their ids. */
  forgetSpent(tipHeight: number): bigint[] {
    const gone: bigint[] = [];
    for (let s = 0; s < this.chanHigh; s++) {
      if (!(this.chanFlags[s]! & CHAN_USED) || this.spentAt[s] === 0) continue;
      if (tipHeight - this.spentAt[s]! + 1 >= SPENT_FORGET_DEPTH) gone.push(this.scidAt(s));
    }
    for (const scid of gone) this.removeChannel(scid);
    return gone;
  }

  /**
   * BOLT 7's stale pruning: a channel whose older direction (the announcement's time standing in for a
   * direction never updated) is more than two weeks old. Returns the ids removed.
   */
  pruneStale(now: number): bigint[] {
    const cutoff = now - STALE_AFTER_SECONDS;
    const gone: bigint[] = [];
    for (let s = 0; s < this.chanHigh; s++) {
      if (!(this.chanFlags[s]! & CHAN_USED)) continue;
      const t0 = this.pTimestamp[2 * s] || this.announcedAt[s]!;
      const t1 = this.pTimestamp[2 * s + 1] || this.announcedAt[s]!;
      if (Math.min(t0, t1) < cutoff) gone.push(this.scidAt(s));
    }
    for (const scid of gone) this.removeChannel(scid);
    return gone;
  }

  // ---- reading

  hasChannel(scid: bigint): boolean {
    return this.slotOf(scid) !== undefined;
  }

  channel(scid: bigint): ChannelView | undefined {
    const s = this.slotOf(scid);
    if (s === undefined) return undefined;
    const cap = this.capacitySat[s]!;
    return {
      scid,
      node1: this.nodeId(this.chanNode1[s]!),
      node2: this.nodeId(this.chanNode2[s]!),
      capacitySat: Number.isNaN(cap) ? undefined : BigInt(cap),
      features: this.chanFeatures[s] ?? EMPTY,
      routable: !(this.chanFlags[s]! & CHAN_UNROUTABLE),
      announcedAt: this.announcedAt[s]!,
      spentAtHeight: this.spentAt[s] || undefined,
      policies: [this.policyAt(2 * s), this.policyAt(2 * s + 1)],
    };
  }

  node(nodeId: Uint8Array): NodeView | undefined {
    const n = this.nodeByKey.get(keyOf(nodeId));
    if (n === undefined) return undefined;
    const info = this.nodeInfo[n];
    const addresses = info ? parseAddresses(info.addresses) : undefined;
    return {
      nodeId: this.nodeId(n),
      timestamp: this.nodeTs[n]!,
      alias: info ? aliasText(info.alias) : '',
      rgbColor: info?.rgbColor,
      features: info?.features ?? EMPTY,
      addresses: addresses?.ok ? addresses.addresses : [],
      routable: info?.routable ?? true,
      channels: this.channelSlotsOf(n)
        .map((s) => this.scidAt(s))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  }

  /** Every channel id, in no particular order. */
  *channelIds(): IterableIterator<bigint> {
    for (const s of this.chanByScid.slots()) yield this.scidAt(s);
  }

  /** The short_channel_id of the channel in a slot. */
  scidAt(slot: number): bigint {
    return scidOf(this.scidHi[slot]!, this.scidLo[slot]!);
  }

  /** The slot of a channel, for readers of the arrays (the route finder); undefined when unknown. */
  channelSlotOf(scid: bigint): number | undefined {
    return this.slotOf(scid);
  }

  /** The slot of a node, for readers of the arrays (the route finder); undefined when no channel names it. */
  nodeSlotOf(nodeId: Uint8Array): number | undefined {
    return this.nodeByKey.get(keyOf(nodeId));
  }

  private slotOf(scid: bigint): number | undefined {
    const s = this.chanByScid.get(scidHigh(scid), scidLow(scid));
    return s < 0 ? undefined : s;
  }

  /** The 33-byte id of the node in a slot (a copy). */
  nodeId(slot: number): Uint8Array {
    return this.nodeKeys.slice(slot * KEY_BYTES, (slot + 1) * KEY_BYTES);
  }

  // ---- for the store (graph-store.ts): slots as they were saved

  /** Puts a node back into the slot it was saved from. */
  restoreNode(slot: number, nodeId: Uint8Array, timestamp: number, info: NodeInfo | undefined): void {
    this.ensureNodes(slot + 1);
    const key = keyOf(nodeId);
    if (this.nodeUsed[slot] || this.nodeByKey.has(key)) throw new Error(`node slot ${slot} or its id is stored twice`);
    this.nodeKeys.set(nodeId, slot * KEY_BYTES);
    this.nodeTs[slot] = timestamp;
    this.nodeUsed[slot] = 1;
    this.nodeInfo[slot] = info;
    this.nodeFirst[slot] = -1;
    this.nodeDegree[slot] = 0;
    this.nodeByKey.set(key, slot);
    this.nodeHigh = Math.max(this.nodeHigh, slot + 1);
  }

  /** Makes room for channel slots below `size` (the store writes a restored channel's fields straight into the arrays). */
  reserveChannels(size: number): void {
    this.ensureChans(size);
  }

  /**
   * Takes in a channel the store wrote into `slot` (every array but `chanFlags`), its nodes restored
   * first: checks it, then indexes it by id and under its nodes.
   */
  attachRestoredChannel(slot: number, flags: number): void {
    const hi = this.scidHi[slot]!;
    const lo = this.scidLo[slot]!;
    const n1 = this.chanNode1[slot]!;
    const n2 = this.chanNode2[slot]!;
    if (this.chanFlags[slot]! & CHAN_USED) throw new Error(`channel slot ${slot} is stored twice`);
    if (!this.nodeUsed[n1] || !this.nodeUsed[n2] || n1 === n2) throw new Error(`channel ${scidOf(hi, lo)} names a node slot that is not stored`);
    if (!this.chanByScid.add(hi, lo, slot)) throw new Error(`channel ${scidOf(hi, lo)} is stored twice`);
    this.chanFlags[slot] = flags | CHAN_USED;
    this.link(n1, 2 * slot);
    this.link(n2, 2 * slot + 1);
    if (slot >= this.chanHigh) this.chanHigh = slot + 1;
    this.layoutVersion++;
  }

  /** After a restore: the unused slots below the high-water marks become free, and nothing is dirty. */
  finishRestore(): void {
    this.freeNodes = [];
    for (let n = this.nodeHigh - 1; n >= 0; n--) {
      if (!this.nodeUsed[n]) this.freeNodes.push(n);
      else if (this.nodeDegree[n] === 0) throw new Error(`stored node slot ${n} has no channel`);
    }
    this.freeChans = [];
    for (let s = this.chanHigh - 1; s >= 0; s--) if (!(this.chanFlags[s]! & CHAN_USED)) this.freeChans.push(s);
    this.dirtyNodeBuckets.clear();
    this.dirtyChanBuckets.clear();
  }

  policyAt(i: number): ChannelPolicy | undefined {
    if (this.pTimestamp[i] === 0) return undefined;
    return {
      timestamp: this.pTimestamp[i]!,
      messageFlags: this.pMessageFlags[i]!,
      channelFlags: this.pChannelFlags[i]!,
      cltvExpiryDelta: this.pCltv[i]!,
      htlcMinimumMsat: this.pHtlcMin[i]!,
      feeBaseMsat: this.pFeeBase[i]!,
      feeProportionalMillionths: this.pFeeProp[i]!,
      htlcMaximumMsat: this.pHtlcMax[i]!,
    };
  }

  // ---- slots

  private setPolicy(i: number, p: ChannelPolicy): void {
    this.pTimestamp[i] = p.timestamp;
    this.pMessageFlags[i] = p.messageFlags;
    this.pChannelFlags[i] = p.channelFlags;
    this.pCltv[i] = p.cltvExpiryDelta;
    this.pHtlcMin[i] = p.htlcMinimumMsat;
    this.pHtlcMax[i] = p.htlcMaximumMsat;
    this.pFeeBase[i] = p.feeBaseMsat;
    this.pFeeProp[i] = p.feeProportionalMillionths;
  }

  /** The slots of a node's channels. */
  channelSlotsOf(node: number): number[] {
    const out: number[] = [];
    for (let e = this.nodeFirst[node]!; e >= 0; e = this.endNext[e]!) out.push(e >> 1);
    return out;
  }

  private link(node: number, end: number): void {
    this.endNext[end] = this.nodeFirst[node]!;
    this.nodeFirst[node] = end;
    this.nodeDegree[node]!++;
  }

  /** Takes a channel end off its node's list; the node goes with its last channel. */
  private unlink(node: number, end: number): void {
    if (this.nodeFirst[node] === end) this.nodeFirst[node] = this.endNext[end]!;
    else {
      let e = this.nodeFirst[node]!;
      while (this.endNext[e] !== end) e = this.endNext[e]!;
      this.endNext[e] = this.endNext[end]!;
    }
    if (--this.nodeDegree[node]! === 0) this.dropNode(node);
  }

  private touchChan(s: number): void {
    this.dirtyChanBuckets.add(s % BUCKETS);
  }

  private nodeSlot(nodeId: Uint8Array): number {
    const key = keyOf(nodeId);
    const known = this.nodeByKey.get(key);
    if (known !== undefined) return known;
    let n = this.freeNodes.pop();
    if (n === undefined) {
      n = this.nodeHigh++;
      this.ensureNodes(this.nodeHigh);
    }
    this.nodeKeys.set(nodeId, n * KEY_BYTES);
    this.nodeTs[n] = 0;
    this.nodeUsed[n] = 1;
    this.nodeInfo[n] = undefined;
    this.nodeFirst[n] = -1;
    this.nodeDegree[n] = 0;
    this.nodeByKey.set(key, n);
    this.dirtyNodeBuckets.add(n % BUCKETS);
    return n;
  }

  private dropNode(n: number): void {
    this.nodeByKey.delete(keyOf(this.nodeKeys.subarray(n * KEY_BYTES, (n + 1) * KEY_BYTES)));
    this.nodeUsed[n] = 0;
    this.nodeTs[n] = 0;
    this.nodeInfo[n] = undefined;
    this.freeNodes.push(n);
    this.dirtyNodeBuckets.add(n % BUCKETS);
  }

  private takeChanSlot(): number {
    const s = this.freeChans.pop();
    if (s !== undefined) return s;
    this.ensureChans(this.chanHigh + 1);
    return this.chanHigh++;
  }

  /**
   * Keeps the per-slot JS arrays as long as the typed ones, filled in order: a restore writes slots
   * bucket by bucket (0, 256, 512, …), and writing far past the end of a short array would turn it
   * into a slow dictionary.
   */
  private fillLists(): void {
    while (this.nodeInfo.length < this.nodeTs.length) {
      this.nodeInfo.push(undefined);
    }
    while (this.chanFeatures.length < this.scidHi.length) this.chanFeatures.push(undefined);
  }

  private ensureNodes(size: number): void {
    if (size <= this.nodeTs.length) return;
    const cap = Math.max(size, this.nodeTs.length * 2);
    this.nodeKeys = grow(this.nodeKeys, cap * KEY_BYTES);
    this.nodeTs = grow(this.nodeTs, cap);
    this.nodeUsed = grow(this.nodeUsed, cap);
    const first = this.nodeFirst.length;
    this.nodeFirst = grow(this.nodeFirst, cap);
    this.nodeFirst.fill(-1, first);
    this.nodeDegree = grow(this.nodeDegree, cap);
    this.fillLists();
  }

  private ensureChans(size: number): void {
    if (size <= this.scidHi.length) return;
    const cap = Math.max(size, this.scidHi.length * 2);
    this.scidHi = grow(this.scidHi, cap);
    this.scidLo = grow(this.scidLo, cap);
    this.chanNode1 = grow(this.chanNode1, cap);
    this.chanNode2 = grow(this.chanNode2, cap);
    this.capacitySat = grow(this.capacitySat, cap);
    this.announcedAt = grow(this.announcedAt, cap);
    this.spentAt = grow(this.spentAt, cap);
    this.chanFlags = grow(this.chanFlags, cap);
    this.pTimestamp = grow(this.pTimestamp, 2 * cap);
    this.pMessageFlags = grow(this.pMessageFlags, 2 * cap);
    this.pChannelFlags = grow(this.pChannelFlags, 2 * cap);
    this.pCltv = grow(this.pCltv, 2 * cap);
    this.pHtlcMin = grow(this.pHtlcMin, 2 * cap);
    this.pHtlcMax = grow(this.pHtlcMax, 2 * cap);
    this.pFeeBase = grow(this.pFeeBase, 2 * cap);
    this.pFeeProp = grow(this.pFeeProp, 2 * cap);
    this.endNext = grow(this.endNext, 2 * cap);
    this.fillLists();
  }
}
