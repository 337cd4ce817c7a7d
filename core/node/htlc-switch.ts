/**
 * The HTLC switch: where HTLCs meet payments. It sends our payments (route, onion, HTLC on the first
 * channel), reads the onion of every HTLC that reaches us (settle it against an invoice, or forward it
 * with our fee policy), carries preimages back and failures back, and tells the payment ledger how each
 * attempt ended.
 *
 * Every outgoing HTLC's origin (our payment, or the incoming HTLC it forwards) is stored before the
 * HTLC leaves, so after a crash a preimage from downstream still reaches upstream.
 *
 * Records in the node's KvStore (core/store/kv/types.ts):
 * - `switch-origins/<channel>:<htlc id>`: the origin of an outgoing HTLC not yet resolved (read into
 *   memory at open); written with our payment's attempt in one atomic write, or with the forward;
 * - `switch-origins-done/<channel>:<htlc id>`: the origins of resolved HTLCs, moved there (without
 *   any session key) in the same write that records how the HTLC ended;
 * - `switch-forwards/<incoming channel>:<htlc id>` → the outgoing `<channel>:<htlc id>`.
 * A data directory with an `htlc-switch.json` (the JSON store of earlier versions) moves into these
 * records on the first open.
 */
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { hmacSha256, sha256 } from '../crypto/hash.ts';
import { createOnion, peelOnion, OnionError, sharedSecrets } from '../onion/sphinx.ts';
import { createFailurePacket, decodeFailure, obfuscateFailure } from '../onion/failure.ts';
import { decodeFailureMessage, decodePayload, encodeFailureMessage, failureName, framedPayload, PayloadError } from '../onion/wire.ts';
import type { FailureMessage } from '../onion/wire.ts';
import type { Invoice } from '../invoice/bolt11.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import { kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';
import type { ChannelManager, HtlcEvent } from './channels.ts';
import { mayCarryOutgoing } from '../channel/updates.ts';
import type { Htlc } from '../channel/updates.ts';
import type { InvoiceRegistry } from '../payments/invoices.ts';
import type { PaymentStore, PaymentEntry, PaymentFailureDetail, PaymentFailureReason, Route } from '../payments/payments.ts';
import { diagnosePayment } from '../payments/diagnosis.ts';
import type { Logger } from '../log/logger.ts';
import { ApiError } from '../api/contract.ts';

import { FORWARDING_POLICY } from '../channel/channel-update.ts';

export { FORWARDING_POLICY };
/** Blocks added to the final expiry, so blocks found while the payment travels do not fail it. */
const FINAL_CLTV_BUFFER = 3;

type Origin =
  /**
   * `sessionSalt` (hex): the onion's session key is derived from it and the node secret, so no key is
   * stored. `sessionKey` is what version 1 stored; it stays only on attempts still out at the upgrade.
   */
  | { kind: 'local'; paymentHash: string; attemptId: number; sessionSalt?: string; sessionKey?: string; hops: string[]; route: { totalTimeLock: number; totalAmtMsat: string; totalFeesMsat: string; hops: { pubkey: string; shortChannelId: string; amtToForwardMsat: string; feeMsat: string; expiry: number }[] }; done?: boolean }
  /** `preimage` (hex): the outgoing HTLC was fulfilled; the incoming one is settled with it, also after a restart. */
  | { kind: 'relay'; inChannel: string; inId: string; sharedSecret: string; preimage?: string; done?: boolean };

/** What htlc-switch.json held (schema 2). */
interface SwitchDb {
  /** `<channel key>:<htlc id>` of each outgoing HTLC → where it came from. */
  origins: Record<string, Origin>;
  /** Incoming HTLCs we forwarded: `<channel>:<id>` → the outgoing `<channel>:<id>`. */
  forwarded: Record<string, string>;
}

/** `code`: the BOLT 4 failure's name (`temporary_channel_failure`), or `local_failure` with `reason` saying why. */
type Outcome = { ok: true; preimage: Uint8Array } | { ok: false; code: string; reason: string; permanent: boolean; failingHop?: number };

export interface SwitchOptions {
  kv: KvStore;
  /** Where an `htlc-switch.json` of an earlier version may wait to be moved into the store. */
  dir?: string;
  channels: ChannelManager;
  invoices: InvoiceRegistry;
  payments: PaymentStore;
  nodeSecret: Uint8Array;
  nodeId: string;
  height: () => number;
  log: Logger;
}

const ONION_SESSION_TAG = new TextEncoder().encode('coulomb/onion-session');

/**
 * An onion's session key from the node secret and a random salt: the salt alone is stored, so the key
 * that decrypts the attempt's failure onion (and links its route) is on disk only while unlocked in memory.
 */
export function onionSessionKey(nodeSecret: Uint8Array, salt: Uint8Array): Uint8Array {
  return hmacSha256(nodeSecret, Uint8Array.from([...ONION_SESSION_TAG, ...salt]));
}

function withoutSessionKey(o: Origin): Origin {
  if (o.kind !== 'local' || o.sessionKey === undefined) return o;
  const { sessionKey: _dropped, ...rest } = o;
  return rest;
}

/** Version 1 → 2: attempts that ended lose the session key version 1 stored (no one needs it again). */
function dropEndedSessionKeys(data: unknown): unknown {
  const d = structuredClone(data) as SwitchDb;
  for (const [key, o] of Object.entries(d.origins)) if (o.done) d.origins[key] = withoutSessionKey(o);
  return d;
}

function routeToRecord(r: Route): Extract<Origin, { kind: 'local' }>['route'] {
  return {
    totalTimeLock: r.totalTimeLock,
    totalAmtMsat: r.totalAmtMsat.toString(),
    totalFeesMsat: r.totalFeesMsat.toString(),
    hops: r.hops.map((h) => ({ pubkey: h.pubkey, shortChannelId: h.shortChannelId.toString(), amtToForwardMsat: h.amtToForwardMsat.toString(), feeMsat: h.feeMsat.toString(), expiry: h.expiry })),
  };
}

function routeFromRecord(r: Extract<Origin, { kind: 'local' }>['route']): Route {
  return {
    totalTimeLock: r.totalTimeLock,
    totalAmtMsat: BigInt(r.totalAmtMsat),
    totalFeesMsat: BigInt(r.totalFeesMsat),
    hops: r.hops.map((h) => ({ pubkey: h.pubkey, shortChannelId: BigInt(h.shortChannelId), amtToForwardMsat: BigInt(h.amtToForwardMsat), feeMsat: BigInt(h.feeMsat), expiry: h.expiry })),
  };
}

export const ORIGINS_NS = 'switch-origins';
export const ORIGINS_DONE_NS = 'switch-origins-done';
export const FORWARDS_NS = 'switch-forwards';

const utf8 = new TextEncoder();

/** The records that hold what an htlc-switch.json of schema 2 held. */
export function switchJsonOps(d: SwitchDb): KvOp[] {
  const ops: KvOp[] = [];
  for (const [key, o] of Object.entries(d.origins)) ops.push({ type: 'put', ns: o.done ? ORIGINS_DONE_NS : ORIGINS_NS, key, value: kvJson.encode(o) });
  for (const [inKey, outKey] of Object.entries(d.forwarded)) ops.push({ type: 'put', ns: FORWARDS_NS, key: inKey, value: utf8.encode(outKey) });
  return ops;
}

/** A candidate way to the payee: the first channel, and the hops after it (the last is the payee). */
interface Candidate {
  channel: string;
  hops: { pubkey: Uint8Array; shortChannelId: bigint; feeBaseMsat: number; feeProportionalMillionths: number; cltvExpiryDelta: number }[];
  firstScid: bigint;
}

export class HtlcSwitch {
  private readonly waiters = new Map<string, (o: Outcome) => void>();
  private readonly incomingAmounts = new Map<string, bigint>();
  /** Payments whose pay() is still trying routes: it decides when they fail. */
  private readonly paying = new Set<string>();
  /** Origins of outgoing HTLCs not yet resolved (`switch-origins`), the only ones kept in memory. */
  private readonly origins = new Map<string, Origin>();
  /** Forwards whose outgoing HTLC is not resolved: incoming `<channel>:<id>` → outgoing. Older ones are read from the store. */
  private readonly forwarded = new Map<string, string>();
  /** Our HTLCs whose preimage ended them; their `fulfilled` event follows. */
  private readonly endedByPreimage = new Set<string>();

  private constructor(
    private readonly kv: KvStore,
    private readonly o: SwitchOptions,
  ) {}

  static async open(o: SwitchOptions): Promise<HtlcSwitch> {
    if (o.dir !== undefined) await migrateJsonStore<SwitchDb>(o.kv, { dir: o.dir, name: 'htlc-switch', version: 2, migrations: [dropEndedSessionKeys], toOps: switchJsonOps, warn: (m) => o.log.warn(m) });
    const sw = new HtlcSwitch(o.kv, o);
    for (const { key, value } of await o.kv.range(ORIGINS_NS)) {
      const origin = kvJson.decode<Origin>(value, `${ORIGINS_NS}/${key} in ${o.kv.location}`);
      sw.origins.set(key, origin);
      if (origin.kind === 'relay') sw.forwarded.set(`${origin.inChannel}:${origin.inId}`, key);
    }
    await sw.failStranded();
    o.channels.setHtlcHandler((e) => sw.onEvent(e));
    o.channels.setPreimageHandler((channel, id, preimage) => sw.recordPreimage(channel, id, preimage));
    o.invoices.onCancel((_hash, ids) => void sw.failIncoming(ids, { type: 'incorrect_or_unknown_payment_details', htlc_msat: 0n, height: o.height() }));
    return sw;
  }

  /** The store is the node's; whoever opened it closes it. */
  async close(): Promise<void> {
    await this.kv.flush();
  }

  /** The records that end an origin: out of the live ones, into the done ones without its session key. */
  private endOps(key: string, origin: Origin): KvOp[] {
    this.origins.delete(key);
    if (origin.kind === 'relay') this.forwarded.delete(`${origin.inChannel}:${origin.inId}`);
    return [
      { type: 'delete', ns: ORIGINS_NS, key },
      { type: 'put', ns: ORIGINS_DONE_NS, key, value: kvJson.encode(withoutSessionKey({ ...origin, done: true })) },
    ];
  }

  /**
   * At start-up, before any HTLC moves: a payment attempt whose HTLC no channel can carry (it never
   * left, or the process stopped before the add was stored, or it failed and the news was lost) is
   * failed, and so is a payment left with nothing in flight, so its invoice can be paid again. An
   * attempt whose HTLC a channel still holds, signed or not, is left to the channel: it ends with it.
   */
  private async failStranded(): Promise<void> {
    const originOf = new Map<string, string>();
    for (const [key, o] of this.origins) if (o.kind === 'local') originOf.set(`${o.paymentHash}:${o.attemptId}`, key);
    const mayBeInFlight = (paymentHash: string, attemptId: number): boolean => {
      const key = originOf.get(`${paymentHash}:${attemptId}`);
      if (!key) return false; // the origin is stored before the HTLC leaves: none, so it never left
      const [channel, id] = key.split(':') as [string, string];
      const view = this.o.channels.get(channel);
      return !!view && mayCarryOutgoing(view.state, BigInt(id));
    };
    const failed = await this.o.payments.failStranded(mayBeInFlight, { code: 'local_failure', message: 'the node stopped before the payment was committed' }, 'FAILURE_REASON_ERROR');
    for (const hash of failed) this.o.log.info('a payment interrupted by a stop failed; its invoice can be paid again', { hash: hash.slice(0, 16) });
  }

  /**
   * The preimage of one of our outgoing HTLCs, stored before the channel goes on (its next commitments
   * drop the HTLC): a payment of ours succeeds, and its HTLC's origin ends, in one write; a forward
   * keeps it to settle the incoming HTLC with.
   */
  private async recordPreimage(channel: string, id: bigint, preimage: Uint8Array): Promise<void> {
    const key = `${channel}:${id}`;
    const origin = this.origins.get(key);
    if (!origin) return;
    if (origin.kind === 'local') {
      this.endedByPreimage.add(key);
      // Not waiting for the disk: the channel's next stored step, which removes the HTLC, carries it
      // there (the store keeps writes in call order); a stop before that leaves the fulfill
      // uncommitted, and the peer sends it again when the channel is reestablished.
      await this.o.payments.succeed(origin.paymentHash, { preimage, route: routeFromRecord(origin.route), with: this.endOps(key, origin), durable: false });
      this.waiters.get(`${origin.paymentHash}:${origin.attemptId}`)?.({ ok: true, preimage });
      this.waiters.delete(`${origin.paymentHash}:${origin.attemptId}`);
    } else if (!origin.preimage) {
      const next: Origin = { ...origin, preimage: hex.encode(preimage) };
      this.origins.set(key, next);
      await this.kv.write([{ type: 'put', ns: ORIGINS_NS, key, value: kvJson.encode(next) }]);
    }
  }

  /**
   * How one of our outgoing HTLCs ended on chain, from its channel's monitor (BOLT 5): a preimage the
   * peer revealed claiming it settles what it came from at once (a payment succeeds, a forward's
   * incoming HTLC is fulfilled); an HTLC timed out on chain (or absent from the commitment that
   * confirmed) fails it, once final. Told again after a restart, it changes nothing.
   */
  async onChainOutcome(o: { type: 'claimed'; channel: string; id: bigint; preimage: Uint8Array } | { type: 'failed'; channel: string; id: bigint; reason: string }): Promise<void> {
    if (o.type === 'claimed') {
      await this.recordPreimage(o.channel, o.id, o.preimage);
      return this.onEvent({ type: 'fulfilled', channel: o.channel, id: o.id, preimage: o.preimage });
    }
    return this.onEvent({ type: 'failed', channel: o.channel, id: o.id, local: o.reason });
  }

  /** After a restart: incoming HTLCs nobody resolved yet are looked at again (every step is idempotent). */
  resume(): void {
    // Forwards whose preimage came back but whose incoming HTLC may not be settled yet.
    for (const [key, o] of this.origins) {
      if (o.kind !== 'relay' || o.done || !o.preimage) continue;
      const [channel, id] = key.split(':') as [string, string];
      void this.onEvent({ type: 'fulfilled', channel, id: BigInt(id), preimage: hex.decode(o.preimage) }).catch((e: unknown) => this.o.log.error('settling a forward failed', { error: String(e) }));
    }
    for (const { channel, htlc } of this.o.channels.unresolvedIncoming()) void this.onLockedIn(channel, htlc).catch((e: unknown) => this.o.log.error('resuming an HTLC failed', { error: String(e) }));
    for (const set of this.o.invoices.heldSets()) {
      if (set.complete) continue;
      const wait = Math.max(0, set.mppDeadline - Date.now());
      setTimeout(() => void this.mppTimeout(set.paymentHash), wait).unref();
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Sending

  /** The ways we know to the payee: a direct channel, or a channel to the first node of a route hint. */
  private candidates(inv: Invoice, amountMsat: bigint): Candidate[] {
    const payee = hex.encode(inv.payee);
    const open = this.o.channels.list().filter((c) => c.state.phase === 'NORMAL' && c.state.shortChannelId !== undefined);
    const out: Candidate[] = [];
    for (const c of open) {
      if (c.peer === payee) out.push({ channel: c.key, hops: [], firstScid: c.state.shortChannelId! });
    }
    for (const hint of inv.routeHints) {
      if (!hint.length) continue;
      const first = hex.encode(hint[0]!.pubkey);
      for (const c of open) {
        if (c.peer !== first) continue;
        out.push({ channel: c.key, hops: hint.map((h) => ({ pubkey: h.pubkey, shortChannelId: h.shortChannelId, feeBaseMsat: h.feeBaseMsat, feeProportionalMillionths: h.feeProportionalMillionths, cltvExpiryDelta: h.cltvExpiryDelta })), firstScid: c.state.shortChannelId! });
      }
    }
    // Channels that can carry the whole amount, those ready for updates first (one still being
    // reestablished after a reconnect comes after them: its add waits for the reestablish), then the
    // fullest first.
    const room = (key: string): bigint => this.o.channels.spendableMsat(this.o.channels.get(key)!);
    const linked = (key: string): number => (this.o.channels.isLinked(key) ? 1 : 0);
    return out
      .filter((c) => room(c.channel) >= amountMsat)
      .sort((a, b) => linked(b.channel) - linked(a.channel) || (room(b.channel) > room(a.channel) ? 1 : room(b.channel) < room(a.channel) ? -1 : 0));
  }

  /** Route amounts and expiries, from the payee back to us (BOLT 4 / BOLT 7 fee arithmetic). */
  private buildRoute(inv: Invoice, amountMsat: bigint, c: Candidate): { route: Route; payloads: Uint8Array[]; pubkeys: Uint8Array[]; firstAmount: bigint; firstCltv: number } {
    const finalCltv = this.o.height() + inv.minFinalCltvExpiryDelta + FINAL_CLTV_BUFFER;
    // Nodes after our peer: each hint hop forwards to the next, the last hint hop forwards to the payee.
    const nodes = [...c.hops.map((h) => h.pubkey), inv.payee];
    const payloads: Uint8Array[] = [];
    const routeHops: Route['hops'] = [];
    let amt = amountMsat;
    let cltv = finalCltv;
    payloads.unshift(framedPayload({ amountMsat: amt, outgoingCltv: cltv, paymentSecret: inv.paymentSecret, totalMsat: amountMsat, ...(inv.metadata ? { paymentMetadata: inv.metadata } : {}) }));
    routeHops.unshift({ pubkey: hex.encode(inv.payee), shortChannelId: c.hops.length ? c.hops[c.hops.length - 1]!.shortChannelId : c.firstScid, amtToForwardMsat: amt, feeMsat: 0n, expiry: cltv });
    for (let i = c.hops.length - 1; i >= 0; i--) {
      const h = c.hops[i]!;
      const fee = BigInt(h.feeBaseMsat) + (amt * BigInt(h.feeProportionalMillionths)) / 1_000_000n;
      payloads.unshift(framedPayload({ amountMsat: amt, outgoingCltv: cltv, shortChannelId: h.shortChannelId }));
      amt += fee;
      cltv += h.cltvExpiryDelta;
      routeHops.unshift({ pubkey: hex.encode(h.pubkey), shortChannelId: i === 0 ? c.firstScid : c.hops[i - 1]!.shortChannelId, amtToForwardMsat: amt - fee, feeMsat: fee, expiry: cltv });
    }
    return { route: { totalTimeLock: cltv, totalAmtMsat: amt, totalFeesMsat: amt - amountMsat, hops: routeHops }, payloads, pubkeys: nodes, firstAmount: amt, firstCltv: cltv };
  }

  /**
   * Pays an invoice: tries each way we know until one succeeds or none is left. Resolves with the
   * payment's record (SUCCEEDED, FAILED, or IN_FLIGHT when the timeout passed with an HTLC still out).
   */
  async pay(inv: Invoice, paymentRequest: string, amountMsat: bigint, opts: { timeoutMs: number; feeLimitMsat?: bigint }): Promise<PaymentEntry> {
    // Not durable on its own: the first attempt's write, before any HTLC leaves, carries it to disk.
    const begun = await this.o.payments.begin({ paymentHash: inv.paymentHash, paymentRequest, destination: inv.payee, amountMsat, ...(opts.feeLimitMsat !== undefined ? { feeLimitMsat: opts.feeLimitMsat } : {}) }, { durable: false });
    if (!begun.started) return begun.payment;
    const hashHex = hex.encode(inv.paymentHash);
    this.paying.add(hashHex);
    try {
      return await this.tryRoutes(inv, amountMsat, opts);
    } finally {
      this.paying.delete(hashHex);
    }
  }

  private async tryRoutes(inv: Invoice, amountMsat: bigint, opts: { timeoutMs: number; feeLimitMsat?: bigint }): Promise<PaymentEntry> {
    const hashHex = hex.encode(inv.paymentHash);
    const candidates = this.candidates(inv, amountMsat);
    if (!candidates.length) {
      const anyOpen = this.o.channels.list().some((c) => c.state.phase === 'NORMAL');
      return this.failPayment(hashHex, anyOpen ? 'FAILURE_REASON_NO_ROUTE' : 'FAILURE_REASON_INSUFFICIENT_BALANCE', this.noRouteDetail(inv, amountMsat));
    }
    const deadline = Date.now() + opts.timeoutMs;
    let cheapestOverLimit: bigint | undefined;
    let payeeSaid: string | undefined;
    let sent = false;
    for (const c of candidates) {
      const built = this.buildRoute(inv, amountMsat, c);
      if (opts.feeLimitMsat !== undefined && built.route.totalFeesMsat > opts.feeLimitMsat) {
        if (cheapestOverLimit === undefined || built.route.totalFeesMsat < cheapestOverLimit) cheapestOverLimit = built.route.totalFeesMsat;
        continue;
      }
      sent = true;
      const sessionSalt = new Uint8Array(randomBytes(32));
      const onion = createOnion(onionSessionKey(this.o.nodeSecret, sessionSalt), built.pubkeys.map((pubkey, i) => ({ pubkey, payload: built.payloads[i]! })), inv.paymentHash);
      let resolveOutcome!: (o: Outcome) => void;
      const outcome = new Promise<Outcome>((resolve) => (resolveOutcome = resolve));
      let attemptId: number | undefined;
      try {
        await this.o.channels.addHtlc(c.channel, { amountMsat: built.firstAmount, paymentHash: inv.paymentHash, cltvExpiry: built.firstCltv, onion }, async (id) => {
          const key = `${c.channel}:${id}`;
          // The attempt and its HTLC's origin in one write. It need not wait for the disk: the HTLC is
          // committed only by our commitment_signed, which the channel stores (durably, in the same
          // store, after this write) before sending; an update_add that leaves before it is forgotten
          // by both sides if we stop first.
          attemptId = await this.o.payments.attempt(hashHex, built.route, {
            durable: false,
            with: (aid) => {
              const origin: Origin = { kind: 'local', paymentHash: hashHex, attemptId: aid, sessionSalt: hex.encode(sessionSalt), hops: built.pubkeys.map((p) => hex.encode(p)), route: routeToRecord(built.route) };
              this.origins.set(key, origin);
              this.waiters.set(`${hashHex}:${aid}`, resolveOutcome);
              return [{ type: 'put', ns: ORIGINS_NS, key, value: kvJson.encode(origin) }];
            },
          });
        });
      } catch (e) {
        const refusal = { code: 'local_refusal', message: (e as Error).message };
        if (attemptId === undefined) {
          await this.o.payments.attempt(hashHex, built.route, { failure: refusal });
        } else {
          this.waiters.delete(`${hashHex}:${attemptId}`);
          await this.o.payments.failAttempt(hashHex, attemptId, refusal);
        }
        continue;
      }
      const result = await Promise.race([outcome, new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, deadline - Date.now())).unref())]);
      if (!result) return (await this.o.payments.get(hashHex))!; // still in flight; its end is recorded when it comes
      if (result.ok) return (await this.o.payments.get(hashHex))!;
      if (result.permanent && result.failingHop === built.pubkeys.length - 1) {
        payeeSaid = result.code;
        break; // the payee said no
      }
    }
    if (!sent && cheapestOverLimit !== undefined) return this.failPayment(hashHex, 'FAILURE_REASON_NO_ROUTE', { cause: 'fee_limit', feeNeededMsat: cheapestOverLimit.toString() });
    return this.failPayment(hashHex, payeeSaid === 'incorrect_or_unknown_payment_details' ? 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' : 'FAILURE_REASON_NO_ROUTE');
  }

  /**
   * What paying `amountMsat` to this invoice would cost, worked out as pay() would choose (lncli
   * estimateroutefee, without probing): the fee and the time lock of the way tried first, the most the
   * fees could be over every way it might try, the first node after us; or, when no channel can take it,
   * why (the same diagnosis a failed payment gets).
   */
  estimateRoute(inv: Invoice, amountMsat: bigint): { feeMsat: bigint; maxFeeMsat: bigint; timeLockDelay: number; via: 'direct' | 'hint'; firstHop: string } | { failure: PaymentFailureDetail } {
    const candidates = this.candidates(inv, amountMsat);
    if (!candidates.length) return { failure: this.noRouteDetail(inv, amountMsat) };
    const routes = candidates.map((c) => ({ c, route: this.buildRoute(inv, amountMsat, c).route }));
    const first = routes[0]!;
    return {
      feeMsat: first.route.totalFeesMsat,
      maxFeeMsat: routes.reduce((m, r) => (r.route.totalFeesMsat > m ? r.route.totalFeesMsat : m), 0n),
      timeLockDelay: first.route.totalTimeLock - this.o.height(),
      via: first.c.hops.length ? 'hint' : 'direct',
      firstHop: first.route.hops[0]!.pubkey,
    };
  }

  /**
   * Ends a payment nothing of which is in flight any more, and throws what happened in words (the
   * diagnosis of its record, core/payments/diagnosis.ts), so the caller reads the same sentence that
   * listpayments shows.
   */
  private async failPayment(hashHex: string, reason: PaymentFailureReason, detail?: PaymentFailureDetail): Promise<never> {
    let p = (await this.o.payments.get(hashHex))!;
    if (p.status === 'IN_FLIGHT' && !p.attempts.some((a) => a.status === 'IN_FLIGHT')) {
      await this.o.payments.fail(hashHex, reason, detail);
      p = (await this.o.payments.get(hashHex))!;
    }
    const said = diagnosePayment(p, Math.floor(Date.now() / 1000));
    throw new ApiError('failed_precondition', said?.text ?? 'The payment failed on its way. Try again in a while.');
  }

  /** Why no channel could take the payment: none open, none with room (the most one can send), or no way to the payee. */
  private noRouteDetail(inv: Invoice, amountMsat: bigint): PaymentFailureDetail {
    const open = this.o.channels.list().filter((c) => c.state.phase === 'NORMAL');
    if (!open.length) return { cause: 'no_channel' };
    const toward = this.candidates(inv, 0n);
    if (toward.length) {
      const most = toward.reduce((m, c) => (this.o.channels.spendableMsat(this.o.channels.get(c.channel)!) > m ? this.o.channels.spendableMsat(this.o.channels.get(c.channel)!) : m), 0n);
      return { cause: 'insufficient_outbound', canSendMsat: most.toString(), towardPayee: true };
    }
    const best = open.reduce((m, c) => (this.o.channels.spendableMsat(c) > m ? this.o.channels.spendableMsat(c) : m), 0n);
    if (best < amountMsat) return { cause: 'insufficient_outbound', canSendMsat: best.toString(), towardPayee: false };
    return { cause: 'no_route' };
  }

  // -------------------------------------------------------------------------------------------------
  // Events from channels

  private async onEvent(e: HtlcEvent): Promise<void> {
    if (e.type === 'locked_in') return this.onLockedIn(e.channel, e.htlc);
    const key = `${e.channel}:${e.id}`;
    if (this.endedByPreimage.delete(key)) return;
    const origin = this.origins.get(key);
    if (!origin) {
      // Resolved before (a replay after a restart), or never ours.
      if (!(await this.kv.get(ORIGINS_DONE_NS, key))) this.o.log.warn('an outgoing HTLC of unknown origin was resolved', { htlc: key, event: e.type });
      return;
    }
    if (e.type === 'fulfilled') {
      if (origin.kind === 'relay') {
        await this.o.channels.resolveHtlc(origin.inChannel, { type: 'fulfill_htlc', id: BigInt(origin.inId), preimage: e.preimage });
        this.o.log.info('forwarded payment settled', { in: `${origin.inChannel.slice(0, 8)}:${origin.inId}`, out: key.slice(0, 8) });
        await this.kv.write(this.endOps(key, origin));
      } else {
        await this.o.payments.succeed(origin.paymentHash, { preimage: e.preimage, route: routeFromRecord(origin.route), with: this.endOps(key, origin) });
        this.waiters.get(`${origin.paymentHash}:${origin.attemptId}`)?.({ ok: true, preimage: e.preimage });
        this.waiters.delete(`${origin.paymentHash}:${origin.attemptId}`);
      }
      return;
    }
    // Failed.
    if (origin.kind === 'relay') {
      const ss = hex.decode(origin.sharedSecret);
      let reason: Uint8Array;
      if (e.reason) reason = obfuscateFailure(ss, e.reason);
      else if (e.malformed) reason = this.failureFor(ss, { type: 'invalid_onion_hmac', sha256_of_onion: e.malformed.sha256OfOnion }, e.malformed.code);
      else reason = this.failureFor(ss, { type: 'temporary_channel_failure', channel_update: new Uint8Array(0) });
      // The origin ends here, before any await: a forgotten add's id may go to the channel's next add
      // meanwhile, and its origin must not be the one ended. Stored after the incoming HTLC's failure
      // is (a crash in between fails it again at start-up, which the channel takes as a replay).
      const end = this.endOps(key, origin);
      await this.o.channels.resolveHtlc(origin.inChannel, { type: 'fail_htlc', id: BigInt(origin.inId), reason });
      await this.kv.write(end);
      return;
    }
    const outcome = this.decodeOutcome(origin, e);
    const reason = outcome.permanent && outcome.failingHop === origin.hops.length - 1 ? 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' : 'FAILURE_REASON_ERROR';
    // Nobody is trying other routes (the sender gave up waiting, or the node restarted since): the
    // payment ends here, in the same write, once nothing of it is in flight.
    const p = await this.o.payments.failAttempt(origin.paymentHash, origin.attemptId, { code: outcome.code, ...(outcome.code === 'local_failure' ? { message: outcome.reason } : {}), ...(outcome.failingHop !== undefined ? { failureSourceIndex: outcome.failingHop } : {}) }, {
      with: this.endOps(key, origin),
      ...(this.paying.has(origin.paymentHash) ? {} : { thenFail: reason }),
    });
    this.waiters.get(`${origin.paymentHash}:${origin.attemptId}`)?.(outcome);
    this.waiters.delete(`${origin.paymentHash}:${origin.attemptId}`);
    // The sender may have given up while the write was on its way.
    if (!this.paying.has(origin.paymentHash) && p.status === 'IN_FLIGHT' && !p.attempts.some((a) => a.status === 'IN_FLIGHT')) await this.o.payments.fail(origin.paymentHash, reason);
  }

  private decodeOutcome(origin: Extract<Origin, { kind: 'local' }>, e: Extract<HtlcEvent, { type: 'failed' }>): Extract<Outcome, { ok: false }> {
    if (e.local) return { ok: false, code: 'local_failure', reason: e.local, permanent: false };
    if (e.malformed) return { ok: false, code: failureName(e.malformed.code).replace(/ /g, '_'), reason: `our peer could not read the onion (${failureName(e.malformed.code)})`, permanent: false, failingHop: 0 };
    const sessionKey = origin.sessionSalt ? onionSessionKey(this.o.nodeSecret, hex.decode(origin.sessionSalt)) : hex.decode(origin.sessionKey ?? '');
    const { secrets } = sharedSecrets(sessionKey, origin.hops.map((h) => hex.decode(h)));
    const d = e.reason ? decodeFailure(secrets, e.reason) : undefined;
    if (!d) return { ok: false, code: 'unreadable_failure', reason: 'a node on the way failed the payment with an unreadable error', permanent: false };
    const msg = decodeFailureMessage(d.message);
    const who = d.hop === origin.hops.length - 1 ? 'the payee' : `hop ${d.hop + 1} (${origin.hops[d.hop]!.slice(0, 16)}…)`;
    return { ok: false, code: failureName(msg.code).replace(/ /g, '_'), reason: `${who} answered ${failureName(msg.code)}`, permanent: (msg.code & 0x4000) !== 0, failingHop: d.hop };
  }

  /** A failure of our own, for the sender: the message under our shared secret, then our obfuscation layer. */
  private failureFor(ss: Uint8Array, m: FailureMessage, codeOverride?: number): Uint8Array {
    let bytes = encodeFailureMessage(m);
    if (codeOverride !== undefined) {
      bytes = Uint8Array.from(bytes);
      bytes[0] = codeOverride >> 8;
      bytes[1] = codeOverride & 0xff;
    }
    return obfuscateFailure(ss, createFailurePacket(ss, bytes));
  }

  private async failIncoming(htlcIds: string[], m: FailureMessage, sharedSecret?: Uint8Array): Promise<void> {
    for (const id of htlcIds) {
      const [channel, n] = id.split(':') as [string, string];
      const ch = this.o.channels.get(channel);
      const h = ch?.state.commit?.localSpec.htlcs.find((x) => x.incoming && x.id === BigInt(n));
      if (!h) continue;
      const ss = sharedSecret ?? this.secretOf(h);
      if (!ss) continue;
      await this.o.channels.resolveHtlc(channel, { type: 'fail_htlc', id: BigInt(n), reason: this.failureFor(ss, m) });
    }
  }

  private secretOf(h: Htlc): Uint8Array | undefined {
    try {
      return peelOnion(this.o.nodeSecret, h.onion, h.paymentHash).sharedSecret;
    } catch {
      return undefined;
    }
  }

  private async mppTimeout(paymentHash: string): Promise<void> {
    const ids = await this.o.invoices.onMppTimeout(paymentHash);
    await this.failIncoming(ids, { type: 'mpp_timeout' });
  }

  /** An HTLC irrevocably committed to us: peel its onion, then settle it or forward it. */
  private async onLockedIn(channel: string, htlc: Htlc): Promise<void> {
    const inKey = `${channel}:${htlc.id}`;
    let peeled;
    try {
      peeled = peelOnion(this.o.nodeSecret, htlc.onion, htlc.paymentHash);
    } catch (e) {
      const code = e instanceof OnionError ? ({ invalid_version: 0xc004, invalid_hmac: 0xc005, invalid_key: 0xc006 } as Record<string, number>)[e.code] ?? 0xc005 : 0xc005;
      this.o.log.warn('an incoming HTLC carries an unreadable onion', { htlc: inKey, error: String(e) });
      await this.o.channels.resolveHtlc(channel, { type: 'fail_malformed_htlc', id: htlc.id, sha256OfOnion: sha256(htlc.onion), failureCode: code });
      return;
    }
    const ss = peeled.sharedSecret;
    const failBack = (m: FailureMessage): Promise<void> => this.o.channels.resolveHtlc(channel, { type: 'fail_htlc', id: htlc.id, reason: this.failureFor(ss, m) });
    let payload;
    try {
      payload = decodePayload(peeled.payload, !peeled.next);
    } catch (e) {
      const tlvType = e instanceof PayloadError ? e.tlvType : 0n;
      return failBack({ type: 'invalid_onion_payload', tlv_type: tlvType, offset: 0 });
    }
    const height = this.o.height();
    if (!peeled.next) {
      // We are the payee.
      if (htlc.cltvExpiry < payload.outgoingCltv) return failBack({ type: 'final_incorrect_cltv_expiry', cltv_expiry: htlc.cltvExpiry });
      if (htlc.amountMsat < payload.amountMsat) return failBack({ type: 'final_incorrect_htlc_amount', incoming_htlc_amt: htlc.amountMsat });
      this.incomingAmounts.set(inKey, htlc.amountMsat);
      const decision = await this.o.invoices.onHtlc({
        paymentHash: htlc.paymentHash,
        paymentSecret: payload.paymentSecret,
        amountMsat: htlc.amountMsat,
        totalMsat: payload.totalMsat ?? payload.amountMsat,
        cltvExpiry: htlc.cltvExpiry,
        currentHeight: height,
        htlcId: inKey,
        amtToForwardMsat: payload.amountMsat,
        outgoingCltvValue: payload.outgoingCltv,
        // The set's last part settles the invoice in the same write. It need not wait for the disk: the
        // fulfill is stored (durably, in the same store, after this write) before it is sent.
      }, { settle: true, durable: false });
      if (decision.action === 'hold') {
        setTimeout(() => void this.mppTimeout(hex.encode(htlc.paymentHash)), Math.max(0, decision.mppDeadline - Date.now())).unref();
        return;
      }
      if (decision.action === 'fail') {
        this.o.log.info('refused an incoming payment', { hash: hex.encode(htlc.paymentHash).slice(0, 16), why: decision.detail });
        const m: FailureMessage =
          decision.reason === 'mpp_timeout'
            ? { type: 'mpp_timeout' }
            : decision.reason === 'final_incorrect_cltv_expiry'
              ? { type: 'final_incorrect_cltv_expiry', cltv_expiry: htlc.cltvExpiry }
              : decision.reason === 'final_incorrect_htlc_amount'
                ? { type: 'final_incorrect_htlc_amount', incoming_htlc_amt: htlc.amountMsat }
                : { type: 'incorrect_or_unknown_payment_details', htlc_msat: htlc.amountMsat, height };
        await this.failIncoming(decision.htlcIds.filter((id) => id !== inKey), m);
        if (decision.htlcIds.includes(inKey) || !decision.htlcIds.length) await failBack(m);
        return;
      }
      let paid = 0n;
      for (const id of decision.htlcIds) paid += this.incomingAmounts.get(id) ?? 0n;
      // The invoice is settled before the preimage leaves (onHtlc recorded it with the set's last part;
      // markSettled only catches a decision an older version recorded): once the payer has it, the
      // payment is made. A crash in between finds the HTLCs unresolved at start-up, and the invoice
      // settles them again.
      await this.o.invoices.markSettled(htlc.paymentHash, paid || htlc.amountMsat);
      for (const id of decision.htlcIds) {
        const [ch, n] = id.split(':') as [string, string];
        await this.o.channels.resolveHtlc(ch, { type: 'fulfill_htlc', id: BigInt(n), preimage: decision.preimage });
      }
      this.o.log.info('payment received', { hash: hex.encode(htlc.paymentHash).slice(0, 16), msat: (paid || htlc.amountMsat).toString() });
      return;
    }
    // We are a hop: forward, if the onion asks for a channel we have and pays our fee.
    if (this.forwarded.has(inKey) || (await this.kv.get(FORWARDS_NS, inKey))) return; // already forwarded (a restart replays locked-in HTLCs)
    const out = this.o.channels.byScid(payload.shortChannelId!);
    if (!out || out.state.phase !== 'NORMAL') return failBack({ type: 'unknown_next_peer' });
    const fee = FORWARDING_POLICY.feeBaseMsat + (payload.amountMsat * FORWARDING_POLICY.feeProportionalMillionths) / 1_000_000n;
    if (htlc.amountMsat - payload.amountMsat < fee) return failBack({ type: 'fee_insufficient', htlc_msat: htlc.amountMsat, channel_update: new Uint8Array(0) });
    if (htlc.cltvExpiry - payload.outgoingCltv < FORWARDING_POLICY.cltvExpiryDelta) return failBack({ type: 'incorrect_cltv_expiry', cltv_expiry: htlc.cltvExpiry, channel_update: new Uint8Array(0) });
    if (payload.outgoingCltv <= height + 2) return failBack({ type: 'expiry_too_soon', channel_update: new Uint8Array(0) });
    if (payload.amountMsat < (out.state.remote?.htlcMinimumMsat ?? 0n)) return failBack({ type: 'amount_below_minimum', htlc_msat: payload.amountMsat, channel_update: new Uint8Array(0) });
    try {
      await this.o.channels.addHtlc(out.key, { amountMsat: payload.amountMsat, paymentHash: htlc.paymentHash, cltvExpiry: payload.outgoingCltv, onion: peeled.next }, async (id) => {
        const outKey = `${out.key}:${id}`;
        const origin: Origin = { kind: 'relay', inChannel: channel, inId: htlc.id.toString(), sharedSecret: hex.encode(ss) };
        this.origins.set(outKey, origin);
        this.forwarded.set(inKey, outKey);
        await this.kv.write([
          { type: 'put', ns: ORIGINS_NS, key: outKey, value: kvJson.encode(origin) },
          { type: 'put', ns: FORWARDS_NS, key: inKey, value: utf8.encode(outKey) },
        ]);
      });
    } catch (e) {
      this.o.log.info('could not forward an HTLC', { htlc: inKey, why: (e as Error).message });
      return failBack({ type: 'temporary_channel_failure', channel_update: new Uint8Array(0) });
    }
  }
}
