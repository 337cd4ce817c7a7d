/**
 * Multi-part planning on a graph where only a split works (three ways to the payee of 60,000 sat
 * each, a payment of 100,000 sat): the parts add up to the amount exactly, their fees stay within the
 * limit, no channel is asked for more than it holds; and retries after a part fails, around what failed.
 */
import { describe, expect, it } from 'vitest';
import { planPayment, planRetry } from '../../../core/routing/mpp.ts';
import type { PaymentPlan, PaymentPlanRequest, PlannedPart } from '../../../core/routing/mpp.ts';
import { routeChannels } from '../../../core/routing/route.ts';
import { RouteFinder } from '../../../core/routing/router.ts';
import { LiquidityScorer } from '../../../core/routing/scorer.ts';
import { HEIGHT, NOW, firstHop, nodeId, scid, smallGraph } from '../../helpers/small-graph.ts';
import type { SmallChannel } from '../../helpers/small-graph.ts';

const US = 0;
const PAYEE = 9;
const AMOUNT = 100_000_000n; // 100,000 sat

// us → 1 → payee (cheapest), us → 2 → payee, us → 3 → payee (dearest); each last channel 60,000 sat.
const channels: SmallChannel[] = [
  { scid: 1, a: US, b: 1 },
  { scid: 2, a: 1, b: PAYEE, capacitySat: 60_000n, ab: { feeBaseMsat: 1000, feeProportionalMillionths: 100 } },
  { scid: 3, a: US, b: 2 },
  { scid: 4, a: 2, b: PAYEE, capacitySat: 60_000n, ab: { feeBaseMsat: 1000, feeProportionalMillionths: 200 } },
  { scid: 5, a: US, b: 3 },
  { scid: 6, a: 3, b: PAYEE, capacitySat: 60_000n, ab: { feeBaseMsat: 1000, feeProportionalMillionths: 300 } },
];
const mine = [firstHop(1, 1, 1_000_000_000n), firstHop(2, 3, 1_000_000_000n), firstHop(3, 5, 1_000_000_000n)];

function request(o: Partial<PaymentPlanRequest> = {}): PaymentPlanRequest {
  return { source: nodeId(US), payee: nodeId(PAYEE), amountMsat: AMOUNT, feeLimitMsat: 1_000_000n, mpp: true, height: HEIGHT, minFinalCltvExpiryDelta: 18, now: NOW, firstHops: mine, ...o };
}

function parts(p: PaymentPlan): PlannedPart[] {
  if (!p.ok) throw new Error(`no plan: ${p.reason}`);
  return p.parts;
}

const via = (p: PlannedPart): number => Number(p.route.hops[0]!.pubkey.slice(2, 4));

/** Checks what every plan must keep: the amount exactly, the fee limit, and no channel over its capacity. */
function checkPlan(plan: PlannedPart[], o: { amount: bigint; feeLimit: bigint; taken?: PlannedPart[] }): void {
  expect(plan.reduce((s, p) => s + p.amountMsat, 0n)).toBe(o.amount);
  for (const p of plan) expect(p.route.hops[p.route.hops.length - 1]!.amtToForwardMsat).toBe(p.amountMsat);
  expect(plan.reduce((s, p) => s + p.route.totalFeesMsat, 0n)).toBeLessThanOrEqual(o.feeLimit);
  const load = new Map<bigint, bigint>();
  for (const p of [...plan, ...(o.taken ?? [])]) for (const c of routeChannels(nodeId(US), p.route)) load.set(c.shortChannelId, (load.get(c.shortChannelId) ?? 0n) + c.amountMsat);
  for (const c of [2, 4, 6]) expect(load.get(scid(c)) ?? 0n).toBeLessThanOrEqual(60_000_000n);
}

describe('multi-part planning', () => {
  const finder = (scorer?: LiquidityScorer): RouteFinder => new RouteFinder(smallGraph(channels), scorer);

  it('splits a payment no single route can carry, and never pays more than the amount plus the fee limit', () => {
    const f = finder();
    expect(f.find({ ...request(), inFlight: [], amountMsat: AMOUNT, feeLimitMsat: 1_000_000n }).ok).toBe(false);
    // Halving alone: two halves over the two cheapest ways.
    const halves = parts(planPayment(f, request({ minPartProbability: 0 })));
    expect(halves.map((p) => [via(p), p.amountMsat])).toEqual([
      [1, 50_000_000n],
      [2, 50_000_000n],
    ]);
    checkPlan(halves, { amount: AMOUNT, feeLimit: 1_000_000n });
    // Probability-driven: a half is unlikely over a 60,000 sat channel (p ≈ 0.17), so smaller, likelier parts.
    const likely = planPayment(f, request());
    const ps = parts(likely);
    expect(ps.length).toBeGreaterThan(2);
    for (const p of ps) expect(p.amountMsat).toBeLessThan(50_000_000n);
    checkPlan(ps, { amount: AMOUNT, feeLimit: 1_000_000n });
    expect(likely.ok && likely.probability).toBeGreaterThan(halves.reduce((x, p) => x * p.probability, 1));
  });

  it('gives each part its share of the fee limit: a limit one route could keep but two parts cannot fails', () => {
    // Two halves over 1 and 2 cost 6,000 + 11,000 msat.
    const enough = planPayment(finder(), request({ minPartProbability: 0, feeLimitMsat: 22_000n }));
    checkPlan(parts(enough), { amount: AMOUNT, feeLimit: 22_000n });
    const tight = planPayment(finder(), request({ minPartProbability: 0, feeLimitMsat: 11_999n }));
    expect(tight).toMatchObject({ ok: false, reason: 'no_route', search: { limitedBy: { feeLimit: true } } });
  });

  it('does not split for a payee without multi-part support, nor beyond the most parts allowed', () => {
    expect(planPayment(finder(), request({ mpp: false }))).toMatchObject({ ok: false, reason: 'no_route' });
    // The last part allowed takes what is left: one part cannot carry it all, two halves can.
    expect(planPayment(finder(), request({ maxParts: 1 }))).toMatchObject({ ok: false, reason: 'no_route' });
    expect(parts(planPayment(finder(), request({ maxParts: 2, minPartProbability: 0 })))).toHaveLength(2);
    const [p1] = parts(planPayment(finder(), request({ minPartProbability: 0 })));
    expect(planPayment(finder(), request({ maxParts: 1, inFlight: [p1!.route] }))).toMatchObject({ ok: false, reason: 'too_many_parts' });
    // A payment one route carries stays whole, and mpp or not changes nothing.
    const one = parts(planPayment(finder(), request({ amountMsat: 10_000_000n, mpp: false })));
    expect(one).toHaveLength(1);
    expect(via(one[0]!)).toBe(1);
  });

  it('plans a failed part again around a channel that lacked liquidity, the parts still out counted', () => {
    const scorer = new LiquidityScorer();
    const f = finder(scorer);
    const [p1, p2] = parts(planPayment(f, request({ minPartProbability: 0 })));
    // The part over 1 → payee comes back temporary_channel_failure from node 1 (its outgoing channel: index 1).
    const { plan } = planRetry(f, scorer, request({ minPartProbability: 0, inFlight: [p2!.route] }), { route: p1!.route, failedChannel: 1, kind: 'liquidity' });
    const again = parts(plan);
    checkPlan(again, { amount: 50_000_000n, feeLimit: 1_000_000n - p2!.route.totalFeesMsat, taken: [p2!] });
    // Channel 2 carries less than 50,000 sat now, so nothing of 50,000 goes over it again.
    for (const p of again) if (via(p) === 1) expect(p.amountMsat).toBeLessThan(50_000_000n);
    expect(again.map(via)).toEqual([3]);
    expect(scorer.probability(scid(2), 0, 50_000_000, 60_000_000, NOW)).toBe(0);
  });

  it('plans a failed part again without a channel or a node that failed for good', () => {
    const f = finder();
    const [p1, p2] = parts(planPayment(f, request({ minPartProbability: 0 })));
    const byChannel = planRetry(f, undefined, request({ minPartProbability: 0, inFlight: [p2!.route] }), { route: p1!.route, failedChannel: 1, kind: 'channel' });
    expect(parts(byChannel.plan).map(via)).toEqual([3]);
    expect([...byChannel.request.excludedChannels!]).toEqual([scid(2)]);
    const byNode = planRetry(f, undefined, request({ minPartProbability: 0, inFlight: [p2!.route] }), { route: p1!.route, failedChannel: 1, kind: 'node' });
    expect(parts(byNode.plan).map(via)).toEqual([3]);
    expect(byNode.request.excludedNodes).toEqual([nodeId(1)]);
    // With the parts out delivering everything, there is nothing to plan.
    expect(planPayment(f, request({ inFlight: [p1!.route, p2!.route] }))).toMatchObject({ ok: false, reason: 'nothing_left' });
  });
});
