/** The nodes we are connected to, and a way to connect to another by its address. */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Empty, ErrorBox, Field, useAction } from '../components.tsx';
import { shortId } from '../format.ts';

export function Peers({ counterparty }: { counterparty: string | undefined }): ReactNode {
  const peers = useApi(() => api('listpeers'), ['peers']);
  const [addr, setAddr] = useState('');
  const act = useAction();
  const list = peers.data?.peers ?? [];
  return (
    <div className="screen">
      <h1>Peers</h1>
      <section className="card">
        <h2>Connect to a node</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await api('connect', { addr: addr.trim(), perm: true });
              setAddr('');
              peers.reload();
            });
          }}
        >
          <Field label="Node address" hint="pubkey@host:port, as another node shows it">
            <input value={addr} onChange={(e) => setAddr(e.target.value)} spellCheck={false} autoComplete="off" />
          </Field>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={act.busy || !addr.trim()}>
              {act.busy ? 'Connecting…' : 'Connect'}
            </button>
          </div>
        </form>
      </section>
      <section className="card">
        <h2>Connected</h2>
        {list.length === 0 ? (
          <Empty title="No peers yet">Connect to a node above{counterparty ? '; on the playground the counterparty node joins by itself in a moment' : ''}.</Empty>
        ) : (
          <table className="list" data-testid="peer-list">
            <thead>
              <tr>
                <th>Node</th>
                <th>Address</th>
                <th>Direction</th>
                <th>Ping</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.pub_key}>
                  <td className="mono" title={p.pub_key}>
                    {shortId(p.pub_key)}
                    {p.pub_key === counterparty ? <span className="tag">playground counterparty</span> : null}
                  </td>
                  <td className="mono">{p.address}</td>
                  <td>{p.inbound ? 'They connected' : 'We connected'}</td>
                  <td>{p.ping_time === '0' ? '—' : `${Math.round(Number(p.ping_time) / 1000)} ms`}</td>
                  <td>
                    <button type="button" className="link" onClick={() => void act.run(async () => void (await api('disconnect', { pub_key: p.pub_key })))}>
                      Disconnect
                    </button>
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
