/**
 * Send on-chain: address, amount or everything, a fee choice, a review with the real fee, then send.
 * `bitcoin:` links fill the form; `lightning:` invoices are decoded and shown.
 */
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, Field, useAction } from '../components.tsx';
import { formatSats, parseAmount, parseBitcoinUri } from '../format.ts';
import type { Unit } from '../format.ts';
import type { MethodOutput } from '../../core/api/contract.ts';

type Speed = 'fast' | 'normal' | 'slow' | 'custom';
type Estimate = MethodOutput<'estimatefee'>;

export function Send({ unit, playground, incomingUri }: { unit: Unit; playground: boolean; incomingUri: string | undefined }): ReactNode {
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [all, setAll] = useState(false);
  const [speed, setSpeed] = useState<Speed>('normal');
  const [custom, setCustom] = useState('');
  const [review, setReview] = useState<Estimate>();
  const [sent, setSent] = useState<string>();
  const [invoice, setInvoice] = useState<MethodOutput<'decodepayreq'>>();
  const act = useAction();

  const take = (text: string): void => {
    const t = text.trim();
    setInvoice(undefined);
    const btc = parseBitcoinUri(t);
    if (btc) {
      setTo(btc.address);
      if (btc.amountSat !== undefined) {
        setAll(false);
        setAmount(unit === 'sat' ? btc.amountSat.toString() : formatSats(btc.amountSat, 'btc').replace(' BTC', ''));
      }
      return;
    }
    const ln = /^(?:lightning:)?(ln[a-z0-9]+)$/i.exec(t);
    if (ln) {
      setTo(t);
      void act.run(async () => setInvoice(await api('decodepayreq', { pay_req: ln[1]! })));
      return;
    }
    setTo(t);
  };

  useEffect(() => {
    if (incomingUri) take(incomingUri);
  }, [incomingUri]);

  const params = (): Record<string, unknown> => {
    const amt = parseAmount(amount, unit);
    if (!to.trim()) throw new Error('Paste the address to send to.');
    if (!all && (amt === undefined || amt <= 0n)) throw new Error(unit === 'sat' ? 'Type the amount as a whole number of sats.' : 'Type the amount in BTC, like 0.001.');
    const p: Record<string, unknown> = { addr: to.trim(), ...(all ? { sweepall: true } : { amt: Number(amt) }) };
    if (speed === 'custom') {
      const r = Number(custom);
      if (!(r >= 1)) throw new Error('A custom fee rate is at least 1 sat/vB.');
      p.sat_per_vbyte = r;
    }
    return p;
  };

  if (sent) {
    return (
      <div className="screen">
        <h1>Sent</h1>
        <section className="card">
          <p data-testid="send-result">The transaction is on its way. It counts as done once a block confirms it.</p>
          <p className="mono small">{sent}</p>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setSent(undefined);
              setReview(undefined);
              setTo('');
              setAmount('');
              setAll(false);
            }}
          >
            Send more
          </button>
        </section>
      </div>
    );
  }

  if (review) {
    const total = BigInt(review.amount_sat) + BigInt(review.fee_sat);
    return (
      <div className="screen">
        <h1>Check and send</h1>
        <section className="card review">
          <dl>
            <dt>To</dt>
            <dd className="mono">{to.trim()}</dd>
            <dt>Amount</dt>
            <dd data-testid="review-amount">{formatSats(review.amount_sat, unit)}</dd>
            <dt>Network fee</dt>
            <dd data-testid="review-fee">
              {formatSats(review.fee_sat, unit)} <span className="muted">({review.sat_per_vbyte} sat/vB)</span>
            </dd>
            <dt>Total</dt>
            <dd>
              <strong>{formatSats(total, unit)}</strong>
            </dd>
          </dl>
          <p className="muted">Bitcoin payments cannot be undone. Check the address.</p>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setReview(undefined)} disabled={act.busy}>
              Change
            </button>
            <button
              type="button"
              className="primary"
              disabled={act.busy}
              onClick={() =>
                void act.run(async () => {
                  const p = params();
                  const r = await api('sendcoins', { ...p, sat_per_vbyte: Number(review.sat_per_vbyte) });
                  setSent(r.txid);
                })
              }
            >
              {act.busy ? 'Sending…' : 'Confirm and send'}
            </button>
          </div>
        </section>
      </div>
    );
  }

  return (
    <div className="screen">
      <h1>Send bitcoin</h1>
      <section className="card">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const p = params();
              let est = await api('estimatefee', p);
              if (speed !== 'custom' && speed !== 'normal') est = await api('estimatefee', { ...p, sat_per_vbyte: est.rates[speed] });
              setReview(est);
            });
          }}
        >
          <Field label="Pay to" hint="A bitcoin address or a bitcoin: link. Paste or type it.">
            <input value={to} onChange={(e) => take(e.target.value)} spellCheck={false} autoComplete="off" autoFocus />
          </Field>
          {playground ? (
            <button type="button" className="link" onClick={() => void act.run(async () => setTo((await api('app_counterparty_address')).address))}>
              Use the playground counterparty’s address
            </button>
          ) : null}
          {invoice ? (
            <div className="notice" role="status">
              This is a Lightning invoice for {invoice.num_satoshis === '0' ? 'any amount' : formatSats(invoice.num_satoshis, unit)}
              {invoice.description ? ` (“${invoice.description}”)` : ''}
              {invoice.expired ? ', and it has expired' : ''}. Paying Lightning invoices needs a channel, which this version of Coulomb cannot use for payments yet.
            </div>
          ) : null}
          <div className="row">
            <Field label={`Amount (${unit === 'sat' ? 'sats' : 'BTC'})`}>
              <input value={all ? '' : amount} onChange={(e) => setAmount(e.target.value)} disabled={all} inputMode="decimal" placeholder={all ? 'Everything' : ''} />
            </Field>
            <label className="check inline">
              <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
              Send everything
            </label>
          </div>
          <fieldset className="speed">
            <legend>Fee</legend>
            {(['fast', 'normal', 'slow', 'custom'] as Speed[]).map((s) => (
              <label key={s} className="radio">
                <input type="radio" name="speed" checked={speed === s} onChange={() => setSpeed(s)} />
                {{ fast: 'Fast (~20 min)', normal: 'Normal (~1 hour)', slow: 'Slow (~1 day)', custom: 'Custom' }[s]}
              </label>
            ))}
            {speed === 'custom' ? (
              <Field label="sat/vB">
                <input value={custom} onChange={(e) => setCustom(e.target.value)} inputMode="decimal" />
              </Field>
            ) : null}
          </fieldset>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={act.busy}>
              {act.busy ? 'Working out the fee…' : 'Review'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
