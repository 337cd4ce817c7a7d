/**
 * The order of History: newest first. A payment and an invoice often end within the same second (pay,
 * then be paid back), so rows are ordered by their moment to the millisecond, and what is still tied
 * keeps one order between refreshes.
 */

/** What History orders a row by. */
export interface Dated {
  key: string;
  /** ms since the epoch. */
  timeMs: number;
  status: string;
}

/** On-chain transactions still waiting for a block are as new as it gets. */
const waiting = (r: Dated): number => (r.status === 'Waiting for a block' ? 1 : 0);

/** Array.prototype.sort comparator: newest first, ties by key. */
export function newestFirst(a: Dated, b: Dated): number {
  return waiting(b) - waiting(a) || b.timeMs - a.timeMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** A time the node gives in nanoseconds (decimal string), in ms. */
export function nsToMs(ns: string): number {
  return Number(BigInt(ns) / 1_000_000n);
}
