/** Look and units, notifications, keeping the wallet and its channels safe, and the network this wallet runs on. */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, useAction } from '../components.tsx';
import { useStored } from '../hooks.ts';
import { NOTIFY_KEY, askPermission, notificationsAvailable } from '../notify.ts';
import type { NotifySetting } from '../notify.ts';
import { ChannelBackup } from './Backup.tsx';
import { Watchtowers } from './Towers.tsx';
import type { Unit } from '../format.ts';
import type { AppStatus } from '../../core/app/contract.ts';
import { AccountSafety } from './Account.tsx';

export type Theme = 'system' | 'light' | 'dark';

/** Desktop notifications: off until turned on here, and only once the system allows them. */
function Notifications(): ReactNode {
  const [setting, setSetting] = useStored<NotifySetting>(NOTIFY_KEY, 'off');
  const [refused, setRefused] = useState(false);
  if (!notificationsAvailable()) return null;
  const toggle = async (on: boolean): Promise<void> => {
    setRefused(false);
    if (!on) return setSetting('off');
    if (!(await askPermission())) {
      setRefused(true);
      return setSetting('off');
    }
    setSetting('on');
  };
  return (
    <section className="card">
      <h2>Notifications</h2>
      <label className="check">
        <input type="checkbox" checked={setting === 'on'} onChange={(e) => void toggle(e.target.checked)} data-testid="notifications-toggle" />
        Tell me when a payment arrives, and when a channel opens, closes or is force-closed
      </label>
      {refused ? <ErrorBox error="The system did not allow notifications for Coulomb. Allow them in the system’s (or the browser’s) settings, then turn this on again." /> : null}
    </section>
  );
}

export function Settings({ theme, setTheme, unit, setUnit, status, onForget, known }: { theme: Theme; setTheme: (t: Theme) => void; unit: Unit; setUnit: (u: Unit) => void; status: AppStatus; onForget: () => void; known: Record<string, string> }): ReactNode {
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
      <Notifications />
      <AccountSafety onLocked={onForget} />
      <ChannelBackup unit={unit} known={known} />
      <Watchtowers />
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
