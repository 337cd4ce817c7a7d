/**
 * Payments at the node's edge, before one is made: estimateroutefee (lncli's shape, without probing)
 * says what paying an invoice would cost the way the node would pay it, or, when no channel can take it,
 * why in the words a failed payment gets (core/payments/diagnosis.ts). The app shows it before its Pay
 * button, so the screen computes no route fee of its own.
 */
import { hex } from '../util/bytes.ts';
import { ApiError } from '../api/contract.ts';
import type { ApiHandlers } from '../api/contract.ts';
import { decodeInvoice, payableInvoice } from '../invoice/bolt11.ts';
import type { InvoiceNetwork } from '../invoice/bolt11.ts';
import { fromDetail } from '../payments/diagnosis.ts';
import { satText } from '../util/amount-text.ts';
import type { HtlcSwitch } from './htlc-switch.ts';
import { invoiceApiError } from './invoice-errors.ts';

export interface PaymentApiDeps {
  htlcSwitch: HtlcSwitch;
  nodeId: string;
  /** The invoice network this node pays (BOLT 11 prefix). */
  invoiceNetwork: InvoiceNetwork;
}

export function paymentHandlers(deps: () => PaymentApiDeps): Pick<ApiHandlers, 'estimateroutefee'> {
  return {
    estimateroutefee: async ({ payment_request, amt_sat }) => {
      const d = deps();
      let inv;
      try {
        inv = decodeInvoice(payment_request.trim().replace(/^lightning:/i, ''));
      } catch (e) {
        throw invoiceApiError(e);
      }
      if (inv.network !== d.invoiceNetwork) throw new ApiError('invalid_argument', `This invoice is for ${inv.network}, another network than this node’s. Ask the payee for an invoice on this network.`);
      if (hex.encode(inv.payee) === d.nodeId) throw new ApiError('invalid_argument', 'This invoice is one of your own: a node cannot pay itself.');
      const given = amt_sat !== undefined ? BigInt(amt_sat) * 1000n : undefined;
      if (inv.amountMsat !== undefined && given !== undefined && given !== inv.amountMsat) throw new ApiError('invalid_argument', `This invoice asks for ${satText(inv.amountMsat / 1000n)}: leave the amount out.`);
      const amountMsat = inv.amountMsat ?? given;
      if (amountMsat === undefined) throw new ApiError('invalid_argument', 'This invoice leaves the amount to you: give one (amt_sat).');
      let payable;
      try {
        payable = payableInvoice(inv);
      } catch (e) {
        throw new ApiError('invalid_argument', (e as Error).message);
      }
      const r = d.htlcSwitch.estimateRoute(payable, amountMsat);
      if ('failure' in r) {
        return {
          routing_fee_msat: '0',
          max_routing_fee_msat: '0',
          time_lock_delay: '0',
          failure_reason: r.failure.cause === 'no_channel' ? 'FAILURE_REASON_INSUFFICIENT_BALANCE' : 'FAILURE_REASON_NO_ROUTE',
          via: '',
          first_hop_pubkey: '',
          failure_detail: fromDetail(r.failure, undefined, amountMsat),
        };
      }
      return {
        routing_fee_msat: r.feeMsat.toString(),
        max_routing_fee_msat: r.maxFeeMsat.toString(),
        time_lock_delay: String(r.timeLockDelay),
        failure_reason: 'FAILURE_REASON_NONE',
        via: r.via,
        first_hop_pubkey: r.firstHop,
      };
    },
  };
}
