/**
 * What past payment attempts taught about the liquidity of each channel direction, and the success
 * probability it gives an amount (the liquidity-bounds model of LDK's ProbabilisticScorer and lnd's
 * mission control, in our own form).
 *
 * A channel direction's liquidity (what its forwarding node can still send over it) is somewhere in
 * [0, capacity]. With nothing learnt it is taken as uniform there, so an amount near the capacity is
 * unlikely to pass. Attempts narrow it:
 * - an HTLC the channel carried (the payment then failed further on, or succeeded): liquidity ≥ amount,
 *   a lower bound;
 * - an HTLC the channel could not carry (temporary_channel_failure from its node): liquidity < amount,
 *   an upper bound.
 * Balances move as other payments flow, so each bound fades with a half-life (six hours by default):
 * the lower bound toward 0 and the upper bound toward the capacity, each from when it was learnt.
 * Between the bounds the liquidity is again taken as uniform: p(amount) = (hi − amount + 1) / (hi − lo + 1).
 *
 * A success is kept as a lower bound, as lnd does, rather than moving both bounds down by the amount
 * (LDK's way): the channel showed it could carry that much, and a wallet's next payment over it is
 * usually of the same order, minutes later, after other traffic has moved its balance anyway.
 *
 * Stored compactly (`encode`, about 33 bytes a learnt direction) for the node's KvStore.
 */
import { scidHigh, scidLow, scidOf } from './scid-index.ts';
import type { Route } from '../payments/payments.ts';
import { routeChannels } from './route.ts';

export interface ScorerOptions {
  /** How long until a learnt bound has faded halfway back to knowing nothing (seconds; 6 hours). */
  halfLifeSeconds?: number;
  /** The most directions kept; the least recently learnt go first (10,000 is about 330 kB stored). */
  maxEntries?: number;
}

/** One channel direction's learnt bounds as learnt (msat, and seconds when each was learnt). */
export interface LearntEntry {
  lower: number;
  lowerAt: number;
  /** Infinity when no upper bound is known. */
  upper: number;
  upperAt: number;
}

const VERSION = 1;
const ENTRY_BYTES = 4 + 4 + 1 + 8 + 8 + 4 + 4;
/** After this many half-lives a bound is treated as forgotten (2^-16 of it left). */
const FORGET_AFTER_HALF_LIVES = 16;

/** How much of a bound learnt at `at` is left at `now`: 1 fresh, halving each half-life, 0 once forgotten. */
export function boundWeight(at: number, now: number, halfLifeSeconds: number): number {
  const halfLives = Math.max(0, now - at) / halfLifeSeconds;
  return halfLives >= FORGET_AFTER_HALF_LIVES ? 0 : 2 ** -halfLives;
}

export class ScorerDecodeError extends Error {
  constructor(message: string) {
    super(`the stored routing knowledge does not read (${message}); it can be dropped, and the node learns it again from its payments`);
    this.name = 'ScorerDecodeError';
  }
}

function keyOf(scid: bigint, direction: 0 | 1): bigint {
  return (scid << 1n) | BigInt(direction);
}

/**
 * The effective bounds of a direction with `capacityMsat` (Infinity when unknown, as for a route
 * hint's private channel): the upper bound fades toward the capacity (or, with none, grows), and
 * neither passes the capacity.
 */
export function effectiveUpper(upperMsat: number, upperWeight: number, capacityMsat: number): number {
  if (upperMsat === Infinity || upperWeight <= 0) return capacityMsat;
  if (capacityMsat === Infinity) return upperMsat / upperWeight;
  const u = Math.min(upperMsat, capacityMsat);
  return capacityMsat - (capacityMsat - u) * upperWeight;
}

/** p(liquidity ≥ amount) for liquidity uniform in [lower, upper]. */
export function successProbability(amountMsat: number, lowerMsat: number, upperMsat: number): number {
  if (amountMsat <= lowerMsat) return 1;
  if (amountMsat > upperMsat) return 0;
  if (upperMsat === Infinity) return 1;
  return (upperMsat - amountMsat + 1) / (upperMsat - lowerMsat + 1);
}

export class LiquidityScorer {
  readonly halfLifeSeconds: number;
  readonly maxEntries: number;
  private readonly entries = new Map<bigint, LearntEntry>();
  /** Changes with every change of what is learnt, so the route finder knows when to read it again. */
  version = 0;

  constructor(o: ScorerOptions = {}) {
    this.halfLifeSeconds = o.halfLifeSeconds ?? 6 * 3600;
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The channel direction carried `amountMsat`: its liquidity was at least that. */
  carried(scid: bigint, direction: 0 | 1, amountMsat: bigint | number, now: number): void {
    const a = Number(amountMsat);
    const e = this.entry(scid, direction);
    const lower = this.fade(e.lower, e.lowerAt, now);
    e.lower = Math.max(lower, a);
    e.lowerAt = now;
    // Newer knowledge wins over an upper bound it contradicts.
    if (e.upper < e.lower) e.upper = Infinity;
    this.touch(scid, direction, e);
  }

  /** The channel direction could not carry `amountMsat`: its liquidity was less. */
  couldNotCarry(scid: bigint, direction: 0 | 1, amountMsat: bigint | number, now: number): void {
    const a = Number(amountMsat);
    const e = this.entry(scid, direction);
    e.upper = Math.max(0, a - 1);
    e.upperAt = now;
    if (this.fade(e.lower, e.lowerAt, now) > e.upper) e.lower = 0;
    this.touch(scid, direction, e);
  }

  /**
   * Learns from a route tried from `source`. It went through: every channel carried its HTLC. It
   * failed at `failedChannel` (an index into the route's hops: the channel into `hops[i]`; for an error
   * from the node at hop k about its outgoing channel, k + 1): the channels before it carried theirs,
   * and, when the failure was for want of liquidity (temporary_channel_failure), that one could not.
   * Our own first channel is not learnt: the caller knows its balance.
   */
  learn(source: Uint8Array, route: Route, outcome: { ok: true } | { ok: false; failedChannel: number; lackedLiquidity: boolean }, now: number): void {
    const chans = routeChannels(source, route);
    const end = outcome.ok ? chans.length : Math.min(outcome.failedChannel, chans.length);
    for (let i = 1; i < end; i++) this.carried(chans[i]!.shortChannelId, chans[i]!.direction, chans[i]!.amountMsat, now);
    if (outcome.ok || !outcome.lackedLiquidity) return;
    const f = outcome.failedChannel;
    if (f >= 1 && f < chans.length) this.couldNotCarry(chans[f]!.shortChannelId, chans[f]!.direction, chans[f]!.amountMsat, now);
  }

  /** The success probability of `amountMsat` over a direction of `capacityMsat` (Infinity: unknown). */
  probability(scid: bigint, direction: 0 | 1, amountMsat: bigint | number, capacityMsat: number, now: number): number {
    const e = this.entries.get(keyOf(scid, direction));
    const a = Number(amountMsat);
    if (!e) return successProbability(a, 0, capacityMsat);
    const lower = this.fade(e.lower, e.lowerAt, now);
    const upper = effectiveUpper(e.upper, this.weight(e.upperAt, now), capacityMsat);
    return successProbability(a, Math.min(lower, upper), upper);
  }

  /** Every learnt direction as learnt (the route finder fades each bound as it reads it). */
  *learnt(): IterableIterator<{ shortChannelId: bigint; direction: 0 | 1; entry: Readonly<LearntEntry> }> {
    for (const [key, entry] of this.entries) yield { shortChannelId: key >> 1n, direction: Number(key & 1n) as 0 | 1, entry };
  }

  /** Forgets what has faded away entirely. */
  prune(now: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (this.fade(e.lower, e.lowerAt, now) === 0 && (e.upper === Infinity || this.weight(e.upperAt, now) === 0)) {
        this.entries.delete(key);
        n++;
      }
    }
    if (n) this.version++;
    return n;
  }

  // ---- storage

  /**
   * Version 1, big-endian: u8 1 | u32 count | per direction: u32 scid high, u32 scid low, u8 direction,
   * f64 lower_msat, f64 upper_msat (+Infinity: none), u32 lower_at, u32 upper_at (seconds).
   * What has faded away is left out.
   */
  encode(now: number): Uint8Array {
    this.prune(now);
    const buf = new Uint8Array(5 + this.entries.size * ENTRY_BYTES);
    const v = new DataView(buf.buffer);
    v.setUint8(0, VERSION);
    v.setUint32(1, this.entries.size);
    let o = 5;
    for (const [key, e] of this.entries) {
      const scid = key >> 1n;
      v.setUint32(o, scidHigh(scid));
      v.setUint32(o + 4, scidLow(scid));
      v.setUint8(o + 8, Number(key & 1n));
      v.setFloat64(o + 9, e.lower);
      v.setFloat64(o + 17, e.upper);
      v.setUint32(o + 25, e.lowerAt);
      v.setUint32(o + 29, e.upperAt);
      o += ENTRY_BYTES;
    }
    return buf;
  }

  static decode(bytes: Uint8Array, o: ScorerOptions = {}): LiquidityScorer {
    const s = new LiquidityScorer(o);
    if (bytes.length < 5) throw new ScorerDecodeError('too short');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v.getUint8(0) !== VERSION) throw new ScorerDecodeError(`version ${v.getUint8(0)} is not one this version reads`);
    const count = v.getUint32(1);
    if (bytes.length !== 5 + count * ENTRY_BYTES) throw new ScorerDecodeError(`${bytes.length} bytes for ${count} entries`);
    for (let i = 0, p = 5; i < count; i++, p += ENTRY_BYTES) {
      const direction = v.getUint8(p + 8);
      const e: LearntEntry = { lower: v.getFloat64(p + 9), upper: v.getFloat64(p + 17), lowerAt: v.getUint32(p + 25), upperAt: v.getUint32(p + 29) };
      if (direction > 1 || !(e.lower >= 0) || !(e.upper >= 0)) throw new ScorerDecodeError(`entry ${i} is out of range`);
      s.entries.set(keyOf(scidOf(v.getUint32(p), v.getUint32(p + 4)), direction as 0 | 1), e);
    }
    return s;
  }

  // ---- inside

  private entry(scid: bigint, direction: 0 | 1): LearntEntry {
    return this.entries.get(keyOf(scid, direction)) ?? { lower: 0, lowerAt: 0, upper: Infinity, upperAt: 0 };
  }

  /** Puts an entry last (most recently learnt) and keeps the map within its size. */
  private touch(scid: bigint, direction: 0 | 1, e: LearntEntry): void {
    const key = keyOf(scid, direction);
    this.entries.delete(key);
    this.entries.set(key, e);
    this.version++;
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as bigint);
  }

  private weight(at: number, now: number): number {
    return boundWeight(at, now, this.halfLifeSeconds);
  }

  private fade(value: number, at: number, now: number): number {
    return value === 0 ? 0 : value * this.weight(at, now);
  }
}
