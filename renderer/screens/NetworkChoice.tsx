/** First start: the playground (nothing to set up) or the user's own bitcoind, tested before use. */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, Field, useAction } from '../components.tsx';
import type { AppStatus } from '../../core/app/contract.ts';

type Net = 'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest';
const PORTS: Record<Net, number> = { mainnet: 8332, testnet: 18332, testnet4: 48332, signet: 38332, regtest: 18443 };

export function NetworkChoice({ onDone }: { onDone: (s: AppStatus) => void }): ReactNode {
  const pg = useAction();
  const test = useAction();
  const use = useAction();
  const [network, setNetwork] = useState<Net>('signet');
  const [host, setHost] = useState('127.0.0.1');
  const [auth, setAuth] = useState<'password' | 'cookie'>('password');
  const [user, setUser] = useState('');
  const [pass, setPass] = useState('');
  const [cookie, setCookie] = useState('');
  const [tested, setTested] = useState<string>();

  const settings = () => ({ network, host: host.includes(':') ? host : `${host}:${PORTS[network]}`, ...(auth === 'cookie' ? { cookie } : { user, pass }) });

  return (
    <div className="centered">
      <div className="onboarding wide">
        <h1>Where should Coulomb run?</h1>
        <p className="lead">You can change this later in Settings. Each network keeps its own wallet.</p>
        <div className="choice-grid">
          <section className="card choice">
            <h2>Playground</h2>
            <p>A private practice network on this computer, with free test coins and a second node to trade with. Nothing to install, no real money.</p>
            <button
              type="button"
              className="primary"
              disabled={pg.busy}
              onClick={() => void pg.run(async () => onDone(await api('app_choose_network', { kind: 'playground' })))}
            >
              {pg.busy ? 'Starting the playground…' : 'Use the playground'}
            </button>
            <ErrorBox error={pg.error} />
          </section>
          <section className="card choice">
            <h2>My bitcoind</h2>
            <p>Run on a real network through your own Bitcoin Core node.</p>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void use.run(async () => onDone(await api('app_choose_network', { kind: 'bitcoind', bitcoind: settings() })));
              }}
            >
              <Field label="Network">
                <select value={network} onChange={(e) => setNetwork(e.target.value as Net)}>
                  <option value="mainnet">Mainnet (real bitcoin)</option>
                  <option value="testnet">Testnet3</option>
                  <option value="testnet4">Testnet4</option>
                  <option value="signet">Signet</option>
                  <option value="regtest">Regtest</option>
                </select>
              </Field>
              <Field label="RPC host" hint={`host or host:port (default port ${PORTS[network]})`}>
                <input value={host} onChange={(e) => setHost(e.target.value)} spellCheck={false} autoComplete="off" />
              </Field>
              <div className="segmented" role="radiogroup" aria-label="How to log in to bitcoind">
                <button type="button" role="radio" aria-checked={auth === 'password'} onClick={() => setAuth('password')}>
                  User and password
                </button>
                <button type="button" role="radio" aria-checked={auth === 'cookie'} onClick={() => setAuth('cookie')}>
                  Cookie file
                </button>
              </div>
              {auth === 'password' ? (
                <div className="row">
                  <Field label="RPC user">
                    <input value={user} onChange={(e) => setUser(e.target.value)} autoComplete="off" />
                  </Field>
                  <Field label="RPC password">
                    <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} autoComplete="off" />
                  </Field>
                </div>
              ) : (
                <Field label="Cookie file" hint="e.g. ~/.bitcoin/signet/.cookie">
                  <input value={cookie} onChange={(e) => setCookie(e.target.value)} spellCheck={false} />
                </Field>
              )}
              <div className="actions">
                <button
                  type="button"
                  className="secondary"
                  disabled={test.busy}
                  onClick={() =>
                    void test.run(async () => {
                      setTested(undefined);
                      const r = await api('app_test_bitcoind', settings());
                      const pct = Math.floor(r.verification_progress * 1000) / 10;
                      setTested(`Connected to ${r.version || 'bitcoind'} on ${r.chain}: block ${r.blocks.toLocaleString()}${r.initial_block_download ? `, still syncing (${pct}%)` : ', in sync'}.`);
                    })
                  }
                >
                  {test.busy ? 'Testing…' : 'Test connection'}
                </button>
                <button type="submit" className="primary" disabled={use.busy}>
                  {use.busy ? 'Connecting…' : 'Use this bitcoind'}
                </button>
              </div>
              {tested ? (
                <div className="ok" role="status">
                  {tested}
                </div>
              ) : null}
              <ErrorBox error={test.error ?? use.error} />
            </form>
          </section>
        </div>
      </div>
    </div>
  );
}
