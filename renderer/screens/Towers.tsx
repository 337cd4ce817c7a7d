/**
 * Settings → Watchtowers: towers that watch the chain for this wallet while it is offline (the
 * client: wtclient add / towers / stats), and this node's own tower when it runs one (towerinfo).
 * What a tower protects and what it learns is said in words before anything is added.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, Field, useAction } from '../components.tsx';
import { useApi } from '../hooks.ts';
import { shortId } from '../format.ts';

export function Watchtowers(): ReactNode {
  const towers = useApi(async () => {
    const [list, stats, own] = await Promise.all([api('wtclient_towers'), api('wtclient_stats'), api('towerinfo').catch(() => undefined)]);
    return { list: list.towers, stats, own };
  }, ['channels']);
  const [uri, setUri] = useState('');
  const add = useAction();
  const d = towers.data;
  return (
    <section className="card" aria-labelledby="towers-title">
      <h2 id="towers-title">Watchtowers</h2>
      <p>
        A channel is safe while this wallet watches the chain: if the other node publishes an old state, Coulomb takes the whole channel with the
        penalty. A watchtower does that watching while this computer is off. Each time a payment changes a channel, Coulomb sends each tower a sealed
        note it can open only if that old state ever appears on chain; until then the tower learns nothing about your channels or payments.
      </p>
      {d?.list.length ? (
        <ul className="plain-list" data-testid="tower-list">
          {d.list.map((t) => (
            <li key={t.pubkey}>
              <span className="mono">{shortId(t.pubkey)}</span> at {t.addresses.join(', ') || 'no address'}:{' '}
              {t.sessions.reduce((s, x) => s + x.num_backups, 0)} states backed up
              {t.num_backlog ? `, ${t.num_backlog} waiting to be sent` : ''}
              {t.last_error ? <span className="muted"> (last try: {t.last_error})</span> : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted" data-testid="tower-none">
          No watchtower yet: keep Coulomb running, or add a tower you trust to stay online.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run(async () => {
            await api('wtclient_add', { uri: uri.trim() });
            setUri('');
            towers.reload();
          });
        }}
      >
        <Field label="Add a tower (its address: pubkey@host:port)">
          <input value={uri} onChange={(e) => setUri(e.target.value)} placeholder="03…@tower.example.com:9911" spellCheck={false} data-testid="tower-uri" />
        </Field>
        <div className="actions left">
          <button type="submit" className="secondary" disabled={add.busy || !uri.trim()} data-testid="tower-add">
            {add.busy ? 'Adding…' : 'Add tower'}
          </button>
        </div>
      </form>
      <ErrorBox error={add.error ?? towers.error} testId="tower-error" />
      {d?.own ? (
        <p className="muted" data-testid="tower-own">
          This node runs a watchtower too, for others: {d.own.uris[0] ?? d.own.listeners[0]} ({d.own.num_sessions} sessions, {d.own.num_justice_published} penalties published).
        </p>
      ) : null}
    </section>
  );
}
