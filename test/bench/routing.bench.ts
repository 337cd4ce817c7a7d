/**
 * Route finding on the synthetic mainnet-sized graph (test/helpers/synthetic-graph.ts: 15,000 nodes,
 * 70,000 channels, seed 1): route time (median, p95) and success over random payments, each from a
 * random node (its channels as its first hops, half their capacity spendable) to another, for an
 * amount spread evenly on a log scale from 1,000 to 1,000,000 sat, with a 1% + 10 sat fee limit.
 *
 * References, measured in the same run on the same payments, in turns:
 * - plain Dijkstra on the same typed arrays, fee only, no scoring (what the scoring costs);
 * - a straightforward implementation: the graph as JSON-like objects (one per channel direction, bigint
 *   amounts, an adjacency list per node) and a fee-only Dijkstra over it.
 * Ratios are ours over the reference: below 1 is faster. Then: the finder with a scorer that has
 * learnt 10,000 directions, and multi-part planning for amounts no single route may carry.
 * The last line is for scripts: `route median vs objects: <ratio>x`.
 */
import { hex } from '@scure/base';
import type { Graph } from '../../core/routing/graph.ts';
import { planPayment } from '../../core/routing/mpp.ts';
import { FINAL_CLTV_BUFFER, MAX_TOTAL_CLTV_EXPIRY_DELTA, forwardFeeNumber } from '../../core/routing/route.ts';
import { RouteFinder } from '../../core/routing/router.ts';
import type { FirstHop, RouteRequest } from '../../core/routing/router.ts';
import { LiquidityScorer } from '../../core/routing/scorer.ts';
import { buildGraph, syntheticGraph } from '../helpers/synthetic-graph.ts';
import { table } from './harness.ts';
import { seededRandom as prng } from '../helpers/random.ts';

const PAYMENTS = 1000;
const HEIGHT = 800_000;

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A node's channels as first hops, half of each channel spendable. */
function firstHopsOf(g: Graph, node: number): FirstHop[] {
  return g.channelSlotsOf(node).map((s) => {
    const peer = g.chanNode1[s] === node ? g.chanNode2[s]! : g.chanNode1[s]!;
    return { shortChannelId: g.scidAt(s), peer: g.nodeId(peer), spendableMsat: BigInt(Math.floor(g.capacitySat[s]! / 2)) * 1000n };
  });
}

/** Plain Dijkstra over the same arrays: fee only, the same limits, no scoring. Returns the total fee or undefined. */
function plainDijkstra(g: Graph, req: RouteRequest, src: number, dst: number, spendable: Map<number, number>): number | undefined {
  const n = g.nodeHigh;
  const cost = new Float64Array(n).fill(Infinity);
  const amt = new Float64Array(n);
  const cltv = new Int32Array(n);
  const done = new Uint8Array(n);
  const amount = Number(req.amountMsat);
  const feeLimit = Number(req.feeLimitMsat);
  const max32 = new Uint32Array(g.pHtlcMax.buffer, 0, g.pHtlcMax.length * 2);
  const heap: number[] = [];
  const push = (c: number, v: number): void => {
    heap.push(c, v);
    let i = heap.length / 2 - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[2 * p]! <= c) break;
      heap[2 * i] = heap[2 * p]!;
      heap[2 * i + 1] = heap[2 * p + 1]!;
      i = p;
    }
    heap[2 * i] = c;
    heap[2 * i + 1] = v;
  };
  const pop = (): number => {
    const v = heap[1]!;
    const lc = heap.pop()!;
    const lk = heap.pop()!;
    const size = heap.length / 2;
    if (size > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && heap[2 * (c + 1)]! < heap[2 * c]!) c++;
        if (heap[2 * c]! >= lk) break;
        heap[2 * i] = heap[2 * c]!;
        heap[2 * i + 1] = heap[2 * c + 1]!;
        i = c;
      }
      heap[2 * i] = lk;
      heap[2 * i + 1] = lc;
    }
    return v;
  };
  cost[dst] = 0;
  amt[dst] = amount;
  cltv[dst] = req.minFinalCltvExpiryDelta + FINAL_CLTV_BUFFER;
  push(0, dst);
  while (heap.length) {
    const v = pop();
    if (done[v]) continue;
    done[v] = 1;
    if (v === src) return amt[src]! - amount;
    const a = amt[v]!;
    for (let e = g.nodeFirst[v]!; e >= 0; e = g.endNext[e]!) {
      const s = e >> 1;
      const pi = e ^ 1;
      const u = e & 1 ? g.chanNode1[s]! : g.chanNode2[s]!;
      if (done[u]) continue;
      if (u === src) {
        // Our channel: no fee, what it can spend.
        if ((spendable.get(s) ?? 0) < a) continue;
        if (cost[v]! < cost[u]!) {
          cost[u] = cost[v]!;
          amt[u] = a;
          push(cost[u]!, u);
        }
        continue;
      }
      if (g.pTimestamp[pi] === 0 || g.pChannelFlags[pi]! & 2) continue;
      if (a > max32[2 * pi + 1]! * 4294967296 + max32[2 * pi]! || a > g.capacitySat[s]! * 1000) continue;
      const fee = forwardFeeNumber(g.pFeeBase[pi]!, g.pFeeProp[pi]!, a);
      if (a + fee - amount > feeLimit) continue;
      const c = cltv[v]! + g.pCltv[pi]!;
      if (c > MAX_TOTAL_CLTV_EXPIRY_DELTA) continue;
      if (cost[v]! + fee < cost[u]!) {
        cost[u] = cost[v]! + fee;
        amt[u] = a + fee;
        cltv[u] = c;
        push(cost[u]!, u);
      }
    }
  }
  return undefined;
}

/** The graph as objects, the way a first implementation keeps it (bigint amounts, hex ids). */
interface ObjEdge {
  from: string;
  scid: bigint;
  feeBase: bigint;
  feeProp: bigint;
  cltv: number;
  htlcMax: bigint;
  capacityMsat: bigint;
}

function objectGraph(g: Graph): Map<string, ObjEdge[]> {
  const into = new Map<string, ObjEdge[]>();
  for (const id of g.channelIds()) {
    const c = g.channel(id)!;
    const ends = [hex.encode(c.node1), hex.encode(c.node2)];
    for (const d of [0, 1] as const) {
      const p = c.policies[d];
      if (!p || p.channelFlags & 2) continue;
      const to = ends[1 - d]!;
      const list = into.get(to) ?? [];
      list.push({ from: ends[d]!, scid: id, feeBase: BigInt(p.feeBaseMsat), feeProp: BigInt(p.feeProportionalMillionths), cltv: p.cltvExpiryDelta, htlcMax: p.htlcMaximumMsat, capacityMsat: (c.capacitySat ?? 0n) * 1000n });
      into.set(to, list);
    }
  }
  return into;
}

function objectDijkstra(into: Map<string, ObjEdge[]>, req: RouteRequest): bigint | undefined {
  const src = hex.encode(req.source);
  const dst = hex.encode(req.payee);
  const spendable = new Map(req.firstHops.map((h) => [h.shortChannelId, h.spendableMsat]));
  const label = new Map<string, { cost: bigint; amt: bigint; cltv: number }>();
  const done = new Set<string>();
  const queue: { cost: bigint; node: string }[] = [];
  const push = (q: { cost: bigint; node: string }): void => {
    queue.push(q);
    let i = queue.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (queue[p]!.cost <= q.cost) break;
      queue[i] = queue[p]!;
      i = p;
    }
    queue[i] = q;
  };
  const pop = (): { cost: bigint; node: string } => {
    const top = queue[0]!;
    const last = queue.pop()!;
    if (queue.length) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= queue.length) break;
        if (c + 1 < queue.length && queue[c + 1]!.cost < queue[c]!.cost) c++;
        if (queue[c]!.cost >= last.cost) break;
        queue[i] = queue[c]!;
        i = c;
      }
      queue[i] = last;
    }
    return top;
  };
  label.set(dst, { cost: 0n, amt: req.amountMsat, cltv: req.minFinalCltvExpiryDelta + FINAL_CLTV_BUFFER });
  push({ cost: 0n, node: dst });
  while (queue.length) {
    const { node: v } = pop();
    if (done.has(v)) continue;
    done.add(v);
    const lv = label.get(v)!;
    if (v === src) return lv.amt - req.amountMsat;
    for (const e of into.get(v) ?? []) {
      if (done.has(e.from)) continue;
      let next: { cost: bigint; amt: bigint; cltv: number };
      if (e.from === src) {
        if ((spendable.get(e.scid) ?? 0n) < lv.amt) continue;
        next = { cost: lv.cost, amt: lv.amt, cltv: lv.cltv };
      } else {
        if (lv.amt > e.htlcMax || lv.amt > e.capacityMsat) continue;
        const fee = e.feeBase + (lv.amt * e.feeProp) / 1_000_000n;
        if (lv.amt + fee - req.amountMsat > req.feeLimitMsat!) continue;
        if (lv.cltv + e.cltv > MAX_TOTAL_CLTV_EXPIRY_DELTA) continue;
        next = { cost: lv.cost + fee, amt: lv.amt + fee, cltv: lv.cltv + e.cltv };
      }
      const old = label.get(e.from);
      if (old && old.cost <= next.cost) continue;
      label.set(e.from, next);
      push({ cost: next.cost, node: e.from });
    }
  }
  return undefined;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

export async function run(): Promise<void> {
  const s = syntheticGraph();
  const g = buildGraph(s);
  const rnd = prng(42);
  const now = s.now;
  const nodes: number[] = [];
  for (let n = 0; n < g.nodeHigh; n++) if (g.nodeUsed[n]) nodes.push(n);

  // The payments: random pairs, amounts log-uniform in [1,000, 1,000,000] sat, fee limit 1% + 10 sat.
  const payments = Array.from({ length: PAYMENTS }, () => {
    const src = nodes[Math.floor(rnd() * nodes.length)]!;
    let dst = src;
    while (dst === src) dst = nodes[Math.floor(rnd() * nodes.length)]!;
    const amountMsat = BigInt(Math.round(1000 * 1000 ** rnd())) * 1000n;
    const firstHops = firstHopsOf(g, src);
    const req: RouteRequest = { source: g.nodeId(src), payee: g.nodeId(dst), amountMsat, height: HEIGHT, minFinalCltvExpiryDelta: 18, firstHops, feeLimitMsat: amountMsat / 100n + 10_000n, now };
    const spendable = new Map(firstHops.map((h) => [g.channelSlotOf(h.shortChannelId)!, Number(h.spendableMsat)]));
    return { req, src, dst, spendable };
  });

  const before = memory();
  const finder = new RouteFinder(g, new LiquidityScorer());
  finder.find(payments[0]!.req);
  const finderBytes = memory() - before;
  let t = performance.now();
  const objects = objectGraph(g);
  const objectBuildMs = performance.now() - t;

  // Warm up all three, then measure in turns, the side going first rotating.
  for (const p of payments.slice(0, 50)) {
    finder.find(p.req);
    plainDijkstra(g, p.req, p.src, p.dst, p.spendable);
    objectDijkstra(objects, p.req);
  }
  const ours: number[] = [];
  const plain: number[] = [];
  const obj: number[] = [];
  // CPU time too: on a shared machine the wall clock also counts the time others had the cores.
  const oursCpu: number[] = [];
  const plainCpu: number[] = [];
  const objCpu: number[] = [];
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const d = process.cpuUsage(since);
    return (d.user + d.system) / 1000;
  };
  let okOurs = 0;
  let okPlain = 0;
  let okObj = 0;
  let feesOurs = 0n;
  let feesPlain = 0n;
  let probOurs = 0;
  let hopsOurs = 0;
  let bothFound = 0;
  payments.forEach((p, i) => {
    const sides = [0, 1, 2].map((k) => (k + i) % 3);
    let rOurs: ReturnType<RouteFinder['find']> | undefined;
    let fPlain: number | undefined;
    for (const side of sides) {
      const cpu = process.cpuUsage();
      t = performance.now();
      if (side === 0) {
        rOurs = finder.find(p.req);
        ours.push(performance.now() - t);
        oursCpu.push(cpuMs(cpu));
      } else if (side === 1) {
        fPlain = plainDijkstra(g, p.req, p.src, p.dst, p.spendable);
        plain.push(performance.now() - t);
        plainCpu.push(cpuMs(cpu));
      } else {
        const f = objectDijkstra(objects, p.req);
        obj.push(performance.now() - t);
        objCpu.push(cpuMs(cpu));
        if (f !== undefined) okObj++;
      }
    }
    if (rOurs!.ok) {
      okOurs++;
      probOurs += rOurs!.probability;
      hopsOurs += rOurs!.route.hops.length;
    }
    if (fPlain !== undefined) okPlain++;
    if (rOurs!.ok && fPlain !== undefined) {
      bothFound++;
      feesOurs += rOurs!.route.totalFeesMsat;
      feesPlain += BigInt(fPlain);
    }
  });

  table(`Route finding, ${g.nodeCount.toLocaleString('en')} nodes and ${g.channelCount.toLocaleString('en')} channels, ${PAYMENTS} random payments of 1,000 to 1,000,000 sat`, [
    ['', 'route finder (scored)', 'plain Dijkstra, same arrays', 'ratio', 'objects + bigint Dijkstra', 'ratio'],
    ['median (ms)', median(ours), median(plain), median(ours) / median(plain), median(obj), median(ours) / median(obj)],
    ['p95 (ms)', p95(ours), p95(plain), p95(ours) / p95(plain), p95(obj), p95(ours) / p95(obj)],
    ['  median CPU time (ms)', median(oursCpu), median(plainCpu), median(oursCpu) / median(plainCpu), median(objCpu), median(oursCpu) / median(objCpu)],
    ['  p95 CPU time (ms)', p95(oursCpu), p95(plainCpu), p95(oursCpu) / p95(plainCpu), p95(objCpu), p95(oursCpu) / p95(objCpu)],
    ['routes found', okOurs, okPlain, okOurs / okPlain, okObj, okOurs / okObj],
  ]);
  table('What the scoring buys and costs (payments both found)', [
    ['', 'route finder (scored)', 'plain Dijkstra (cheapest fee)'],
    ['mean fee (sat)', Number(feesOurs) / bothFound / 1000, Number(feesPlain) / bothFound / 1000],
    ['mean hops', hopsOurs / okOurs, ''],
    ['mean success probability', probOurs / okOurs, ''],
  ]);

  // A scorer that learnt 10,000 directions (failures and successes at random amounts).
  const scorer = new LiquidityScorer();
  const ids = [...g.channelIds()];
  for (let i = 0; i < 10_000; i++) {
    const id = ids[Math.floor(rnd() * ids.length)]!;
    const cap = g.channel(id)!.capacitySat! * 1000n;
    const at = BigInt(Math.floor(rnd() * Number(cap)));
    if (rnd() < 0.5) scorer.couldNotCarry(id, rnd() < 0.5 ? 0 : 1, at, now - Math.floor(rnd() * 6 * 3600));
    else scorer.carried(id, rnd() < 0.5 ? 0 : 1, at, now - Math.floor(rnd() * 6 * 3600));
  }
  const learnt = new RouteFinder(g, scorer);
  const learntMs: number[] = [];
  for (const p of payments) {
    t = performance.now();
    learnt.find(p.req);
    learntMs.push(performance.now() - t);
  }
  const stored = scorer.encode(now);

  // Multi-part: each payment's amount set to 0.8 of what its source can spend in all, at most 5,000,000 sat.
  const mppMs: number[] = [];
  let mppOk = 0;
  let mppParts = 0;
  const mppPayments = payments.slice(0, 200);
  for (const p of mppPayments) {
    const total = p.req.firstHops.reduce((x, h) => x + h.spendableMsat, 0n);
    const cap = 5_000_000_000n;
    const amountMsat = ((total < cap ? total : cap) * 8n) / 10n;
    if (amountMsat < 1000n) continue;
    t = performance.now();
    const plan = planPayment(learnt, { ...p.req, amountMsat, feeLimitMsat: amountMsat / 100n + 10_000n, mpp: true, inFlight: [] });
    mppMs.push(performance.now() - t);
    if (plan.ok) {
      mppOk++;
      mppParts += plan.parts.length;
      const paid = plan.parts.reduce((x, q) => x + q.amountMsat, 0n);
      const fees = plan.parts.reduce((x, q) => x + q.route.totalFeesMsat, 0n);
      if (paid !== amountMsat || fees > amountMsat / 100n + 10_000n) throw new Error('a plan broke the amount or the fee limit');
      for (const q of plan.parts) if (q.route.totalFeesMsat !== q.route.hops.reduce((x, h) => x + h.feeMsat, 0n)) throw new Error('fees do not add up');
    }
  }
  table('With learnt liquidity, multi-part planning, memory', [
    ['', 'median (ms)', 'p95 (ms)', ''],
    ['route, scorer with 10,000 learnt directions', median(learntMs), p95(learntMs), ''],
    [`multi-part plan, 80% of the source's spendable (${mppPayments.length} payments)`, median(mppMs), p95(mppMs), `${mppOk} planned, ${(mppParts / Math.max(1, mppOk)).toFixed(1)} parts each`],
    ['finder working arrays (MB)', finderBytes / 1e6, '', ''],
    ['scorer stored, 10,000 directions (kB)', stored.length / 1e3, '', ''],
    ['building the object graph (reference, ms)', objectBuildMs, '', ''],
  ]);
  process.stdout.write(`route median vs objects: ${(median(ours) / median(obj)).toFixed(2)}x\n`);
}
