/**
 * What moved, as the screens list it: Lightning payments sent, invoices made, on-chain transactions, each
 * as one row with its direction, amount, note, where it stands and the fee paid. History lists them all;
 * Home the newest few. Invoices nobody paid that can no longer be paid are "abandoned": hidden unless asked.
 */
import { api } from './api.ts';
import { shortId } from './format.ts';
import { expiresAt, failureSentence } from './lightning.ts';
import { newestFirst, nsToMs } from './history.ts';
import { isAbandoned } from '../core/payments/history-csv.ts';
import type { InvoiceView, MethodOutput, PaymentView } from '../core/api/contract.ts';

export type Status = 'Pending' | 'Paid' | 'Failed' | 'Expired' | 'Canceled' | 'Confirmed' | 'Waiting for a block';

export interface Row {
  key: string;
  kind: 'lightning' | 'onchain';
  dir: 'in' | 'out';
  /** Seconds since the epoch, as shown. */
  time: number;
  /** ms since the epoch, for the order: two things often happen within one second. */
  timeMs: number;
  /** msat for Lightning, sat × 1000 for on-chain: one scale for both. */
  amountMsat: bigint | undefined;
  feeMsat?: bigint;
  note: string;
  /** Who (a node) or what (a transaction) it was, for the second line. */
  counterpart?: { node: string } | { tx: string };
  status: Status;
  /** Why it failed, or the proof of payment. */
  detail?: string;
  preimage?: string;
  /** An invoice nobody paid that expired or was canceled. */
  abandoned?: boolean;
}

type Decoded = MethodOutput<'decodepayreq'>;
/** Payments keep their invoice; its description and payee are decoded once per payment. */
export const decodedCache = new Map<string, Decoded | null>();

export async function decodeAll(payments: PaymentView[]): Promise<void> {
  await Promise.all(
    payments
      .filter((p) => p.payment_request && !decodedCache.has(p.payment_hash))
      .map(async (p) => {
        decodedCache.set(p.payment_hash, await api('decodepayreq', { pay_req: p.payment_request }).catch(() => null));
      }),
  );
}

export function paymentRow(p: PaymentView): Row {
  const d = decodedCache.get(p.payment_hash);
  const status: Status = p.status === 'SUCCEEDED' ? 'Paid' : p.status === 'FAILED' ? 'Failed' : 'Pending';
  return {
    key: `pay-${p.payment_hash}`,
    kind: 'lightning',
    dir: 'out',
    time: Number(p.creation_date),
    timeMs: nsToMs(p.creation_time_ns),
    amountMsat: BigInt(p.value_msat),
    ...(p.status === 'SUCCEEDED' ? { feeMsat: BigInt(p.fee_msat), preimage: p.payment_preimage } : {}),
    note: d?.description ?? '',
    ...(d ? { counterpart: { node: d.destination } } : {}),
    status,
    ...(p.status === 'FAILED' ? { detail: failureSentence(p) } : {}),
  };
}

export function invoiceRow(i: InvoiceView, now: number): Row {
  const status: Status =
    i.state === 'SETTLED' ? 'Paid' : i.state === 'CANCELED' ? 'Canceled' : i.state === 'OPEN' && now >= expiresAt(i) ? 'Expired' : 'Pending';
  const paid = BigInt(i.amt_paid_msat);
  return {
    key: `inv-${i.r_hash}`,
    kind: 'lightning',
    dir: 'in',
    time: Number(i.state === 'SETTLED' ? i.settle_date : i.creation_date),
    timeMs: i.state === 'SETTLED' ? nsToMs(i.settle_time_ns) : Number(i.creation_date) * 1000,
    amountMsat: paid > 0n ? paid : i.value_msat === '0' ? undefined : BigInt(i.value_msat),
    note: i.memo,
    status,
    abandoned: isAbandoned(i, Math.floor(now / 1000)),
  };
}

export function chainRow(t: MethodOutput<'listchaintxns'>['transactions'][number]): Row {
  const amt = BigInt(t.amount);
  return {
    key: `tx-${t.tx_hash}`,
    kind: 'onchain',
    dir: amt < 0n ? 'out' : 'in',
    time: Number(t.time_stamp),
    timeMs: Number(t.time_stamp) * 1000,
    amountMsat: (amt < 0n ? -amt : amt) * 1000n,
    ...(amt < 0n && t.total_fees !== '0' ? { feeMsat: BigInt(t.total_fees) * 1000n } : {}),
    note: t.label,
    counterpart: { tx: t.tx_hash },
    status: t.num_confirmations > 0 ? 'Confirmed' : 'Waiting for a block',
  };
}

export const STATUS_CLASS: Record<Status, string> = {
  Pending: 'opening',
  'Waiting for a block': 'opening',
  Paid: 'active',
  Confirmed: 'active',
  Failed: 'failed',
  Expired: '',
  Canceled: '',
};

/** Notes the node writes name nodes by their whole key ("channel funding with 02ab…"): name them as the screens do. */
export function readable(note: string, known: Record<string, string>): string {
  return note.replace(/\b0[23][0-9a-f]{64}\b/g, (k) => (known[k] ? `the ${known[k]}` : shortId(k, 6)));
}

export interface Activity {
  payments: PaymentView[];
  invoices: InvoiceView[];
  chain: MethodOutput<'listchaintxns'>['transactions'];
}

/** What the node lists (the newest thousand payments and invoices), with the payments' invoices decoded. */
export async function loadActivity(): Promise<Activity> {
  const [pays, invs, chain] = await Promise.all([api('listpayments', { reversed: true, max_payments: 1000 }), api('listinvoices', { reversed: true, num_max_invoices: 1000 }), api('listchaintxns')]);
  await decodeAll(pays.payments);
  return { payments: pays.payments, invoices: invs.invoices, chain: chain.transactions };
}

/** Every row, newest first. */
export function activityRows(a: Activity, now: number): Row[] {
  return [...a.payments.map(paymentRow), ...a.invoices.map((i) => invoiceRow(i, now)), ...a.chain.map(chainRow)].sort(newestFirst);
}

/** The payments' descriptions (from their decoded invoices), by payment hash: for the CSV. */
export function descriptions(): Map<string, string> {
  const m = new Map<string, string>();
  for (const [hash, d] of decodedCache) if (d?.description) m.set(hash, d.description);
  return m;
}

/** What a row is, in a few words, when it has no note. */
export function rowTitle(r: Row, known: Record<string, string>): string {
  if (r.note) return readable(r.note, known);
  if (r.kind === 'onchain') return r.dir === 'in' ? 'Received on-chain' : 'Sent on-chain';
  return r.dir === 'in' ? 'Invoice' : 'Payment';
}
