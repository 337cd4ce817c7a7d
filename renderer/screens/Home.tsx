/** Balances at a glance, test coins on the playground, and the newest activity, on-chain and Lightning in one list. */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi, useNow } from '../hooks.ts';
import { Amount, Empty, ErrorBox, useAction } from '../components.tsx';
import { formatSats } from '../format.ts';
import { immatureSentence } from '../balance.ts';
import type { Unit } from '../format.ts';
import { formatMsat } from '../lightning.ts';
import { activityRows, loadActivity, rowTitle, STATUS_CLASS } from '../activity.ts';
import type { Row } from '../activity.ts';
import { PendingFunds } from './PendingFunds.tsx';

/** How many rows Home shows; History has the rest. */
const HOME_ROWS = 8;

function homeAmount(r: Row, unit: Unit): string {
  if (r.amountMsat === undefined) return 'Any amount';
  if (r.status === 'Failed') return `${formatMsat(r.amountMsat, unit)} not sent`;
  return `${r.dir === 'in' ? '+' : '−'}${formatMsat(r.amountMsat, unit)}`;
}

const TEST_COINS_SAT = 1_000_000;

export function Home({ unit, playground, go, shopUrl, known = {} }: { unit: Unit; playground: boolean; go: (screen: 'receive' | 'send' | 'history') => void; shopUrl?: string | undefined; known?: Record<string, string> }): ReactNode {
  const bal = useApi(() => api('walletbalance'), ['balance', 'transactions']);
  const ln = useApi(() => api('channelbalance'), ['channels']);
  const activity = useApi(loadActivity, ['transactions', 'sync', 'payments', 'invoices']);
  const now = useNow(30_000);
  const faucet = useAction();
  // What moved or is under way: invoices nobody paid (open or abandoned) are requests, not activity.
  const all = activity.data ? activityRows(activity.data, now).filter((r) => !(r.kind === 'lightning' && r.dir === 'in' && r.status !== 'Paid')) : [];
  const list = all.slice(0, HOME_ROWS);

  return (
    <div className="screen">
      <h1>Home</h1>
      <div className="cards">
        <section className="card balance">
          <h2>On-chain</h2>
          <div className="big-amount">
            <Amount sats={bal.data?.confirmed_balance ?? 0} unit={unit} testId="onchain-balance" />
          </div>
          {bal.data && bal.data.unconfirmed_balance !== '0' ? (
            <div className="muted" data-testid="onchain-pending">
              + {formatSats(bal.data.unconfirmed_balance, unit)} waiting for confirmation
            </div>
          ) : (
            <div className="muted">Confirmed and spendable</div>
          )}
          {bal.data && immatureSentence(bal.data, unit) ? (
            <div className="muted" data-testid="onchain-immature">
              + {immatureSentence(bal.data, unit)}
            </div>
          ) : null}
        </section>
        <section className="card balance">
          <h2>Lightning</h2>
          <div className="big-amount">
            <Amount sats={ln.data?.balance ?? 0} unit={unit} testId="lightning-balance" />
          </div>
          <div className="muted">{ln.data && ln.data.pending_open_balance !== '0' ? `+ ${formatSats(ln.data.pending_open_balance, unit)} in channels opening` : 'In your channels'}</div>
        </section>
      </div>
      <PendingFunds unit={unit} known={known} />
      <div className="actions left">
        <button type="button" className="primary" onClick={() => go('receive')}>
          Receive
        </button>
        <button type="button" className="secondary" onClick={() => go('send')}>
          Send
        </button>
        {playground ? (
          <button
            type="button"
            className="secondary"
            disabled={faucet.busy}
            onClick={() =>
              void faucet.run(async () => {
                const { address } = await api('newaddress');
                await api('playground_faucet', { addr: address, amt: TEST_COINS_SAT });
              })
            }
          >
            {faucet.busy ? 'Getting test coins…' : `Get test coins (${formatSats(TEST_COINS_SAT, unit)})`}
          </button>
        ) : null}
      </div>
      <ErrorBox error={faucet.error ?? bal.error} />
      {shopUrl ? (
        <section className="card shop-card">
          <h2>Playground shop</h2>
          <p className="muted">A pixel shop on the playground sells pixels of a shared canvas for 100 sat each. Open a channel to the counterparty, then buy a pixel: your payment travels through the counterparty to the shop.</p>
          <a className="button-link" href={shopUrl} target="_blank" rel="noopener noreferrer" data-testid="shop-link">
            Visit the pixel shop
          </a>
        </section>
      ) : null}
      <section className="card">
        <h2>Activity</h2>
        {list.length === 0 ? (
          <Empty title="No activity yet">{playground ? 'Press “Get test coins” to receive some play money, or share an address from Receive.' : 'Share an address from Receive to get your first bitcoin.'}</Empty>
        ) : (
          <table className="list" data-testid="activity-list">
            <thead>
              <tr>
                <th>Amount</th>
                <th>Status</th>
                <th>What</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.key} data-testid="activity-row" data-kind={r.kind} data-status={r.status}>
                  <td className={r.status === 'Failed' ? 'failed' : r.dir}>{homeAmount(r, unit)}</td>
                  <td>
                    <span className={`state-pill ${STATUS_CLASS[r.status]}`}>{r.status}</span>
                  </td>
                  <td className="note">
                    {rowTitle(r, known)} <span className={`kind ${r.kind}`}>{r.kind === 'lightning' ? 'Lightning' : 'On-chain'}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {all.length > HOME_ROWS ? (
          <button type="button" className="link small" onClick={() => go('history')}>
            All {all.length} in History
          </button>
        ) : null}
      </section>
    </div>
  );
}
