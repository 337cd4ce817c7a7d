/**
 * The failure diagnosis from a payment's record alone: which answer counts (the payee's over a hop's,
 * else the last), an expired invoice told apart from a refusal, local failures in words, and records
 * of earlier versions, whose attempts kept a sentence instead of a failure code.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { diagnosePayment } from '../../../core/payments/diagnosis.ts';
import type { PaymentAttempt, PaymentEntry } from '../../../core/payments/payments.ts';
import { encodeInvoice } from '../../../core/invoice/bolt11.ts';

const PEER = '02' + '11'.repeat(32);
const PAYEE = '03' + '22'.repeat(32);
const NOW = 1_800_000_000;

function attempt(failure: PaymentAttempt['failure'], hops = [PEER, PAYEE]): PaymentAttempt {
  return {
    attemptId: 1,
    status: 'FAILED',
    route: { totalTimeLock: 900, totalAmtMsat: 1_001_000n, totalFeesMsat: 1_000n, hops: hops.map((pubkey, i) => ({ pubkey, shortChannelId: 1n, amtToForwardMsat: 1_000_000n, feeMsat: i === 0 ? 1000n : 0n, expiry: 900 })) },
    attemptTime: 1,
    resolveTime: 2,
    preimage: '',
    ...(failure ? { failure } : {}),
  };
}

function payment(over: Partial<PaymentEntry>): PaymentEntry {
  return {
    paymentHash: '00'.repeat(32),
    paymentRequest: '',
    destination: PAYEE,
    amountMsat: 1_000_000n,
    feeLimitMsat: undefined,
    feeMsat: 0n,
    preimage: '',
    status: 'FAILED',
    creationTime: 1,
    failureReason: 'FAILURE_REASON_NO_ROUTE',
    paymentIndex: 1,
    attempts: [],
    ...over,
  };
}

describe('a failed payment, explained from its record', () => {
  it('says nothing of a payment that did not fail', () => {
    expect(diagnosePayment(payment({ status: 'SUCCEEDED' }), NOW)).toBeUndefined();
    expect(diagnosePayment(payment({ status: 'IN_FLIGHT' }), NOW)).toBeUndefined();
  });

  it("takes the payee's answer over a hop's, and names the hop otherwise", () => {
    const hop = attempt({ code: 'temporary_channel_failure', failureSourceIndex: 1 }, [PEER, '02' + '33'.repeat(32), PAYEE]);
    expect(diagnosePayment(payment({ attempts: [hop] }), NOW)).toEqual({
      kind: 'hop_failed',
      text: 'The node at hop 2 of the route could not pass the payment on: its channel toward the next node has no room for it right now, or that node is offline. Try again in a while, or pay a smaller amount.',
      hop: { index: 2, pub_key: '02' + '33'.repeat(32), is_payee: false, failure: 'temporary_channel_failure' },
    });
    const refused = attempt({ code: 'incorrect_or_unknown_payment_details', failureSourceIndex: 1 });
    expect(diagnosePayment(payment({ attempts: [refused, hop] }), NOW)).toMatchObject({ kind: 'payee_refused', hop: { index: 2, is_payee: true } });
  });

  it('tells an expired invoice from one the payee refused for another reason', () => {
    const inv = encodeInvoice({ network: 'regtest', amountMsat: 1_000_000n, timestamp: NOW - 7200, paymentHash: randomBytes(32), paymentSecret: randomBytes(32), description: 'x', expiry: 3600 }, randomBytes(32));
    const refused = attempt({ code: 'incorrect_or_unknown_payment_details', failureSourceIndex: 1 });
    expect(diagnosePayment(payment({ paymentRequest: inv, attempts: [refused] }), NOW)?.kind).toBe('invoice_expired');
    expect(diagnosePayment(payment({ paymentRequest: inv, attempts: [refused] }), NOW - 7000)?.kind).toBe('payee_refused');
  });

  it('reads the sentences earlier versions stored instead of codes', () => {
    const old = attempt({ code: `hop 1 (${PEER.slice(0, 16)}…) answered temporary channel failure`, failureSourceIndex: 0 });
    expect(diagnosePayment(payment({ attempts: [old] }), NOW)).toMatchObject({ kind: 'hop_failed', hop: { index: 1, failure: 'temporary_channel_failure' } });
    expect(diagnosePayment(payment({ attempts: [old] }), NOW)!.text).toMatch(/^Your channel peer could not pass the payment on/);
    const payee = attempt({ code: 'the payee answered incorrect or unknown payment details', failureSourceIndex: 1 });
    expect(diagnosePayment(payment({ attempts: [payee] }), NOW)?.kind).toBe('payee_refused');
    const stopped = attempt({ code: 'the node stopped before the payment was committed' });
    expect(diagnosePayment(payment({ attempts: [stopped] }), NOW)?.text).toBe('Coulomb stopped before the payment left, so nothing was paid. Pay again.');
  });

  it('puts local failures in words: a peer offline, a channel that refused, no answer', () => {
    expect(diagnosePayment(payment({ attempts: [attempt({ code: 'local_refusal', message: 'the channel peer is not connected' })] }), NOW)?.kind).toBe('peer_offline');
    expect(diagnosePayment(payment({ attempts: [attempt({ code: 'local_failure', message: 'the connection to the peer dropped before the payment was committed' })] }), NOW)?.kind).toBe('peer_offline');
    expect(diagnosePayment(payment({ attempts: [attempt({ code: 'local_refusal', message: 'the peer accepts at most 30 HTLCs' })] }), NOW)?.text).toBe('Your channel could not take the payment: the peer accepts at most 30 HTLCs. Try again, or pay a smaller amount.');
    expect(diagnosePayment(payment({ failureReason: 'FAILURE_REASON_TIMEOUT' }), NOW)?.kind).toBe('timeout');
    expect(diagnosePayment(payment({ attempts: [attempt({ code: 'unreadable_failure' })] }), NOW)?.text).toMatch(/could not read/);
  });

  it('every text starts with a capital and ends with a full stop', () => {
    const codes = ['temporary_channel_failure', 'unknown_next_peer', 'fee_insufficient', 'expiry_too_soon', 'some_new_code', 'mpp_timeout', 'final_incorrect_htlc_amount'];
    for (const code of codes) {
      for (const at of [0, 1]) {
        const d = diagnosePayment(payment({ attempts: [attempt({ code, failureSourceIndex: at })] }), NOW)!;
        expect(d.text, code).toMatch(/^[A-Z].*\.$/);
      }
    }
  });
});
