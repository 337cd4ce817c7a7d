/**
 * Invoices and payments in the API's lncli-shaped JSON: amounts and times as decimal strings, hashes,
 * secrets and preimages as hex, short channel ids as BxTxO like listchannels.
 */
import type { InvoiceView, PaymentView } from '../api/contract.ts';
import { scidToString } from '../wire/index.ts';
import type { InvoiceEntry } from './invoices.ts';
import type { PaymentEntry } from './payments.ts';
import { diagnosePayment } from './diagnosis.ts';

const sat = (msat: bigint): string => (msat / 1000n).toString();
const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

export function invoiceView(e: InvoiceEntry): InvoiceView {
  const value = e.amountMsat ?? 0n;
  return {
    memo: e.memo,
    r_preimage: e.preimage,
    r_hash: e.paymentHash,
    value: sat(value),
    value_msat: value.toString(),
    settled: e.state === 'SETTLED',
    creation_date: String(e.creationDate),
    settle_date: String(e.settleDate),
    settle_time_ns: ns(e.settledAt),
    payment_request: e.paymentRequest,
    description_hash: e.descriptionHash ?? '',
    expiry: String(e.expirySec),
    cltv_expiry: String(e.minFinalCltvExpiryDelta),
    private: e.private,
    add_index: String(e.addIndex),
    settle_index: String(e.settleIndex),
    amt_paid: e.amtPaidMsat.toString(),
    amt_paid_sat: sat(e.amtPaidMsat),
    amt_paid_msat: e.amtPaidMsat.toString(),
    state: e.state,
    payment_addr: e.paymentSecret,
    htlcs: e.htlcs.map((h) => ({
      htlc_id: h.htlcId,
      amt_msat: h.amountMsat.toString(),
      mpp_total_amt_msat: h.totalMsat.toString(),
      accept_time: String(Math.floor(h.acceptedAt / 1000)),
      expiry_height: h.cltvExpiry,
      state: h.state,
    })),
  };
}

export function paymentView(p: PaymentEntry): PaymentView {
  // The clock tells a refused payment whose invoice has expired from one refused for another reason.
  const diagnosis = diagnosePayment(p, Math.floor(Date.now() / 1000));
  return {
    payment_hash: p.paymentHash,
    value: sat(p.amountMsat),
    value_sat: sat(p.amountMsat),
    value_msat: p.amountMsat.toString(),
    payment_preimage: p.preimage,
    payment_request: p.paymentRequest,
    status: p.status,
    fee: sat(p.feeMsat),
    fee_sat: sat(p.feeMsat),
    fee_msat: p.feeMsat.toString(),
    creation_date: String(Math.floor(p.creationTime / 1000)),
    creation_time_ns: ns(p.creationTime),
    payment_index: String(p.paymentIndex),
    failure_reason: p.failureReason ?? 'FAILURE_REASON_NONE',
    ...(diagnosis ? { failure_detail: diagnosis } : {}),
    htlcs: p.attempts.map((a) => ({
      attempt_id: String(a.attemptId),
      status: a.status,
      route: {
        total_time_lock: a.route.totalTimeLock,
        total_fees: sat(a.route.totalFeesMsat),
        total_fees_msat: a.route.totalFeesMsat.toString(),
        total_amt: sat(a.route.totalAmtMsat),
        total_amt_msat: a.route.totalAmtMsat.toString(),
        hops: a.route.hops.map((h) => ({
          chan_id: scidToString(h.shortChannelId),
          pub_key: h.pubkey,
          amt_to_forward: sat(h.amtToForwardMsat),
          amt_to_forward_msat: h.amtToForwardMsat.toString(),
          fee: sat(h.feeMsat),
          fee_msat: h.feeMsat.toString(),
          expiry: h.expiry,
        })),
      },
      attempt_time_ns: ns(a.attemptTime),
      resolve_time_ns: ns(a.resolveTime),
      failure: a.failure ? { code: a.failure.code, failure_source_index: a.failure.failureSourceIndex ?? 0 } : null,
      preimage: a.preimage,
    })),
  };
}
