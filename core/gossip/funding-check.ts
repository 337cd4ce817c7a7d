/**
 * The funding output check of a channel_announcement (BOLT 7: the output its short_channel_id names
 * must be a P2WSH of the 2-of-2 of `bitcoin_key_1` and `bitcoin_key_2`, as BOLT 3's funding output,
 * and unspent), behind a lookup the shell provides (`FundingLookup`: its chain source finds the block,
 * the transaction and the output, and whether the output is spent).
 *
 * `FundingChecks` keeps what the lookups said in a bounded cache, asks at most `maxInFlight` at once,
 * and queues at most `maxQueued` more: a peer flooding announcements fills the queue, and what comes
 * after is refused (`queue_full`, to be asked again later) instead of growing memory or the chain
 * source's load without bound. Two announcements of one channel share one lookup.
 */
import { fundingScript, p2wsh } from '../tx/scripts.ts';
import { scidToString } from '../wire/scid.ts';

/** What the chain says of the output a short_channel_id names. */
export type FundingOutput =
  | { kind: 'unspent'; script: Uint8Array; valueSat: bigint }
  | { kind: 'spent' }
  /** No such output: the block has no such transaction, or the transaction no such output. */
  | { kind: 'missing' }
  /** The block is beyond our tip (we are behind): ask again later; not cached. */
  | { kind: 'not_yet' };

/** The shell's side: looks up one output. It may reject (chain source unreachable): the check then fails and is not cached. */
export type FundingLookup = (scid: bigint) => Promise<FundingOutput>;

export type FundingVerdict =
  | { ok: true; capacitySat: bigint }
  | { ok: false; reason: 'missing' | 'spent' | 'wrong_script' | 'not_yet' | 'queue_full' | 'lookup_failed'; message: string };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The verdict on one output for an announcement's two funding keys (pure). */
export function judgeFunding(scid: bigint, out: FundingOutput, bitcoinKey1: Uint8Array, bitcoinKey2: Uint8Array): FundingVerdict {
  const what = `the funding output of ${scidToString(scid)}`;
  switch (out.kind) {
    case 'missing':
      return { ok: false, reason: 'missing', message: `${what} does not exist on chain` };
    case 'spent':
      return { ok: false, reason: 'spent', message: `${what} is spent: the channel is closed` };
    case 'not_yet':
      return { ok: false, reason: 'not_yet', message: `${what} is in a block we do not have yet` };
    case 'unspent':
      if (!sameBytes(out.script, p2wsh(fundingScript(bitcoinKey1, bitcoinKey2)))) return { ok: false, reason: 'wrong_script', message: `${what} does not pay the 2-of-2 of the announced bitcoin keys` };
      return { ok: true, capacitySat: out.valueSat };
    default: {
      const never: never = out;
      throw new Error(`unknown funding output ${JSON.stringify(never)}`);
    }
  }
}

export interface FundingChecksOptions {
  /** Outputs remembered (oldest forgotten first). Default 20,000. */
  cacheSize?: number;
  /** Lookups under way at once. Default 4. */
  maxInFlight?: number;
  /** Checks waiting for a lookup slot; beyond this they are refused. Default 2,000. */
  maxQueued?: number;
}

interface Waiting {
  scid: bigint;
  settle: (out: FundingOutput | Error) => void;
}

export class FundingChecks {
  private readonly cache = new Map<bigint, FundingOutput>();
  /** One promise per channel being looked up or waiting, so repeats share it. */
  private readonly pending = new Map<bigint, Promise<FundingOutput | Error>>();
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private readonly cacheSize: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;

  constructor(
    private readonly lookup: FundingLookup,
    opts: FundingChecksOptions = {},
  ) {
    this.cacheSize = opts.cacheSize ?? 20_000;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxQueued = opts.maxQueued ?? 2_000;
  }

  /** Checks waiting for a lookup slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Lookups under way. */
  get running(): number {
    return this.inFlight;
  }

  /** What the cache holds for a channel, if anything. */
  cached(scid: bigint): FundingOutput | undefined {
    return this.cache.get(scid);
  }

  /** Checks one announcement's funding output: from the cache, or a lookup (now, or once a slot frees). */
  async check(scid: bigint, bitcoinKey1: Uint8Array, bitcoinKey2: Uint8Array): Promise<FundingVerdict> {
    const hit = this.cache.get(scid);
    if (hit) return judgeFunding(scid, hit, bitcoinKey1, bitcoinKey2);
    let p = this.pending.get(scid);
    if (!p) {
      if (this.inFlight >= this.maxInFlight && this.queue.length >= this.maxQueued) {
        return { ok: false, reason: 'queue_full', message: `${this.queue.length} funding checks are waiting already: ${scidToString(scid)} is not checked now; ask for it again later` };
      }
      p = new Promise<FundingOutput | Error>((settle) => this.queue.push({ scid, settle }));
      this.pending.set(scid, p);
      this.pump();
    }
    const out = await p;
    if (out instanceof Error) return { ok: false, reason: 'lookup_failed', message: `the funding output of ${scidToString(scid)} could not be looked up: ${out.message}` };
    return judgeFunding(scid, out, bitcoinKey1, bitcoinKey2);
  }

  /** The output was seen spent (a block spent it): later announcements of the channel are refused without a lookup. */
  markSpent(scid: bigint): void {
    this.remember(scid, { kind: 'spent' });
  }

  /** Forgets what is cached for a channel (a reorg put its funding back in question). */
  forget(scid: bigint): void {
    this.cache.delete(scid);
  }

  private remember(scid: bigint, out: FundingOutput): void {
    this.cache.delete(scid);
    this.cache.set(scid, out);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const w = this.queue.shift()!;
      this.inFlight++;
      void this.run(w);
    }
  }

  private async run(w: Waiting): Promise<void> {
    let out: FundingOutput | Error;
    try {
      out = await this.lookup(w.scid);
      if (out.kind !== 'not_yet') this.remember(w.scid, out);
    } catch (e) {
      out = e instanceof Error ? e : new Error(String(e));
    }
    this.inFlight--;
    this.pending.delete(w.scid);
    w.settle(out);
    this.pump();
  }
}
