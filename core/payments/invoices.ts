/**
 * The receive side of payments: the invoices this node issues, and what becomes of the HTLCs that pay
 * them. One durable store (`invoices.json` in the data directory) holds every invoice with its preimage,
 * payment secret and the HTLCs of its set, so a restart loses neither an invoice nor a decision.
 *
 * The HTLC layer asks onHtlc() about each incoming HTLC whose onion says we are the final node. The
 * answer is one of: fail it (with the BOLT 4 failure to send back), hold it (a part of a multi-part
 * payment, waiting for the rest), or settle the whole set with the preimage. It then fulfills the set
 * and calls markSettled(). Held parts that see no completion are failed through onMppTimeout().
 *
 * States: OPEN (payable) → ACCEPTED (HTLCs held) → SETTLED; OPEN or ACCEPTED → CANCELED. An ACCEPTED
 * set that failed (timeout, mismatched total) goes back to OPEN and can be paid again.
 */
import { randomBytes } from 'node:crypto';
import { encodeInvoice } from '../invoice/bolt11.ts';
import type { InvoiceNetwork, RouteHintHop } from '../invoice/bolt11.ts';
import { sha256 } from '../crypto/hash.ts';
import { bytesEqual, hex } from '../util/bytes.ts';
import { FeatureSet } from '../wire/index.ts';
import { openStore } from '../store/store.ts';
import type { DeepReadonly, Store } from '../store/store.ts';
import type { Network } from '../keys/node-key.ts';

/** Invoice lifetime when none is given: one day. */
export const DEFAULT_EXPIRY_SEC = 86_400;
/** BOLT 11's floor is 18; a longer final delta leaves us more blocks to claim on chain if we must. */
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 80;
export const MIN_FINAL_CLTV_EXPIRY_DELTA_FLOOR = 18;
/** BOLT 4: wait at least this long after the first part of a multi-part payment before failing the set. */
export const MPP_TIMEOUT_MS = 60_000;
/** The longest `d` field BOLT 11 can carry (10-bit length in 5-bit words). */
export const MAX_MEMO_BYTES = 639;
const MAX_EXPIRY_SEC = 365 * 86_400;
const MAX_MIN_FINAL_CLTV_EXPIRY_DELTA = 2016;
const MAX_MSAT = 21_000_000n * 100_000_000n * 1000n;

/** Features every invoice of ours carries (BOLT 9, context 9). */
export function invoiceFeatures(): FeatureSet {
  return FeatureSet.of({ var_onion_optin: 'required', payment_secret: 'required', basic_mpp: 'optional' });
}

/** The prefix an invoice gets on each chain (testnet4 shares testnet's `tb`). */
export function invoiceNetwork(network: Network): InvoiceNetwork {
  return network === 'testnet4' ? 'testnet' : network;
}

export type InvoiceState = 'OPEN' | 'ACCEPTED' | 'SETTLED' | 'CANCELED';
export type HtlcState = 'ACCEPTED' | 'SETTLED' | 'CANCELED';

/** The BOLT 4 failures a final node returns for a payment it will not take. */
export type HtlcFailReason = 'incorrect_or_unknown_payment_details' | 'final_incorrect_cltv_expiry' | 'final_incorrect_htlc_amount' | 'mpp_timeout';

export class InvoiceRegistryError extends Error {
  constructor(
    readonly code: 'invalid_argument' | 'not_found' | 'failed_precondition' | 'already_exists',
    message: string,
  ) {
    super(message);
    this.name = 'InvoiceRegistryError';
  }
}

interface HtlcRecord {
  htlcId: string;
  amountMsat: string;
  totalMsat: string;
  cltvExpiry: number;
  /** When we took it (ms since the epoch). */
  acceptedAt: number;
  state: HtlcState;
  failReason?: HtlcFailReason;
}

interface InvoiceRecord {
  paymentHash: string;
  preimage: string;
  paymentSecret: string;
  paymentRequest: string;
  /** msat, or absent for an invoice that lets the payer choose. */
  amountMsat?: string;
  memo: string;
  descriptionHash?: string;
  /** The invoice's timestamp, seconds. */
  creationDate: number;
  expirySec: number;
  minFinalCltvExpiryDelta: number;
  private: boolean;
  state: InvoiceState;
  addIndex: number;
  settleIndex: number;
  settleDate: number;
  /** When it was settled, ms since the epoch (records settled before this was kept have only settleDate). */
  settledAt?: number;
  amtPaidMsat: string;
  /** The set's parts reached its total and the preimage may be released: no new part, no cancel, no timeout. */
  complete: boolean;
  htlcs: HtlcRecord[];
}

interface InvoicesDb {
  lastAddIndex: number;
  lastSettleIndex: number;
  invoices: Record<string, InvoiceRecord>;
}

export interface InvoiceHtlc {
  readonly htlcId: string;
  readonly amountMsat: bigint;
  readonly totalMsat: bigint;
  readonly cltvExpiry: number;
  readonly acceptedAt: number;
  readonly state: HtlcState;
  readonly failReason?: HtlcFailReason;
}

/** An invoice as the registry reports it (hashes, secrets and preimages in hex). */
export interface InvoiceEntry {
  readonly paymentHash: string;
  readonly preimage: string;
  readonly paymentSecret: string;
  readonly paymentRequest: string;
  readonly amountMsat: bigint | undefined;
  readonly memo: string;
  readonly descriptionHash: string | undefined;
  readonly creationDate: number;
  readonly expirySec: number;
  readonly minFinalCltvExpiryDelta: number;
  readonly private: boolean;
  readonly state: InvoiceState;
  readonly addIndex: number;
  /** 0 until settled. */
  readonly settleIndex: number;
  /** Seconds; 0 until settled. */
  readonly settleDate: number;
  /** ms since the epoch; 0 until settled (to the second for invoices settled by older versions). */
  readonly settledAt: number;
  readonly amtPaidMsat: bigint;
  readonly htlcs: readonly InvoiceHtlc[];
}

export interface CreateInvoiceOptions {
  amountMsat?: bigint;
  /** The description (`d`); with descriptionHash it stays a local note and `h` goes in the invoice. */
  memo?: string;
  descriptionHash?: Uint8Array;
  expirySec?: number;
  minFinalCltvExpiryDelta?: number;
  routeHints?: RouteHintHop[][];
  private?: boolean;
}

export interface ListInvoicesOptions {
  /** Only OPEN and ACCEPTED invoices. */
  pendingOnly?: boolean;
  /** Start after (or, reversed, before) this add_index; 0 for the start (or end). */
  indexOffset?: number;
  /** At most this many (default 100). */
  numMaxInvoices?: number;
  /** Page backwards from indexOffset, newest first in the paging but still returned oldest first. */
  reversed?: boolean;
}

/** An incoming HTLC for which we are the final node, as the HTLC layer decoded it. */
export interface IncomingHtlc {
  paymentHash: Uint8Array | string;
  /** From the onion's payment_data; undefined when the payer left it out. */
  paymentSecret: Uint8Array | undefined;
  /** What the HTLC itself carries. */
  amountMsat: bigint;
  /** The onion's total_msat (equal to the amount for a single-part payment). */
  totalMsat: bigint;
  cltvExpiry: number;
  currentHeight: number;
  /**
   * Unique across every channel (e.g. `<channel id>:<htlc id>`). The same id seen again is taken as a
   * replay of that HTLC (after a reconnection or a restart), never as a second payment.
   */
  htlcId: string;
  /** The onion's amt_to_forward, when the caller wants it checked against the HTLC. */
  amtToForwardMsat?: bigint;
  /** The onion's outgoing_cltv_value, when the caller wants it checked against the HTLC. */
  outgoingCltvValue?: number;
}

export type HtlcDecision =
  /** Fail these HTLCs (this one, and for a broken set its held parts) with `reason`; `detail` is for logs. */
  | { action: 'fail'; reason: HtlcFailReason; detail: string; htlcIds: string[] }
  /** Keep the HTLC: more parts are due. Call onMppTimeout() at mppDeadline if the set is still incomplete. */
  | { action: 'hold'; mppDeadline: number }
  /** Fulfill every HTLC of the set with the preimage, then call markSettled(). */
  | { action: 'settle'; preimage: Uint8Array; htlcIds: string[] };

export interface HeldSet {
  paymentHash: string;
  htlcIds: string[];
  /** When onMppTimeout() will fail an incomplete set (ms since the epoch). */
  mppDeadline: number;
  /** Complete sets are waiting to be fulfilled: settle them, never fail them. */
  complete: boolean;
}

export interface InvoiceRegistryOptions {
  dir: string;
  /** The node's identity key: invoices are signed with it. */
  nodeSecret: Uint8Array;
  network: Network;
  /** The clock, ms since the epoch (tests move it). */
  now?: () => number;
}

const HASH_HEX = /^[0-9a-f]{64}$/;

function hashKey(h: Uint8Array | string): string {
  if (typeof h !== 'string') {
    if (h.length !== 32) throw new InvoiceRegistryError('invalid_argument', 'a payment hash is 32 bytes');
    return hex.encode(h);
  }
  const k = h.toLowerCase();
  if (!HASH_HEX.test(k)) throw new InvoiceRegistryError('invalid_argument', 'a payment hash is 64 hex characters');
  return k;
}

function entryOf(r: DeepReadonly<InvoiceRecord>): InvoiceEntry {
  return {
    paymentHash: r.paymentHash,
    preimage: r.preimage,
    paymentSecret: r.paymentSecret,
    paymentRequest: r.paymentRequest,
    amountMsat: r.amountMsat !== undefined ? BigInt(r.amountMsat) : undefined,
    memo: r.memo,
    descriptionHash: r.descriptionHash,
    creationDate: r.creationDate,
    expirySec: r.expirySec,
    minFinalCltvExpiryDelta: r.minFinalCltvExpiryDelta,
    private: r.private,
    state: r.state,
    addIndex: r.addIndex,
    settleIndex: r.settleIndex,
    settleDate: r.settleDate,
    settledAt: r.settledAt ?? r.settleDate * 1000,
    amtPaidMsat: BigInt(r.amtPaidMsat),
    htlcs: r.htlcs.map((h) => ({
      htlcId: h.htlcId,
      amountMsat: BigInt(h.amountMsat),
      totalMsat: BigInt(h.totalMsat),
      cltvExpiry: h.cltvExpiry,
      acceptedAt: h.acceptedAt,
      state: h.state,
      ...(h.failReason ? { failReason: h.failReason } : {}),
    })),
  };
}

const held = (r: DeepReadonly<InvoiceRecord>): DeepReadonly<HtlcRecord>[] => r.htlcs.filter((h) => h.state === 'ACCEPTED');
const sumMsat = (hs: readonly DeepReadonly<HtlcRecord>[]): bigint => hs.reduce((s, h) => s + BigInt(h.amountMsat), 0n);

export class InvoiceRegistry {
  private readonly now: () => number;
  private readonly cancelListeners = new Set<(paymentHash: string, htlcIds: string[]) => void>();

  /** Changes with every change to the stored records (the app's change events compare it). */
  get revision(): number {
    return this.db.revision;
  }

  private constructor(
    private readonly db: Store<InvoicesDb>,
    private readonly nodeSecret: Uint8Array,
    private readonly network: Network,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? Date.now;
  }

  static async open(opts: InvoiceRegistryOptions): Promise<InvoiceRegistry> {
    const db = await openStore<InvoicesDb>({ dir: opts.dir, name: 'invoices', version: 1, migrations: [], defaults: () => ({ lastAddIndex: 0, lastSettleIndex: 0, invoices: {} }) });
    return new InvoiceRegistry(db, opts.nodeSecret, opts.network, opts.now);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * Calls `fn` after an invoice holding HTLCs is canceled, with the HTLC ids to fail back
   * (incorrect_or_unknown_payment_details): cancel() may come from the user, not the HTLC layer.
   * Returns the way to unsubscribe.
   */
  onCancel(fn: (paymentHash: string, htlcIds: string[]) => void): () => void {
    this.cancelListeners.add(fn);
    return () => void this.cancelListeners.delete(fn);
  }

  /** Makes, signs and records a new invoice; resolves once it is durable. */
  async create(opts: CreateInvoiceOptions = {}): Promise<InvoiceEntry> {
    const expirySec = opts.expirySec ?? DEFAULT_EXPIRY_SEC;
    const minFinal = opts.minFinalCltvExpiryDelta ?? DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA;
    const memo = opts.memo ?? '';
    const bad = (m: string): never => {
      throw new InvoiceRegistryError('invalid_argument', m);
    };
    if (opts.amountMsat !== undefined && (opts.amountMsat <= 0n || opts.amountMsat > MAX_MSAT)) bad('the amount must be more than zero and at most 21 million bitcoin');
    if (!Number.isSafeInteger(expirySec) || expirySec < 1 || expirySec > MAX_EXPIRY_SEC) bad(`the expiry must be 1 to ${MAX_EXPIRY_SEC} seconds`);
    if (!Number.isSafeInteger(minFinal) || minFinal < MIN_FINAL_CLTV_EXPIRY_DELTA_FLOOR || minFinal > MAX_MIN_FINAL_CLTV_EXPIRY_DELTA) {
      bad(`the final CLTV delta must be ${MIN_FINAL_CLTV_EXPIRY_DELTA_FLOOR} to ${MAX_MIN_FINAL_CLTV_EXPIRY_DELTA} blocks`);
    }
    if (new TextEncoder().encode(memo).length > MAX_MEMO_BYTES) bad(`the memo is too long for an invoice (at most ${MAX_MEMO_BYTES} bytes)`);
    if (opts.descriptionHash && opts.descriptionHash.length !== 32) bad('a description hash is 32 bytes (the SHA-256 of the description)');
    for (const hops of opts.routeHints ?? []) {
      if (!hops.length || hops.length > 20) bad('a route hint has 1 to 20 hops');
    }

    const preimage = Uint8Array.from(randomBytes(32));
    const paymentSecret = Uint8Array.from(randomBytes(32));
    const paymentHash = sha256(preimage);
    const key = hex.encode(paymentHash);
    if (this.db.data.invoices[key]) throw new InvoiceRegistryError('already_exists', 'an invoice with this payment hash exists already');
    const timestamp = Math.floor(this.now() / 1000);
    const paymentRequest = encodeInvoice(
      {
        network: invoiceNetwork(this.network),
        ...(opts.amountMsat !== undefined ? { amountMsat: opts.amountMsat } : {}),
        timestamp,
        paymentHash,
        paymentSecret,
        ...(opts.descriptionHash ? { descriptionHash: opts.descriptionHash } : { description: memo }),
        expiry: expirySec,
        minFinalCltvExpiryDelta: minFinal,
        ...(opts.routeHints?.length ? { routeHints: opts.routeHints } : {}),
        features: invoiceFeatures(),
      },
      this.nodeSecret,
    );
    await this.db.update((d) => {
      const addIndex = d.lastAddIndex + 1;
      d.lastAddIndex = addIndex;
      d.invoices[key] = {
        paymentHash: key,
        preimage: hex.encode(preimage),
        paymentSecret: hex.encode(paymentSecret),
        paymentRequest,
        ...(opts.amountMsat !== undefined ? { amountMsat: opts.amountMsat.toString() } : {}),
        memo,
        ...(opts.descriptionHash ? { descriptionHash: hex.encode(opts.descriptionHash) } : {}),
        creationDate: timestamp,
        expirySec,
        minFinalCltvExpiryDelta: minFinal,
        private: opts.private ?? false,
        state: 'OPEN',
        addIndex,
        settleIndex: 0,
        settleDate: 0,
        amtPaidMsat: '0',
        complete: false,
        htlcs: [],
      };
    });
    return entryOf(this.db.data.invoices[key]!);
  }

  lookup(paymentHash: Uint8Array | string): InvoiceEntry | undefined {
    const r = this.db.data.invoices[hashKey(paymentHash)];
    return r ? entryOf(r) : undefined;
  }

  /** Invoices in add_index order, a page at a time (lncli's listinvoices). */
  list(opts: ListInvoicesOptions = {}): { invoices: InvoiceEntry[]; firstIndexOffset: number; lastIndexOffset: number } {
    const max = opts.numMaxInvoices ?? 100;
    const offset = opts.indexOffset ?? 0;
    let all = Object.values(this.db.data.invoices).sort((a, b) => a.addIndex - b.addIndex);
    if (opts.pendingOnly) all = all.filter((r) => r.state === 'OPEN' || r.state === 'ACCEPTED');
    let page: typeof all;
    if (opts.reversed) {
      const before = offset > 0 ? all.filter((r) => r.addIndex < offset) : all;
      page = before.slice(Math.max(0, before.length - max));
    } else {
      page = all.filter((r) => r.addIndex > offset).slice(0, max);
    }
    return { invoices: page.map(entryOf), firstIndexOffset: page[0]?.addIndex ?? 0, lastIndexOffset: page[page.length - 1]?.addIndex ?? 0 };
  }

  /**
   * Cancels an invoice that is not settled: it takes no more payments. Resolves with the HTLCs it was
   * holding (also told to onCancel listeners), which the HTLC layer fails back
   * (incorrect_or_unknown_payment_details). Canceling twice is
   * harmless. Refused once the invoice is settled or its set is complete (the preimage may be out).
   */
  async cancel(paymentHash: Uint8Array | string): Promise<string[]> {
    const key = hashKey(paymentHash);
    const r = this.db.data.invoices[key];
    if (!r) throw new InvoiceRegistryError('not_found', `there is no invoice with payment hash ${key}`);
    if (r.state === 'SETTLED') throw new InvoiceRegistryError('failed_precondition', 'the invoice is settled already; it cannot be canceled');
    if (r.complete) throw new InvoiceRegistryError('failed_precondition', 'the invoice is being settled (every part of its payment arrived); it cannot be canceled');
    if (r.state === 'CANCELED') return [];
    const ids = held(r).map((h) => h.htlcId);
    await this.db.update((d) => {
      const rec = d.invoices[key]!;
      rec.state = 'CANCELED';
      for (const h of rec.htlcs) {
        if (h.state !== 'ACCEPTED') continue;
        h.state = 'CANCELED';
        h.failReason = 'incorrect_or_unknown_payment_details';
      }
    });
    if (ids.length) for (const fn of this.cancelListeners) fn(key, ids);
    return ids;
  }

  /**
   * Decides what to do with an incoming HTLC that pays one of our invoices, and records the decision
   * durably before returning it (a hold or a settle survives a restart; a replayed HTLC id gets the same
   * answer again).
   */
  async onHtlc(htlc: IncomingHtlc): Promise<HtlcDecision> {
    const key = hashKey(htlc.paymentHash);
    const r = this.db.data.invoices[key];
    const fail = (reason: HtlcFailReason, detail: string, others: string[] = []): HtlcDecision => ({ action: 'fail', reason, detail, htlcIds: [htlc.htlcId, ...others] });
    const unknown = (detail: string, others?: string[]): HtlcDecision => fail('incorrect_or_unknown_payment_details', detail, others);
    if (!r) return unknown('no invoice has this payment hash');

    const seen = r.htlcs.find((h) => h.htlcId === htlc.htlcId);
    if (seen) return this.replay(r, seen);

    if (r.state === 'SETTLED') return unknown('the invoice is paid already');
    if (r.state === 'CANCELED') return unknown('the invoice is canceled');
    if (r.complete) return unknown('the payment is complete already; this part is not needed');
    if (!htlc.paymentSecret || !bytesEqual(htlc.paymentSecret, hex.decode(r.paymentSecret))) return unknown('wrong or missing payment secret');
    const nowMs = this.now();
    if (r.state === 'OPEN' && Math.floor(nowMs / 1000) > r.creationDate + r.expirySec) return unknown('the invoice has expired');
    if (htlc.amtToForwardMsat !== undefined && htlc.amountMsat < htlc.amtToForwardMsat) {
      return fail('final_incorrect_htlc_amount', `the HTLC carries ${htlc.amountMsat} msat but the onion says ${htlc.amtToForwardMsat}`);
    }
    if (htlc.outgoingCltvValue !== undefined && htlc.cltvExpiry < htlc.outgoingCltvValue) {
      return fail('final_incorrect_cltv_expiry', `the HTLC expires at ${htlc.cltvExpiry} but the onion says ${htlc.outgoingCltvValue}`);
    }
    // BOLT 4 returns incorrect_or_unknown_payment_details for an expiry too near, so the payer learns nothing more.
    if (htlc.cltvExpiry < htlc.currentHeight + r.minFinalCltvExpiryDelta) {
      return unknown(`the HTLC expires at ${htlc.cltvExpiry}, sooner than height ${htlc.currentHeight} + ${r.minFinalCltvExpiryDelta}`);
    }
    if (htlc.amountMsat <= 0n || htlc.totalMsat <= 0n) return unknown('the amount is zero');
    const expected = r.amountMsat !== undefined ? BigInt(r.amountMsat) : undefined;
    if (expected !== undefined && htlc.totalMsat < expected) return unknown(`the payment is for ${htlc.totalMsat} msat, less than the ${expected} msat asked`);
    if (expected !== undefined && htlc.totalMsat > 2n * expected) return unknown(`the payment is for ${htlc.totalMsat} msat, more than twice the ${expected} msat asked`);

    const parts = held(r);
    if (parts.length && parts.some((h) => BigInt(h.totalMsat) !== htlc.totalMsat)) {
      // BOLT 4: parts that disagree on the total break the whole set.
      const ids = parts.map((h) => h.htlcId);
      await this.db.update((d) => {
        const rec = d.invoices[key]!;
        for (const h of rec.htlcs) {
          if (h.state !== 'ACCEPTED') continue;
          h.state = 'CANCELED';
          h.failReason = 'incorrect_or_unknown_payment_details';
        }
        rec.state = 'OPEN';
      });
      return unknown(`the parts disagree on the total (${parts[0]!.totalMsat} and ${htlc.totalMsat} msat)`, ids);
    }

    const complete = sumMsat(parts) + htlc.amountMsat >= htlc.totalMsat;
    await this.db.update((d) => {
      const rec = d.invoices[key]!;
      rec.htlcs.push({
        htlcId: htlc.htlcId,
        amountMsat: htlc.amountMsat.toString(),
        totalMsat: htlc.totalMsat.toString(),
        cltvExpiry: htlc.cltvExpiry,
        acceptedAt: nowMs,
        state: 'ACCEPTED',
      });
      rec.state = 'ACCEPTED';
      rec.complete = complete;
    });
    const after = this.db.data.invoices[key]!;
    if (complete) return { action: 'settle', preimage: hex.decode(after.preimage), htlcIds: held(after).map((h) => h.htlcId) };
    return { action: 'hold', mppDeadline: this.deadline(after) };
  }

  /** The answer for an HTLC id we have seen before: whatever became of it. */
  private replay(r: DeepReadonly<InvoiceRecord>, h: DeepReadonly<HtlcRecord>): HtlcDecision {
    if (h.state === 'SETTLED') return { action: 'settle', preimage: hex.decode(r.preimage), htlcIds: r.htlcs.filter((x) => x.state === 'SETTLED').map((x) => x.htlcId) };
    if (h.state === 'CANCELED') {
      const reason = h.failReason ?? 'incorrect_or_unknown_payment_details';
      return { action: 'fail', reason, detail: 'this HTLC was failed before', htlcIds: [h.htlcId] };
    }
    if (r.complete) return { action: 'settle', preimage: hex.decode(r.preimage), htlcIds: held(r).map((x) => x.htlcId) };
    return { action: 'hold', mppDeadline: this.deadline(r) };
  }

  private deadline(r: DeepReadonly<InvoiceRecord>): number {
    const first = Math.min(...held(r).map((h) => h.acceptedAt));
    return first + MPP_TIMEOUT_MS;
  }

  /**
   * Fails an incomplete set whose first part came at least MPP_TIMEOUT_MS ago: resolves with the HTLC ids
   * to fail with mpp_timeout (none if the set completed, was already failed, or it is too early). The
   * invoice is OPEN again afterwards.
   */
  async onMppTimeout(paymentHash: Uint8Array | string): Promise<string[]> {
    const key = hashKey(paymentHash);
    const r = this.db.data.invoices[key];
    if (!r || r.state !== 'ACCEPTED' || r.complete) return [];
    const parts = held(r);
    if (!parts.length || this.now() < this.deadline(r)) return [];
    await this.db.update((d) => {
      const rec = d.invoices[key]!;
      for (const h of rec.htlcs) {
        if (h.state !== 'ACCEPTED') continue;
        h.state = 'CANCELED';
        h.failReason = 'mpp_timeout';
      }
      rec.state = 'OPEN';
    });
    return parts.map((h) => h.htlcId);
  }

  /**
   * Records that the set was fulfilled and `amountPaidMsat` received. Happens once: true the first time,
   * false (and nothing changes) for an invoice that is settled already.
   */
  async markSettled(paymentHash: Uint8Array | string, amountPaidMsat: bigint): Promise<boolean> {
    const key = hashKey(paymentHash);
    const r = this.db.data.invoices[key];
    if (!r) throw new InvoiceRegistryError('not_found', `there is no invoice with payment hash ${key}`);
    if (r.state === 'SETTLED') return false;
    if (amountPaidMsat < 0n) throw new InvoiceRegistryError('invalid_argument', 'the amount paid cannot be negative');
    const settledAt = this.now();
    const settleDate = Math.floor(settledAt / 1000);
    await this.db.update((d) => {
      const rec = d.invoices[key]!;
      const settleIndex = d.lastSettleIndex + 1;
      d.lastSettleIndex = settleIndex;
      rec.state = 'SETTLED';
      rec.complete = true;
      rec.settleIndex = settleIndex;
      rec.settleDate = settleDate;
      rec.settledAt = settledAt;
      rec.amtPaidMsat = amountPaidMsat.toString();
      for (const h of rec.htlcs) if (h.state === 'ACCEPTED') h.state = 'SETTLED';
    });
    return true;
  }

  /** Sets with HTLCs held: the HTLC layer's to-do list after a restart (time incomplete ones out, fulfill complete ones). */
  heldSets(): HeldSet[] {
    return Object.values(this.db.data.invoices)
      .filter((r) => r.state === 'ACCEPTED' && held(r).length > 0)
      .map((r) => ({ paymentHash: r.paymentHash, htlcIds: held(r).map((h) => h.htlcId), mppDeadline: this.deadline(r), complete: r.complete }));
  }
}

/**
 * Route hints for private channels (`addinvoice --private`): one single-hop hint per channel, from the
 * peer to us. Until the peer's channel_update is known, the policy is a generous guess (what common
 * implementations charge by default, and a long CLTV delta): a payer that pays a little too much fee
 * still gets through, one that pays too little would fail.
 */
export const DEFAULT_HINT_POLICY = { feeBaseMsat: 1000, feeProportionalMillionths: 200, cltvExpiryDelta: 144 } as const;

/** One single-hop route hint per channel: the peer's own policy when its channel_update told us, else a generous guess. */
export function privateRouteHints(channels: { peer: Uint8Array; shortChannelId: bigint; policy?: { feeBaseMsat: number; feeProportionalMillionths: number; cltvExpiryDelta: number } | undefined }[]): RouteHintHop[][] {
  return channels.map((c) => [{ pubkey: c.peer, shortChannelId: c.shortChannelId, ...(c.policy ?? DEFAULT_HINT_POLICY) }]);
}
