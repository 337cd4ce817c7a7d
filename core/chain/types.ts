/**
 * What the node needs from a chain, as narrow interfaces. bitcoind (core/chain/bitcoind) provides them
 * over JSON-RPC; the playground serves the same JSON-RPC, so the same code runs against both.
 */
import type { Block, Transaction } from 'bitcoinjs-lib';

export interface ChainPoint {
  hash: string;
  height: number;
}

/**
 * Chain events. Ordering rules: blocks are connected one at a time in height order, each building on
 * the previous one delivered; on a reorg, blocks are first disconnected newest first back to the fork
 * point, then the new branch is connected. A listener's promise is awaited before the next event.
 */
export type ChainEvent =
  | { type: 'connected'; hash: string; height: number; block: Block; raw: Uint8Array }
  | { type: 'disconnected'; hash: string; height: number };

export type ChainListener = (e: ChainEvent) => Promise<void> | void;

/**
 * Unconfirmed transactions: after the blocks of a poll are delivered, the ones that entered the
 * mempool since the last poll, and the txids that left it (mined, replaced or evicted).
 */
export type MempoolListener = (added: { txid: string; tx: Transaction }[], removed: string[]) => Promise<void> | void;

export interface ChainStatus {
  /** Our tip has caught up with the chain source's best block, and the source itself is synced. */
  synced: boolean;
  height: number;
  hash: string;
  /** The source's best height, to show progress. */
  bestHeight: number;
  /** bitcoind is still in initial block download. */
  initialBlockDownload: boolean;
  /** Why the last poll failed, in words; undefined when all is well. */
  error?: string;
}

export interface ChainSource {
  /** Delivers blocks after `from` (or from the current tip when absent) and follows the best chain. */
  start(listener: ChainListener, from?: ChainPoint, mempool?: MempoolListener): Promise<void>;
  stop(): Promise<void>;
  status(): ChainStatus;
  /** Resolves once the next poll has run (tests and `generate` callers use it). */
  poke(): Promise<void>;
  /** Tells `fn` the status after each poll that changed it (reachable or not, synced, the best height). */
  onStatus?(fn: (s: ChainStatus) => void): void;
}

export type FeeTarget = 'urgent' | 'normal' | 'economy';

/** Answers from a cache refreshed in the background, so it can be called synchronously anywhere. */
export interface FeeEstimator {
  feerateSatPerKw(target: FeeTarget): number;
}

export interface Broadcaster {
  /** Sends a transaction and keeps re-sending it each block until it confirms. Resolves with the txid. */
  broadcast(txHex: string): Promise<string>;
}

/** The fee floor: 253 sat per 1000 weight units (1.012 sat/vB), the minimum relay fee rounded up. */
export const FEERATE_FLOOR_SAT_PER_KW = 253;

export function satPerVbToSatPerKw(satPerVb: number): number {
  return Math.max(FEERATE_FLOOR_SAT_PER_KW, Math.round(satPerVb * 250));
}

export function satPerKwToSatPerVb(satPerKw: number): number {
  return satPerKw / 250;
}
