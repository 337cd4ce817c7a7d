/** Look and units, keeping the wallet safe, and the network this wallet runs on. */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, useAction } from '../components.tsx';
import type { Unit } from '../format.ts';
import type { AppStatus } from '../../core/app/contract.ts';
import { AccountSafety } from './Account.tsx';

export type Theme = 'system' | 'light' | 'dark';

export function Settings({ theme, setTheme, unit, setUnit, status, onForget }: { theme: Theme; setTheme: (t: Theme) => void; unit: Unit; setUnit: (u: Unit) => void; status: AppStatus; onForget: () => void }): ReactNode {
  const [confirming, setConfirming] = useState(false);
  const act = useAction();
  return (
    <div className="screen">
      <h1>Settings</h1>
      <section className="card">
        <h2>Appearance</h2>
        <div className="segmented" role="radiogroup" aria-label="Theme">
          {(['system', 'light', 'dark'] as Theme[]).map((t) => (
            <button key={t} type="button" role="radio" aria-checked={theme === t} onClick={() => setTheme(t)}>
              {{ system: 'Like the system', light: 'Light', dark: 'Dark' }[t]}
            </button>
          ))}
        </div>
        <h2>Amounts in</h2>
        <div className="segmented" role="radiogroup" aria-label="Unit">
          {(['sat', 'btc'] as Unit[]).map((u) => (
            <button key={u} type="button" role="radio" aria-checked={unit === u} onClick={() => setUnit(u)}>
              {u === 'sat' ? 'sats' : 'BTC'}
            </button>
          ))}
        </div>
      </section>
      <AccountSafety onLocked={onForget} />
      <section className="card">
        <h2>Network</h2>
        <dl>
          <dt>Running on</dt>
          <dd>{status.backend === 'playground' ? 'The playground (test coins only)' : `${status.network} through your bitcoind`}</dd>
          <dt>Data folder</dt>
          <dd className="mono break">{status.datadir}</dd>
        </dl>
        {confirming ? (
          <div className="notice">
            <p>Coulomb stops this node and asks for a network again. Nothing is deleted: choosing this network later brings this wallet back.</p>
            <div className="actions left">
              <button type="button" className="secondary" onClick={() => setConfirming(false)}>
                Keep it
              </button>
              <button
                type="button"
                className="danger"
                disabled={act.busy}
                onClick={() =>
                  void act.run(async () => {
                    await api('app_forget_network');
                    onForget();
                  })
                }
              >
                {act.busy ? 'Stopping…' : 'Change network'}
              </button>
            </div>
          </div>
        ) : (
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Change network…
          </button>
        )}
        <ErrorBox error={act.error} />
      </section>
    </div>
  );
}
