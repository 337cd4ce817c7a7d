/**
 * The route finder on small hand-made graphs whose cheapest routes are known: fees and their exact
 * per-hop amounts, CLTV, disabled directions, htlc_minimum/maximum_msat, capacity, our channels'
 * spendable amounts, route hints, the fee limit and the CLTV cap, exclusions, and what the scorer
 * learnt steering a route away and back as it fades.
 */
import { hex } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { RouteFinder } from '../../../core/routing/router.ts';
import type { RouteRequest, RouteResult, FoundRoute } from '../../../core/routing/router.ts';
import { FINAL_CLTV_BUFFER, forwardFee, routeFromPath } from '../../../core/routing/route.ts';
import { LiquidityScorer } from '../../../core/routing/scorer.ts';
import { HEIGHT, NOW, firstHop, nodeId, scid, smallGraph } from '../../helpers/small-graph.ts';
import type { SmallChannel } from '../../helpers/small-graph.ts';

const US = 0;
const PAYEE = 9;

function request(o: Partial<RouteRequest> & { firstHops: RouteRequest['firstHops'] }): RouteRequest {
  return { source: nodeId(US), payee: nodeId(PAYEE), amountMsat: 100_000_000n, height: HEIGHT, minFinalCltvExpiryDelta: 18, now: NOW, ...o };
}

function find(channels: SmallChannel[], o: Partial<RouteRequest> & { firstHops: RouteRequest['firstHops'] }, scorer?: LiquidityScorer): RouteResult {
  return new RouteFinder(smallGraph(channels), scorer).find(request(o));
}

function found(r: RouteResult): FoundRoute {
  if (!r.ok) throw new Error(`no route: ${JSON.stringify(r)}`);
  return r;
}

/** The route's nodes as their numbers, and its channels as theirs. */
function nodesOf(r: RouteResult): number[] {
  return found(r).route.hops.map((h) => hex.decode(h.pubkey)[1]!);
}

function channelsOf(r: RouteResult): number[] {
  return found(r).route.hops.map((h) => Number((h.shortChannelId >> 40n) - 700_000n));
}

// Two ways from us to the payee: through 1 (channels 1, 2) or through 2 (channels 3, 4).
const diamond = (o: { via1?: Partial<SmallChannel>; via2?: Partial<SmallChannel> } = {}): SmallChannel[] => [
  { scid: 1, a: US, b: 1 },
  { scid: 2, a: 1, b: PAYEE, ab: { feeBaseMsat: 1000, feeProportionalMillionths: 100 }, ...o.via1 },
  { scid: 3, a: US, b: 2 },
  { scid: 4, a: 2, b: PAYEE, ab: { feeBaseMsat: 2000, feeProportionalMillionths: 100 }, ...o.via2 },
];
const both = [firstHop(1, 1, 5_000_000_000n), firstHop(2, 3, 5_000_000_000n)];

describe('route finder', () => {
  it('takes the cheaper of two ways, with the switch’s route shape and arithmetic', () => {
    const r = found(find(diamond(), { firstHops: both }));
    expect(nodesOf(r)).toEqual([1, PAYEE]);
    expect(channelsOf(r)).toEqual([1, 2]);
    const fee = forwardFee(1000, 100, 100_000_000n);
    expect(fee).toBe(11_000n);
    const finalCltv = HEIGHT + 18 + FINAL_CLTV_BUFFER;
    expect(r.route).toEqual(
      routeFromPath({ payee: nodeId(PAYEE), amountMsat: 100_000_000n, finalCltv, firstScid: scid(1), hops: [{ pubkey: nodeId(1), shortChannelId: scid(2), feeBaseMsat: 1000, feeProportionalMillionths: 100, cltvExpiryDelta: 40 }] }),
    );
    expect(r.route.totalAmtMsat).toBe(100_011_000n);
    expect(r.route.totalTimeLock).toBe(finalCltv + 40);
    expect(r.route.hops[0]).toMatchObject({ amtToForwardMsat: 100_000_000n, feeMsat: 11_000n, expiry: finalCltv + 40 });
    expect(r.route.hops[1]).toMatchObject({ amtToForwardMsat: 100_000_000n, feeMsat: 0n, expiry: finalCltv });
  });

  it('charges each hop its fee on the amount it forwards, from the payee back (exact to the msat)', () => {
    // us → 1 → 2 → 3 → payee, proportional fees that round.
    const chans: SmallChannel[] = [
      { scid: 1, a: US, b: 1 },
      { scid: 2, a: 1, b: 2, ab: { feeBaseMsat: 1, feeProportionalMillionths: 333, cltvExpiryDelta: 144 } },
      { scid: 3, a: 2, b: 3, ab: { feeBaseMsat: 7, feeProportionalMillionths: 1999, cltvExpiryDelta: 80 } },
      { scid: 4, a: 3, b: PAYEE, ab: { feeBaseMsat: 999, feeProportionalMillionths: 1, cltvExpiryDelta: 40 } },
    ];
    const amount = 123_456_789n;
    const r = found(find(chans, { amountMsat: amount, firstHops: [firstHop(1, 1, 10_000_000_000n)] }));
    const f3 = 999n + (amount * 1n) / 1_000_000n;
    const f2 = 7n + ((amount + f3) * 1999n) / 1_000_000n;
    const f1 = 1n + ((amount + f3 + f2) * 333n) / 1_000_000n;
    expect(r.route.hops.map((h) => h.feeMsat)).toEqual([f1, f2, f3, 0n]);
    expect(r.route.hops.map((h) => h.amtToForwardMsat)).toEqual([amount + f3 + f2, amount + f3, amount, amount]);
    expect(r.route.totalAmtMsat).toBe(amount + f1 + f2 + f3);
    const final = HEIGHT + 18 + FINAL_CLTV_BUFFER;
    expect(r.route.hops.map((h) => h.expiry)).toEqual([final + 40 + 80 + 144, final + 40 + 80, final + 40, final]);
  });

  it('skips a disabled direction, a direction with no update, and uses the other direction’s policy never', () => {
    expect(nodesOf(find(diamond({ via1: { ab: { channelFlags: 2 } } }), { firstHops: both }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond({ via1: { ab: null } }), { firstHops: both }))).toEqual([2, PAYEE]);
    // The payee's own direction (payee → 1) disabled changes nothing.
    expect(nodesOf(find(diamond({ via1: { ba: { channelFlags: 2 } } }), { firstHops: both }))).toEqual([1, PAYEE]);
  });

  it('respects htlc_maximum_msat, htlc_minimum_msat and the capacity', () => {
    expect(nodesOf(find(diamond({ via1: { ab: { feeBaseMsat: 1000, htlcMaximumMsat: 99_999_999n } } }), { firstHops: both }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond({ via1: { ab: { feeBaseMsat: 1000, htlcMaximumMsat: 100_000_000n } } }), { firstHops: both }))).toEqual([1, PAYEE]);
    expect(nodesOf(find(diamond({ via1: { ab: { feeBaseMsat: 1000, htlcMinimumMsat: 100_000_001n } } }), { firstHops: both }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond({ via1: { capacitySat: 99_999n } }), { firstHops: both }))).toEqual([2, PAYEE]);
    // The htlc maximum is checked against what the hop forwards, fees of later hops included.
    const chain: SmallChannel[] = [
      { scid: 1, a: US, b: 1 },
      { scid: 2, a: 1, b: 2, ab: { htlcMaximumMsat: 100_000_000n } },
      { scid: 3, a: 2, b: PAYEE, ab: { feeBaseMsat: 1 } },
    ];
    const r = find(chain, { firstHops: [firstHop(1, 1, 10_000_000_000n)] });
    expect(r).toMatchObject({ ok: false, reason: 'limits', limitedBy: { liquidity: true } });
  });

  it('sends over our channels only what they can spend, not what the graph says of them', () => {
    // Channel 1 is big in the graph, but it can spend less than the amount plus fees now.
    expect(nodesOf(find(diamond(), { firstHops: [firstHop(1, 1, 100_010_999n), firstHop(2, 3, 5_000_000_000n)] }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond(), { firstHops: [firstHop(1, 1, 100_011_000n), firstHop(2, 3, 5_000_000_000n)] }))).toEqual([1, PAYEE]);
    // A channel the graph holds but the caller does not list is not ours to use.
    expect(nodesOf(find(diamond(), { firstHops: [firstHop(2, 3, 5_000_000_000n)] }))).toEqual([2, PAYEE]);
    // A private channel the graph never heard of, to a peer it knows.
    const r = find(diamond({ via1: { ab: { feeBaseMsat: 1000 } } }), { firstHops: [{ shortChannelId: scid(50), peer: nodeId(1), spendableMsat: 1_000_000_000n }] });
    expect(channelsOf(r)).toEqual([50, 2]);
    // Straight to the payee when it is our peer: no fee.
    const direct = found(find(diamond(), { firstHops: [...both, firstHop(PAYEE, 60, 1_000_000_000n)] }));
    expect(direct.route.totalFeesMsat).toBe(0n);
    expect(direct.route.hops).toHaveLength(1);
  });

  it('keeps the fee limit and the total CLTV cap, and says which one stopped it', () => {
    // Cheapest fee is 11,000 msat via 1, 12,000 via 2.
    expect(found(find(diamond(), { firstHops: both, feeLimitMsat: 11_000n })).route.totalFeesMsat).toBe(11_000n);
    expect(find(diamond(), { firstHops: both, feeLimitMsat: 10_999n })).toMatchObject({ ok: false, reason: 'limits', limitedBy: { feeLimit: true } });
    // Via 1 locks for 2000 blocks: over the cap with the final delta, so the dearer way is taken.
    const slow = diamond({ via1: { ab: { feeBaseMsat: 1000, cltvExpiryDelta: 2000 } } });
    expect(nodesOf(find(slow, { firstHops: both }))).toEqual([2, PAYEE]);
    expect(find(slow, { firstHops: [both[0]!] })).toMatchObject({ ok: false, reason: 'limits', limitedBy: { cltvLimit: true } });
    expect(nodesOf(find(slow, { firstHops: [both[0]!], maxTotalCltvExpiryDelta: 2000 + 18 + FINAL_CLTV_BUFFER }))).toEqual([1, PAYEE]);
  });

  it('weighs the delay: for equal fees the shorter lock wins, and a little more fee buys a much shorter one', () => {
    const long = diamond({ via1: { ab: { feeBaseMsat: 1000, cltvExpiryDelta: 1000 } }, via2: { ab: { feeBaseMsat: 1000, cltvExpiryDelta: 40 } } });
    expect(nodesOf(find(long, { firstHops: both, amountMsat: 1_000_000_000n }))).toEqual([2, PAYEE]);
    // 1,000,000 sat locked 960 blocks longer weighs 14,400 msat at 15 per billion a block: 5 sat more fee is worth it, 20 not.
    const dearer = (fee: number): SmallChannel[] => diamond({ via1: { ab: { feeBaseMsat: 1000, cltvExpiryDelta: 1000 } }, via2: { ab: { feeBaseMsat: fee, cltvExpiryDelta: 40 } } });
    expect(nodesOf(find(dearer(6000), { firstHops: both, amountMsat: 1_000_000_000n }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(dearer(21_000), { firstHops: both, amountMsat: 1_000_000_000n }))).toEqual([1, PAYEE]);
  });

  it('finds the payee through an invoice’s route hints when the graph does not know it', () => {
    const chans: SmallChannel[] = [
      { scid: 1, a: US, b: 1 },
      { scid: 2, a: 1, b: 5 },
    ];
    const hint = [{ pubkey: nodeId(5), shortChannelId: scid(70), feeBaseMsat: 5000, feeProportionalMillionths: 10, cltvExpiryDelta: 100 }];
    const r = found(find(chans, { firstHops: [firstHop(1, 1, 10_000_000_000n)], routeHints: [hint] }));
    expect(nodesOf(r)).toEqual([1, 5, PAYEE]);
    expect(channelsOf(r)).toEqual([1, 2, 70]);
    expect(r.route.hops[1]!.feeMsat).toBe(5000n + (100_000_000n * 10n) / 1_000_000n);
    expect(r.route.hops[1]!.expiry).toBe(HEIGHT + 18 + FINAL_CLTV_BUFFER + 100);
    // Without the hint there is no way at all.
    expect(find(chans, { firstHops: [firstHop(1, 1, 10_000_000_000n)] })).toMatchObject({ ok: false, reason: 'no_path' });
    // A hint of two private hops, the first of them our own peer.
    const two = [
      { pubkey: nodeId(1), shortChannelId: scid(71), feeBaseMsat: 10, feeProportionalMillionths: 0, cltvExpiryDelta: 40 },
      { pubkey: nodeId(6), shortChannelId: scid(72), feeBaseMsat: 20, feeProportionalMillionths: 0, cltvExpiryDelta: 40 },
    ];
    const r2 = found(find(chans, { firstHops: [firstHop(1, 1, 10_000_000_000n)], routeHints: [two] }));
    expect(channelsOf(r2)).toEqual([1, 71, 72]);
    expect(r2.route.totalFeesMsat).toBe(30n);
  });

  it('leaves out excluded channels and nodes', () => {
    expect(nodesOf(find(diamond(), { firstHops: both, excludedChannels: new Set([scid(2)]) }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond(), { firstHops: both, excludedNodes: [nodeId(1)] }))).toEqual([2, PAYEE]);
    expect(nodesOf(find(diamond(), { firstHops: both, excludedChannels: new Set([scid(1)]) }))).toEqual([2, PAYEE]);
    expect(find(diamond(), { firstHops: both, excludedNodes: [nodeId(1), nodeId(2)] })).toMatchObject({ ok: false, reason: 'no_path' });
  });

  it('prefers a likely channel to a slightly cheaper one nearly full, and goes back to a failed channel as what it learnt fades', () => {
    // Via 1 is 1 sat cheaper but its channel is barely bigger than the amount.
    const tight = diamond({ via1: { capacitySat: 110_000n, ab: { feeBaseMsat: 1000 } }, via2: { capacitySat: 10_000_000n, ab: { feeBaseMsat: 2000 } } });
    const r = found(find(tight, { firstHops: both }));
    expect(nodesOf(r)).toEqual([2, PAYEE]);
    expect(r.probability).toBeCloseTo(1 - 100_000_000 / 10_000_000_000, 6);

    // Via 1 failed at this amount a moment ago: via 2, however cheap 1 is; half-lives later, 1 again.
    const scorer = new LiquidityScorer({ halfLifeSeconds: 3600 });
    const g = smallGraph(diamond());
    const finder = new RouteFinder(g, scorer);
    const first = found(finder.find(request({ firstHops: both })));
    expect(nodesOf(first)).toEqual([1, PAYEE]);
    scorer.learn(nodeId(US), first.route, { ok: false, failedChannel: 1, lackedLiquidity: true }, NOW);
    expect(nodesOf(finder.find(request({ firstHops: both, now: NOW + 60 })))).toEqual([2, PAYEE]);
    expect(nodesOf(finder.find(request({ firstHops: both, now: NOW + 6 * 3600 })))).toEqual([1, PAYEE]);
    // A success lifts what it carried to sure.
    scorer.learn(nodeId(US), first.route, { ok: true }, NOW + 7 * 3600);
    expect(found(finder.find(request({ firstHops: both, now: NOW + 7 * 3600 }))).probability).toBe(1);
  });

  it('reads what the scorer learnt again when the graph’s slots change: a new channel in a freed slot starts afresh', () => {
    const scorer = new LiquidityScorer();
    const g = smallGraph(diamond());
    const finder = new RouteFinder(g, scorer);
    scorer.couldNotCarry(scid(2), 0, 1000n, NOW);
    expect(nodesOf(finder.find(request({ firstHops: both })))).toEqual([2, PAYEE]);
    // Channel 2 closes; channel 20 between the same nodes takes its slot.
    g.removeChannel(scid(2));
    g.addChannel({ ok: true, scid: scid(20), node1: nodeId(1), node2: nodeId(PAYEE), bitcoinKey1: new Uint8Array(33), bitcoinKey2: new Uint8Array(33), features: new Uint8Array(0), routable: true }, { capacitySat: 10_000_000n, now: NOW });
    g.applyChannelUpdate({ ok: true, scid: scid(20), direction: 0, policy: { ...g.policy(scid(4), 0)!, feeBaseMsat: 500 }, forward: true });
    expect(g.channelSlotOf(scid(20))).toBe(1);
    const r = finder.find(request({ firstHops: both }));
    expect(channelsOf(r)).toEqual([1, 20]);
  });

  it('counts what other parts already send through a channel', () => {
    const chans = diamond({ via1: { capacitySat: 150_000n } });
    const inFlight = [{ shortChannelId: scid(2), direction: 0 as const, amountMsat: 60_000_000n }];
    expect(nodesOf(find(chans, { firstHops: both, inFlight }))).toEqual([2, PAYEE]);
    // Our own channel's spendable amount too.
    const mine = [{ shortChannelId: scid(1), direction: 0 as const, amountMsat: 4_950_000_000n }];
    expect(nodesOf(find(diamond(), { firstHops: both, inFlight: mine }))).toEqual([2, PAYEE]);
  });
});
