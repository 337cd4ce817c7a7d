/**
 * History: everything that moved, newest first — Lightning payments sent, invoices made (paid or not),
 * and on-chain transactions — each with its direction, amount, note, where it stands, and the fee paid.
 * Invoices nobody paid that can no longer be paid are hidden behind a switch; a failed payment moved
 * nothing and says so. The whole history downloads as CSV (the file `coulomb exporthistory` writes).
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { useApi, useNow } from '../hooks.ts';
import { CopyButton, Empty, ErrorBox } from '../components.tsx';
import { shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { formatFee, formatMsat } from '../lightning.ts';
import { activityRows, descriptions, loadActivity, rowTitle, STATUS_CLASS } from '../activity.ts';
import type { Activity, Row } from '../activity.ts';
import { historyCsv, historyRecords } from '../../core/payments/history-csv.ts';

type Kind = 'all' | 'lightning' | 'onchain';

function when(time: number): string {
  if (!time) return '';
  const d = new Date(time * 1000);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
}

/** Hands the CSV to the browser as a download. */
function download(a: Activity, includeAbandoned: boolean): void {
  const csv = historyCsv(historyRecords({ payments: a.payments, invoices: a.invoices, chain: a.chain, descriptions: descriptions(), nowSec: Math.floor(Date.now() / 1000), includeAbandoned }));
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `coulomb-history-${new Date().toISOString().slice(0, 10)}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function amountText(r: Row, unit: Unit): ReactNode {
  if (r.amountMsat === undefined) return <span className="muted">Any amount</span>;
  // Nothing moved: no sign, and the amount struck through.
  if (r.status === 'Failed') return <s title="Not sent: the payment failed">{formatMsat(r.amountMsat, unit)}</s>;
  if (r.status === 'Expired' || r.status === 'Canceled') return <span className="muted">{formatMsat(r.amountMsat, unit)}</span>;
  return `${r.dir === 'in' ? '+' : '−'}${formatMsat(r.amountMsat, unit)}`;
}

export function History({ unit, known }: { unit: Unit; known: Record<string, string> }): ReactNode {
  const [kind, setKind] = useState<Kind>('all');
  const [showAbandoned, setShowAbandoned] = useState(false);
  const now = useNow(30_000);
  const data = useApi(loadActivity, ['payments', 'invoices', 'transactions', 'sync']);
  // Newest first: see history.ts.
  const rows: Row[] = data.data ? activityRows(data.data, now) : [];
  const abandoned = rows.filter((r) => r.abandoned && (kind === 'all' || r.kind === kind)).length;
  const shown = rows.filter((r) => (kind === 'all' || r.kind === kind) && (showAbandoned || !r.abandoned));

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
      <div className="history-tools">
        {abandoned > 0 || showAbandoned ? (
          <label className="check">
            <input type="checkbox" checked={showAbandoned} onChange={(e) => setShowAbandoned(e.target.checked)} data-testid="show-abandoned" />
            Show invoices nobody paid that expired or were canceled ({abandoned})
          </label>
        ) : null}
        <button type="button" className="secondary small" disabled={!data.data} onClick={() => data.data && download(data.data, showAbandoned)} data-testid="export-csv">
          Download as CSV
        </button>
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
                <tr key={r.key} data-testid="history-row" data-kind={r.kind} data-dir={r.dir} data-status={r.status} data-key={r.key}>
                  <td className="dir-cell">
                    <span className={`dir ${r.dir}`} role="img" aria-label={r.dir === 'in' ? 'Received' : 'Sent'}>
                      {r.dir === 'in' ? '↓' : '↑'}
                    </span>
                  </td>
                  <td className="note">
                    <div className="history-note">{rowTitle(r, known)}</div>
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
                    <div className={r.dir === 'in' && (r.status === 'Paid' || r.status === 'Confirmed') ? 'amt in' : r.status === 'Failed' ? 'amt failed' : 'amt'} data-testid="history-amount">
                      {amountText(r, unit)}
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
