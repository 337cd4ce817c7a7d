/**
 * The app's frame: which phase we are in (connecting, choosing a network, onboarding, unlocked), the
 * sidebar, the sync bar, and the theme. Screens live in screens/.
 */
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { api, onConnection, onEvent } from './api.ts';
import { useApi, useStored } from './hooks.ts';
import { ErrorBox, Spinner } from './components.tsx';
import type { Unit } from './format.ts';
import type { AppStatus, SyncSnapshot } from '../core/app/contract.ts';
import { notificationFor, NOTIFY_KEY, show } from './notify.ts';
import type { NotifySetting } from './notify.ts';
import { NetworkChoice } from './screens/NetworkChoice.tsx';
import { Onboarding, Unlock } from './screens/Onboarding.tsx';
import { Home } from './screens/Home.tsx';
import { Receive } from './screens/Receive.tsx';
import { Send } from './screens/Send.tsx';
import { History } from './screens/History.tsx';
import { NodeInfo } from './screens/NodeInfo.tsx';
import { Channels } from './screens/Channels.tsx';
import { Peers } from './screens/Peers.tsx';
import { Settings } from './screens/Settings.tsx';
import type { Theme } from './screens/Settings.tsx';

type Screen = 'home' | 'send' | 'receive' | 'history' | 'channels' | 'peers' | 'node' | 'settings';
const NAV: { id: Screen; label: string }[] = [
  { id: 'home', label: 'Home' },
  { id: 'send', label: 'Send' },
  { id: 'receive', label: 'Receive' },
  { id: 'history', label: 'History' },
  { id: 'channels', label: 'Channels' },
  { id: 'peers', label: 'Peers' },
  { id: 'node', label: 'Node' },
  { id: 'settings', label: 'Settings' },
];

/** What to do when the page lost Coulomb: it stopped (Ctrl+C, a crash, the computer slept) or the connection dropped. */
const RECONNECT =
  'Lost the connection to Coulomb: it has stopped, or the connection dropped. This page keeps trying. If Coulomb was stopped, start it again (npm start, or coulomb app) and open the new address it prints.';

function SyncBar({ sync, lost }: { sync: SyncSnapshot | undefined; lost: boolean }): ReactNode {
  if (lost) {
    // Nothing here is known any more: never "In sync" for a node that is not there.
    return (
      <div className="syncbar lost" data-testid="sync-bar" data-synced="false">
        <span className="syncbar-text" data-testid="sync-status">
          Not connected to Coulomb · the numbers on this page may be out of date
        </span>
      </div>
    );
  }
  if (!sync || sync.best_height === 0) return null;
  const pct = sync.best_height ? Math.min(100, (sync.height / sync.best_height) * 100) : 0;
  const done = sync.synced && sync.height >= sync.best_height;
  return (
    <div className={`syncbar${done ? ' done' : ''}`} data-testid="sync-bar" data-synced={done ? 'true' : 'false'}>
      <div className="syncbar-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(pct)} aria-label="Chain sync">
        <div className="syncbar-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="syncbar-text" data-testid="sync-status">
        {sync.error ? `Chain unreachable: ${sync.error}` : done ? `In sync · block ${sync.height.toLocaleString()}` : `Syncing · block ${sync.height.toLocaleString()} of ${sync.best_height.toLocaleString()}`}
      </span>
    </div>
  );
}

/** Nodes the screens can name instead of showing a bare key. */
function knownNodes(s: AppStatus | undefined): Record<string, string> {
  const known: Record<string, string> = {};
  if (s?.playground) {
    known[s.playground.counterparty_pubkey] = 'playground counterparty';
    if (s.playground.shop_pubkey) known[s.playground.shop_pubkey] = 'playground shop';
  }
  return known;
}

/** Desktop notifications of the node's events, when turned on in Settings (off by default). */
function useNotifications(unit: Unit, known: Record<string, string>): void {
  const [setting] = useStored<NotifySetting>(NOTIFY_KEY, 'off');
  const now = useRef({ setting, unit, known });
  now.current = { setting, unit, known };
  useEffect(
    () =>
      onEvent((e) => {
        const c = now.current;
        if (c.setting !== 'on' || e.type !== 'changed' || !e.event) return;
        const note = notificationFor(e.event, c.unit, c.known);
        if (note) show(note);
      }),
    [],
  );
}

export function App(): ReactNode {
  const [conn, setConn] = useState<string>('connecting');
  const [theme, setTheme] = useStored<Theme>('coulomb.theme', 'system');
  const [unit, setUnit] = useStored<Unit>('coulomb.unit', 'sat');
  const [screen, setScreen] = useState<Screen>('home');
  const [sync, setSync] = useState<SyncSnapshot>();
  const [incomingUri, setIncomingUri] = useState<string>();
  const status = useApi(() => api('app_status'), ['status']);
  const info = useApi(() => api('getinfo').catch(() => undefined), ['status', 'wallet'], [status.data?.node_running]);
  useNotifications(unit, knownNodes(status.data));

  useEffect(() => onConnection(setConn), []);
  // Back after the connection was lost: everything may have moved on meanwhile.
  const [wasLost, setWasLost] = useState(false);
  useEffect(() => {
    if (conn === 'lost') setWasLost(true);
    if (conn === 'ready' && wasLost) {
      setWasLost(false);
      status.reload();
      info.reload();
    }
  }, [conn]);
  useEffect(() => {
    // "Like the system" follows the system's setting, live; the stylesheet knows only light and dark.
    const dark = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = (): void => {
      document.documentElement.dataset.theme = theme === 'system' ? (dark.matches ? 'dark' : 'light') : theme;
    };
    apply();
    dark.addEventListener('change', apply);
    return () => dark.removeEventListener('change', apply);
  }, [theme]);
  useEffect(
    () =>
      onEvent((e) => {
        if (e.type === 'changed') setSync(e.sync);
        if (e.type === 'open_uri') {
          setIncomingUri(e.uri);
          setScreen('send');
        }
      }),
    [],
  );

  if (conn === 'denied') {
    return (
      <div className="centered">
        <div className="onboarding narrow">
          <h1>This page needs its key</h1>
          <p className="lead">Open the full address Coulomb printed in the terminal (it ends in #token=…). It keeps other web pages away from your wallet.</p>
        </div>
      </div>
    );
  }
  const s = status.data;
  if (!s) {
    return (
      <div className="centered">
        {conn === 'lost' ? <ErrorBox error={RECONNECT} testId="connection-lost" /> : <Spinner label="Starting Coulomb…" />}
        <ErrorBox error={status.error} />
      </div>
    );
  }
  if (!s.configured) return <NetworkChoice onDone={() => status.reload()} />;
  if (!s.node_running) {
    return (
      <div className="centered">
        <div className="onboarding narrow">
          {s.node_error ? (
            <>
              <h1>The node did not start</h1>
              <ErrorBox error={s.node_error} />
              <div className="actions">
                <button type="button" className="primary" onClick={() => void api('app_forget_network').then(() => status.reload())}>
                  Choose the network again
                </button>
              </div>
            </>
          ) : (
            <Spinner label="Starting the node…" />
          )}
        </div>
      </div>
    );
  }
  const wallet = info.data?.wallet_state;
  if (!wallet) return <div className="centered">{info.error ? <ErrorBox error={info.error} /> : <Spinner label="Starting the node…" />}</div>;
  if (wallet === 'NO_WALLET') return <Onboarding onDone={() => info.reload()} network={s.network} />;
  if (wallet === 'LOCKED') return <Unlock onDone={() => info.reload()} network={s.network} />;

  const playground = s.backend === 'playground';
  const known = knownNodes(s);
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="icon.svg" alt="" width={28} height={28} />
          <span>Coulomb</span>
        </div>
        {NAV.map((n) => (
          <button key={n.id} type="button" className={`nav${screen === n.id ? ' current' : ''}`} aria-current={screen === n.id ? 'page' : undefined} onClick={() => setScreen(n.id)}>
            {n.label}
          </button>
        ))}
        <div className="sidebar-foot">
          <span className={`net-badge ${playground ? 'playground' : s.network}`}>{playground ? 'Playground' : s.network}</span>
          <button type="button" className="link small" onClick={() => setUnit(unit === 'sat' ? 'btc' : 'sat')} aria-label="Switch unit">
            {unit === 'sat' ? 'sats → BTC' : 'BTC → sats'}
          </button>
        </div>
      </nav>
      <main>
        <SyncBar sync={sync} lost={conn === 'lost'} />
        {conn === 'lost' ? <ErrorBox error={RECONNECT} testId="connection-lost" /> : null}
        {screen === 'home' && <Home unit={unit} playground={playground} go={setScreen} shopUrl={s.playground?.shop_url} known={known} />}
        {screen === 'send' && <Send unit={unit} playground={playground} network={s.network} known={known} incomingUri={incomingUri} />}
        {screen === 'receive' && <Receive unit={unit} playground={playground} />}
        {screen === 'history' && <History unit={unit} known={known} />}
        {screen === 'channels' && <Channels unit={unit} playground={playground} mainnet={s.network === 'mainnet'} counterparty={s.playground?.counterparty_pubkey} counterpartyUri={s.playground?.counterparty_uri} />}
        {screen === 'peers' && <Peers counterparty={s.playground?.counterparty_pubkey} />}
        {screen === 'node' && <NodeInfo />}
        {screen === 'settings' && <Settings theme={theme} setTheme={setTheme} unit={unit} setUnit={setUnit} status={s} onForget={() => status.reload()} known={known} />}
      </main>
    </div>
  );
}
