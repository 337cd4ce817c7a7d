/**
 * Why a payment failed, in words, from its record: the one place that turns the payment's failure
 * reason, the cause stored when no HTLC could leave, and each attempt's failure (a BOLT 4 failure code
 * and the hop that sent it, or a local reason) into what happened and what to do.
 *
 * Pure: the caller gives the clock. Amounts are written as the app writes them ("481 340 sat").
 */
import { decodeInvoice, isExpired } from '../invoice/bolt11.ts';
import { satText } from '../util/amount-text.ts';
import type { AttemptFailure, PaymentEntry, PaymentFailureDetail } from './payments.ts';

/** What went wrong, as a client can branch on it. */
export type DiagnosisKind =
  /** No open channel to pay through. */
  | 'no_channel'
  /** The channels could not send this much (with the most they could). */
  | 'insufficient_outbound'
  /** No way known to the payee: no channel to it, and no route hint through one of our peers. */
  | 'no_route'
  /** Every way known asks more in fees than the limit allowed. */
  | 'fee_limit'
  /** A node on the way refused to pass it on (which one, and why). */
  | 'hop_failed'
  /** The payee refused it: unknown or canceled invoice, already paid, wrong amount. */
  | 'payee_refused'
  /** The payee refused it, and the invoice has expired. */
  | 'invoice_expired'
  /** Our peer was not connected, or the connection dropped before the payment was committed. */
  | 'peer_offline'
  /** No answer in time. */
  | 'timeout'
  | 'canceled'
  | 'failed';

/** A failed payment, explained (lncli has only failure_reason; this is what a person needs). */
export interface PaymentDiagnosis {
  kind: DiagnosisKind;
  /** What happened and what to do, for people, in one or two sentences. */
  text: string;
  /** The node whose answer failed it, when one did: its place on the route (1 is our channel peer), its key, and the BOLT 4 failure. */
  hop?: { index: number; pub_key: string; is_payee: boolean; failure: string };
}

/** BOLT 4 failure codes by what they mean for a node on the way, in words, and what to do. */
const HOP_FAILURES: Record<string, { why: string; fix: string }> = {
  temporary_channel_failure: { why: 'its channel toward the next node has no room for it right now, or that node is offline', fix: 'Try again in a while, or pay a smaller amount.' },
  unknown_next_peer: { why: 'it has no channel the route names toward the next node (the channel closed, or the invoice’s route hint is out of date)', fix: 'Ask the payee for a new invoice.' },
  channel_disabled: { why: 'its channel toward the next node is disabled, usually because the next node is offline', fix: 'Try again later, when the payee is online.' },
  permanent_channel_failure: { why: 'its channel toward the next node is closing or closed', fix: 'Ask the payee for a new invoice, or for another way to pay.' },
  temporary_node_failure: { why: 'it could not handle payments just then', fix: 'Try again in a while.' },
  permanent_node_failure: { why: 'it no longer forwards payments', fix: 'Ask the payee for a new invoice, or for another way to pay.' },
  required_node_feature_missing: { why: 'it needs a feature the payment did not offer', fix: 'Ask the payee for another way to pay.' },
  required_channel_feature_missing: { why: 'its channel needs a feature the payment did not offer', fix: 'Ask the payee for another way to pay.' },
  fee_insufficient: { why: 'it asks a higher forwarding fee than the route paid (its fees changed since the invoice was made)', fix: 'Ask the payee for a new invoice, then pay again.' },
  incorrect_cltv_expiry: { why: 'it asks for more time to forward than the route gave (its policy changed since the invoice was made)', fix: 'Ask the payee for a new invoice, then pay again.' },
  expiry_too_soon: { why: 'the payment would expire too soon for it (new blocks were found while it travelled)', fix: 'Try again.' },
  amount_below_minimum: { why: 'the amount is below the smallest its channel carries', fix: 'Pay a larger amount.' },
  invalid_onion_version: { why: 'it could not read the payment’s routing data', fix: 'Try again; if it keeps failing, ask the payee for another way to pay.' },
  invalid_onion_hmac: { why: 'it could not read the payment’s routing data', fix: 'Try again; if it keeps failing, ask the payee for another way to pay.' },
  invalid_onion_key: { why: 'it could not read the payment’s routing data', fix: 'Try again; if it keeps failing, ask the payee for another way to pay.' },
  invalid_onion_payload: { why: 'it could not read the payment’s routing data', fix: 'Try again; if it keeps failing, ask the payee for another way to pay.' },
  invalid_onion_blinding: { why: 'it could not read the payment’s routing data', fix: 'Ask the payee for a new invoice.' },
};

/** What the payee's own answers mean. */
const PAYEE_FAILURES: Record<string, string> = {
  incorrect_or_unknown_payment_details: 'The payee refused the payment: it does not know this invoice, or canceled it, or it was paid already, or the amount is not what it asked. Ask the payee for a new invoice.',
  final_incorrect_cltv_expiry: 'The payee refused the payment: it arrived with less time than the payee asks for. Try again; if it keeps failing, ask the payee for a new invoice.',
  final_incorrect_htlc_amount: 'The payee refused the payment: it arrived with less than the payee was told to expect, so a node on the way took too much. Try again.',
  mpp_timeout: 'The payee gave up waiting for the rest of the payment. Try again.',
  permanent_node_failure: 'The payee no longer accepts payments. Ask the payee for another way to pay.',
  temporary_node_failure: 'The payee could not take payments just then. Try again in a while.',
  required_node_feature_missing: 'The payee needs a feature the payment did not offer. Ask the payee for another way to pay.',
};

/** What can be sent, rounded down; what is asked (amounts, fees), rounded up. */
const sat = (msat: bigint | string): string => satText(BigInt(msat) / 1000n);
const satCeil = (msat: bigint | string): string => satText((BigInt(msat) + 999n) / 1000n);

/**
 * An attempt's failure as code and hop. Records from before codes were stored keep a sentence such
 * as "hop 2 (02ab…) answered temporary channel failure" or "the payee answered …".
 */
function readFailure(f: AttemptFailure): { code: string; local?: string } {
  if (f.message !== undefined || /^[a-z_]+$/.test(f.code)) return { code: f.code, ...(f.message !== undefined ? { local: f.message } : {}) };
  const m = /answered (.+)$/.exec(f.code);
  if (m) return { code: m[1]!.trim().replace(/ /g, '_') };
  return { code: 'local_failure', local: f.code };
}

function hopName(index: number): string {
  return index === 0 ? 'Your channel peer' : `The node at hop ${index + 1} of the route`;
}

/** Why a payment of `amountMsat` cannot leave (or could not), from the cause the node found. */
export function fromDetail(d: PaymentFailureDetail, feeLimitMsat: bigint | undefined, amountMsat: bigint): PaymentDiagnosis {
  switch (d.cause) {
    case 'no_channel':
      return { kind: 'no_channel', text: 'You have no open channel to pay through. Open a channel first (Channels), then pay again.' };
    case 'insufficient_outbound': {
      const most = d.canSendMsat !== undefined ? BigInt(d.canSendMsat) : 0n;
      return {
        kind: 'insufficient_outbound',
        text: `Your channels cannot send ${satCeil(amountMsat)} now: the most ${d.towardPayee ? 'the channel toward the payee' : 'one channel'} can send is ${sat(most)} (each side keeps a reserve, and the opener pays the fees). Pay less, or open a channel with more on your side.`,
      };
    }
    case 'no_route':
      return {
        kind: 'no_route',
        text: 'No way to the payee is known: you have no channel to the payee, and the invoice names no node you have a channel with. Open a channel to the payee (or to a node its invoice names), or ask for an invoice with route hints.',
      };
    case 'fee_limit': {
      const need = d.feeNeededMsat !== undefined ? satCeil(d.feeNeededMsat) : undefined;
      const limit = feeLimitMsat !== undefined ? sat(feeLimitMsat) : undefined;
      return {
        kind: 'fee_limit',
        text: `Every way to the payee asks more in fees${need ? ` (at least ${need})` : ''} than the limit${limit ? ` of ${limit}` : ''} allows. Allow a fee of ${need ?? 'more'} and pay again.`,
      };
    }
  }
}

/**
 * Why a FAILED payment failed, in words (undefined for a payment that did not fail). `nowSec` tells an
 * expired invoice from one the payee refused for another reason.
 */
export function diagnosePayment(p: Pick<PaymentEntry, 'status' | 'failureReason' | 'failureDetail' | 'attempts' | 'paymentRequest' | 'feeLimitMsat' | 'amountMsat'>, nowSec: number): PaymentDiagnosis | undefined {
  if (p.status !== 'FAILED') return undefined;
  if (p.failureDetail) return fromDetail(p.failureDetail, p.feeLimitMsat, p.amountMsat);
  const failed = p.attempts.filter((a) => a.status === 'FAILED' && a.failure);
  // The payee's word is final; otherwise the last attempt says the most about where things stand.
  const read = failed.map((a) => ({ a, f: readFailure(a.failure!) }));
  const byPayee = read.find(({ a, f }) => f.local === undefined && a.failure!.failureSourceIndex === a.route.hops.length - 1 && a.route.hops.length > 0);
  const pick = byPayee ?? read[read.length - 1];
  if (pick && pick.f.local === undefined && pick.a.failure!.failureSourceIndex !== undefined) {
    const index = pick.a.failure!.failureSourceIndex;
    const hop = pick.a.route.hops[index];
    const isPayee = index === pick.a.route.hops.length - 1;
    const at = { index: index + 1, pub_key: hop?.pubkey ?? '', is_payee: isPayee, failure: pick.f.code };
    if (isPayee) {
      if (pick.f.code === 'incorrect_or_unknown_payment_details' && invoiceExpired(p.paymentRequest, nowSec)) {
        return { kind: 'invoice_expired', text: 'The invoice expired before the payment reached the payee, so the payee refused it. Ask the payee for a new invoice.', hop: at };
      }
      const said = PAYEE_FAILURES[pick.f.code] ?? `The payee refused the payment (${pick.f.code.replace(/_/g, ' ')}). Ask the payee for a new invoice.`;
      return { kind: 'payee_refused', text: said, hop: at };
    }
    const known = HOP_FAILURES[pick.f.code];
    const why = known?.why ?? `it answered “${pick.f.code.replace(/_/g, ' ')}”`;
    return { kind: 'hop_failed', text: `${hopName(index)} could not pass the payment on: ${why}. ${known?.fix ?? 'Try again in a while.'}`, hop: at };
  }
  if (pick?.f.local !== undefined) {
    const local = pick.f.local;
    if (/not usable yet|reestablish/i.test(local)) {
      return { kind: 'peer_offline', text: 'Your channel peer reconnected, but the channel is not usable yet: it has not been reestablished, so the payment could not leave. Try again in a moment.' };
    }
    if (/not connected|connection to the peer dropped/i.test(local)) {
      return { kind: 'peer_offline', text: 'Your channel peer was not connected, so the payment could not leave. Try again once it is online (Peers shows it).' };
    }
    if (/stopped before the payment was committed/.test(local)) return { kind: 'failed', text: 'Coulomb stopped before the payment left, so nothing was paid. Pay again.' };
    if (/ended on chain/.test(local)) return { kind: 'failed', text: 'The channel closed on chain while the payment was in it, and it came back to you there. Pay again over another channel.' };
    return { kind: 'failed', text: `Your channel could not take the payment: ${local.replace(/[.;]\s*$/, '')}. Try again, or pay a smaller amount.` };
  }
  if (pick) return { kind: 'failed', text: 'A node on the way failed the payment with an answer Coulomb could not read. Try again in a while.' };
  switch (p.failureReason) {
    case 'FAILURE_REASON_TIMEOUT':
      return { kind: 'timeout', text: 'The payment got no answer in time and was given up. Try again.' };
    case 'FAILURE_REASON_CANCELED':
      return { kind: 'canceled', text: 'The payment was canceled before it left.' };
    case 'FAILURE_REASON_INSUFFICIENT_BALANCE':
      return fromDetail({ cause: 'no_channel' }, undefined, p.amountMsat);
    case 'FAILURE_REASON_NO_ROUTE':
      return fromDetail({ cause: 'no_route' }, undefined, p.amountMsat);
    case 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS':
      return { kind: 'payee_refused', text: PAYEE_FAILURES.incorrect_or_unknown_payment_details! };
    default:
      return { kind: 'failed', text: 'The payment failed on its way. Try again in a while.' };
  }
}

function invoiceExpired(paymentRequest: string, nowSec: number): boolean {
  if (!paymentRequest) return false;
  try {
    return isExpired(decodeInvoice(paymentRequest), nowSec);
  } catch {
    return false;
  }
}
