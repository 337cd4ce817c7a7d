/**
 * History: everything that moved, newest first — Lightning payments sent, invoices made (paid or not),
 * and on-chain transactions — each with its direction, amount, note, where it stands, and the fee paid.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi, useNow } from '../hooks.ts';
import { CopyButton, Empty, ErrorBox } from '../components.tsx';
import { shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { expiresAt, failureSentence, formatFee, formatMsat } from '../lightning.ts';
import { newestFirst, nsToMs } from '../history.ts';
import type { InvoiceView, MethodOutput, PaymentView } from '../../core/api/contract.ts';

type Kind = 'all' | 'lightning' | 'onchain';
type Status = 'Pending' | 'Paid' | 'Failed' | 'Expired' | 'Canceled' | 'Confirmed' | 'Waiting for a block';

interface Row {
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
}

type Decoded = MethodOutput<'decodepayreq'>;
/** Payments keep their invoice; its description and payee are decoded once per payment. */
const decodedCache = new Map<string, Decoded | null>();

async function decodeAll(payments: PaymentView[]): Promise<void> {
  await Promise.all(
    payments
      .filter((p) => p.payment_request && !decodedCache.has(p.payment_hash))
      .map(async (p) => {
        decodedCache.set(p.payment_hash, await api('decodepayreq', { pay_req: p.payment_request }).catch(() => null));
      }),
  );
}

function paymentRow(p: PaymentView): Row {
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

function invoiceRow(i: InvoiceView, now: number): Row {
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
  };
}

function chainRow(t: MethodOutput<'listchaintxns'>['transactions'][number]): Row {
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

const STATUS_CLASS: Record<Status, string> = {
  Pending: 'opening',
  'Waiting for a block': 'opening',
  Paid: 'active',
  Confirmed: 'active',
  Failed: 'failed',
  Expired: '',
  Canceled: '',
};

/** Notes the node writes name nodes by their whole key ("channel funding with 02ab…"): name them as the screens do. */
function readable(note: string, known: Record<string, string>): string {
  return note.replace(/\b0[23][0-9a-f]{64}\b/g, (k) => (known[k] ? `the ${known[k]}` : shortId(k, 6)));
}

function when(time: number): string {
  if (!time) return '';
  const d = new Date(time * 1000);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
}

export function History({ unit, known }: { unit: Unit; known: Record<string, string> }): ReactNode {
  const [kind, setKind] = useState<Kind>('all');
  const now = useNow(30_000);
  const data = useApi(
    async () => {
      const [pays, invs, chain] = await Promise.all([api('listpayments', { reversed: true, max_payments: 1000 }), api('listinvoices', { reversed: true, num_max_invoices: 1000 }), api('listchaintxns')]);
      await decodeAll(pays.payments);
      return { pays: pays.payments, invs: invs.invoices, chain: chain.transactions };
    },
    ['payments', 'invoices', 'transactions', 'sync'],
  );
  const rows: Row[] = data.data
    ? [...data.data.pays.map(paymentRow), ...data.data.invs.map((i) => invoiceRow(i, now)), ...data.data.chain.map(chainRow)]
        // Newest first: see history.ts.
        .sort(newestFirst)
    : [];
  const shown = rows.filter((r) => kind === 'all' || r.kind === kind);

  return (
    <div className="screen">
      <h1>History</h1>
      <div className="segmented" role="radiogroup" aria-label="Show">
        {(['all', 'lightning', 'onchain'] as Kind[]).map((k) => (
          <button key={k} type="button" role="radio" aria-checked={kind === k} onClick={() => setKind(k)}>
            {{ all: 'Everything', lightning: 'Lightning', onchain: 'On-chain' }[k]}
          </button>
        ))}
      </div>
      <ErrorBox error={data.error} />
      <section className="card">
        {data.data && shown.length === 0 ? (
          <Empty title={kind === 'onchain' ? 'No on-chain transactions yet' : kind === 'lightning' ? 'No Lightning payments yet' : 'Nothing here yet'}>
            {kind === 'onchain'
              ? 'Coins you receive or send on-chain, and channels opened or closed, appear here.'
              : 'Payments you send from Send and invoices you make on Receive appear here, with where each stands.'}
          </Empty>
        ) : (
          <table className="list history" data-testid="history-list">
            <thead>
              <tr>
                <th>
                  <span className="visually-hidden">Direction</span>
                </th>
                <th>What</th>
                <th>When</th>
                <th>Status</th>
                <th className="num">Amount</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.key} data-testid="history-row" data-kind={r.kind} data-dir={r.dir} data-status={r.status}>
                  <td className="dir-cell">
                    <span className={`dir ${r.dir}`} role="img" aria-label={r.dir === 'in' ? 'Received' : 'Sent'}>
                      {r.dir === 'in' ? '↓' : '↑'}
                    </span>
                  </td>
                  <td className="note">
                    <div className="history-note">{r.note ? readable(r.note, known) : r.kind === 'onchain' ? (r.dir === 'in' ? 'Received on-chain' : 'Sent on-chain') : r.dir === 'in' ? 'Invoice' : 'Payment'}</div>
                    <div className="history-sub">
                      <span className={`kind ${r.kind}`}>{r.kind === 'lightning' ? 'Lightning' : 'On-chain'}</span>
                      {r.counterpart && 'node' in r.counterpart ? (
                        <span>
                          to{' '}
                          <span className="mono" title={r.counterpart.node}>
                            {shortId(r.counterpart.node, 6)}
                          </span>
                          {known[r.counterpart.node] ? <span className="tag">{known[r.counterpart.node]}</span> : null}
                        </span>
                      ) : null}
                      {r.counterpart && 'tx' in r.counterpart ? (
                        <span className="mono" title={r.counterpart.tx}>
                          {shortId(r.counterpart.tx, 6)}
                        </span>
                      ) : null}
                    </div>
                    {r.preimage ? (
                      <div className="history-sub proof">
                        Proof of payment <CopyButton text={r.preimage} what="proof of payment" />
                      </div>
                    ) : null}
                    {r.detail ? <div className="history-sub error-text">{r.detail}</div> : null}
                  </td>
                  <td className="when">{when(r.time)}</td>
                  <td>
                    <span className={`state-pill ${STATUS_CLASS[r.status]}`}>{r.status}</span>
                  </td>
                  <td className="num">
                    <div className={r.dir === 'in' && (r.status === 'Paid' || r.status === 'Confirmed') ? 'amt in' : 'amt'}>
                      {r.amountMsat === undefined ? <span className="muted">Any amount</span> : `${r.dir === 'in' ? '+' : '−'}${formatMsat(r.amountMsat, unit)}`}
                    </div>
                    {r.feeMsat !== undefined ? (
                      <div className="history-sub" title={`${r.feeMsat} msat`}>
                        fee {formatFee(r.feeMsat, unit)}
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
