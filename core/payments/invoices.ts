/**
 * The receive side of payments: the invoices this node issues, and what becomes of the HTLCs that pay
 * them. Every invoice is kept with its preimage, payment secret and the HTLCs of its set, so a restart
 * loses neither an invoice nor a decision.
 *
 * Records in the node's KvStore (core/store/kv/types.ts), each change one atomic durable write of only
 * the records it touches:
 * - `invoices/<hash>`: one invoice (JSON, amounts as decimal strings);
 * - `invoices-by-add/<kvIndexKey(add_index)>` → hash, `invoices-by-settle/<kvIndexKey(settle_index)>` →
 *   hash: lnd's two orders, for paging;
 * - `invoices-pending/<kvIndexKey(add_index)>` → hash: the OPEN and ACCEPTED ones (listinvoices --pending_only);
 * - `invoices-held/<hash>`: ACCEPTED invoices holding HTLCs, read into memory at open;
 * - `meta/invoices-counters`: `{ lastAddIndex, lastSettleIndex }`.
 * Only invoices holding HTLCs are kept in memory. A data directory with an `invoices.json` (the JSON
 * store of earlier versions) moves into these records on the first open.
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
import type { DeepReadonly } from '../store/store.ts';
import { StoreError } from '../store/errors.ts';
import { KeyedLock } from '../store/kv/keyed-lock.ts';
import { Listeners } from '../util/listeners.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import { kvIndexKey, kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';
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

/** What invoices.json held (schema 1). */
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
  /** Where an `invoices.json` of an earlier version may wait to be moved into the store. */
  dir?: string;
  /** The node's identity key: invoices are signed with it. */
  nodeSecret: Uint8Array;
  network: Network;
  /** The clock, ms since the epoch (tests move it). */
  now?: () => number;
  /** Told of what the move of an earlier version's file found worth saying. */
  warn?: (message: string) => void;
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

export const INVOICES_NS = 'invoices';
export const INVOICES_BY_ADD_NS = 'invoices-by-add';
export const INVOICES_BY_SETTLE_NS = 'invoices-by-settle';
export const INVOICES_PENDING_NS = 'invoices-pending';
export const INVOICES_HELD_NS = 'invoices-held';
const COUNTERS_KEY = 'invoices-counters';

interface Counters {
  lastAddIndex: number;
  lastSettleIndex: number;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);

const isPending = (r: { state: InvoiceState }): boolean => r.state === 'OPEN' || r.state === 'ACCEPTED';
const isHolding = (r: DeepReadonly<InvoiceRecord>): boolean => r.state === 'ACCEPTED' && held(r).length > 0;

/** What an invoice looked like before a change, for the index entries the change moves it in or out of. */
interface Before {
  pending: boolean;
  holding: boolean;
  settleIndex: number;
  state: InvoiceState;
}
const before = (r: DeepReadonly<InvoiceRecord>): Before => ({ pending: isPending(r), holding: isHolding(r), settleIndex: r.settleIndex, state: r.state });

/** An invoice made, paid (SETTLED), being paid (ACCEPTED) or canceled, told once its record is stored. */
export interface InvoiceChange {
  paymentHash: string;
  state: InvoiceState;
  memo: string;
  amountMsat: bigint | undefined;
  amtPaidMsat: bigint;
}

/** The records a change of one invoice from `prev` (undefined: a new invoice) touches. */
function recordOps(r: InvoiceRecord, prev: Before | undefined): KvOp[] {
  const add = kvIndexKey(r.addIndex);
  const hash = utf8.encode(r.paymentHash);
  const ops: KvOp[] = [{ type: 'put', ns: INVOICES_NS, key: r.paymentHash, value: kvJson.encode(r) }];
  if (!prev) ops.push({ type: 'put', ns: INVOICES_BY_ADD_NS, key: add, value: hash });
  if (r.settleIndex > 0 && r.settleIndex !== prev?.settleIndex) ops.push({ type: 'put', ns: INVOICES_BY_SETTLE_NS, key: kvIndexKey(r.settleIndex), value: hash });
  const pending = isPending(r);
  if (pending && !prev?.pending) ops.push({ type: 'put', ns: INVOICES_PENDING_NS, key: add, value: hash });
  if (!pending && prev?.pending) ops.push({ type: 'delete', ns: INVOICES_PENDING_NS, key: add });
  const holding = isHolding(r);
  if (holding && !prev?.holding) ops.push({ type: 'put', ns: INVOICES_HELD_NS, key: r.paymentHash, value: EMPTY });
  if (!holding && prev?.holding) ops.push({ type: 'delete', ns: INVOICES_HELD_NS, key: r.paymentHash });
  return ops;
}

/** The records that hold what an invoices.json of schema 1 held. */
export function invoicesJsonOps(d: InvoicesDb): KvOp[] {
  const ops: KvOp[] = [{ type: 'put', ns: 'meta', key: COUNTERS_KEY, value: kvJson.encode({ lastAddIndex: d.lastAddIndex, lastSettleIndex: d.lastSettleIndex } satisfies Counters) }];
  for (const r of Object.values(d.invoices)) ops.push(...recordOps(r, undefined));
  return ops;
}

export class InvoiceRegistry {
  private readonly now: () => number;
  private readonly cancelListeners = new Set<(paymentHash: string, htlcIds: string[]) => void>();
  /** Invoices holding HTLCs: the only ones kept in memory. */
  private readonly live = new Map<string, InvoiceRecord>();
  private readonly lock = new KeyedLock();
  private revisionCount = 0;
  /** Each new invoice and each change of an invoice's state, once stored (the node's domain events come from here). */
  readonly changes = new Listeners<InvoiceChange>();

  /** Changes with every change to the stored records (the app's change events compare it). */
  get revision(): number {
    return this.revisionCount;
  }

  private constructor(
    private readonly kv: KvStore,
    private readonly counters: Counters,
    private readonly nodeSecret: Uint8Array,
    private readonly network: Network,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? Date.now;
  }

  /**
   * Opens the invoices in `kv`. With `dir`, an `invoices.json` found there (the JSON store of earlier
   * versions) moves into the KvStore first, once, and stays as `invoices.json.migrated`.
   */
  static async open(kv: KvStore, opts: InvoiceRegistryOptions): Promise<InvoiceRegistry> {
    if (opts.dir !== undefined) await migrateJsonStore<InvoicesDb>(kv, { dir: opts.dir, name: 'invoices', version: 1, migrations: [], toOps: invoicesJsonOps, warn: opts.warn });
    const raw = await kv.get('meta', COUNTERS_KEY);
    const counters = raw ? kvJson.decode<Counters>(raw, `meta/${COUNTERS_KEY} in ${kv.location}`) : { lastAddIndex: 0, lastSettleIndex: 0 };
    const reg = new InvoiceRegistry(kv, counters, opts.nodeSecret, opts.network, opts.now);
    for (const { key } of await kv.range(INVOICES_HELD_NS)) {
      const r = await reg.read(key);
      if (!r) throw new StoreError('corrupt', kv.location, `the invoice ${key} is listed as holding HTLCs in ${kv.location} but its record is missing: restore the data directory from a backup`);
      if (isHolding(r)) reg.live.set(key, r);
    }
    return reg;
  }

  /** The store is the node's; whoever opened it closes it. */
  async close(): Promise<void> {
    await this.kv.flush();
  }

  private async read(key: string): Promise<InvoiceRecord | undefined> {
    const raw = await this.kv.get(INVOICES_NS, key);
    return raw ? kvJson.decode<InvoiceRecord>(raw, `${INVOICES_NS}/${key} in ${this.kv.location}`) : undefined;
  }

  /** Issues the write of `r` changed from `prev`, keeping memory in step; resolves once durable. */
  private save(r: InvoiceRecord, prev: Before | undefined, counters = false, durable = true): Promise<void> {
    const ops = recordOps(r, prev);
    if (counters) ops.push({ type: 'put', ns: 'meta', key: COUNTERS_KEY, value: kvJson.encode(this.counters) });
    if (isHolding(r)) this.live.set(r.paymentHash, r);
    else this.live.delete(r.paymentHash);
    this.revisionCount++;
    const write = this.kv.write(ops, durable ? undefined : { durable: false });
    if (this.changes.size && r.state !== prev?.state) {
      const change: InvoiceChange = { paymentHash: r.paymentHash, state: r.state, memo: r.memo, amountMsat: r.amountMsat !== undefined ? BigInt(r.amountMsat) : undefined, amtPaidMsat: BigInt(r.amtPaidMsat) };
      write.then(
        () => this.changes.emit(change),
        () => undefined,
      );
    }
    return write;
  }

  /** Runs `fn` on the invoice's record under its lock; its write's durability is awaited after the lock is released. */
  private async change<T>(key: string, fn: (r: InvoiceRecord | undefined) => { write?: Promise<void>; result: T }): Promise<T> {
    const { write, result } = await this.lock.run(key, async () => fn(this.live.get(key) ?? (await this.read(key))));
    await write;
    return result;
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
    return this.change(key, (existing) => {
      if (existing) throw new InvoiceRegistryError('already_exists', 'an invoice with this payment hash exists already');
      const addIndex = (this.counters.lastAddIndex += 1);
      const r: InvoiceRecord = {
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
      return { write: this.save(r, undefined, true), result: entryOf(r) };
    });
  }

  async lookup(paymentHash: Uint8Array | string): Promise<InvoiceEntry | undefined> {
    const key = hashKey(paymentHash);
    const live = this.live.get(key);
    if (live) return entryOf(live);
    const r = await this.read(key);
    const now = this.live.get(key) ?? r;
    return now ? entryOf(now) : undefined;
  }

  /** Invoices in add_index order, a page at a time (lncli's listinvoices): only the page is read from the store. */
  async list(opts: ListInvoicesOptions = {}): Promise<{ invoices: InvoiceEntry[]; firstIndexOffset: number; lastIndexOffset: number }> {
    const max = opts.numMaxInvoices ?? 100;
    const offset = opts.indexOffset ?? 0;
    const ns = opts.pendingOnly ? INVOICES_PENDING_NS : INVOICES_BY_ADD_NS;
    const bound = offset > 0 ? kvIndexKey(offset) : undefined;
    const recs = opts.reversed ? (await this.kv.range(ns, { ...(bound ? { lt: bound } : {}), reverse: true, limit: max })).reverse() : await this.kv.range(ns, { ...(bound ? { gt: bound } : {}), limit: max });
    const invoices = await Promise.all(
      recs.map(async ({ value }) => {
        const hash = fromUtf8.decode(value);
        const e = await this.lookup(hash);
        if (!e) throw new StoreError('corrupt', this.kv.location, `the invoice ${hash} is indexed in ${this.kv.location} but its record is missing: restore the data directory from a backup`);
        return e;
      }),
    );
    return { invoices, firstIndexOffset: invoices[0]?.addIndex ?? 0, lastIndexOffset: invoices[invoices.length - 1]?.addIndex ?? 0 };
  }

  /** How many invoices there are. */
  count(): Promise<number> {
    return this.kv.count(INVOICES_BY_ADD_NS);
  }

  /**
   * Cancels an invoice that is not settled: it takes no more payments. Resolves with the HTLCs it was
   * holding (also told to onCancel listeners), which the HTLC layer fails back
   * (incorrect_or_unknown_payment_details). Canceling twice is
   * harmless. Refused once the invoice is settled or its set is complete (the preimage may be out).
   */
  async cancel(paymentHash: Uint8Array | string): Promise<string[]> {
    const key = hashKey(paymentHash);
    const ids = await this.change(key, (r) => {
      if (!r) throw new InvoiceRegistryError('not_found', `there is no invoice with payment hash ${key}`);
      if (r.state === 'SETTLED') throw new InvoiceRegistryError('failed_precondition', 'the invoice is settled already; it cannot be canceled');
      if (r.complete) throw new InvoiceRegistryError('failed_precondition', 'the invoice is being settled (every part of its payment arrived); it cannot be canceled');
      if (r.state === 'CANCELED') return { result: [] as string[] };
      const prev = before(r);
      const ids = held(r).map((h) => h.htlcId);
      r.state = 'CANCELED';
      for (const h of r.htlcs) {
        if (h.state !== 'ACCEPTED') continue;
        h.state = 'CANCELED';
        h.failReason = 'incorrect_or_unknown_payment_details';
      }
      return { write: this.save(r, prev), result: ids };
    });
    if (ids.length) for (const fn of this.cancelListeners) fn(key, ids);
    return ids;
  }

  /**
   * Decides what to do with an incoming HTLC that pays one of our invoices, and records the decision
   * durably before returning it (a hold or a settle survives a restart; a replayed HTLC id gets the same
   * answer again).
   *
   * `settle`: when this HTLC completes its set, the invoice is recorded SETTLED (for the sum of the
   * set's HTLCs) in the same write, as markSettled() would record it next: for a caller that fulfills
   * the set at once, one write instead of two, still before the preimage leaves. `durable: false`
   * resolves once that write is applied, for a caller whose own durable write (the store keeps writes
   * in call order) comes before the preimage leaves.
   */
  async onHtlc(htlc: IncomingHtlc, opts: { settle?: boolean; durable?: boolean } = {}): Promise<HtlcDecision> {
    const key = hashKey(htlc.paymentHash);
    return this.change<HtlcDecision>(key, (r) => {
      const fail = (reason: HtlcFailReason, detail: string, others: string[] = []): HtlcDecision => ({ action: 'fail', reason, detail, htlcIds: [htlc.htlcId, ...others] });
      const unknown = (detail: string, others?: string[]): { result: HtlcDecision } => ({ result: fail('incorrect_or_unknown_payment_details', detail, others) });
      if (!r) return unknown('no invoice has this payment hash');

      const seen = r.htlcs.find((h) => h.htlcId === htlc.htlcId);
      if (seen) return { result: this.replay(r, seen) };

      if (r.state === 'SETTLED') return unknown('the invoice is paid already');
      if (r.state === 'CANCELED') return unknown('the invoice is canceled');
      if (r.complete) return unknown('the payment is complete already; this part is not needed');
      if (!htlc.paymentSecret || !bytesEqual(htlc.paymentSecret, hex.decode(r.paymentSecret))) return unknown('wrong or missing payment secret');
      const nowMs = this.now();
      if (r.state === 'OPEN' && Math.floor(nowMs / 1000) > r.creationDate + r.expirySec) return unknown('the invoice has expired');
      if (htlc.amtToForwardMsat !== undefined && htlc.amountMsat < htlc.amtToForwardMsat) {
        return { result: fail('final_incorrect_htlc_amount', `the HTLC carries ${htlc.amountMsat} msat but the onion says ${htlc.amtToForwardMsat}`) };
      }
      if (htlc.outgoingCltvValue !== undefined && htlc.cltvExpiry < htlc.outgoingCltvValue) {
        return { result: fail('final_incorrect_cltv_expiry', `the HTLC expires at ${htlc.cltvExpiry} but the onion says ${htlc.outgoingCltvValue}`) };
      }
      // BOLT 4 returns incorrect_or_unknown_payment_details for an expiry too near, so the payer learns nothing more.
      if (htlc.cltvExpiry < htlc.currentHeight + r.minFinalCltvExpiryDelta) {
        return unknown(`the HTLC expires at ${htlc.cltvExpiry}, sooner than height ${htlc.currentHeight} + ${r.minFinalCltvExpiryDelta}`);
      }
      if (htlc.amountMsat <= 0n || htlc.totalMsat <= 0n) return unknown('the amount is zero');
      const expected = r.amountMsat !== undefined ? BigInt(r.amountMsat) : undefined;
      if (expected !== undefined && htlc.totalMsat < expected) return unknown(`the payment is for ${htlc.totalMsat} msat, less than the ${expected} msat asked`);
      if (expected !== undefined && htlc.totalMsat > 2n * expected) return unknown(`the payment is for ${htlc.totalMsat} msat, more than twice the ${expected} msat asked`);

      const prev = before(r);
      const parts = held(r);
      if (parts.length && parts.some((h) => BigInt(h.totalMsat) !== htlc.totalMsat)) {
        // BOLT 4: parts that disagree on the total break the whole set.
        const ids = parts.map((h) => h.htlcId);
        for (const h of r.htlcs) {
          if (h.state !== 'ACCEPTED') continue;
          h.state = 'CANCELED';
          h.failReason = 'incorrect_or_unknown_payment_details';
        }
        r.state = 'OPEN';
        return { write: this.save(r, prev), ...unknown(`the parts disagree on the total (${parts[0]!.totalMsat} and ${htlc.totalMsat} msat)`, ids) };
      }

      const complete = sumMsat(parts) + htlc.amountMsat >= htlc.totalMsat;
      r.htlcs.push({
        htlcId: htlc.htlcId,
        amountMsat: htlc.amountMsat.toString(),
        totalMsat: htlc.totalMsat.toString(),
        cltvExpiry: htlc.cltvExpiry,
        acceptedAt: nowMs,
        state: 'ACCEPTED',
      });
      r.state = 'ACCEPTED';
      r.complete = complete;
      if (complete && opts.settle) {
        const htlcIds = held(r).map((h) => h.htlcId);
        this.settle(r, sumMsat(held(r)));
        return { write: this.save(r, prev, true, opts.durable ?? true), result: { action: 'settle', preimage: hex.decode(r.preimage), htlcIds } };
      }
      const write = this.save(r, prev);
      if (complete) return { write, result: { action: 'settle', preimage: hex.decode(r.preimage), htlcIds: held(r).map((h) => h.htlcId) } };
      return { write, result: { action: 'hold', mppDeadline: this.deadline(r) } };
    });
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
    return this.change(key, (r) => {
      if (!r || r.state !== 'ACCEPTED' || r.complete) return { result: [] as string[] };
      const parts = held(r);
      if (!parts.length || this.now() < this.deadline(r)) return { result: [] as string[] };
      const prev = before(r);
      for (const h of r.htlcs) {
        if (h.state !== 'ACCEPTED') continue;
        h.state = 'CANCELED';
        h.failReason = 'mpp_timeout';
      }
      r.state = 'OPEN';
      return { write: this.save(r, prev), result: parts.map((h) => h.htlcId) };
    });
  }

  /**
   * Records that the set was fulfilled and `amountPaidMsat` received. Happens once: true the first time,
   * false (and nothing changes) for an invoice that is settled already.
   */
  async markSettled(paymentHash: Uint8Array | string, amountPaidMsat: bigint): Promise<boolean> {
    const key = hashKey(paymentHash);
    return this.change(key, (r) => {
      if (!r) throw new InvoiceRegistryError('not_found', `there is no invoice with payment hash ${key}`);
      if (r.state === 'SETTLED') return { result: false };
      if (amountPaidMsat < 0n) throw new InvoiceRegistryError('invalid_argument', 'the amount paid cannot be negative');
      const prev = before(r);
      this.settle(r, amountPaidMsat);
      return { write: this.save(r, prev, true), result: true };
    });
  }

  /** The invoice is paid `amountPaidMsat` by the HTLCs it holds. */
  private settle(r: InvoiceRecord, amountPaidMsat: bigint): void {
    const nowMs = this.now();
    r.state = 'SETTLED';
    r.complete = true;
    r.settleIndex = this.counters.lastSettleIndex += 1;
    r.settleDate = Math.floor(nowMs / 1000);
    r.settledAt = nowMs;
    r.amtPaidMsat = amountPaidMsat.toString();
    for (const h of r.htlcs) if (h.state === 'ACCEPTED') h.state = 'SETTLED';
  }

  /** Sets with HTLCs held (kept in memory): the HTLC layer's to-do list after a restart (time incomplete ones out, fulfill complete ones). */
  heldSets(): HeldSet[] {
    return [...this.live.values()]
      .filter(isHolding)
      .sort((a, b) => a.addIndex - b.addIndex)
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
