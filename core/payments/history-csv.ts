/**
 * The wallet's history as CSV, for bookkeeping: Lightning payments sent, invoices (paid, or still open),
 * and on-chain transactions, newest first, one row each. Built from what the API gives (listpayments,
 * listinvoices, listchaintxns), so the CLI (`coulomb exporthistory`) and the app's History download make
 * the same file. Pure: no I/O, no clock (the caller says what time it is).
 *
 * Columns: date (UTC, ISO 8601), type (lightning_payment, lightning_invoice, onchain), direction (sent,
 * received), amount_sat, fee_sat, status, description, hash (payment hash, or the transaction's id).
 * Amounts are positive, in sat, with up to three decimals where Lightning counted millisatoshi;
 * direction says which way, status whether it moved: a failed payment and an unpaid invoice moved
 * nothing. An on-chain send's amount is what left the wallet, its fee included (fee_sat says how much).
 */
import type { InvoiceView, MethodOutput, PaymentView } from '../api/contract.ts';

export const HISTORY_CSV_COLUMNS = ['date', 'type', 'direction', 'amount_sat', 'fee_sat', 'status', 'description', 'hash'] as const;

export interface HistoryRecord {
  /** ms since the epoch: the payment's start, the invoice's payment (or creation), the transaction's block (or first sight). */
  timeMs: number;
  type: 'lightning_payment' | 'lightning_invoice' | 'onchain';
  direction: 'sent' | 'received';
  /** msat; undefined for an unpaid invoice that lets the payer choose. */
  amountMsat: bigint | undefined;
  feeMsat: bigint;
  status: 'pending' | 'succeeded' | 'failed' | 'paid' | 'open' | 'expired' | 'canceled' | 'confirmed' | 'unconfirmed';
  description: string;
  hash: string;
}

type ChainTx = MethodOutput<'listchaintxns'>['transactions'][number];

/** An invoice nobody paid that can no longer be paid: expired or canceled without a payment. */
export function isAbandoned(i: InvoiceView, nowSec: number): boolean {
  if (i.state === 'CANCELED') return BigInt(i.amt_paid_msat) === 0n;
  return i.state === 'OPEN' && nowSec >= Number(i.creation_date) + Number(i.expiry);
}

export function paymentRecord(p: PaymentView, description = ''): HistoryRecord {
  return {
    timeMs: Number(BigInt(p.creation_time_ns) / 1_000_000n),
    type: 'lightning_payment',
    direction: 'sent',
    amountMsat: BigInt(p.value_msat),
    // Only a payment that arrived paid a fee; a failed one's attempts cost nothing.
    feeMsat: p.status === 'SUCCEEDED' ? BigInt(p.fee_msat) : 0n,
    status: p.status === 'SUCCEEDED' ? 'succeeded' : p.status === 'FAILED' ? 'failed' : 'pending',
    description,
    hash: p.payment_hash,
  };
}

export function invoiceRecord(i: InvoiceView, nowSec: number): HistoryRecord {
  const paid = BigInt(i.amt_paid_msat);
  const settled = i.state === 'SETTLED';
  return {
    timeMs: settled ? Number(BigInt(i.settle_time_ns) / 1_000_000n) : Number(i.creation_date) * 1000,
    type: 'lightning_invoice',
    direction: 'received',
    amountMsat: paid > 0n ? paid : i.value_msat === '0' ? undefined : BigInt(i.value_msat),
    feeMsat: 0n,
    status: settled ? 'paid' : i.state === 'CANCELED' ? 'canceled' : i.state === 'ACCEPTED' ? 'pending' : isAbandoned(i, nowSec) ? 'expired' : 'open',
    description: i.memo,
    hash: i.r_hash,
  };
}

export function chainRecord(t: ChainTx): HistoryRecord {
  const amt = BigInt(t.amount);
  return {
    timeMs: Number(t.time_stamp) * 1000,
    type: 'onchain',
    direction: amt < 0n ? 'sent' : 'received',
    amountMsat: (amt < 0n ? -amt : amt) * 1000n,
    feeMsat: amt < 0n ? BigInt(t.total_fees || '0') * 1000n : 0n,
    status: t.num_confirmations > 0 ? 'confirmed' : 'unconfirmed',
    description: t.label,
    hash: t.tx_hash,
  };
}

/**
 * Every record, newest first (ties by hash, so the order is the same every time). Invoices nobody paid
 * that can no longer be paid are left out unless asked for: they are no business.
 */
export function historyRecords(input: {
  payments: PaymentView[];
  invoices: InvoiceView[];
  chain: ChainTx[];
  /** A payment's description, by payment hash (from its decoded invoice). */
  descriptions?: ReadonlyMap<string, string>;
  nowSec: number;
  includeAbandoned?: boolean;
}): HistoryRecord[] {
  const rows = [
    ...input.payments.map((p) => paymentRecord(p, input.descriptions?.get(p.payment_hash) ?? '')),
    ...input.invoices.filter((i) => input.includeAbandoned || !isAbandoned(i, input.nowSec)).map((i) => invoiceRecord(i, input.nowSec)),
    ...input.chain.map(chainRecord),
  ];
  return rows.sort((a, b) => b.timeMs - a.timeMs || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/** msat as sat: whole where it is whole, otherwise with the millisatoshi as three decimals. */
export function msatToSatText(msat: bigint): string {
  const whole = msat / 1000n;
  const rest = msat % 1000n;
  return rest === 0n ? whole.toString() : `${whole}.${rest.toString().padStart(3, '0').replace(/0+$/, '')}`;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. Text a spreadsheet
 * would run as a formula (a description starting with =, +, -, @, a tab or a carriage return: a payee
 * chooses it) is kept as text by a leading apostrophe.
 */
export function csvField(v: string, text = false): string {
  const safe = text && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function historyCsv(records: HistoryRecord[]): string {
  const lines = [HISTORY_CSV_COLUMNS.join(',')];
  for (const r of records) {
    lines.push(
      [
        new Date(r.timeMs).toISOString(),
        r.type,
        r.direction,
        r.amountMsat === undefined ? '' : msatToSatText(r.amountMsat),
        msatToSatText(r.feeMsat),
        r.status,
        csvField(r.description, true),
        r.hash,
      ].join(','),
    );
  }
  // CRLF, as RFC 4180 and spreadsheets expect.
  return lines.join('\r\n') + '\r\n';
}
