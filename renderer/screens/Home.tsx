/** Balances at a glance, test coins on the playground, and the on-chain history. */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Amount, Empty, ErrorBox, useAction } from '../components.tsx';
import { formatSats, shortId } from '../format.ts';
import { immatureSentence } from '../balance.ts';
import type { Unit } from '../format.ts';

const TEST_COINS_SAT = 1_000_000;

export function Home({ unit, playground, go, shopUrl }: { unit: Unit; playground: boolean; go: (screen: 'receive' | 'send') => void; shopUrl?: string | undefined }): ReactNode {
  const bal = useApi(() => api('walletbalance'), ['balance', 'transactions']);
  const ln = useApi(() => api('channelbalance'), ['channels']);
  const txs = useApi(() => api('listchaintxns'), ['transactions', 'sync']);
  const faucet = useAction();
  const list = txs.data?.transactions.slice().sort((a, b) => (a.num_confirmations === 0 ? -1 : b.num_confirmations === 0 ? 1 : b.block_height - a.block_height)) ?? [];

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
        <h2>On-chain activity</h2>
        {list.length === 0 ? (
          <Empty title="No transactions yet">{playground ? 'Press “Get test coins” to receive some play money, or share an address from Receive.' : 'Share an address from Receive to get your first bitcoin.'}</Empty>
        ) : (
          <table className="list" data-testid="tx-list">
            <thead>
              <tr>
                <th>Amount</th>
                <th>Status</th>
                <th>Transaction</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.tx_hash}>
                  <td className={BigInt(t.amount) < 0n ? 'out' : 'in'}>{formatSats(t.amount, unit)}</td>
                  <td>{t.num_confirmations === 0 ? 'Waiting for a block' : t.num_confirmations >= 6 ? 'Confirmed' : `${t.num_confirmations} confirmation${t.num_confirmations === 1 ? '' : 's'}`}</td>
                  <td className="mono" title={t.tx_hash}>
                    {shortId(t.tx_hash)}
                  </td>
                  <td className="note">{t.label}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
