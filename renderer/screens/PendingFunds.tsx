/**
 * "Where the money is": every amount that is yours but not spendable yet, and what it waits for (the
 * node's pendingfunds: the block, the blocks left), each in one sentence with an estimated time.
 * Nothing shows while everything is spendable.
 */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Amount, ErrorBox } from '../components.tsx';
import { shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { pendingFundText } from '../channel-words.ts';

export function PendingFunds({ unit, known }: { unit: Unit; known: Record<string, string> }): ReactNode {
  const funds = useApi(() => api('pendingfunds'), ['balance', 'channels', 'transactions', 'sync']);
  const f = funds.data;
  if (!f || f.funds.length === 0) return funds.error ? <ErrorBox error={funds.error} /> : null;
  const name = (pk: string): string => (known[pk] ? `the ${known[pk]}` : shortId(pk));
  return (
    <section className="card pending-funds" aria-label="Not spendable yet" data-testid="pending-funds">
      <h2>
        Not spendable yet: <Amount sats={f.total_sat} unit={unit} testId="pending-total" />
      </h2>
      <ul className="plain-list">
        {f.funds.map((x, i) => (
          <li key={`${x.kind}-${x.txid}-${x.channel_point}-${i}`} data-testid="pending-fund" data-kind={x.kind} data-maturity={x.maturity_height}>
            {pendingFundText(x, name, unit)}.
          </li>
        ))}
      </ul>
      <p className="muted small">At block {f.block_height.toLocaleString('en-US')} now. A block comes about every 10 minutes, so the times are estimates.</p>
    </section>
  );
}
