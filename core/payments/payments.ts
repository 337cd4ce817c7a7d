/**
 * The send side's ledger: every outgoing payment and each attempt (HTLC) made for it. It is what keeps
 * a payment from being made twice: begin() refuses a payment hash that is in flight or paid, and a
 * payment can only be marked failed once none of its HTLCs can still succeed.
 *
 * Records in the node's KvStore (core/store/kv/types.ts), each change one atomic durable write of only
 * the records it touches:
 * - `payments/<hash>`: one payment with its attempts (JSON, amounts as decimal strings);
 * - `payments-by-index/<kvIndexKey(payment_index)>` → hash: every payment in creation order, for paging;
 * - `payments-succeeded/<kvIndexKey(payment_index)>` → hash: the succeeded ones (lncli's listpayments
 *   without include_incomplete);
 * - `payments-in-flight/<hash>`: the payments in flight, read into memory at open;
 * - `meta/payments-counters`: `{ lastPaymentIndex, lastAttemptId }`.
 *
 * Only payments in flight are kept in memory; others are read when asked for. A data directory with
 * a `payments.json` (the JSON store of earlier versions) moves into these records on the first open.
 */
import { sha256 } from '../crypto/hash.ts';
import { hex } from '../util/bytes.ts';
import type { DeepReadonly } from '../store/store.ts';
import { StoreError } from '../store/errors.ts';
import { KeyedLock } from '../store/kv/keyed-lock.ts';
import { Listeners } from '../util/listeners.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import { kvIndexKey, kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';

export type PaymentStatus = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
export type AttemptStatus = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';

/** Why a payment failed, in lnd's words (lncli's `failure_reason`). */
export type PaymentFailureReason =
  | 'FAILURE_REASON_TIMEOUT'
  | 'FAILURE_REASON_NO_ROUTE'
  | 'FAILURE_REASON_ERROR'
  | 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
  | 'FAILURE_REASON_INSUFFICIENT_BALANCE'
  | 'FAILURE_REASON_CANCELED';

export class PaymentStoreError extends Error {
  constructor(
    readonly code: 'invalid_argument' | 'not_found' | 'failed_precondition',
    message: string,
  ) {
    super(message);
    this.name = 'PaymentStoreError';
  }
}

export interface RouteHop {
  /** The node this hop reaches, hex. */
  pubkey: string;
  shortChannelId: bigint;
  /** What this hop's node is asked to forward (or, for the last hop, to receive). */
  amtToForwardMsat: bigint;
  /** The fee this hop's node keeps (0 for the last hop). */
  feeMsat: bigint;
  /** The CLTV expiry of the HTLC arriving at this hop's node. */
  expiry: number;
}

export interface Route {
  /** The CLTV expiry of the first HTLC. */
  totalTimeLock: number;
  /** What leaves our channel: the amount plus every fee. */
  totalAmtMsat: bigint;
  totalFeesMsat: bigint;
  hops: RouteHop[];
}

export interface AttemptFailure {
  /**
   * The BOLT 4 failure, e.g. `temporary_channel_failure`, or `local_failure` / `local_refusal` (the
   * HTLC failed, or was refused, on our side: `message` says why). Records of earlier versions hold a
   * sentence here instead (core/payments/diagnosis.ts reads both).
   */
  code: string;
  /** Which hop reported it (0 is the first hop after us), when known. */
  failureSourceIndex?: number;
  /** A local failure's reason, in the node's words. */
  message?: string;
}

/**
 * Why a payment failed before any HTLC could leave, with the numbers that explain it: no open channel,
 * not enough to send (the most a channel could), no known way to the payee, or every way over the fee
 * limit (the least fee a way asked). Read by core/payments/diagnosis.ts.
 */
export type PaymentFailureDetail =
  | { cause: 'no_channel' }
  | { cause: 'insufficient_outbound'; canSendMsat: string; towardPayee: boolean }
  | { cause: 'no_route' }
  | { cause: 'fee_limit'; feeNeededMsat: string };

export interface PaymentAttempt {
  readonly attemptId: number;
  readonly status: AttemptStatus;
  readonly route: Route;
  /** ms since the epoch. */
  readonly attemptTime: number;
  /** ms since the epoch; 0 while in flight. */
  readonly resolveTime: number;
  readonly failure?: AttemptFailure;
  /** Hex; '' unless it succeeded. */
  readonly preimage: string;
}

export interface PaymentEntry {
  readonly paymentHash: string;
  readonly paymentRequest: string;
  /** The payee, hex. */
  readonly destination: string;
  readonly amountMsat: bigint;
  readonly feeLimitMsat: bigint | undefined;
  /** The fees actually paid; 0 until it succeeds. */
  readonly feeMsat: bigint;
  /** Hex; '' until it succeeds. */
  readonly preimage: string;
  readonly status: PaymentStatus;
  /** ms since the epoch. */
  readonly creationTime: number;
  readonly failureReason: PaymentFailureReason | undefined;
  /** Why it failed before an HTLC left, when that is why. */
  readonly failureDetail?: PaymentFailureDetail;
  /** Order of first recording, from 1. */
  readonly paymentIndex: number;
  readonly attempts: readonly PaymentAttempt[];
}

interface HopRecord {
  pubkey: string;
  shortChannelId: string;
  amtToForwardMsat: string;
  feeMsat: string;
  expiry: number;
}

interface RouteRecord {
  totalTimeLock: number;
  totalAmtMsat: string;
  totalFeesMsat: string;
  hops: HopRecord[];
}

interface AttemptRecord {
  attemptId: number;
  status: AttemptStatus;
  route: RouteRecord;
  attemptTime: number;
  resolveTime: number;
  failure?: AttemptFailure;
  preimage: string;
}

interface PaymentRecord {
  paymentHash: string;
  paymentRequest: string;
  destination: string;
  amountMsat: string;
  feeLimitMsat?: string;
  feeMsat: string;
  preimage: string;
  status: PaymentStatus;
  creationTime: number;
  failureReason?: PaymentFailureReason;
  failureDetail?: PaymentFailureDetail;
  paymentIndex: number;
  attempts: AttemptRecord[];
}

/** What payments.json held (schema 1). */
interface PaymentsDb {
  lastPaymentIndex: number;
  lastAttemptId: number;
  payments: Record<string, PaymentRecord>;
}

export interface BeginPayment {
  paymentHash: Uint8Array | string;
  paymentRequest?: string;
  destination: Uint8Array | string;
  amountMsat: bigint;
  feeLimitMsat?: bigint;
}

const HEX64 = /^[0-9a-f]{64}$/;
const PUBKEY = /^0[23][0-9a-f]{64}$/;

function hashKey(h: Uint8Array | string): string {
  const k = typeof h === 'string' ? h.toLowerCase() : hex.encode(h);
  if (!HEX64.test(k)) throw new PaymentStoreError('invalid_argument', 'a payment hash is 32 bytes (64 hex characters)');
  return k;
}

function routeRecord(r: Route): RouteRecord {
  return {
    totalTimeLock: r.totalTimeLock,
    totalAmtMsat: r.totalAmtMsat.toString(),
    totalFeesMsat: r.totalFeesMsat.toString(),
    hops: r.hops.map((h) => ({ pubkey: h.pubkey, shortChannelId: h.shortChannelId.toString(), amtToForwardMsat: h.amtToForwardMsat.toString(), feeMsat: h.feeMsat.toString(), expiry: h.expiry })),
  };
}

function routeOf(r: DeepReadonly<RouteRecord>): Route {
  return {
    totalTimeLock: r.totalTimeLock,
    totalAmtMsat: BigInt(r.totalAmtMsat),
    totalFeesMsat: BigInt(r.totalFeesMsat),
    hops: r.hops.map((h) => ({ pubkey: h.pubkey, shortChannelId: BigInt(h.shortChannelId), amtToForwardMsat: BigInt(h.amtToForwardMsat), feeMsat: BigInt(h.feeMsat), expiry: h.expiry })),
  };
}

function entryOf(p: DeepReadonly<PaymentRecord>): PaymentEntry {
  return {
    paymentHash: p.paymentHash,
    paymentRequest: p.paymentRequest,
    destination: p.destination,
    amountMsat: BigInt(p.amountMsat),
    feeLimitMsat: p.feeLimitMsat !== undefined ? BigInt(p.feeLimitMsat) : undefined,
    feeMsat: BigInt(p.feeMsat),
    preimage: p.preimage,
    status: p.status,
    creationTime: p.creationTime,
    failureReason: p.failureReason,
    ...(p.failureDetail ? { failureDetail: { ...p.failureDetail } } : {}),
    paymentIndex: p.paymentIndex,
    attempts: p.attempts.map((a) => ({
      attemptId: a.attemptId,
      status: a.status,
      route: routeOf(a.route),
      attemptTime: a.attemptTime,
      resolveTime: a.resolveTime,
      ...(a.failure ? { failure: { ...a.failure } } : {}),
      preimage: a.preimage,
    })),
  };
}

export const PAYMENTS_NS = 'payments';
export const PAYMENTS_BY_INDEX_NS = 'payments-by-index';
export const PAYMENTS_SUCCEEDED_NS = 'payments-succeeded';
export const PAYMENTS_IN_FLIGHT_NS = 'payments-in-flight';
const COUNTERS_KEY = 'payments-counters';

interface Counters {
  lastPaymentIndex: number;
  lastAttemptId: number;
}

export interface ListPaymentsOptions {
  /** Start after (or, reversed, before) this payment_index; 0 for the start (or the end). */
  indexOffset?: number;
  /** At most this many; every one when absent. */
  maxPayments?: number;
  /** Page backwards from indexOffset (the page is still returned oldest first). */
  reversed?: boolean;
  /** Payments in flight and failed ones too (default true); false lists only the succeeded. */
  includeIncomplete?: boolean;
}

export interface PaymentsPage {
  payments: PaymentEntry[];
  /** payment_index of the first and the last payment of the page; 0 for an empty page. */
  firstIndexOffset: number;
  lastIndexOffset: number;
}

/** Records another store's change writes in the same atomic write as the ledger's (e.g. the switch's origin of an attempt). */
export interface WithOps {
  with?: readonly KvOp[];
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** The records that hold what a payments.json of schema 1 held. */
export function paymentsJsonOps(d: PaymentsDb): KvOp[] {
  const ops: KvOp[] = [{ type: 'put', ns: 'meta', key: COUNTERS_KEY, value: kvJson.encode({ lastPaymentIndex: d.lastPaymentIndex, lastAttemptId: d.lastAttemptId } satisfies Counters) }];
  for (const p of Object.values(d.payments)) ops.push(...recordOps(p, undefined));
  return ops;
}

/**
 * The records of one payment that a change from `prev` (undefined: a new payment) touches: the payment,
 * and its index entries where its status moved in or out of them.
 */
function recordOps(p: PaymentRecord, prev: PaymentStatus | undefined): KvOp[] {
  const idx = kvIndexKey(p.paymentIndex);
  const ops: KvOp[] = [{ type: 'put', ns: PAYMENTS_NS, key: p.paymentHash, value: kvJson.encode(p) }];
  if (prev === undefined) ops.push({ type: 'put', ns: PAYMENTS_BY_INDEX_NS, key: idx, value: utf8.encode(p.paymentHash) });
  if (p.status === 'SUCCEEDED' && prev !== 'SUCCEEDED') ops.push({ type: 'put', ns: PAYMENTS_SUCCEEDED_NS, key: idx, value: utf8.encode(p.paymentHash) });
  if (p.status === 'IN_FLIGHT' && prev !== 'IN_FLIGHT') ops.push({ type: 'put', ns: PAYMENTS_IN_FLIGHT_NS, key: p.paymentHash, value: EMPTY });
  if (p.status !== 'IN_FLIGHT' && prev === 'IN_FLIGHT') ops.push({ type: 'delete', ns: PAYMENTS_IN_FLIGHT_NS, key: p.paymentHash });
  return ops;
}

/** A payment that started, succeeded or failed, told once its record is stored. */
export interface PaymentChange {
  paymentHash: string;
  status: PaymentStatus;
  amountMsat: bigint;
  feeMsat: bigint;
  failureReason?: PaymentFailureReason;
}

export class PaymentStore {
  private readonly now: () => number;
  /** Each change of a payment's status, once stored (the node's domain events come from here). */
  readonly changes = new Listeners<PaymentChange>();
  /** Payments in flight: the only ones kept in memory (the switch and start-up reconciliation need them at once). */
  private readonly live = new Map<string, PaymentRecord>();
  private readonly lock = new KeyedLock();
  private revisionCount = 0;

  /** Changes with every change to the stored records (the app's change events compare it). */
  get revision(): number {
    return this.revisionCount;
  }

  private constructor(
    private readonly kv: KvStore,
    private readonly counters: Counters,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? Date.now;
  }

  /**
   * Opens the ledger in `kv`. With `dir`, a `payments.json` found there (the JSON store of earlier
   * versions) moves into the KvStore first, once, and stays as `payments.json.migrated`.
   */
  static async open(kv: KvStore, opts: { dir?: string; now?: () => number; warn?: (message: string) => void } = {}): Promise<PaymentStore> {
    if (opts.dir !== undefined) await migrateJsonStore<PaymentsDb>(kv, { dir: opts.dir, name: 'payments', version: 1, migrations: [], toOps: paymentsJsonOps, warn: opts.warn });
    const raw = await kv.get('meta', COUNTERS_KEY);
    const counters = raw ? kvJson.decode<Counters>(raw, `meta/${COUNTERS_KEY} in ${kv.location}`) : { lastPaymentIndex: 0, lastAttemptId: 0 };
    const store = new PaymentStore(kv, counters, opts.now);
    for (const { key } of await kv.range(PAYMENTS_IN_FLIGHT_NS)) {
      const rec = await store.read(key);
      if (!rec) throw new StoreError('corrupt', kv.location, `the payment ${key} is listed in flight in ${kv.location} but its record is missing: restore the data directory from a backup`);
      if (rec.status === 'IN_FLIGHT') store.live.set(key, rec);
    }
    return store;
  }

  /** The store is the node's; whoever opened it closes it. */
  async close(): Promise<void> {
    await this.kv.flush();
  }

  private async read(key: string): Promise<PaymentRecord | undefined> {
    const raw = await this.kv.get(PAYMENTS_NS, key);
    return raw ? kvJson.decode<PaymentRecord>(raw, `${PAYMENTS_NS}/${key} in ${this.kv.location}`) : undefined;
  }

  /** The payment's record to change: the one in memory while in flight, else read from the store. Call under the lock. */
  private async load(key: string): Promise<PaymentRecord | undefined> {
    return this.live.get(key) ?? (await this.read(key));
  }

  /** Issues the write of `rec` (and `extra`), keeping memory in step; resolves once durable. */
  private save(rec: PaymentRecord, prev: PaymentStatus | undefined, opts: { counters?: boolean; with?: readonly KvOp[]; durable?: boolean } = {}): Promise<void> {
    const ops = recordOps(rec, prev);
    if (opts.counters) ops.push({ type: 'put', ns: 'meta', key: COUNTERS_KEY, value: kvJson.encode(this.counters) });
    if (opts.with) ops.push(...opts.with);
    if (rec.status === 'IN_FLIGHT') this.live.set(rec.paymentHash, rec);
    else this.live.delete(rec.paymentHash);
    this.revisionCount++;
    const write = this.kv.write(ops, opts.durable === false ? { durable: false } : undefined);
    if (rec.status !== prev) this.tell(write, rec);
    return write;
  }

  /** Tells the listeners of a status change once its write is done; a failed write tells nothing. */
  private tell(write: Promise<void>, rec: DeepReadonly<PaymentRecord>): void {
    if (!this.changes.size) return;
    const change: PaymentChange = {
      paymentHash: rec.paymentHash,
      status: rec.status,
      amountMsat: BigInt(rec.amountMsat),
      feeMsat: BigInt(rec.feeMsat),
      ...(rec.failureReason ? { failureReason: rec.failureReason } : {}),
    };
    write.then(
      () => this.changes.emit(change),
      () => undefined,
    );
  }

  /**
   * Runs `fn` on the payment's record under its lock; `fn` returns the write it issued (if any) and the
   * result. The write's durability is awaited after the lock is released, so changes of other payments
   * share the commit.
   */
  private async change<T>(key: string, fn: (rec: PaymentRecord | undefined) => { write?: Promise<void>; result: T }): Promise<T> {
    const { write, result } = await this.lock.run(key, async () => fn(await this.load(key)));
    await write;
    return result;
  }

  /**
   * Records the intent to pay. `started: false` (and the existing record) when this hash is already in
   * flight or paid: the caller must not send anything. A payment that FAILED may be tried again; its
   * earlier attempts stay in its history.
   *
   * `durable: false` resolves before the record is on disk: it gets there with the next durable write
   * (the first attempt's, which comes before any HTLC leaves), and a crash before that loses only a
   * payment that sent nothing.
   */
  async begin(p: BeginPayment, opts: { durable?: boolean } = {}): Promise<{ started: boolean; payment: PaymentEntry }> {
    const key = hashKey(p.paymentHash);
    const destination = typeof p.destination === 'string' ? p.destination.toLowerCase() : hex.encode(p.destination);
    if (!PUBKEY.test(destination)) throw new PaymentStoreError('invalid_argument', 'the destination is not a node public key');
    if (p.amountMsat <= 0n) throw new PaymentStoreError('invalid_argument', 'the amount must be more than zero');
    if (p.feeLimitMsat !== undefined && p.feeLimitMsat < 0n) throw new PaymentStoreError('invalid_argument', 'the fee limit cannot be negative');
    return this.change<{ started: boolean; payment: PaymentEntry }>(key, (prior) => {
      if (prior && prior.status !== 'FAILED') return { result: { started: false, payment: entryOf(prior) } };
      let paymentIndex = prior?.paymentIndex;
      if (paymentIndex === undefined) paymentIndex = this.counters.lastPaymentIndex += 1;
      const rec: PaymentRecord = {
        paymentHash: key,
        paymentRequest: p.paymentRequest ?? '',
        destination,
        amountMsat: p.amountMsat.toString(),
        ...(p.feeLimitMsat !== undefined ? { feeLimitMsat: p.feeLimitMsat.toString() } : {}),
        feeMsat: '0',
        preimage: '',
        status: 'IN_FLIGHT',
        creationTime: prior?.creationTime ?? this.now(),
        paymentIndex,
        attempts: prior?.attempts ?? [],
      };
      return { write: this.save(rec, prior?.status, { counters: !prior, durable: opts.durable ?? true }), result: { started: true, payment: entryOf(rec) } };
    });
  }

  /**
   * Records an HTLC about to be sent along `route`, before it is sent; resolves with its attempt id.
   * `with` adds the caller's records to the same atomic write, given the attempt id (the switch's
   * origin of the HTLC). `failure` records an attempt that failed before anything was sent.
   * `durable: false` for a caller whose own next durable write (the store keeps writes in call order)
   * comes before anything depends on the attempt.
   */
  async attempt(paymentHash: Uint8Array | string, route: Route, opts: { with?: (attemptId: number) => readonly KvOp[]; failure?: AttemptFailure; durable?: boolean } = {}): Promise<number> {
    const key = hashKey(paymentHash);
    if (!route.hops.length) throw new PaymentStoreError('invalid_argument', 'a route has at least one hop');
    return this.change(key, (rec) => {
      if (!rec) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
      if (rec.status !== 'IN_FLIGHT') throw new PaymentStoreError('failed_precondition', `the payment is ${rec.status.toLowerCase()}; no new attempt can be made for it`);
      const id = (this.counters.lastAttemptId += 1);
      const now = this.now();
      rec.attempts.push(
        opts.failure
          ? { attemptId: id, status: 'FAILED', route: routeRecord(route), attemptTime: now, resolveTime: now, failure: { ...opts.failure }, preimage: '' }
          : { attemptId: id, status: 'IN_FLIGHT', route: routeRecord(route), attemptTime: now, resolveTime: 0, preimage: '' },
      );
      return { write: this.save(rec, 'IN_FLIGHT', { counters: true, ...(opts.with ? { with: opts.with(id) } : {}), ...(opts.durable === false ? { durable: false } : {}) }), result: id };
    });
  }

  /**
   * One HTLC failed; the payment stays in flight (the sender may try another route, or fail() it).
   * `thenFail`: the payment fails with this reason in the same write when nothing of it is left in flight.
   * Resolves with the payment as it is afterwards.
   */
  async failAttempt(paymentHash: Uint8Array | string, attemptId: number, failure: AttemptFailure, opts: WithOps & { thenFail?: PaymentFailureReason } = {}): Promise<PaymentEntry> {
    const key = hashKey(paymentHash);
    return this.change(key, (rec) => {
      const a = rec?.attempts.find((x) => x.attemptId === attemptId);
      if (!rec || !a) throw new PaymentStoreError('not_found', `payment ${key} has no attempt ${attemptId}`);
      if (a.status !== 'IN_FLIGHT') return { write: opts.with?.length ? this.kv.write(opts.with) : undefined, result: entryOf(rec) };
      a.status = 'FAILED';
      a.resolveTime = this.now();
      a.failure = { ...failure };
      const prev = rec.status;
      if (opts.thenFail && rec.status === 'IN_FLIGHT' && !rec.attempts.some((x) => x.status === 'IN_FLIGHT')) {
        rec.status = 'FAILED';
        rec.failureReason = opts.thenFail;
      }
      return { write: this.save(rec, prev, opts), result: entryOf(rec) };
    });
  }

  /**
   * The payee released the preimage: the payment succeeded, whatever state it was in. Every attempt still
   * in flight succeeds with it (the parts of one payment share the preimage). `route` records the attempt
   * when the caller made none. Resolves false, changing nothing (but writing `with`), when it had
   * succeeded already. `durable: false` as for attempt().
   */
  async succeed(paymentHash: Uint8Array | string, r: { preimage: Uint8Array; feeMsat?: bigint; route?: Route; durable?: boolean } & WithOps): Promise<boolean> {
    const key = hashKey(paymentHash);
    if (hex.encode(sha256(r.preimage)) !== key) {
      // Checked after the record, so an unknown hash reads as such.
      if (!(await this.load(key))) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
      throw new PaymentStoreError('invalid_argument', 'the preimage does not hash to the payment hash');
    }
    const preimage = hex.encode(r.preimage);
    return this.change(key, (rec) => {
      if (!rec) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
      if (rec.status === 'SUCCEEDED') return { write: r.with?.length ? this.kv.write(r.with, r.durable === false ? { durable: false } : undefined) : undefined, result: false };
      const now = this.now();
      const prev = rec.status;
      let counters = false;
      if (r.route && !rec.attempts.some((a) => a.status === 'IN_FLIGHT')) {
        const id = (this.counters.lastAttemptId += 1);
        counters = true;
        rec.attempts.push({ attemptId: id, status: 'IN_FLIGHT', route: routeRecord(r.route), attemptTime: now, resolveTime: 0, preimage: '' });
      }
      for (const a of rec.attempts) {
        if (a.status !== 'IN_FLIGHT') continue;
        a.status = 'SUCCEEDED';
        a.resolveTime = now;
        a.preimage = preimage;
      }
      const fees = rec.attempts.filter((a) => a.status === 'SUCCEEDED').reduce((s, a) => s + BigInt(a.route.totalFeesMsat), 0n);
      rec.status = 'SUCCEEDED';
      rec.preimage = preimage;
      rec.feeMsat = (r.feeMsat ?? fees).toString();
      delete rec.failureReason;
      delete rec.failureDetail;
      return { write: this.save(rec, prev, { counters, ...(r.with ? { with: r.with } : {}), ...(r.durable === false ? { durable: false } : {}) }), result: true };
    });
  }

  /**
   * Gives up on a payment. Refused while an attempt is in flight (it could still succeed: fail it first
   * with failAttempt), and for a payment that succeeded. Failing a failed payment changes nothing.
   * `detail`: why no HTLC could leave, with its numbers.
   */
  async fail(paymentHash: Uint8Array | string, reason: PaymentFailureReason, detail?: PaymentFailureDetail): Promise<void> {
    const key = hashKey(paymentHash);
    await this.change(key, (rec) => {
      if (!rec) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
      if (rec.status === 'SUCCEEDED') throw new PaymentStoreError('failed_precondition', 'the payment succeeded; it cannot be failed');
      if (rec.status === 'FAILED') return { result: undefined };
      if (rec.attempts.some((a) => a.status === 'IN_FLIGHT')) throw new PaymentStoreError('failed_precondition', 'an HTLC of this payment is still in flight; it may yet succeed');
      rec.status = 'FAILED';
      rec.failureReason = reason;
      if (detail) rec.failureDetail = { ...detail };
      return { write: this.save(rec, 'IN_FLIGHT'), result: undefined };
    });
  }

  /**
   * After a restart: each attempt still in flight whose HTLC cannot be (`mayBeInFlight` answers false:
   * it never left, or it is gone from every commitment without a preimage) fails with `failure`, and a
   * payment left with nothing in flight fails with `reason`, so its invoice can be paid again. Only the
   * caller knows what the channels carry: an attempt it is unsure of must be answered true (failing an
   * HTLC that may still be on a commitment could pay twice). Resolves with the hashes of the payments
   * it failed. One write for all of them.
   */
  async failStranded(mayBeInFlight: (paymentHash: string, attemptId: number) => boolean, failure: AttemptFailure, reason: PaymentFailureReason): Promise<string[]> {
    const failed: string[] = [];
    const failedRecs: PaymentRecord[] = [];
    const now = this.now();
    const ops: KvOp[] = [];
    for (const rec of [...this.live.values()].sort((a, b) => a.paymentIndex - b.paymentIndex)) {
      const ids = rec.attempts.filter((a) => a.status === 'IN_FLIGHT' && !mayBeInFlight(rec.paymentHash, a.attemptId)).map((a) => a.attemptId);
      if (!ids.length && rec.attempts.some((a) => a.status === 'IN_FLIGHT')) continue;
      for (const a of rec.attempts) {
        if (!ids.includes(a.attemptId)) continue;
        a.status = 'FAILED';
        a.resolveTime = now;
        a.failure = { ...failure };
      }
      if (!rec.attempts.some((a) => a.status === 'IN_FLIGHT')) {
        rec.status = 'FAILED';
        rec.failureReason = reason;
        failed.push(rec.paymentHash);
        failedRecs.push(rec);
        this.live.delete(rec.paymentHash);
      }
      ops.push(...recordOps(rec, 'IN_FLIGHT'));
    }
    if (!ops.length) return failed;
    this.revisionCount++;
    const write = this.kv.write(ops);
    for (const rec of failedRecs) this.tell(write, rec);
    await write;
    return failed;
  }

  async get(paymentHash: Uint8Array | string): Promise<PaymentEntry | undefined> {
    const key = hashKey(paymentHash);
    const live = this.live.get(key);
    if (live) return entryOf(live);
    const rec = await this.read(key);
    // It may have gone in flight while it was read.
    const now = this.live.get(key) ?? rec;
    return now ? entryOf(now) : undefined;
  }

  /**
   * Payments in payment_index order, a page at a time (lncli's listpayments): only the page is read
   * from the store. Without maxPayments, every payment (read a page at a time).
   */
  async list(opts: ListPaymentsOptions = {}): Promise<PaymentsPage> {
    const max = opts.maxPayments ?? Infinity;
    const offset = opts.indexOffset ?? 0;
    const ns = opts.includeIncomplete === false ? PAYMENTS_SUCCEEDED_NS : PAYMENTS_BY_INDEX_NS;
    const hashes: string[] = [];
    let bound = offset > 0 ? kvIndexKey(offset) : undefined;
    while (hashes.length < max) {
      const limit = Math.min(max - hashes.length, 1000);
      const recs = opts.reversed ? await this.kv.range(ns, { ...(bound ? { lt: bound } : {}), reverse: true, limit }) : await this.kv.range(ns, { ...(bound ? { gt: bound } : {}), limit });
      for (const r of recs) hashes.push(fromUtf8.decode(r.value));
      if (recs.length < limit) break;
      bound = recs[recs.length - 1]!.key;
    }
    if (opts.reversed) hashes.reverse();
    const entries = await Promise.all(
      hashes.map(async (h) => {
        const e = await this.get(h);
        if (!e) throw new StoreError('corrupt', this.kv.location, `the payment ${h} is indexed in ${this.kv.location} but its record is missing: restore the data directory from a backup`);
        return e;
      }),
    );
    return { payments: entries, firstIndexOffset: entries[0]?.paymentIndex ?? 0, lastIndexOffset: entries[entries.length - 1]?.paymentIndex ?? 0 };
  }

  /** How many payments the ledger holds. */
  count(): Promise<number> {
    return this.kv.count(PAYMENTS_BY_INDEX_NS);
  }

  /** Payments with HTLCs in flight (held in memory): after a restart, the HTLC layer resolves these. */
  inFlight(): PaymentEntry[] {
    return [...this.live.values()].sort((a, b) => a.paymentIndex - b.paymentIndex).map(entryOf);
  }
}
