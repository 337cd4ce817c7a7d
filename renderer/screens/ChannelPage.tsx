/**
 * One channel's page, in the terms of the payment-channel idea: both sides' balances, how many times
 * the commitment was replaced and how many old states each side revoked (what makes cheating costly),
 * the delay that protects each side and who waits, and every payment in flight with its expiry
 * countdown. Every number is the node's (getchannel); this page only says what it means.
 */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Amount, ErrorBox } from '../components.tsx';
import { formatSats, shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { aboutTime, blocksText, heightText } from '../channel-words.ts';

export function ChannelPage({ chanPoint, unit, counterparty, onBack }: { chanPoint: string; unit: Unit; counterparty: string | undefined; onBack: () => void }): ReactNode {
  const detail = useApi(() => api('getchannel', { chan_point: chanPoint }), ['channels', 'sync', 'payments'], [chanPoint]);
  const d = detail.data;
  const c = d?.channel;
  const peer = c ? (c.remote_pubkey === counterparty ? 'the playground counterparty' : shortId(c.remote_pubkey)) : '';
  return (
    <div className="screen channel-page">
      <button type="button" className="link small" onClick={onBack}>
        ← All channels
      </button>
      <h1>Channel with {peer || '…'}</h1>
      <ErrorBox error={detail.error} />
      {d && c ? (
        <>
          <section className="card" aria-label="Balances">
            <h2>Who owns what</h2>
            <p>
              Yours <Amount sats={c.local_balance} unit={unit} testId="detail-local" />, theirs <Amount sats={c.remote_balance} unit={unit} testId="detail-remote" />, of a capacity of{' '}
              {formatSats(c.capacity, unit)}. Both of you hold a signed transaction, the commitment, that pays these amounts; each payment replaces it with a new one.
            </p>
          </section>
          <section className="card" aria-label="Commitments">
            <h2>Commitments and old states</h2>
            <dl>
              <dt>Your commitment</dt>
              <dd>
                number <span data-testid="detail-local-commit">{d.local_commit_height}</span>
              </dd>
              <dt>Theirs</dt>
              <dd>
                number <span data-testid="detail-remote-commit">{d.remote_commit_height}</span>
              </dd>
              <dt>Old states revoked</dt>
              <dd>
                by you <span data-testid="detail-revoked-local">{d.revoked_local_states}</span>, by them <span data-testid="detail-revoked-remote">{d.revoked_remote_states}</span>
              </dd>
            </dl>
            <p className="muted small">
              Each time the balances change, both sides give up the previous commitment by handing over its secret. If the other node ever publishes one of its {d.revoked_remote_states} revoked
              states, Coulomb uses that secret to take their side too, as a penalty: old states are not worth publishing.
            </p>
          </section>
          <section className="card" aria-label="Delays">
            <h2>The delay that protects you</h2>
            <p data-testid="detail-our-delay">
              If you force-close, your side waits {blocksText(d.local_constraints.csv_delay)} ({aboutTime(d.local_constraints.csv_delay)}) after your commitment confirms; theirs is theirs at once.
            </p>
            <p data-testid="detail-their-delay">
              If they force-close, their side waits {blocksText(d.remote_constraints.csv_delay)} ({aboutTime(d.remote_constraints.csv_delay)}): the time Coulomb has to catch an old state and take the penalty. Yours is yours at once.
            </p>
            <p className="muted small">
              You keep at least {formatSats(d.local_constraints.chan_reserve_sat, unit)} in the channel as your reserve, and they keep {formatSats(d.remote_constraints.chan_reserve_sat, unit)}: each side always has something to lose.
            </p>
          </section>
          <section className="card" aria-label="Payments in flight">
            <h2>Payments in flight</h2>
            {d.pending_htlcs.length === 0 ? (
              <p className="muted" data-testid="detail-no-htlcs">
                None: every payment over this channel has settled or failed.
              </p>
            ) : (
              <ul className="htlc-list">
                {d.pending_htlcs.map((h) => (
                  <li key={`${h.incoming ? 'in' : 'out'}-${h.htlc_index}`} data-testid="detail-htlc" data-expiry={h.expiration_height}>
                    {h.incoming ? 'Coming to you' : 'Sent by you'}: {formatSats(h.amount, unit)}, expires at block {heightText(h.expiration_height)} (
                    {h.blocks_til_expiry === 0 ? 'now' : `in ${blocksText(h.blocks_til_expiry)}, ${aboutTime(h.blocks_til_expiry)}`}).{' '}
                    {h.incoming ? 'Yours with its secret before then; on chain if the channel closes.' : 'Refunded to you after it expires unless the payee claims it with its secret.'}
                  </li>
                ))}
              </ul>
            )}
            <p className="muted small">The chain is at block {heightText(d.block_height)}; a block comes about every 10 minutes, so times are estimates.</p>
          </section>
        </>
      ) : null}
    </div>
  );
}
