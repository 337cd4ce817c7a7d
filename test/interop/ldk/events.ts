/**
 * Answers an LDK node's events the way a small wallet would, and records what happened, so tests can
 * pay and be paid by LDK: channels LDK is asked to fund are funded from a test coin, inbound channel
 * requests are accepted (anchors channels need that), HTLCs are forwarded and claimed as soon as LDK
 * says they can be, and every payment's end (sent, failed, claimed, forwarded) is kept by payment hash.
 *
 * Pass `driver.onEvent` as the node's `onEvent` option; the harness calls it outside LDK's own event
 * processing, so calling back into LDK here is safe.
 */
import * as ldk from 'lightningdevkit';
import { fundingTransaction } from './funding.ts';
import type { FundingCoin } from './funding.ts';
import type { LdkNode } from './node.ts';
import { Conditions } from './conditions.ts';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Feerate of the sweeps of spendable outputs, sat per 1000 weight (the floor a relay accepts). */
const SWEEP_FEERATE = 253;

export interface SentPayment {
  preimage: string;
  feeMsat: bigint | undefined;
}

export interface FailedPayment {
  reason: string;
}

export interface ClaimedPayment {
  amountMsat: bigint;
  /** How many HTLCs made up the claimed payment. */
  htlcs: number;
}

export interface ForwardedPayment {
  feeMsat: bigint | undefined;
  outboundMsat: bigint | undefined;
}

export class LdkEventDriver {
  /** Outgoing payments that LDK reports as sent (preimage received), by payment hash. */
  readonly sent = new Map<string, SentPayment>();
  /** Outgoing payments LDK gave up on, by payment hash. */
  readonly failed = new Map<string, FailedPayment>();
  /** Incoming payments LDK claimed (PaymentClaimed), by payment hash. */
  readonly claimed = new Map<string, ClaimedPayment>();
  /** How often LDK reported each incoming payment as claimable (it must be claimed once). */
  readonly claimable = new Map<string, number>();
  /** Failed path attempts LDK reported (a retried payment can have several). */
  readonly pathFailures: { hash: string; permanently: boolean; scid?: bigint }[] = [];
  readonly forwarded: ForwardedPayment[] = [];
  readonly htlcHandlingFailed: string[] = [];
  readonly closed: { channelId: string; reason: string }[] = [];
  /** Every event's class name, in order (for a test's failure message). */
  readonly seen: string[] = [];
  /** What the driver could not do (no funding coin, an inbound channel LDK would not accept…). */
  readonly errors: string[] = [];
  /** The coin LDK's next FundingGenerationReady is paid from (used once). */
  fundingCoin: FundingCoin | undefined;
  /**
   * While true, incoming payments are held instead of claimed (their HTLCs stay in the commitments),
   * until `claimHeld` or a failure; the preimage is kept in `held`.
   */
  holdPayments = false;
  /** Claimable payments held back, by payment hash, with the preimage the invoice made. */
  readonly held = new Map<string, { preimage: Uint8Array; amountMsat: bigint }>();
  /**
   * Where LDK's SpendableOutputs go (an output script): each such event is answered with the
   * KeysManager's spend_spendable_outputs paying everything there, broadcast at once.
   */
  sweepTo: Uint8Array | undefined;
  /** The sweeping transactions built for SpendableOutputs, in order. */
  readonly sweeps: Uint8Array[] = [];
  /** How many outputs SpendableOutputs events handed over. */
  spendableOutputs = 0;

  private readonly conditions = new Conditions();
  private forwardScheduled = false;

  constructor(private readonly opts: { acceptInbound?: boolean } = {}) {}

  readonly onEvent = (e: ldk.Event, node: LdkNode): void => {
    this.seen.push(e.constructor.name);
    if (e instanceof ldk.Event_FundingGenerationReady) {
      const coin = this.fundingCoin;
      this.fundingCoin = undefined;
      if (!coin) this.errors.push(`${node.alias}: asked to fund a channel, but no funding coin was given`);
      else if (!node.channelManager.funding_transaction_generated(e.temporary_channel_id, e.counterparty_node_id, fundingTransaction(coin, e)).is_ok()) this.errors.push(`${node.alias}: LDK refused the funding transaction`);
    } else if (e instanceof ldk.Event_OpenChannelRequest) {
      // Only reached with `manually_accept_inbound_channels` (which anchors channels need).
      if (this.opts.acceptInbound ?? true) {
        // user_channel_id 0: its 16 bytes read the same in both byte orders (see LDK-NOTES.md).
        const r = node.channelManager.accept_inbound_channel(e.temporary_channel_id, e.counterparty_node_id, 0n);
        if (!r.is_ok()) this.errors.push(`${node.alias}: accept_inbound_channel failed`);
      }
    } else if (e instanceof ldk.Event_PendingHTLCsForwardable) {
      // LDK suggests waiting `time_forwardable` (to batch and blur timing); tests want speed.
      if (!this.forwardScheduled) {
        this.forwardScheduled = true;
        setImmediate(() => {
          this.forwardScheduled = false;
          try {
            node.channelManager.process_pending_htlc_forwards();
            node.processEvents();
          } catch {
            // the node was stopped in between
          }
        });
      }
    } else if (e instanceof ldk.Event_PaymentClaimable) {
      const hash = hexOf(e.payment_hash);
      this.claimable.set(hash, (this.claimable.get(hash) ?? 0) + 1);
      const purpose = e.purpose;
      if (purpose instanceof ldk.PaymentPurpose_Bolt11InvoicePayment && purpose.payment_preimage instanceof ldk.Option_ThirtyTwoBytesZ_Some) {
        if (this.holdPayments) this.held.set(hash, { preimage: purpose.payment_preimage.some, amountMsat: e.amount_msat });
        else node.channelManager.claim_funds(purpose.payment_preimage.some);
      } else {
        node.channelManager.fail_htlc_backwards(e.payment_hash);
      }
    } else if (e instanceof ldk.Event_PaymentClaimed) {
      this.claimed.set(hexOf(e.payment_hash), { amountMsat: e.amount_msat, htlcs: e.htlcs.length });
    } else if (e instanceof ldk.Event_PaymentSent) {
      const fee = e.fee_paid_msat instanceof ldk.Option_u64Z_Some ? e.fee_paid_msat.some : undefined;
      this.sent.set(hexOf(e.payment_hash), { preimage: hexOf(e.payment_preimage), feeMsat: fee });
    } else if (e instanceof ldk.Event_PaymentFailed) {
      const hash = e.payment_hash instanceof ldk.Option_ThirtyTwoBytesZ_Some ? hexOf(e.payment_hash.some) : hexOf(e.payment_id);
      const reason = e.reason instanceof ldk.Option_PaymentFailureReasonZ_Some ? (ldk.PaymentFailureReason[e.reason.some] ?? String(e.reason.some)) : 'unknown';
      this.failed.set(hash, { reason });
    } else if (e instanceof ldk.Event_PaymentPathFailed) {
      const scid = e.short_channel_id instanceof ldk.Option_u64Z_Some ? e.short_channel_id.some : undefined;
      this.pathFailures.push({ hash: hexOf(e.payment_hash), permanently: Boolean(e.payment_failed_permanently), ...(scid !== undefined ? { scid } : {}) });
    } else if (e instanceof ldk.Event_PaymentForwarded) {
      this.forwarded.push({
        feeMsat: e.total_fee_earned_msat instanceof ldk.Option_u64Z_Some ? e.total_fee_earned_msat.some : undefined,
        outboundMsat: e.outbound_amount_forwarded_msat instanceof ldk.Option_u64Z_Some ? e.outbound_amount_forwarded_msat.some : undefined,
      });
    } else if (e instanceof ldk.Event_HTLCHandlingFailed) {
      this.htlcHandlingFailed.push(e.failed_next_destination.constructor.name);
    } else if (e instanceof ldk.Event_SpendableOutputs) {
      this.spendableOutputs += e.outputs.length;
      const to = this.sweepTo;
      if (!to) {
        this.errors.push(`${node.alias}: ${e.outputs.length} spendable outputs, but no sweepTo script`);
      } else {
        const r = node.keysManager.as_OutputSpender().spend_spendable_outputs(e.outputs, [], to, SWEEP_FEERATE, ldk.Option_u32Z.constructor_none());
        if (r instanceof ldk.Result_TransactionNoneZ_OK) {
          this.sweeps.push(r.res);
          node.broadcasted.push(r.res);
        } else {
          this.errors.push(`${node.alias}: spend_spendable_outputs refused ${e.outputs.length} outputs`);
        }
      }
    } else if (e instanceof ldk.Event_ChannelClosed) {
      this.closed.push({ channelId: hexOf(e.channel_id.get_a()), reason: e.reason.to_str() });
    }
    this.conditions.check();
  };

  /** Claims a held payment with its preimage (LDK tells its ChannelMonitor before the peer). */
  claimHeld(node: LdkNode, hash: string): void {
    const h = this.held.get(hash);
    if (!h) throw new Error(`${node.alias}: no held payment ${hash.slice(0, 16)}`);
    this.held.delete(hash);
    node.channelManager.claim_funds(h.preimage);
    node.processEvents();
  }

  /** Resolves once `done()` holds, checked after every event; rejects after `timeoutMs`. */
  until(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
    return this.conditions.until(done, timeoutMs, () => `timed out after ${timeoutMs} ms waiting for ${what} (events seen: ${this.seen.slice(-20).join(', ')})`);
  }

  /** Resolves when the outgoing payment with this hash ended, either way. */
  paymentEnded(hash: string, timeoutMs = 15_000): Promise<'sent' | 'failed'> {
    return this.until(`payment ${hash.slice(0, 16)} to end`, () => this.sent.has(hash) || this.failed.has(hash), timeoutMs).then(() => (this.sent.has(hash) ? 'sent' : 'failed'));
  }
}
