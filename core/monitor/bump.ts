/**
 * Raising the fee of a claim as its deadline nears (BOLT 5 leaves the policy to the node): a feerate
 * schedule from the blocks left, when a new version is worth building, and what makes it a valid
 * replacement of the one before (BIP 125). Pure: heights, feerates and a builder in; a claim out.
 * LDK's OnchainTxHandler bumps its claims by at least a quarter as their timelocks near, lnd's sweeper
 * raises a budgeted feerate towards the deadline; we do the same with the node's three estimates.
 *
 * A claim keeps its id (what it spends) across versions, so every version conflicts with the others
 * and at most one can confirm; the txids it replaced are kept with it, so whichever confirms is ours.
 */
import type { BuildResult, NotBuilt, WalletCoin } from './types.ts';

/**
 * A transaction built for a claim, kept so that the claim planned again is the same transaction (or,
 * when its fee must rise, a replacement of it under the same id).
 */
export interface Claim {
  id: string;
  label: string;
  txid: string;
  txHex: string;
  deadline: number;
  /**
   * The feerate this version was built for, sat/kw (for a CPFP child, the package's), its own fee and
   * weight: what the next version must outbid. Absent on claims stored before fees were bumped, and on
   * transactions whose fee is fixed by what the peer signed: those are never replaced.
   */
  feeratePerKw?: number;
  feeSat?: bigint;
  weight?: number;
  /** Txids of the versions this one replaced, oldest first: any of them may still confirm, and is ours. */
  replaced?: string[];
  /** The wallet coins it spends for its fee, offered again to its replacement. */
  coins?: WalletCoin[];
}

/**
 * The node's fee estimates, sat/kw, for confirmation within 2 (urgent), 6 (normal) and 144 (economy)
 * blocks: what FeeEstimator answers for each FeeTarget (core/chain/types.ts).
 */
export interface FeeEstimates {
  urgent: number;
  normal: number;
  economy: number;
}

/** A new version is built only when the schedule asks a quarter more than the last one paid. */
export const BUMP_RATIO = 1.25;
/** With this many blocks left or fewer, the claim must get into the very next block: the aggressive rate. */
export const AGGRESSIVE_BLOCKS = 1;
/** The aggressive rate is the urgent estimate times this. */
export const AGGRESSIVE_FACTOR = 2;
/** Bitcoin Core's incremental relay fee (1 sat/vB): what a replacement pays on top of what it evicts. */
export const INCREMENTAL_RELAY_SAT_PER_VB = 1n;

/** A transaction's virtual size (BIP 141): weight / 4, rounded up. */
export const vsizeOf = (weight: number): number => Math.ceil(weight / 4);

/** Between two estimates on a log scale of blocks: `a` at `from` blocks, `b` at `to`. */
function between(blocks: number, from: number, a: number, to: number, b: number): number {
  const t = Math.log(blocks / from) / Math.log(to / from);
  return a + (b - a) * t;
}

/**
 * The feerate (sat/kw) a claim with `blocksLeft` blocks to its deadline should pay: economy from 144
 * blocks, normal at 6, urgent at 2 (in between on a log scale of blocks), and the aggressive rate (twice
 * urgent) from the last block on. Never falling as the deadline nears, whatever the estimates say.
 */
export function scheduledFeerate(blocksLeft: number, e: FeeEstimates): number {
  const normal = e.normal;
  const economy = Math.min(e.economy, normal);
  const urgent = Math.max(e.urgent, normal);
  let rate: number;
  if (blocksLeft <= AGGRESSIVE_BLOCKS) rate = urgent * AGGRESSIVE_FACTOR;
  else if (blocksLeft <= 2) rate = urgent;
  else if (blocksLeft <= 6) rate = between(blocksLeft, 2, urgent, 6, normal);
  else if (blocksLeft < 144) rate = between(blocksLeft, 6, normal, 144, economy);
  else rate = economy;
  return Math.ceil(rate);
}

/** The schedule's feerate when the last version paid `paid` (sat/kw): undefined while no bump is due. */
export function bumpTarget(paid: number, blocksLeft: number, e: FeeEstimates): number | undefined {
  const target = scheduledFeerate(blocksLeft, e);
  return target >= paid * BUMP_RATIO ? target : undefined;
}

/** What a replacement must outbid: the fee and weight of the version it replaces. */
export interface Replaced {
  feeSat: bigint;
  weight: number;
}

/** The least absolute fee a replacement of `weight` pays over `replaced` (BIP 125 rules 3 and 4). */
export function minReplacementFee(replaced: Replaced, weight: number): bigint {
  return replaced.feeSat + BigInt(vsizeOf(weight)) * INCREMENTAL_RELAY_SAT_PER_VB;
}

/**
 * Would a node take `next` in place of `replaced`? It pays at least the replaced fee plus the
 * incremental relay fee for its own size, and a higher feerate (Bitcoin Core's rules for a direct
 * conflict). The transaction's own fee counts here, not a package's: a CPFP child replaces a child.
 */
export function isValidReplacement(replaced: Replaced, next: Replaced): boolean {
  const vNext = BigInt(vsizeOf(next.weight));
  const vOld = BigInt(vsizeOf(replaced.weight));
  return next.feeSat >= minReplacementFee(replaced, next.weight) && next.feeSat * vOld > replaced.feeSat * vNext;
}

/** Tries to reach a valid replacement, raising the feerate from `target`; gives up after this many. */
const REPLACEMENT_TRIES = 8;

/**
 * Builds at `target` and, when that does not outbid `replaced`, again at a feerate raised in proportion
 * to the fee still missing, until it does (or the builder cannot: dust, too few wallet coins).
 */
export function buildReplacement(build: (feeratePerKw: number) => BuildResult, target: number, replaced?: Replaced): BuildResult {
  let rate = target;
  for (let i = 0; i < REPLACEMENT_TRIES; i++) {
    const r = build(rate);
    if (!r.ok || !replaced || isValidReplacement(replaced, r)) return r;
    const need = minReplacementFee(replaced, r.weight) + 1n;
    const have = r.feeSat > 0n ? r.feeSat : 1n;
    rate = Math.max(rate + 1, Math.ceil((rate * Number(need)) / Number(have)));
  }
  return { ok: false, reason: 'nothing-to-sweep', message: `no version paying more than ${replaced!.feeSat} sat could be built` };
}

/** What a claim's builder is handed: the feerate to pay, and the wallet coins it may spend for fees. */
export type ClaimBuilder = (feeratePerKw: number, coins: () => readonly WalletCoin[]) => BuildResult;

export interface ClaimVersionOptions {
  id: string;
  label: string;
  deadline: number;
  tip: number;
  estimates: FeeEstimates;
  /** The version built before, if any. */
  kept?: Claim;
  /** The wallet's fee coins now (read only when a builder asks). */
  walletCoins?: () => readonly WalletCoin[];
  build: ClaimBuilder;
  /** The fee is what the peer signed (an HTLC transaction without anchors): built once, never replaced. */
  fixedFee?: boolean;
  /** Keep the version built before whatever the schedule says (no block since: nothing to raise for). */
  hold?: boolean;
}

/**
 * The claim to publish now: the kept version while no bump is due (or none can be built), a new one
 * at the schedule's feerate when the deadline or the estimates call for it, or the first one. A new
 * version is offered the wallet coins of the one it replaces first (they come back once it is gone).
 */
export function claimVersion(o: ClaimVersionOptions): { claim?: Claim; notBuilt?: NotBuilt; bumped?: boolean } {
  const blocksLeft = o.deadline - o.tip;
  const k = o.kept;
  let target: number | undefined;
  if (k) {
    // A claim stored before its fee was kept cannot be outbid with certainty: it stays as it is.
    if (o.hold || k.feeSat === undefined || k.weight === undefined || k.feeratePerKw === undefined) return { claim: k };
    target = bumpTarget(k.feeratePerKw, blocksLeft, o.estimates);
    if (target === undefined) return { claim: k };
  }
  let offered: readonly WalletCoin[] = [];
  const coins = (): readonly WalletCoin[] => {
    const seen = new Set<string>();
    offered = [...(k?.coins ?? []), ...(o.walletCoins?.() ?? [])].filter((c) => {
      const key = `${c.outpoint.txid}:${c.outpoint.vout}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    return offered;
  };
  const r = buildReplacement((rate) => o.build(rate, coins), target ?? scheduledFeerate(blocksLeft, o.estimates), k ? { feeSat: k.feeSat!, weight: k.weight! } : undefined);
  if (!r.ok) return k ? { claim: k, notBuilt: r } : { notBuilt: r };
  const spent = new Set(r.tx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`));
  const used = offered.filter((c) => spent.has(`${c.outpoint.txid}:${c.outpoint.vout}`));
  const claim: Claim = {
    id: o.id,
    label: o.label,
    txid: r.txid,
    txHex: r.tx.toHex(),
    deadline: o.deadline,
    ...(o.fixedFee ? {} : { feeratePerKw: r.feeratePerKw, feeSat: r.feeSat, weight: r.weight }),
    ...(k ? { replaced: [...(k.replaced ?? []), k.txid] } : {}),
    ...(used.length ? { coins: used } : {}),
  };
  return { claim, bumped: !!k };
}

/** Every txid a claim has had: its versions before, and now. */
export function claimTxids(c: Claim): string[] {
  return [...(c.replaced ?? []), c.txid];
}
