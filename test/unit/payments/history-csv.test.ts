/**
 * The history CSV for bookkeeping: one row per payment, invoice and on-chain transaction, newest first,
 * amounts positive in sat (millisatoshi as decimals) with the direction apart, a failed payment and an
 * unpaid invoice marked as moving nothing, abandoned invoices left out unless asked for, and text a
 * payee chose quoted and kept from running as a spreadsheet formula.
 */
import { describe, expect, it } from 'vitest';
import { csvField, historyCsv, historyRecords, msatToSatText } from '../../../core/payments/history-csv.ts';
import type { InvoiceView, PaymentView } from '../../../core/api/contract.ts';

const H = (c: string): string => c.repeat(64);
const T0 = 1_760_000_000; // seconds

function payment(o: Partial<PaymentView>): PaymentView {
  return {
    payment_hash: H('a'), value: '5000', value_sat: '5000', value_msat: '5000000', payment_preimage: '', payment_request: 'lnbcrt…', status: 'SUCCEEDED',
    fee: '1', fee_sat: '1', fee_msat: '1500', creation_date: String(T0), creation_time_ns: `${T0}000000000`, payment_index: '1', failure_reason: 'FAILURE_REASON_NONE', htlcs: [], ...o,
  };
}

function invoice(o: Partial<InvoiceView>): InvoiceView {
  return {
    memo: 'coffee', r_preimage: '', r_hash: H('b'), value: '2000', value_msat: '2000000', settled: false, creation_date: String(T0 + 10), settle_date: '0', settle_time_ns: '0',
    payment_request: 'lnbcrt…', description_hash: '', expiry: '3600', cltv_expiry: '80', private: true, add_index: '1', settle_index: '0', amt_paid: '0', amt_paid_sat: '0',
    amt_paid_msat: '0', state: 'OPEN', payment_addr: '', htlcs: [], ...o,
  };
}

const chainTx = (o: { tx_hash: string; amount: string; total_fees?: string; num_confirmations?: number; time_stamp: string; label?: string }) => ({
  block_height: 100, raw_tx_hex: '', total_fees: '0', num_confirmations: 1, label: '', ...o,
});

describe('history CSV', () => {
  it('one row each, newest first, in the columns a bookkeeper reads', () => {
    const records = historyRecords({
      payments: [payment({}), payment({ payment_hash: H('c'), status: 'FAILED', fee_msat: '0', creation_time_ns: `${T0 + 5}000000000`, failure_reason: 'FAILURE_REASON_NO_ROUTE' })],
      invoices: [invoice({ state: 'SETTLED', settled: true, amt_paid_msat: '2000500', settle_time_ns: `${T0 + 20}123000000`, settle_date: String(T0 + 20) })],
      chain: [
        chainTx({ tx_hash: H('d'), amount: '1000000', time_stamp: String(T0 - 100), label: 'test coins' }),
        chainTx({ tx_hash: H('e'), amount: '-50282', total_fees: '282', num_confirmations: 0, time_stamp: String(T0 + 30) }),
      ],
      descriptions: new Map([[H('a'), 'a pixel']]),
      nowSec: T0 + 60,
    });
    const csv = historyCsv(records);
    expect(csv.split('\r\n')).toEqual([
      'date,type,direction,amount_sat,fee_sat,status,description,hash',
      `2025-10-09T08:53:50.000Z,onchain,sent,50282,282,unconfirmed,,${H('e')}`,
      `2025-10-09T08:53:40.123Z,lightning_invoice,received,2000.5,0,paid,coffee,${H('b')}`,
      `2025-10-09T08:53:25.000Z,lightning_payment,sent,5000,0,failed,,${H('c')}`,
      `2025-10-09T08:53:20.000Z,lightning_payment,sent,5000,1.5,succeeded,a pixel,${H('a')}`,
      `2025-10-09T08:51:40.000Z,onchain,received,1000000,0,confirmed,test coins,${H('d')}`,
      '',
    ]);
  });

  it('leaves out invoices nobody paid that can no longer be paid, unless asked; an open one stays', () => {
    const invoices = [
      invoice({ r_hash: H('1'), creation_date: String(T0), expiry: '60' }), // expired
      invoice({ r_hash: H('2'), state: 'CANCELED' }), // canceled, never paid
      invoice({ r_hash: H('3'), creation_date: String(T0), expiry: '86400', value_msat: '0' }), // open, any amount
    ];
    const shown = historyRecords({ payments: [], invoices, chain: [], nowSec: T0 + 120 });
    expect(shown.map((r) => [r.hash, r.status, r.amountMsat])).toEqual([[H('3'), 'open', undefined]]);
    expect(historyCsv(shown)).toContain(`,lightning_invoice,received,,0,open,coffee,${H('3')}`);
    const all = historyRecords({ payments: [], invoices, chain: [], nowSec: T0 + 120, includeAbandoned: true });
    expect(all.map((r) => r.status).sort()).toEqual(['canceled', 'expired', 'open']);
  });

  it('quotes commas, quotes and line breaks, and keeps formulas as text', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('tea, two')).toBe('"tea, two"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('=HYPERLINK("http://x")', true)).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1', true)).toBe("'+1");
    expect(csvField('-5 sat', true)).toBe("'-5 sat");
    expect(csvField('@sum', true)).toBe("'@sum");
    const csv = historyCsv(historyRecords({ payments: [], invoices: [invoice({ memo: '=1+1,"x"', state: 'SETTLED', settle_time_ns: `${T0}000000000`, amt_paid_msat: '1000' })], chain: [], nowSec: T0 }));
    expect(csv.split('\r\n')[1]).toBe(`2025-10-09T08:53:20.000Z,lightning_invoice,received,1,0,paid,"'=1+1,""x""",${H('b')}`);
  });

  it('millisatoshi as decimals of a sat, whole sats without', () => {
    expect(msatToSatText(0n)).toBe('0');
    expect(msatToSatText(1000n)).toBe('1');
    expect(msatToSatText(1n)).toBe('0.001');
    expect(msatToSatText(123_450n)).toBe('123.45');
  });
});
