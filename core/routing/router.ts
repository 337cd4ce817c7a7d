/**
 * The route finder: the cheapest route from us to a payee for an amount, over the channel graph
 * (graph.ts), our own channels as the caller sees them, and the invoice's route hints.
 *
 * Dijkstra runs backwards, from the payee to us, so every node is labelled with the exact amount
 * that must reach it and the expiry its incoming HTLC needs: a node forwarding `a` over a channel
 * charges its fee on `a` (BOLT 7), and adds its cltv_expiry_delta. An edge's cost is
 *
 *   fee + a · cltv_expiry_delta · risk + hop penalty + (−log10 p) · (liquidity penalty),
 *
 * where p is the scorer's success probability for `a` over that direction (scorer.ts), so cheap but
 * unlikely channels lose to slightly dearer likely ones, and long locks cost something. A direction is
 * skipped when it is disabled, has no channel_update, cannot take `a` (htlc_minimum_msat,
 * htlc_maximum_msat, the capacity, what other parts of the payment already take through it, a learnt
 * upper bound), or would break the fee limit or the total CLTV cap. Our own channels are the caller's
 * `firstHops`, with their real spendable amounts; the graph's view of them is not used.
 *
 * Pure and synchronous; amounts in the search are doubles (exact below 2^53 msat, which every payment
 * is), the route it returns is rebuilt in bigint by route.ts, the same arithmetic the switch uses.
 */
import { hex } from '@scure/base';
import type { RouteHintHop } from '../invoice/bolt11.ts';
import type { Route } from '../payments/payments.ts';
import { CHAN_UNROUTABLE } from './graph.ts';
import type { Graph } from './graph.ts';
import { FINAL_CLTV_BUFFER, MAX_TOTAL_CLTV_EXPIRY_DELTA, forwardFeeNumber, routeFromPath } from './route.ts';
import type { PathHop, RouteChannel } from './route.ts';
import { boundWeight, effectiveUpper, successProbability } from './scorer.ts';
import type { LiquidityScorer } from './scorer.ts';

/** One of our channels, as the node sees it now. */
export interface FirstHop {
  shortChannelId: bigint;
  peer: Uint8Array;
  /** What the channel can send now (msat): reserves, fees and HTLCs in flight already taken off. */
  spendableMsat: bigint;
  /** The peer's htlc_minimum_msat for the HTLCs we offer. */
  htlcMinimumMsat?: bigint;
}

export interface RouteRequest {
  source: Uint8Array;
  payee: Uint8Array;
  /** What the payee must receive (this part's amount, for a multi-part payment). */
  amountMsat: bigint;
  /** The chain height now: expiries are absolute. */
  height: number;
  /** The invoice's min_final_cltv_expiry_delta (FINAL_CLTV_BUFFER blocks are added, as the switch does). */
  minFinalCltvExpiryDelta: number;
  firstHops: readonly FirstHop[];
  routeHints?: readonly (readonly RouteHintHop[])[];
  /** The most the fees may come to (msat); none when absent. */
  feeLimitMsat?: bigint;
  /** The most blocks from now the first HTLC may expire (2016). */
  maxTotalCltvExpiryDelta?: number;
  excludedChannels?: ReadonlySet<bigint>;
  excludedNodes?: readonly Uint8Array[];
  /** What other parts of the same payment already send through each channel direction. */
  inFlight?: readonly RouteChannel[];
  /** Seconds, for the scorer's fading. */
  now: number;
}

/** How the cost weighs what is not fee (all in msat; magnitudes like LDK's and lnd's defaults). */
export interface CostParams {
  /** Per hop, so fewer hops win when fees are close. */
  hopPenaltyMsat: number;
  /** Per hop, per million of the amount. */
  hopPenaltyPpm: number;
  /** Per unit of −log10(p): 30,000 msat makes a route with p = 0.1 cost 30 sat more than a sure one. */
  liquidityPenaltyMsat: number;
  /** Per unit of −log10(p), per million of the amount. */
  liquidityPenaltyPpm: number;
  /** The time value of locked funds: per block of delay, per billion of the amount (lnd's 15). */
  riskFactorPpb: number;
}

export const DEFAULT_COST_PARAMS: CostParams = {
  hopPenaltyMsat: 500,
  hopPenaltyPpm: 8,
  liquidityPenaltyMsat: 30_000,
  liquidityPenaltyPpm: 180,
  riskFactorPpb: 15,
};

export interface FoundRoute {
  ok: true;
  route: Route;
  /** The product of each channel's success probability (our own channel counts as sure). */
  probability: number;
  /** The search's cost of the route (msat-equivalent). */
  cost: number;
}

export interface NoRoute {
  ok: false;
  /**
   * Why nothing was found: `no_path` (no chain of usable channels reaches the payee at all), else what
   * cut off the ways that existed: the fee limit, the CLTV cap, or liquidity (amount limits, capacity,
   * our channels' balances, learnt bounds).
   */
  reason: 'no_path' | 'limits';
  limitedBy: { feeLimit: boolean; cltvLimit: boolean; liquidity: boolean };
}

export type RouteResult = FoundRoute | NoRoute;

/** An edge the graph does not hold: one of our channels, or a route hint's. */
interface ExtraEdge {
  from: number;
  to: number;
  scid: bigint;
  direction: 0 | 1;
  firstHop: boolean;
  feeBase: number;
  feeProp: number;
  cltv: number;
  htlcMin: number;
  /** Our channel's spendable amount; Infinity for a hint's channel (its capacity is not told). */
  maxMsat: number;
}

function direction(from: Uint8Array, to: Uint8Array): 0 | 1 {
  return Buffer.compare(Buffer.from(from.buffer, from.byteOffset, from.byteLength), Buffer.from(to.buffer, to.byteOffset, to.byteLength)) < 0 ? 0 : 1;
}

/** A min-heap of (cost, node) with stale entries skipped by the reader. */
class Heap {
  keys = new Float64Array(1024);
  vals = new Int32Array(1024);
  size = 0;

  push(k: number, v: number): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      const vals = new Int32Array(this.size * 2);
      vals.set(this.vals);
      this.keys = keys;
      this.vals = vals;
    }
    let i = this.size++;
    const { keys, vals } = this;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= k) break;
      keys[i] = keys[p]!;
      vals[i] = vals[p]!;
      i = p;
    }
    keys[i] = k;
    vals[i] = v;
  }

  /** Removes the least; its node is in `top`, its cost in `topKey`. */
  top = 0;
  topKey = 0;
  pop(): void {
    const { keys, vals } = this;
    this.top = vals[0]!;
    this.topKey = keys[0]!;
    const n = --this.size;
    const k = keys[n]!;
    const v = vals[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1]! < keys[c]!) c++;
      if (keys[c]! >= k) break;
      keys[i] = keys[c]!;
      vals[i] = vals[c]!;
      i = c;
    }
    keys[i] = k;
    vals[i] = v;
  }
}

const U32 = 4294967296;

/**
 * Finds routes over one graph; keeps its working arrays between searches (a search allocates almost
 * nothing). Not re-entrant: one search at a time.
 */
export class RouteFinder {
  private readonly params: CostParams;
  private gen = 0;
  private stamp = new Uint32Array(0);
  private settled = new Uint32Array(0);
  private cost = new Float64Array(0);
  private amt = new Float64Array(0);
  private cltv = new Int32Array(0);
  private prob = new Float64Array(0);
  /** The edge a node's label came by: a policy index (≥ 0), or −(extra edge index) − 1. */
  private via = new Int32Array(0);
  private nextNode = new Int32Array(0);
  private excludedNode = new Uint32Array(0);
  /**
   * What the scorer learnt, laid over the graph: per policy index (2·slot + direction) an index into
   * the bounds below, or −1. Read again only when the scorer or the graph's slots changed; each bound is
   * faded when an edge reads it.
   */
  private learntIdx = new Int32Array(0);
  private learntLower = new Float64Array(0);
  private learntLowerAt = new Float64Array(0);
  private learntUpper = new Float64Array(0);
  private learntUpperAt = new Float64Array(0);
  private learntOf = { scorer: -1, layout: -1, size: -1 };
  // In-flight amounts per policy index, and excluded channels per slot, stamped by search.
  private usedGen = new Uint32Array(0);
  private used = new Float64Array(0);
  private excludedChanGen = new Uint32Array(0);
  private readonly heap = new Heap();

  constructor(
    private readonly graph: Graph,
    private readonly scorer: LiquidityScorer | undefined,
    params: Partial<CostParams> = {},
  ) {
    this.params = { ...DEFAULT_COST_PARAMS, ...params };
  }

  find(req: RouteRequest): RouteResult {
    const g = this.graph;
    const P = this.params;
    const gen = ++this.gen;
    const amount = Number(req.amountMsat);
    // With no limit, fees may still not leave the range where doubles count every msat.
    const feeLimit = Math.min(req.feeLimitMsat === undefined ? Infinity : Number(req.feeLimitMsat), Number.MAX_SAFE_INTEGER - amount);
    const maxCltv = req.maxTotalCltvExpiryDelta ?? MAX_TOTAL_CLTV_EXPIRY_DELTA;
    const finalDelta = req.minFinalCltvExpiryDelta + FINAL_CLTV_BUFFER;
    const limitedBy = { feeLimit: false, cltvLimit: false, liquidity: false };
    if (!(req.amountMsat > 0n) || amount >= 2 ** 52) throw new RangeError(`cannot route ${req.amountMsat} msat: an amount must be above 0 and below 2^52 msat`);

    // Node indexes: graph slots, then nodes only the request names (private peers, hint nodes, a payee unknown to the graph).
    const N = g.nodeHigh;
    const extraIndex = new Map<string, number>();
    const extraIds: Uint8Array[] = [];
    const indexOf = (id: Uint8Array): number => {
      const s = g.nodeSlotOf(id);
      if (s !== undefined) return s;
      const k = hex.encode(id);
      let i = extraIndex.get(k);
      if (i === undefined) {
        i = N + extraIds.length;
        extraIndex.set(k, i);
        extraIds.push(id);
      }
      return i;
    };
    const src = indexOf(req.source);
    const dst = indexOf(req.payee);
    if (src === dst) throw new RangeError('cannot route a payment to ourselves');

    const edges: ExtraEdge[] = [];
    for (const h of req.firstHops) {
      edges.push({ from: src, to: indexOf(h.peer), scid: h.shortChannelId, direction: direction(req.source, h.peer), firstHop: true, feeBase: 0, feeProp: 0, cltv: 0, htlcMin: Number(h.htlcMinimumMsat ?? 0n), maxMsat: Number(h.spendableMsat) });
    }
    for (const hint of req.routeHints ?? []) {
      for (let i = 0; i < hint.length; i++) {
        const h = hint[i]!;
        const to = i + 1 < hint.length ? hint[i + 1]!.pubkey : req.payee;
        const from = indexOf(h.pubkey);
        if (from === src) continue; // our own channel: a first hop says what it can send
        edges.push({ from, to: indexOf(to), scid: h.shortChannelId, direction: direction(h.pubkey, to), firstHop: false, feeBase: h.feeBaseMsat, feeProp: h.feeProportionalMillionths, cltv: h.cltvExpiryDelta, htlcMin: 0, maxMsat: Infinity });
      }
    }
    const size = N + extraIds.length;
    this.ensureNodes(size);
    this.ensureChannels(2 * g.chanHigh);
    const into = new Map<number, number[]>();
    for (let i = 0; i < edges.length; i++) {
      const list = into.get(edges[i]!.to);
      if (list) list.push(i);
      else into.set(edges[i]!.to, [i]);
    }

    // What the request and the scorer lay over the graph's arrays, stamped with this search.
    this.layLearnt();
    const { learntIdx, learntLower, learntLowerAt, learntUpper, learntUpperAt, usedGen, used, excludedChanGen, excludedNode } = this;
    const now = req.now;
    const halfLife = this.scorer?.halfLifeSeconds ?? 1;
    const extraUsed = new Map<bigint, number>();
    for (const c of req.inFlight ?? []) {
      const key = (c.shortChannelId << 1n) | BigInt(c.direction);
      extraUsed.set(key, (extraUsed.get(key) ?? 0) + Number(c.amountMsat));
      const s = g.channelSlotOf(c.shortChannelId);
      if (s === undefined) continue;
      const pi = 2 * s + c.direction;
      if (usedGen[pi] !== gen) {
        usedGen[pi] = gen;
        used[pi] = 0;
      }
      used[pi]! += Number(c.amountMsat);
    }
    for (const scid of req.excludedChannels ?? []) {
      const s = g.channelSlotOf(scid);
      if (s !== undefined) excludedChanGen[s] = gen;
    }
    for (const id of req.excludedNodes ?? []) {
      const n = g.nodeSlotOf(id) ?? extraIndex.get(hex.encode(id));
      if (n !== undefined && n !== src && n !== dst) excludedNode[n] = gen;
    }

    // The graph's arrays; the u64 msat amounts read through 32-bit views (no BigInt in the loop).
    const { nodeFirst, endNext, chanNode1, chanNode2, capacitySat, spentAt, chanFlags, pTimestamp, pChannelFlags, pCltv, pFeeBase, pFeeProp, nodeInfo } = g;
    const htlcMin32 = new Uint32Array(g.pHtlcMin.buffer, g.pHtlcMin.byteOffset, g.pHtlcMin.length * 2);
    const htlcMax32 = new Uint32Array(g.pHtlcMax.buffer, g.pHtlcMax.byteOffset, g.pHtlcMax.length * 2);
    const { stamp, settled, cost, amt, cltv, prob, via, nextNode, heap } = this;
    const excludedChannels = req.excludedChannels;

    stamp[dst] = gen;
    cost[dst] = 0;
    amt[dst] = amount;
    cltv[dst] = finalDelta;
    prob[dst] = 1;
    via[dst] = -1;
    nextNode[dst] = -1;
    heap.size = 0;
    heap.push(0, dst);
    let found = false;
    let anyEdge = false;

    while (heap.size > 0) {
      heap.pop();
      const v = heap.top;
      if (settled[v] === gen || heap.topKey > cost[v]!) continue;
      settled[v] = gen;
      if (v === src) {
        found = true;
        break;
      }
      const a = amt[v]!;
      const costV = cost[v]!;
      const cltvV = cltv[v]!;
      const probV = prob[v]!;
      // The payee's own "hop penalty" is not one: it forwards nothing.
      if (v < N) {
        for (let e = nodeFirst[v]!; e >= 0; e = endNext[e]!) {
          const s = e >> 1;
          const pi = e ^ 1; // the other end's direction toward v
          const u = e & 1 ? chanNode1[s]! : chanNode2[s]!;
          if (u === src || settled[u] === gen) continue;
          if (pTimestamp[pi] === 0 || pChannelFlags[pi]! & 2 || spentAt[s] !== 0 || chanFlags[s]! & CHAN_UNROUTABLE) continue;
          if (excludedChanGen[s] === gen || excludedNode[u] === gen) continue;
          if (nodeInfo[u]?.routable === false) continue;
          anyEdge = true;
          const load = a + (usedGen[pi] === gen ? used[pi]! : 0);
          const htlcMax = htlcMax32[2 * pi + 1]! * U32 + htlcMax32[2 * pi]!;
          const capSat = capacitySat[s]!;
          const capMsat = capSat === capSat ? capSat * 1000 : htlcMax;
          if (a < htlcMin32[2 * pi + 1]! * U32 + htlcMin32[2 * pi]! || a > htlcMax || load > capMsat) {
            limitedBy.liquidity = true;
            continue;
          }
          let p: number;
          const li = learntIdx[pi]!;
          if (li >= 0) {
            const upper = effectiveUpper(learntUpper[li]!, boundWeight(learntUpperAt[li]!, now, halfLife), capMsat);
            const lower = learntLower[li]! * boundWeight(learntLowerAt[li]!, now, halfLife);
            p = successProbability(load, Math.min(lower, upper), upper);
          } else p = (capMsat - load + 1) / (capMsat + 1);
          if (p <= 0) {
            limitedBy.liquidity = true;
            continue;
          }
          const delta = pCltv[pi]!;
          const fee = forwardFeeNumber(pFeeBase[pi]!, pFeeProp[pi]!, a);
          const aU = a + fee;
          if (aU - amount > feeLimit) {
            limitedBy.feeLimit = true;
            continue;
          }
          const cltvU = cltvV + delta;
          if (cltvU > maxCltv) {
            limitedBy.cltvLimit = true;
            continue;
          }
          const c = costV + fee + (a * delta * P.riskFactorPpb) / 1e9 + P.hopPenaltyMsat + (a * P.hopPenaltyPpm) / 1e6 - Math.log10(p) * (P.liquidityPenaltyMsat + (a * P.liquidityPenaltyPpm) / 1e6);
          if (stamp[u] === gen && c >= cost[u]!) continue;
          stamp[u] = gen;
          cost[u] = c;
          amt[u] = aU;
          cltv[u] = cltvU;
          prob[u] = probV * p;
          via[u] = pi;
          nextNode[u] = v;
          heap.push(c, u);
        }
      }
      const extra = into.get(v);
      if (extra) {
        for (const i of extra) {
          const ed = edges[i]!;
          const u = ed.from;
          if (settled[u] === gen || excludedNode[u] === gen || excludedChannels?.has(ed.scid)) continue;
          anyEdge = true;
          const key = (ed.scid << 1n) | BigInt(ed.direction);
          const load = a + (extraUsed.get(key) ?? 0);
          if (a < ed.htlcMin || load > ed.maxMsat) {
            limitedBy.liquidity = true;
            continue;
          }
          let p = 1;
          if (!ed.firstHop) {
            if (this.scorer) p = this.scorer.probability(ed.scid, ed.direction, load, Infinity, now);
            if (p <= 0) {
              limitedBy.liquidity = true;
              continue;
            }
          }
          const fee = ed.firstHop ? 0 : forwardFeeNumber(ed.feeBase, ed.feeProp, a);
          const aU = a + fee;
          if (aU - amount > feeLimit) {
            limitedBy.feeLimit = true;
            continue;
          }
          const cltvU = cltvV + ed.cltv;
          if (cltvU > maxCltv) {
            limitedBy.cltvLimit = true;
            continue;
          }
          const c = ed.firstHop
            ? costV
            : costV + fee + (a * ed.cltv * P.riskFactorPpb) / 1e9 + P.hopPenaltyMsat + (a * P.hopPenaltyPpm) / 1e6 - Math.log10(p) * (P.liquidityPenaltyMsat + (a * P.liquidityPenaltyPpm) / 1e6);
          if (stamp[u] === gen && c >= cost[u]!) continue;
          stamp[u] = gen;
          cost[u] = c;
          amt[u] = aU;
          cltv[u] = cltvU;
          prob[u] = probV * p;
          via[u] = -i - 1;
          nextNode[u] = v;
          heap.push(c, u);
        }
      }
    }
    if (!found) {
      const limited = limitedBy.feeLimit || limitedBy.cltvLimit || limitedBy.liquidity;
      return { ok: false, reason: anyEdge && limited ? 'limits' : 'no_path', limitedBy };
    }

    // Walk from us to the payee along the labels.
    const hops: PathHop[] = [];
    let firstScid = 0n;
    for (let n = src; n !== dst; n = nextNode[n]!) {
      const w = via[n]!;
      let scid: bigint;
      let hop: Omit<PathHop, 'pubkey' | 'shortChannelId'>;
      if (w >= 0) {
        scid = g.scidAt(w >> 1);
        hop = { feeBaseMsat: pFeeBase[w]!, feeProportionalMillionths: pFeeProp[w]!, cltvExpiryDelta: pCltv[w]! };
      } else {
        const ed = edges[-w - 1]!;
        scid = ed.scid;
        hop = { feeBaseMsat: ed.feeBase, feeProportionalMillionths: ed.feeProp, cltvExpiryDelta: ed.cltv };
      }
      if (n === src) firstScid = scid;
      else hops.push({ pubkey: n < N ? g.nodeId(n) : extraIds[n - N]!, shortChannelId: scid, ...hop });
    }
    const route = routeFromPath({ payee: req.payee, amountMsat: req.amountMsat, finalCltv: req.height + finalDelta, firstScid, hops });
    return { ok: true, route, probability: prob[src]!, cost: cost[src]! };
  }

  private ensureNodes(n: number): void {
    if (this.stamp.length >= n) return;
    const cap = Math.max(n, this.stamp.length * 2, 1024);
    const grow = <T extends Uint32Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a as never);
      return b;
    };
    this.stamp = grow(this.stamp);
    this.settled = grow(this.settled);
    this.excludedNode = grow(this.excludedNode);
    this.cost = new Float64Array(cap);
    this.amt = new Float64Array(cap);
    this.cltv = new Int32Array(cap);
    this.prob = new Float64Array(cap);
    this.via = new Int32Array(cap);
    this.nextNode = new Int32Array(cap);
  }

  private ensureChannels(n: number): void {
    if (this.usedGen.length >= n) return;
    const cap = Math.max(n, this.usedGen.length * 2, 1024);
    const grow = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    this.usedGen = grow(this.usedGen);
    this.excludedChanGen = grow(this.excludedChanGen);
    this.used = new Float64Array(cap);
    // Channel slots are halves of policy indexes: the exclusion array is over-long, which is harmless.
  }

  /** Lays the scorer's learnt bounds over the graph's policy indexes, when either changed since the last time. */
  private layLearnt(): void {
    const g = this.graph;
    const size = 2 * g.chanHigh;
    const scorer = this.scorer;
    const of = this.learntOf;
    if (!scorer) {
      if (this.learntIdx.length < size) this.learntIdx = new Int32Array(size).fill(-1);
      return;
    }
    if (of.scorer === scorer.version && of.layout === g.layoutVersion && this.learntIdx.length >= size) return;
    if (this.learntIdx.length < size) this.learntIdx = new Int32Array(Math.max(size, 1024));
    this.learntIdx.fill(-1);
    const n = scorer.size;
    if (this.learntLower.length < n) {
      const cap = Math.max(n, 64);
      this.learntLower = new Float64Array(cap);
      this.learntLowerAt = new Float64Array(cap);
      this.learntUpper = new Float64Array(cap);
      this.learntUpperAt = new Float64Array(cap);
    }
    let i = 0;
    for (const { shortChannelId, direction, entry } of scorer.learnt()) {
      const s = g.channelSlotOf(shortChannelId);
      if (s === undefined) continue;
      this.learntIdx[2 * s + direction] = i;
      this.learntLower[i] = entry.lower;
      this.learntLowerAt[i] = entry.lowerAt;
      this.learntUpper[i] = entry.upper;
      this.learntUpperAt[i] = entry.upperAt;
      i++;
    }
    this.learntOf = { scorer: scorer.version, layout: g.layoutVersion, size };
  }
}
