/**
 * BOLT 11 payments from and to an LDK node, with LDK's own helpers: invoices from the ChannelManager
 * (`create_invoice_from_channelmanager`, which adds route hints only for channels whose peer sent a
 * channel_update) and payments through its router (`payment_parameters_from_invoice` + `send_payment`).
 */
import * as ldk from 'lightningdevkit';
import type { LdkNode } from './node.ts';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface LdkInvoice {
  bolt11: string;
  paymentHash: string;
}

/** An invoice of `node` for `amountMsat`, valid for `expirySecs` (from the latest block time LDK saw). */
export function ldkInvoice(node: LdkNode, amountMsat: bigint, description = 'interop', expirySecs = 3600): LdkInvoice {
  const r = ldk.UtilMethods.constructor_create_invoice_from_channelmanager(node.channelManager, ldk.Option_u64Z.constructor_some(amountMsat), description, expirySecs, ldk.Option_u16Z.constructor_none());
  if (!(r instanceof ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_OK)) throw new Error(`${node.alias}: could not create an invoice: ${(r as ldk.Result_Bolt11InvoiceSignOrCreationErrorZ_Err).err.to_str()}`);
  return { bolt11: r.res.to_str(), paymentHash: hexOf(r.res.payment_hash()) };
}

/** A route hint hop: the channel from `src` to the payee (or to the next hint hop). */
export interface HintHop {
  src: string;
  scid: bigint;
  feeBaseMsat: number;
  feePpm: number;
  cltvExpiryDelta: number;
}

function parse(bolt11: string): ldk.Bolt11Invoice {
  const r = ldk.Bolt11Invoice.constructor_from_str(bolt11);
  if (!(r instanceof ldk.Result_Bolt11InvoiceParseOrSemanticErrorZ_OK)) throw new Error(`LDK cannot read the invoice ${bolt11.slice(0, 24)}…`);
  return r.res;
}

/**
 * Starts paying a BOLT 11 invoice and returns its payment hash (hex); the outcome comes as
 * PaymentSent / PaymentFailed events. The payment id is the hash unless `paymentId` is given (LDK
 * refuses an id it still remembers, e.g. to pay again after a failure). `hints` replaces the
 * invoice's route hints (for payees whose private channels LDK's invoice helper cannot describe).
 * `retries` is how many other paths LDK may try (default none); `maxTotalCltvExpiryDelta` caps the
 * HTLC's expiry above the tip (LDK's shadow offset included). Throws when LDK refuses to start.
 */
export function ldkPay(node: LdkNode, bolt11: string, opts: { hints?: HintHop[][]; retries?: number; paymentId?: Uint8Array; maxTotalCltvExpiryDelta?: number } = {}): string {
  const invoice = parse(bolt11);
  const p = ldk.UtilMethods.constructor_payment_parameters_from_invoice(invoice);
  if (!(p instanceof ldk.Result_C3Tuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZNoneZ_OK)) throw new Error(`${node.alias}: no payment parameters for the invoice (amount-less?)`);
  const hash = p.res.get_a();
  let routeParams = p.res.get_c();
  // LDK's router adds a random shadow offset to the HTLC's expiry, up to this total (1008 by default);
  // tests that mine to an expiry keep it small.
  if (opts.maxTotalCltvExpiryDelta !== undefined) routeParams.get_payment_params().set_max_total_cltv_expiry_delta(opts.maxTotalCltvExpiryDelta);
  if (opts.hints) {
    const params = routeParams.get_payment_params();
    const hints = opts.hints.map((route) =>
      ldk.RouteHint.constructor_new(route.map((h) => ldk.RouteHintHop.constructor_new(Buffer.from(h.src, 'hex'), h.scid, ldk.RoutingFees.constructor_new(h.feeBaseMsat, h.feePpm), h.cltvExpiryDelta, ldk.Option_u64Z.constructor_none(), ldk.Option_u64Z.constructor_none()))),
    );
    params.set_payee(ldk.Payee.constructor_clear(invoice.get_payee_pub_key(), hints, invoice.features(), Number(invoice.min_final_cltv_expiry_delta())));
    routeParams = ldk.RouteParameters.constructor_from_payment_params_and_value(params, routeParams.get_final_value_msat());
  }
  const r = node.channelManager.send_payment(hash, p.res.get_b(), opts.paymentId ?? hash, routeParams, ldk.Retry.constructor_attempts(opts.retries ?? 0));
  if (!(r instanceof ldk.Result_NoneRetryableSendFailureZ_OK)) throw new Error(`${node.alias}: send_payment refused: ${ldk.RetryableSendFailure[(r as ldk.Result_NoneRetryableSendFailureZ_Err).err]}`);
  node.processEvents();
  return hexOf(hash);
}

/** The node's channels with `peer`, summed: what LDK could send now and what it could receive, msat. */
export function ldkCapacity(node: LdkNode, peer: string): { outboundMsat: bigint; inboundMsat: bigint } {
  let outboundMsat = 0n;
  let inboundMsat = 0n;
  for (const c of node.channelManager.list_channels()) {
    if (hexOf(c.get_counterparty().get_node_id()) !== peer) continue;
    outboundMsat += c.get_outbound_capacity_msat();
    inboundMsat += c.get_inbound_capacity_msat();
  }
  return { outboundMsat, inboundMsat };
}
