/**
 * Multi-part payment planning (BOLT 4 "Basic Multi-Part Payments"): when one route cannot carry the
 * amount, or only an unlikely one can, the payment is split into parts, each its own route; all parts
 * carry the same payment_secret and total_msat (the sender's job, not this planner's).
 *
 * The planner is pure: given the route finder (graph + scorer), our channels and what is already out,
 * it returns the parts to send. It tries the whole amount first; when no route is found, or the best
 * one's success probability is below `minPartProbability`, it halves the part and tries again, down to
 * `minPartMsat`; after a part that needed halving the next is no bigger (a bigger one just failed, or
 * was unlikely), after one found at the first try the next may be twice as big. The last part allowed
 * (`maxParts`) takes whatever is left.
 * A part none of our channels could send is not searched for. Each part found takes its liquidity out of what the next parts may use (the
 * finder's `inFlight`), so parts spread over different channels. Each part gets a share of the fee
 * budget in proportion to its amount, so the parts' fees never add up to more than the limit, and the
 * parts' amounts add up exactly to what is left to pay: never more than the invoice plus the fee limit.
 *
 * After a part fails, `planRetry` learns from it (the scorer's upper bound for a channel that lacked
 * liquidity, or an exclusion for a channel or node that failed for good) and plans the failed amount
 * again around it, the other parts still out counted.
 */
import type { Route } from '../payments/payments.ts';
import { routeChannels } from './route.ts';
import type { RouteChannel } from './route.ts';
import type { NoRoute, RouteFinder, RouteRequest } from './router.ts';
import type { LiquidityScorer } from './scorer.ts';

export interface PaymentPlanRequest extends Omit<RouteRequest, 'amountMsat' | 'feeLimitMsat' | 'inFlight'> {
  /** What the payee must receive over all parts (the invoice's amount: total_msat). */
  amountMsat: bigint;
  /** The most every part's fees together may come to. */
  feeLimitMsat: bigint;
  /** Whether the payee takes a payment in parts (the invoice's basic_mpp feature). */
  mpp: boolean;
  /** Parts already out, or settled, for this payment: what they deliver, their fees and their channels count. */
  inFlight?: readonly Route[];
  /** The most parts in all, those out included (16). */
  maxParts?: number;
  /** No part smaller than this (10,000 sat, lnd's least shard), unless it is all that is left. */
  minPartMsat?: bigint;
  /** A route less likely than this is split further if it can be (0.2). */
  minPartProbability?: number;
}

export interface PlannedPart {
  route: Route;
  /** What this part delivers to the payee (its amt_to_forward at the last hop). */
  amountMsat: bigint;
  probability: number;
}

export type PaymentPlan =
  | { ok: true; parts: PlannedPart[]; feesMsat: bigint; probability: number }
  | {
      ok: false;
      /**
       * `no_route`: not even the smallest part finds a route (`search` says what stopped it);
       * `too_many_parts`: the amount would need more parts than allowed; `nothing_left`: the parts out
       * already deliver the whole amount.
       */
      reason: 'no_route' | 'too_many_parts' | 'nothing_left';
      /** The parts that were found before the planner gave up (not to be sent alone). */
      partial: PlannedPart[];
      search?: NoRoute;
    };

const DEFAULT_MIN_PART_MSAT = 10_000_000n;

function delivered(r: Route): bigint {
  return r.hops[r.hops.length - 1]!.amtToForwardMsat;
}

export function planPayment(finder: RouteFinder, req: PaymentPlanRequest): PaymentPlan {
  const out = req.inFlight ?? [];
  let remaining = req.amountMsat - out.reduce((s, r) => s + delivered(r), 0n);
  let budget = req.feeLimitMsat - out.reduce((s, r) => s + r.totalFeesMsat, 0n);
  if (remaining <= 0n) return { ok: false, reason: 'nothing_left', partial: [] };
  const maxParts = req.maxParts ?? 16;
  const minPart = req.minPartMsat ?? DEFAULT_MIN_PART_MSAT;
  const minProbability = req.minPartProbability ?? 0.2;
  const taken: RouteChannel[] = out.flatMap((r) => routeChannels(req.source, r));
  const parts: PlannedPart[] = [];
  let shard = remaining;
  // The best route found for a part that was too unlikely, kept in case no smaller part does better.
  let fallback: { part: PlannedPart; shard: bigint } | undefined;
  let lastFailure: NoRoute | undefined;

  // Whether the part now tried is the first try at its size (no halving led to it).
  let firstTry = true;
  const accept = (p: PlannedPart): void => {
    parts.push(p);
    taken.push(...routeChannels(req.source, p.route));
    remaining -= p.amountMsat;
    budget -= p.route.totalFeesMsat;
    // The next part no bigger when this one needed halving (a bigger one failed, or was unlikely, a
    // moment ago); twice as big when it went at the first try.
    if (firstTry) shard *= 2n;
    firstTry = true;
    fallback = undefined;
  };
  // What each of our channels can still send, for a quick no before a search that would find nothing.
  const spendableLeft = (): bigint[] => req.firstHops.map((h) => taken.reduce((x, c) => (c.shortChannelId === h.shortChannelId ? x - c.amountMsat : x), h.spendableMsat));
  const ourChannelsShort: NoRoute = { ok: false, reason: 'limits', limitedBy: { feeLimit: false, cltvLimit: false, liquidity: true } };

  while (remaining > 0n) {
    if (out.length + parts.length >= maxParts) return { ok: false, reason: 'too_many_parts', partial: parts };
    // The last part allowed takes what is left, however unlikely.
    const last = out.length + parts.length === maxParts - 1;
    const x = shard < remaining && !last ? shard : remaining;
    // This part's share of the fee budget left, in proportion to its amount.
    const feeLimitMsat = budget > 0n ? (budget * x) / remaining : 0n;
    const canSplit = req.mpp && !last && x / 2n >= minPart && x / 2n > 0n;
    const left = spendableLeft();
    const total = left.reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
    if (total < remaining) return { ok: false, reason: 'no_route', partial: parts, search: ourChannelsShort };
    // When no one of our channels can send x, only smaller parts can go: no search for this one.
    const r = left.some((b) => b >= x) ? finder.find({ ...req, amountMsat: x, feeLimitMsat, inFlight: taken }) : ourChannelsShort;
    if (r.ok) {
      const part = { route: r.route, amountMsat: x, probability: r.probability };
      if (r.probability >= minProbability || !canSplit) {
        accept(part);
        continue;
      }
      if (!fallback) fallback = { part, shard: x };
    } else lastFailure = r;
    if (canSplit) {
      shard = x / 2n;
      firstTry = false;
      continue;
    }
    // Nothing smaller to try: an unlikely route found on the way down is better than none.
    if (fallback) {
      accept(fallback.part);
      continue;
    }
    return { ok: false, reason: 'no_route', partial: parts, ...(lastFailure ? { search: lastFailure } : {}) };
  }
  return {
    ok: true,
    parts,
    feesMsat: parts.reduce((s, p) => s + p.route.totalFeesMsat, 0n),
    probability: parts.reduce((p, x) => p * x.probability, 1),
  };
}

/** How a part failed, as the sender read the onion error (BOLT 4). */
export interface PartFailure {
  route: Route;
  /**
   * The channel that failed, as an index into the route's hops (the channel into `route.hops[i]`): for
   * an error from the node at hop k about its outgoing channel, k + 1.
   */
  failedChannel: number;
  /**
   * `liquidity`: the channel could not carry the amount now (temporary_channel_failure) — learnt, it
   * may still carry less; `channel`: the channel is unusable for this payment (disabled, unknown next
   * peer, a policy we got wrong); `node`: the node failed for good (a node-level error).
   */
  kind: 'liquidity' | 'channel' | 'node';
}

/**
 * Plans again the amount a failed part was to deliver: learns from the failure, then plans with the
 * parts still out (`req.inFlight`, without the failed one) counted. Returns the plan and the request
 * with its exclusions grown, for the next retry.
 */
export function planRetry(finder: RouteFinder, scorer: LiquidityScorer | undefined, req: PaymentPlanRequest, failure: PartFailure): { plan: PaymentPlan; request: PaymentPlanRequest } {
  const { route, failedChannel: i, kind } = failure;
  scorer?.learn(req.source, route, { ok: false, failedChannel: i, lackedLiquidity: kind === 'liquidity' }, req.now);
  let request = req;
  if (kind === 'channel' && route.hops[i]) {
    request = { ...req, excludedChannels: new Set([...(req.excludedChannels ?? []), route.hops[i]!.shortChannelId]) };
  } else if (kind === 'node' && i >= 1 && route.hops[i - 1]) {
    // The node that forwards over the failed channel is the one before it.
    const hexId = route.hops[i - 1]!.pubkey;
    const id = Uint8Array.from(Buffer.from(hexId, 'hex'));
    request = { ...req, excludedNodes: [...(req.excludedNodes ?? []), id] };
  }
  return { plan: planPayment(finder, request), request };
}
