/**
 * Receive, on-chain or over Lightning. On-chain: a fresh address as a QR code, ready to copy.
 * Lightning: an invoice for an amount and a note, as a QR code, that turns to "Paid" the moment it is
 * paid; and, when the channels have no room to receive, what that means and how to get some.
 */
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi, useNow, useStored } from '../hooks.ts';
import { CopyButton, ErrorBox, Field, InboundChannelButton, Qr, Spinner, useAction } from '../components.tsx';
import { amountProblem, formatSats, parseAmount, shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { duration, expiresAt, formatMsat } from '../lightning.ts';

type Way = 'onchain' | 'lightning';

/** What the counterparty pays an invoice that leaves the amount to the payer. */
const PLAYGROUND_OPEN_AMOUNT_SAT = 1_000;

export function Receive({ unit, playground }: { unit: Unit; playground: boolean }): ReactNode {
  const [way, setWay] = useStored<Way>('coulomb.receive', 'onchain');
  return (
    <div className="screen">
      <h1>Receive</h1>
      <div className="segmented" role="radiogroup" aria-label="Receive with">
        {(['onchain', 'lightning'] as Way[]).map((w) => (
          <button key={w} type="button" role="radio" aria-checked={way === w} onClick={() => setWay(w)}>
            {w === 'onchain' ? 'On-chain' : 'Lightning'}
          </button>
        ))}
      </div>
      {way === 'onchain' ? <OnchainReceive /> : <LightningReceive unit={unit} playground={playground} />}
    </div>
  );
}

function OnchainReceive(): ReactNode {
  const [address, setAddress] = useState<string>();
  const act = useAction();
  const fresh = (): void => void act.run(async () => setAddress((await api('newaddress')).address));
  useEffect(fresh, []);
  return (
    <section className="card receive">
      {address ? (
        <>
          <Qr text={`bitcoin:${address}`} label="QR code of the address" />
          <div className="address-row">
            <code className="address" data-testid="receive-address">
              {address}
            </code>
            <CopyButton text={address} what="address" />
          </div>
          <p className="muted">Send bitcoin to this address from any wallet. It arrives here once a block confirms it. Each time you come here you get a new address, which keeps your payments private.</p>
          <div className="actions center">
            <button type="button" className="secondary" onClick={fresh} disabled={act.busy}>
              New address
            </button>
          </div>
        </>
      ) : act.busy ? (
        <Spinner label="Making an address…" />
      ) : null}
      <ErrorBox error={act.error} />
    </section>
  );
}

interface Made {
  r_hash: string;
  payment_request: string;
}

function LightningReceive({ unit, playground }: { unit: Unit; playground: boolean }): ReactNode {
  const chans = useApi(async () => {
    // What one payment can bring now is the node's to say (the peers' balances less reserves and fees).
    const [open, pending, balance] = await Promise.all([api('listchannels'), api('pendingchannels'), api('channelbalance')]);
    return { open: open.channels, opening: pending.pending_open_channels, canReceive: BigInt(balance.can_receive.sat) };
  }, ['channels', 'payments', 'invoices']);
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [made, setMade] = useState<Made>();
  const act = useAction();

  if (made) return <InvoiceCard made={made} unit={unit} playground={playground} onNew={() => setMade(undefined)} />;

  const active = chans.data?.open.filter((c) => c.active) ?? [];
  const opening = chans.data?.opening ?? [];
  // Channels opening with something on the other side: room to receive, once they are ready.
  const inbound = opening.filter((p) => BigInt(p.channel.remote_balance) > 0n);
  const room = chans.data?.canReceive ?? 0n;
  const typed = parseAmount(amount, unit);
  // Checked as it is typed: an amount of nothing, or more than can come in now, is refused here.
  const problem = !amount.trim()
    ? undefined
    : (amountProblem(amount, unit) ??
      (chans.data && typed !== undefined && typed > room
        ? `You can receive up to ${formatSats(room, unit)} now. To receive more, get a channel from a peer or spend some first.`
        : undefined));

  let explain: ReactNode = null;
  if (chans.data && room === 0n) {
    explain = (
      <section className="card muted-card" data-testid="no-inbound">
        <h2>{active.length ? 'No room to receive yet' : 'No channel yet'}</h2>
        <p>
          To receive over Lightning you need a channel with room on the other side.{' '}
          {active.length
            ? 'Everything in your channels is on your side now: the other side has nothing to send you. Pay something over Lightning first, or get a channel that someone else opens to you.'
            : 'A channel you open yourself starts with everything on your side, so it can pay but not yet receive; a channel someone opens to you can receive at once.'}
        </p>
        {inbound.length ? (
          <p className="muted" role="status">
            A channel with room for you to receive is opening. It is ready once a few blocks confirm it.
          </p>
        ) : opening.length ? (
          <p className="muted" role="status">
            The channel you are opening can pay as soon as it is ready; it can receive once you have paid something through it.
          </p>
        ) : null}
        {playground ? <InboundChannelButton unit={unit} onOpened={() => chans.reload()} /> : null}
      </section>
    );
  }

  return (
    <>
      {explain}
      <section className="card">
        <h2>New invoice</h2>
        {chans.data && room > 0n ? (
          <p className="lead-number" data-testid="can-receive">
            You can receive up to <strong>{formatSats(room, unit)}</strong> now.
          </p>
        ) : null}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              if (problem) throw new Error(problem);
              // Our channels are not announced, so the invoice names them (route hints) for payers to find us.
              const r = await api('addinvoice', { ...(typed ? { value: Number(typed) } : {}), ...(memo.trim() ? { memo: memo.trim() } : {}), private: true });
              setMade({ r_hash: r.r_hash, payment_request: r.payment_request });
              setAmount('');
              setMemo('');
            });
          }}
        >
          <div className="row">
            <Field label={`Amount (${unit === 'sat' ? 'sats' : 'BTC'})`} hint="Leave it empty to let the payer choose.">
              <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
            </Field>
            <Field label="Note (optional)" hint="The payer sees it, and so do you in History.">
              <input value={memo} onChange={(e) => setMemo(e.target.value)} maxLength={600} />
            </Field>
          </div>
          <ErrorBox error={problem ?? act.error ?? chans.error} testId="receive-problem" />
          <div className="actions">
            <button type="submit" className="primary" disabled={act.busy}>
              {act.busy ? 'Making the invoice…' : 'Create invoice'}
            </button>
          </div>
        </form>
      </section>
    </>
  );
}

/** The invoice as a QR code, its countdown, and "Paid" as soon as it is. */
function InvoiceCard({ made, unit, playground, onNew }: { made: Made; unit: Unit; playground: boolean; onNew: () => void }): ReactNode {
  const inv = useApi(() => api('lookupinvoice', { r_hash: made.r_hash }), ['invoices'], [made.r_hash]);
  const now = useNow(1000);
  const ask = useAction();
  const i = inv.data;
  if (!i) return <section className="card">{inv.error ? <ErrorBox error={inv.error} /> : <Spinner label="Making the invoice…" />}</section>;
  const ends = expiresAt(i);
  const expired = i.state === 'OPEN' && now >= ends;
  const any = i.value_msat === '0';
  const amountLine = any ? 'Any amount' : formatMsat(i.value_msat, unit);

  if (i.state === 'SETTLED') {
    return (
      <section className="card receive invoice-paid" data-testid="invoice-state" data-state="paid">
        <div className="paid-mark">
          <span className="check-mark" aria-hidden="true">
            ✓
          </span>
          <span>
            <strong className="big-amount">Paid</strong> <span className="muted">— {formatMsat(i.amt_paid_msat, unit)} received</span>
          </span>
        </div>
        {i.memo ? <p>{i.memo}</p> : null}
        <p className="muted">It is in your Lightning balance now. Like every payment, it is listed in History.</p>
        <div className="actions left">
          <button type="button" className="primary" onClick={onNew}>
            New invoice
          </button>
        </div>
      </section>
    );
  }

  return (
    <section className="card receive" data-testid="invoice-state" data-state={expired ? 'expired' : i.state === 'CANCELED' ? 'canceled' : 'open'}>
      <div className={expired || i.state === 'CANCELED' ? 'faded' : undefined}>
        <Qr text={`lightning:${i.payment_request}`} label="QR code of the invoice" />
      </div>
      <div className="invoice-summary">
        <strong className="big-amount" data-testid="invoice-amount">
          {amountLine}
        </strong>
        {i.memo ? <span className="muted">{i.memo}</span> : null}
      </div>
      <div className="address-row">
        <code className="address invoice-text" title={i.payment_request} data-testid="invoice-text">
          {shortId(i.payment_request, 24)}
        </code>
        <CopyButton text={i.payment_request} what="invoice" />
      </div>
      {i.state === 'CANCELED' ? (
        <p className="error-text">This invoice was canceled: it takes no payment.</p>
      ) : expired ? (
        <p className="error-text" data-testid="invoice-expiry">
          This invoice expired {duration(now - ends)} ago without being paid. Make a new one.
        </p>
      ) : (
        <div className="waiting" role="status">
          <span className="spinner" aria-hidden="true" />
          <span>
            {i.state === 'ACCEPTED' ? 'A payment is arriving…' : 'Waiting for the payment'} <span className="muted" data-testid="invoice-expiry">· expires in {duration(ends - now)}</span>
          </span>
        </div>
      )}
      <p className="muted small">Anyone with a Lightning wallet can pay it: scan the code, or copy the invoice. It can be paid once.</p>
      <ErrorBox error={ask.error} />
      <div className="actions center">
        <button type="button" className="secondary" onClick={onNew}>
          New invoice
        </button>
        {playground && !expired && i.state === 'OPEN' ? (
          <button
            type="button"
            className="primary"
            disabled={ask.busy}
            onClick={() =>
              void ask.run(async () => {
                // No reload here: the invoice turns to Paid through the node's change events, like any payment.
                await api('app_counterparty_pay', { pay_req: i.payment_request, ...(any ? { amt: PLAYGROUND_OPEN_AMOUNT_SAT } : {}) });
              })
            }
          >
            {ask.busy ? 'The counterparty is paying…' : any ? `Ask the playground counterparty to pay ${formatSats(PLAYGROUND_OPEN_AMOUNT_SAT, unit)}` : 'Ask the playground counterparty to pay this invoice'}
          </button>
        ) : null}
      </div>
    </section>
  );
}
