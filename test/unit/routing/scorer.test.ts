/**
 * The liquidity scorer: what a failure and a success teach about a channel direction, the probability
 * that gives an amount, how it fades with the half-life, which channels of a tried route it learns
 * from, and its stored form.
 */
import { describe, expect, it } from 'vitest';
import { LiquidityScorer, ScorerDecodeError, successProbability } from '../../../core/routing/scorer.ts';
import { routeFromPath } from '../../../core/routing/route.ts';
import { NOW, nodeId, scid } from '../../helpers/small-graph.ts';

const CAP = 1_000_000_000; // msat
const HOUR = 3600;

describe('liquidity scorer', () => {
  it('with nothing learnt, takes the liquidity as uniform over the capacity', () => {
    const s = new LiquidityScorer();
    expect(s.probability(scid(1), 0, 0, CAP, NOW)).toBe(1);
    expect(s.probability(scid(1), 0, CAP / 2, CAP, NOW)).toBeCloseTo(0.5, 6);
    expect(s.probability(scid(1), 0, CAP + 1, CAP, NOW)).toBe(0);
    // A route hint's channel, capacity unknown: no reason to doubt it.
    expect(s.probability(scid(1), 0, CAP, Infinity, NOW)).toBe(1);
  });

  it('learns an upper bound from a failure and a lower bound from a carried amount, per direction', () => {
    const s = new LiquidityScorer();
    s.couldNotCarry(scid(1), 0, 400_000_000n, NOW);
    expect(s.probability(scid(1), 0, 400_000_000, CAP, NOW)).toBe(0);
    expect(s.probability(scid(1), 0, 200_000_000, CAP, NOW)).toBeCloseTo(0.5, 2);
    expect(s.probability(scid(1), 1, 400_000_000, CAP, NOW)).toBeCloseTo(0.6, 6); // the other direction learnt nothing
    s.carried(scid(1), 0, 100_000_000n, NOW);
    expect(s.probability(scid(1), 0, 100_000_000, CAP, NOW)).toBe(1);
    expect(s.probability(scid(1), 0, 250_000_000, CAP, NOW)).toBeCloseTo(0.5, 2);
    // Newer knowledge wins over a bound it contradicts.
    s.carried(scid(1), 0, 500_000_000n, NOW + 1);
    expect(s.probability(scid(1), 0, 500_000_000, CAP, NOW + 1)).toBe(1);
    expect(s.probability(scid(1), 0, 750_000_000, CAP, NOW + 1)).toBeCloseTo(0.5, 2);
    s.couldNotCarry(scid(1), 0, 300_000_000n, NOW + 2);
    expect(s.probability(scid(1), 0, 150_000_000, CAP, NOW + 2)).toBeCloseTo(0.5, 2);
  });

  it('fades each bound by half every half-life, back to knowing nothing', () => {
    const s = new LiquidityScorer({ halfLifeSeconds: HOUR });
    s.couldNotCarry(scid(2), 1, 200_000_001n, NOW);
    // One half-life: the upper bound is halfway back to the capacity (600,000,000).
    expect(s.probability(scid(2), 1, 300_000_000, CAP, NOW + HOUR)).toBeCloseTo(0.5, 3);
    expect(s.probability(scid(2), 1, 300_000_000, CAP, NOW + 20 * HOUR)).toBeCloseTo(0.7, 6);
    s.carried(scid(3), 0, 800_000_000n, NOW);
    expect(s.probability(scid(3), 0, 400_000_000, CAP, NOW + HOUR)).toBe(1);
    expect(s.probability(scid(3), 0, 600_000_000, CAP, NOW + HOUR)).toBeCloseTo(400 / 600, 3);
    expect(s.prune(NOW + 20 * HOUR)).toBe(2);
    expect(s.size).toBe(0);
  });

  it('learns from a tried route: the channels before the failure carried it, the failed one could not, ours is not learnt', () => {
    // us(0) → 1 → 3 → 2 → payee(9): directions follow the ids (1 → 3 and 2 → 9 are direction 0, 3 → 2 direction 1).
    const route = routeFromPath({
      payee: nodeId(9),
      amountMsat: 100_000_000n,
      finalCltv: 800_000,
      firstScid: scid(10),
      hops: [
        { pubkey: nodeId(1), shortChannelId: scid(11), feeBaseMsat: 1000, feeProportionalMillionths: 0, cltvExpiryDelta: 40 },
        { pubkey: nodeId(3), shortChannelId: scid(12), feeBaseMsat: 1000, feeProportionalMillionths: 0, cltvExpiryDelta: 40 },
        { pubkey: nodeId(2), shortChannelId: scid(13), feeBaseMsat: 1000, feeProportionalMillionths: 0, cltvExpiryDelta: 40 },
      ],
    });
    const s = new LiquidityScorer();
    s.learn(nodeId(0), route, { ok: false, failedChannel: 2, lackedLiquidity: true }, NOW); // node 3 could not send over channel 12
    expect(s.probability(scid(10), 0, 100_002_000, CAP, NOW)).toBeLessThan(1); // ours: nothing learnt
    expect(s.probability(scid(11), 0, 100_002_000, CAP, NOW)).toBe(1);
    expect(s.probability(scid(12), 1, 100_001_000, CAP, NOW)).toBe(0);
    expect(s.probability(scid(12), 0, 100_001_000, CAP, NOW)).toBeGreaterThan(0);
    expect(s.size).toBe(2);
    // Failed for another reason (say fee_insufficient): the channels before it carried, that one is not judged.
    const other = new LiquidityScorer();
    other.learn(nodeId(0), route, { ok: false, failedChannel: 2, lackedLiquidity: false }, NOW);
    expect(other.size).toBe(1);
    expect(other.probability(scid(12), 1, 100_001_000, CAP, NOW)).toBeGreaterThan(0.8);
    s.learn(nodeId(0), route, { ok: true }, NOW + 10);
    for (const [c, d, a] of [[11, 0, 100_002_000], [12, 1, 100_001_000], [13, 0, 100_000_000]] as const) expect(s.probability(scid(c), d, a, CAP, NOW + 10)).toBe(1);
  });

  it('keeps the most recently learnt directions within its size', () => {
    const s = new LiquidityScorer({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) s.couldNotCarry(scid(i), 0, 1000n, NOW + i);
    expect(s.size).toBe(3);
    expect(s.probability(scid(0), 0, 5000, CAP, NOW + 4)).toBeGreaterThan(0);
    expect(s.probability(scid(4), 0, 5000, CAP, NOW + 4)).toBe(0);
  });

  it('stores compactly and reads back what it learnt; a damaged record is refused in words', () => {
    const s = new LiquidityScorer({ halfLifeSeconds: HOUR });
    s.couldNotCarry(scid(1), 0, 400_000_000n, NOW);
    s.carried(scid(1), 0, 100_000_000n, NOW);
    s.carried(scid(2), 1, 7n, NOW - 30 * HOUR); // faded away: not stored
    const bytes = s.encode(NOW);
    expect(bytes.length).toBe(5 + 33);
    const back = LiquidityScorer.decode(bytes, { halfLifeSeconds: HOUR });
    for (const a of [50_000_000, 250_000_000, 399_999_999, 400_000_000]) {
      for (const t of [NOW, NOW + HOUR]) expect(back.probability(scid(1), 0, a, CAP, t)).toBe(s.probability(scid(1), 0, a, CAP, t));
    }
    expect(() => LiquidityScorer.decode(bytes.subarray(0, 20))).toThrow(ScorerDecodeError);
    expect(() => LiquidityScorer.decode(Uint8Array.of(9, 0, 0, 0, 0))).toThrow(/version 9/);
  });

  it('gives p = 1 at or below the lower bound, 0 above the upper, uniform between', () => {
    expect(successProbability(10, 10, 20)).toBe(1);
    expect(successProbability(21, 10, 20)).toBe(0);
    expect(successProbability(15, 10, 20)).toBeCloseTo(6 / 11, 9);
  });
});
