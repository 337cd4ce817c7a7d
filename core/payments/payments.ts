/**
 * The send side's ledger: every outgoing payment and each attempt (HTLC) made for it, in one durable
 * store (`payments.json`). It is what keeps a payment from being made twice: begin() refuses a payment
 * hash that is in flight or paid, and a payment can only be marked failed once none of its HTLCs can
 * still succeed.
 */
import { sha256 } from '../crypto/hash.ts';
import { hex } from '../util/bytes.ts';
import { openStore } from '../store/store.ts';
import type { DeepReadonly, Store } from '../store/store.ts';

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
  /** The BOLT 4 failure, e.g. `temporary_channel_failure`, or a local reason. */
  code: string;
  /** Which hop reported it (0 is the first hop after us), when known. */
  failureSourceIndex?: number;
}

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
  paymentIndex: number;
  attempts: AttemptRecord[];
}

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

export class PaymentStore {
  private readonly now: () => number;

  /** Changes with every change to the stored records (the app's change events compare it). */
  get revision(): number {
    return this.db.revision;
  }

  private constructor(
    private readonly db: Store<PaymentsDb>,
    now: (() => number) | undefined,
  ) {
    this.now = now ?? Date.now;
  }

  static async open(opts: { dir: string; now?: () => number }): Promise<PaymentStore> {
    const db = await openStore<PaymentsDb>({ dir: opts.dir, name: 'payments', version: 1, migrations: [], defaults: () => ({ lastPaymentIndex: 0, lastAttemptId: 0, payments: {} }) });
    return new PaymentStore(db, opts.now);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * Records the intent to pay. `started: false` (and the existing record) when this hash is already in
   * flight or paid: the caller must not send anything. A payment that FAILED may be tried again; its
   * earlier attempts stay in its history.
   */
  async begin(p: BeginPayment): Promise<{ started: boolean; payment: PaymentEntry }> {
    const key = hashKey(p.paymentHash);
    const destination = typeof p.destination === 'string' ? p.destination.toLowerCase() : hex.encode(p.destination);
    if (!PUBKEY.test(destination)) throw new PaymentStoreError('invalid_argument', 'the destination is not a node public key');
    if (p.amountMsat <= 0n) throw new PaymentStoreError('invalid_argument', 'the amount must be more than zero');
    if (p.feeLimitMsat !== undefined && p.feeLimitMsat < 0n) throw new PaymentStoreError('invalid_argument', 'the fee limit cannot be negative');
    const existing = this.db.data.payments[key];
    if (existing && existing.status !== 'FAILED') return { started: false, payment: entryOf(existing) };
    const now = this.now();
    await this.db.update((d) => {
      const prior = d.payments[key];
      let paymentIndex = prior?.paymentIndex;
      if (paymentIndex === undefined) {
        paymentIndex = d.lastPaymentIndex + 1;
        d.lastPaymentIndex = paymentIndex;
      }
      d.payments[key] = {
        paymentHash: key,
        paymentRequest: p.paymentRequest ?? '',
        destination,
        amountMsat: p.amountMsat.toString(),
        ...(p.feeLimitMsat !== undefined ? { feeLimitMsat: p.feeLimitMsat.toString() } : {}),
        feeMsat: '0',
        preimage: '',
        status: 'IN_FLIGHT',
        creationTime: prior?.creationTime ?? now,
        paymentIndex,
        attempts: prior?.attempts ?? [],
      };
    });
    return { started: true, payment: entryOf(this.db.data.payments[key]!) };
  }

  /** Records an HTLC about to be sent along `route`, before it is sent; resolves with its attempt id. */
  async attempt(paymentHash: Uint8Array | string, route: Route): Promise<number> {
    const key = hashKey(paymentHash);
    const p = this.get(key);
    if (!p) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
    if (p.status !== 'IN_FLIGHT') throw new PaymentStoreError('failed_precondition', `the payment is ${p.status.toLowerCase()}; no new attempt can be made for it`);
    if (!route.hops.length) throw new PaymentStoreError('invalid_argument', 'a route has at least one hop');
    let id = 0;
    await this.db.update((d) => {
      id = d.lastAttemptId + 1;
      d.lastAttemptId = id;
      d.payments[key]!.attempts.push({ attemptId: id, status: 'IN_FLIGHT', route: routeRecord(route), attemptTime: this.now(), resolveTime: 0, preimage: '' });
    });
    return id;
  }

  /** One HTLC failed; the payment stays in flight (the sender may try another route, or fail() it). */
  async failAttempt(paymentHash: Uint8Array | string, attemptId: number, failure: AttemptFailure): Promise<void> {
    const key = hashKey(paymentHash);
    const a = this.db.data.payments[key]?.attempts.find((x) => x.attemptId === attemptId);
    if (!a) throw new PaymentStoreError('not_found', `payment ${key} has no attempt ${attemptId}`);
    if (a.status !== 'IN_FLIGHT') return;
    await this.db.update((d) => {
      const rec = d.payments[key]!.attempts.find((x) => x.attemptId === attemptId)!;
      rec.status = 'FAILED';
      rec.resolveTime = this.now();
      rec.failure = { ...failure };
    });
  }

  /**
   * The payee released the preimage: the payment succeeded, whatever state it was in. Every attempt still
   * in flight succeeds with it (the parts of one payment share the preimage). `route` records the attempt
   * when the caller made none. Resolves false, changing nothing, when it had succeeded already.
   */
  async succeed(paymentHash: Uint8Array | string, r: { preimage: Uint8Array; feeMsat?: bigint; route?: Route }): Promise<boolean> {
    const key = hashKey(paymentHash);
    const p = this.db.data.payments[key];
    if (!p) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
    if (hex.encode(sha256(r.preimage)) !== key) throw new PaymentStoreError('invalid_argument', 'the preimage does not hash to the payment hash');
    if (p.status === 'SUCCEEDED') return false;
    const preimage = hex.encode(r.preimage);
    const now = this.now();
    await this.db.update((d) => {
      const rec = d.payments[key]!;
      if (r.route && !rec.attempts.some((a) => a.status === 'IN_FLIGHT')) {
        const id = d.lastAttemptId + 1;
        d.lastAttemptId = id;
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
    });
    return true;
  }

  /**
   * Gives up on a payment. Refused while an attempt is in flight (it could still succeed: fail it first
   * with failAttempt), and for a payment that succeeded. Failing a failed payment changes nothing.
   */
  async fail(paymentHash: Uint8Array | string, reason: PaymentFailureReason): Promise<void> {
    const key = hashKey(paymentHash);
    const p = this.db.data.payments[key];
    if (!p) throw new PaymentStoreError('not_found', `there is no payment with hash ${key}`);
    if (p.status === 'SUCCEEDED') throw new PaymentStoreError('failed_precondition', 'the payment succeeded; it cannot be failed');
    if (p.status === 'FAILED') return;
    if (p.attempts.some((a) => a.status === 'IN_FLIGHT')) throw new PaymentStoreError('failed_precondition', 'an HTLC of this payment is still in flight; it may yet succeed');
    await this.db.update((d) => {
      const rec = d.payments[key]!;
      rec.status = 'FAILED';
      rec.failureReason = reason;
    });
  }

  /**
   * After a restart: each attempt still in flight whose HTLC cannot be (`mayBeInFlight` answers false:
   * it never left, or it is gone from every commitment without a preimage) fails with `failure`, and a
   * payment left with nothing in flight fails with `reason`, so its invoice can be paid again. Only the
   * caller knows what the channels carry: an attempt it is unsure of must be answered true (failing an
   * HTLC that may still be on a commitment could pay twice). Resolves with the hashes of the payments
   * it failed.
   */
  async failStranded(mayBeInFlight: (paymentHash: string, attemptId: number) => boolean, failure: AttemptFailure, reason: PaymentFailureReason): Promise<string[]> {
    const stranded = new Map<string, number[]>();
    for (const p of Object.values(this.db.data.payments)) {
      if (p.status !== 'IN_FLIGHT') continue;
      stranded.set(p.paymentHash, p.attempts.filter((a) => a.status === 'IN_FLIGHT' && !mayBeInFlight(p.paymentHash, a.attemptId)).map((a) => a.attemptId));
    }
    const failed: string[] = [];
    const now = this.now();
    const changes = [...stranded].filter(([key, ids]) => ids.length || !this.db.data.payments[key]!.attempts.some((a) => a.status === 'IN_FLIGHT'));
    if (!changes.length) return failed;
    await this.db.update((d) => {
      for (const [key, ids] of changes) {
        const rec = d.payments[key]!;
        for (const a of rec.attempts) {
          if (!ids.includes(a.attemptId)) continue;
          a.status = 'FAILED';
          a.resolveTime = now;
          a.failure = { ...failure };
        }
        if (rec.attempts.some((a) => a.status === 'IN_FLIGHT')) continue;
        rec.status = 'FAILED';
        rec.failureReason = reason;
        failed.push(key);
      }
    });
    return failed;
  }

  get(paymentHash: Uint8Array | string): PaymentEntry | undefined {
    const p = this.db.data.payments[hashKey(paymentHash)];
    return p ? entryOf(p) : undefined;
  }

  /** Every payment, oldest first. */
  list(): PaymentEntry[] {
    return Object.values(this.db.data.payments)
      .sort((a, b) => a.paymentIndex - b.paymentIndex)
      .map(entryOf);
  }

  /** Payments with HTLCs in flight: after a restart, the HTLC layer resolves these. */
  inFlight(): PaymentEntry[] {
    return this.list().filter((p) => p.status === 'IN_FLIGHT');
  }
}
