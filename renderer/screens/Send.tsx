/**
 * Send: one "Pay to" field takes whatever the user has — a Lightning invoice or `lightning:` link (paid
 * over a channel), a bitcoin address or `bitcoin:` link (paid on-chain) — pasted, typed, or dropped.
 * Lightning: the invoice decoded (amount, description, payee, expiry, network, the most it could cost
 * in fees), then Pay, with the proof of payment at the end. On-chain: amount or everything, a fee
 * choice, a review with the real fee, then send.
 */
import { useEffect, useState } from 'react';
import type { DragEvent, ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi, useNow } from '../hooks.ts';
import { CopyButton, ErrorBox, Field, Spinner, useAction } from '../components.tsx';
import { amountProblem, formatSats, parseAmount, shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import { appNetworkLabel, duration, expiresAt, failureShown, formatFee, formatMsat, invoiceNetworkFor, msatToSatCeil, networkLabel, parsePayTarget } from '../lightning.ts';
import { fromText, toShown } from '../errors.ts';
import type { Shown } from '../errors.ts';
import type { MethodOutput, PaymentView } from '../../core/api/contract.ts';

type Speed = 'fast' | 'normal' | 'slow' | 'custom';
type Estimate = MethodOutput<'estimatefee'>;
type Payment = MethodOutput<'sendpayment'>;

/** What the playground counterparty's invoice asks, for a first payment. */
const PLAYGROUND_INVOICE_SAT = 5_000;

/** Where a Lightning payment stands once "Pay" is pressed. */
type Paying =
  | { phase: 'paying'; amountSat: bigint; payee: string }
  | { phase: 'paid'; payment: Payment; payee: string }
  | { phase: 'in_flight'; payment: Payment; payee: string }
  | { phase: 'failed'; message: Shown; amountSat: bigint; payee: string; payment?: PaymentView };

/** A node's short id, and what it is when we know it (the playground's counterparty or shop). */
export function NodeName({ pubkey, known }: { pubkey: string; known: Record<string, string> }): ReactNode {
  return (
    <span className="channel-peer">
      <span className="mono" title={pubkey}>
        {shortId(pubkey)}
      </span>
      {known[pubkey] ? <span className="tag">{known[pubkey]}</span> : null}
    </span>
  );
}

function amountText(sats: bigint, unit: Unit): string {
  return unit === 'sat' ? sats.toString() : formatSats(sats, 'btc').replace(' BTC', '');
}

export function Send({ unit, playground, network, known, incomingUri }: { unit: Unit; playground: boolean; network: string; known: Record<string, string>; incomingUri: string | undefined }): ReactNode {
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [all, setAll] = useState(false);
  const [speed, setSpeed] = useState<Speed>('normal');
  const [custom, setCustom] = useState('');
  const [review, setReview] = useState<Estimate>();
  const [sent, setSent] = useState<string>();
  const [onchainInstead, setOnchainInstead] = useState(false);
  const [paying, setPaying] = useState<Paying>();
  const [dragging, setDragging] = useState(false);
  const act = useAction();

  const target = parsePayTarget(to);
  const invoice = target.kind === 'invoice' ? target.invoice : target.kind === 'onchain' && target.invoice && !onchainInstead ? target.invoice : undefined;
  const address = target.kind === 'onchain' ? target.address : '';

  /** Whatever arrives in "Pay to": a `bitcoin:` link's amount fills the amount field too. */
  const take = (text: string): void => {
    setTo(text);
    setOnchainInstead(false);
    act.setError(undefined);
    const t = parsePayTarget(text);
    if (t.kind === 'onchain' && t.amountSat !== undefined) {
      setAll(false);
      setAmount(amountText(t.amountSat, unit));
    }
  };

  useEffect(() => {
    if (!incomingUri) return;
    // A link opened from elsewhere starts over, whatever the screen was showing.
    setSent(undefined);
    setReview(undefined);
    setPaying((p) => (p?.phase === 'paying' ? p : undefined));
    take(incomingUri);
  }, [incomingUri]);

  const reset = (): void => {
    setSent(undefined);
    setReview(undefined);
    setPaying(undefined);
    setTo('');
    setAmount('');
    setAll(false);
    setOnchainInstead(false);
  };

  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) {
      if (file.size > 10_000) return act.setError('That file is too large to be an invoice or an address.');
      void file.text().then((t) => take(t.trim()));
      return;
    }
    const text = e.dataTransfer.getData('text/plain') || e.dataTransfer.getData('text/uri-list');
    if (text) take(text.trim());
  };

  const pay = async (inv: string, hash: string, amountSat: bigint, withAmount: boolean, payee: string): Promise<void> => {
    setPaying({ phase: 'paying', amountSat, payee });
    try {
      const r = await api('sendpayment', { pay_req: inv, ...(withAmount ? { amt: Number(amountSat) } : {}) });
      if (r.status === 'SUCCEEDED') setPaying({ phase: 'paid', payment: r, payee });
      else if (r.status === 'IN_FLIGHT') setPaying({ phase: 'in_flight', payment: r, payee });
      else setPaying({ phase: 'failed', message: failureShown(r), amountSat, payee, payment: r });
    } catch (e) {
      // The node's sentence is the diagnosis of the payment's record; the record says which node answered.
      const record = await api('lookuppayment', { payment_hash: hash }).catch(() => undefined);
      setPaying({ phase: 'failed', message: record?.failure_detail ? failureShown(record) : toShown(e), amountSat, payee, ...(record?.failure_detail ? { payment: record } : {}) });
    }
  };

  const params = (): Record<string, unknown> => {
    const amt = parseAmount(amount, unit);
    if (!address.trim()) throw new Error('Paste the address to send to.');
    const wrong = all ? undefined : amountProblem(amount, unit);
    if (wrong) throw new Error(wrong);
    const p: Record<string, unknown> = { addr: address.trim(), ...(all ? { sweepall: true } : { amt: Number(amt) }) };
    if (speed === 'custom') {
      const r = Number(custom);
      if (!(r >= 1)) throw new Error('A custom fee rate is at least 1 sat/vB.');
      p.sat_per_vbyte = r;
    }
    return p;
  };

  if (paying) return <PayingScreen paying={paying} unit={unit} known={known} onDone={reset} onBack={() => setPaying(undefined)} />;

  if (sent) {
    return (
      <div className="screen">
        <h1>Sent</h1>
        <section className="card">
          <p data-testid="send-result">The transaction is on its way. It counts as done once a block confirms it.</p>
          <p className="mono small">{sent}</p>
          <button type="button" className="secondary" onClick={reset}>
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
            <dd className="mono">{address.trim()}</dd>
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
      <h1>Send</h1>
      <section
        className={`card dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <Field label="Pay to" hint="A Lightning invoice, a bitcoin address, or a lightning: or bitcoin: link. Paste it, type it, or drop it here.">
          <input value={to} onChange={(e) => take(e.target.value)} spellCheck={false} autoComplete="off" autoFocus data-testid="pay-to" />
        </Field>
        <div className="link-row">
          {to ? (
            <button type="button" className="link" onClick={reset}>
              Clear
            </button>
          ) : null}
          {playground && !to ? (
            <>
              <button
                type="button"
                className="link"
                onClick={() =>
                  void act.run(async () => {
                    const r = await api('app_counterparty_invoice', { amt: PLAYGROUND_INVOICE_SAT, memo: 'A first payment to the playground counterparty' });
                    take(r.payment_request);
                  })
                }
              >
                Get an invoice from the playground counterparty
              </button>
              <button type="button" className="link" onClick={() => void act.run(async () => take((await api('app_counterparty_address')).address))}>
                Use the playground counterparty’s address
              </button>
            </>
          ) : null}
        </div>
        {target.kind === 'unknown' ? (
          <div className="notice" role="alert" data-testid="pay-to-unknown">
            This is neither a Lightning invoice nor a bitcoin address. Check that you copied the whole of it: an invoice starts with “ln”, an address with “bc1”, “tb1”, “bcrt1”, “1”, “3”, “m”, “n” or “2”.
          </div>
        ) : invoice ? (
          <>
            {target.kind === 'onchain' ? (
              <div className="notice">
                This link offers Lightning too, which is faster and cheaper, so Coulomb pays it over Lightning.{' '}
                <button type="button" className="link" onClick={() => setOnchainInstead(true)}>
                  Pay on-chain instead
                </button>
              </div>
            ) : null}
            <LightningInvoice
              key={invoice}
              invoice={invoice}
              unit={unit}
              network={network}
              known={known}
              onCancel={reset}
              onPay={(hash, amountSat, withAmount, payee) => void pay(invoice, hash, amountSat, withAmount, payee)}
            />
          </>
        ) : (
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
        )}
        {invoice || target.kind === 'unknown' ? <ErrorBox error={act.error} /> : null}
      </section>
    </div>
  );
}

/** When a payment succeeded: when its HTLC was settled, or when it began. */
function paidAt(p: PaymentView): Date {
  const settled = p.htlcs.find((h) => h.status === 'SUCCEEDED' && h.resolve_time_ns !== '0');
  return new Date(Number(BigInt(settled?.resolve_time_ns ?? p.creation_time_ns) / 1_000_000n));
}

/** A payment to this invoice made before: paid (with the proof) or still on its way. Nothing to press. */
function AlreadyPaid({ payment, unit, onCancel }: { payment: PaymentView; unit: Unit; onCancel: () => void }): ReactNode {
  const when = paidAt(payment).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <div className="already-paid" data-testid="already-paid" role="status">
      {payment.status === 'SUCCEEDED' ? (
        <>
          <p>
            <strong>You already paid this invoice on {when}.</strong> It can be paid only once: {formatMsat(payment.value_msat, unit)}, fee {formatFee(payment.fee_msat, unit)}.
          </p>
          <details>
            <summary>Proof of payment</summary>
            <div className="secret-row">
              <code className="secret" data-testid="already-paid-preimage">
                {payment.payment_preimage}
              </code>
              <CopyButton text={payment.payment_preimage} what="proof of payment" />
            </div>
            <span className="field-hint">The payment’s preimage: only the payee could reveal it, and only by being paid.</span>
          </details>
        </>
      ) : (
        <p>
          <strong>A payment to this invoice is already on its way</strong> (since {when}). It will either arrive or come back to you on its own; History shows how it ends.
        </p>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={onCancel}>
          Done
        </button>
      </div>
    </div>
  );
}

/** A decoded invoice, everything that can refuse it, and the Pay button. */
function LightningInvoice({
  invoice,
  unit,
  network,
  known,
  onCancel,
  onPay,
}: {
  invoice: string;
  unit: Unit;
  network: string;
  known: Record<string, string>;
  onCancel: () => void;
  onPay: (hash: string, amountSat: bigint, withAmount: boolean, payee: string) => void;
}): ReactNode {
  const decoded = useApi(async () => {
    const d = await api('decodepayreq', { pay_req: invoice });
    // A payment made before to this invoice (paid, or on its way), found by its hash.
    const prior = await api('lookuppayment', { payment_hash: d.payment_hash }).catch(() => undefined);
    return { d, prior: prior && prior.status !== 'FAILED' ? prior : undefined };
  }, ['payments']);
  const channels = useApi(() => api('listchannels'), ['channels']);
  // What one payment can send now is the node's to say: our balances less reserves and fees.
  const room = useApi(() => api('channelbalance'), ['channels', 'payments']);
  const info = useApi(() => api('getinfo'), ['status']);
  const now = useNow(1000);
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string>();
  // The route fee, and whether any channel can take the payment, are the node's to say too.
  const typedSat = parseAmount(amount, unit);
  const needsAmount = decoded.data?.d.num_msat === '0';
  const route = useApi(
    async () => {
      if (!decoded.data || (needsAmount && !(typedSat !== undefined && typedSat > 0n))) return undefined;
      return api('estimateroutefee', { payment_request: invoice, ...(needsAmount ? { amt_sat: Number(typedSat) } : {}) });
    },
    ['channels'],
    [invoice, decoded.data?.d.payment_hash, typedSat?.toString()],
  );

  if (decoded.error) {
    return (
      <div className="lightning-invoice">
        <ErrorBox error={decoded.error} testId="invoice-error" />
      </div>
    );
  }
  if (!decoded.data) return <Spinner label="Reading the invoice…" />;
  const { d: inv, prior } = decoded.data;

  const hasAmount = inv.num_msat !== '0';
  const typed = parseAmount(amount, unit);
  const amountMsat = hasAmount ? BigInt(inv.num_msat) : typed !== undefined && typed > 0n ? typed * 1000n : 0n;
  const typedProblem = !hasAmount && amount.trim() ? amountProblem(amount, unit) : undefined;
  const ourId = info.data?.identity_pubkey ?? '';
  const list = channels.data?.channels ?? [];
  const est = route.data;
  const feeMsat = est && est.failure_reason === 'FAILURE_REASON_NONE' ? BigInt(est.max_routing_fee_msat) : 0n;
  const feeMax = msatToSatCeil(feeMsat);
  const ends = expiresAt(inv);
  const expired = now >= ends;
  const ours = invoiceNetworkFor(network);
  const wrongNetwork = inv.network !== ours;
  const own = ourId !== '' && inv.destination === ourId;
  const canSend = room.data ? BigInt(room.data.can_send.msat) : undefined;
  const refusal = wrongNetwork
    ? `This invoice is for ${networkLabel(inv.network, network)}, but Coulomb is on ${appNetworkLabel(network)}: it cannot be paid from here.`
    : expired
      ? `This invoice expired ${duration(now - ends)} ago and can no longer be paid. Ask the payee for a new one.`
      : own
        ? 'This invoice is one of your own: a node cannot pay itself.'
        : list.length > 0 && canSend !== undefined && amountMsat > 0n && amountMsat + feeMsat > canSend
          ? `You can send up to ${formatSats(canSend / 1000n, unit)} now${feeMsat > 0n ? ', fees included' : ''}. To send more, open a channel with more on your side, or receive some first.`
          : est?.failure_detail?.kind === 'insufficient_outbound'
            ? fromText(est.failure_detail.text).text
            : undefined;
  // No way the node knows: the payment would fail as the node says (it may be tried all the same).
  const warning = refusal
    ? undefined
    : list.every((c) => !c.active)
      ? 'You have no active channel to pay through. Open one on the Channels screen first.'
      : est?.failure_detail
        ? `${fromText(est.failure_detail.text).text} The payment would most likely fail.`
        : undefined;

  const submit = (): void => {
    setError(undefined);
    if (!hasAmount) {
      const wrong = amountProblem(amount, unit);
      if (wrong) {
        setError(wrong);
        return;
      }
    }
    onPay(inv.payment_hash, amountMsat / 1000n, !hasAmount, inv.destination);
  };

  return (
    <div className="lightning-invoice" aria-label="Lightning invoice" role="group">
      <h2>Lightning invoice</h2>
      {prior ? <AlreadyPaid payment={prior} unit={unit} onCancel={onCancel} /> : null}
      <dl>
        <dt>Amount</dt>
        <dd data-testid="invoice-amount">
          {hasAmount ? (
            <strong>{formatMsat(inv.num_msat, unit)}</strong>
          ) : (
            <Field label={`Amount (${unit === 'sat' ? 'sats' : 'BTC'})`} hint="This invoice leaves the amount to you.">
              <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" autoFocus={!prior} />
            </Field>
          )}
        </dd>
        <dt>Description</dt>
        <dd data-testid="invoice-description">{inv.description || (inv.description_hash ? <span className="muted">Given by its hash only</span> : <span className="muted">None</span>)}</dd>
        <dt>Pay to</dt>
        <dd>
          <NodeName pubkey={inv.destination} known={known} />
        </dd>
        <dt>Expires</dt>
        <dd data-testid="invoice-expiry" className={expired ? 'error-text' : undefined}>
          {expired ? `Expired ${duration(now - ends)} ago` : `In ${duration(ends - now)}`}
        </dd>
        <dt>Network</dt>
        <dd className={wrongNetwork ? 'error-text' : undefined}>{networkLabel(inv.network, network)}</dd>
        <dt>Fees, at most</dt>
        <dd data-testid="invoice-fee">
          {est && est.failure_reason === 'FAILURE_REASON_NONE' ? (
            <>
              {formatSats(feeMax, unit)}{' '}
              <span className="muted" title={`${est.max_routing_fee_msat} msat`}>
                {est.via === 'direct' ? '— you have a channel to the payee' : est.via === 'hint' ? `— through ${known[est.first_hop_pubkey] ?? shortId(est.first_hop_pubkey)}, which charges for forwarding` : ''}
              </span>
            </>
          ) : est ? (
            <span className="muted">No way to the payee now</span>
          ) : (
            <span className="muted">{amountMsat > 0n ? 'Working it out…' : 'Known once the amount is'}</span>
          )}
        </dd>
        {amountMsat > 0n ? (
          <>
            <dt>Total, at most</dt>
            <dd data-testid="invoice-total">
              <strong>{formatSats(msatToSatCeil(amountMsat) + feeMax, unit)}</strong>
            </dd>
          </>
        ) : null}
      </dl>
      {prior ? null : (
        <>
          {refusal ? <ErrorBox error={refusal} testId="invoice-refusal" /> : null}
          {warning ? <div className="notice">{warning}</div> : null}
          <ErrorBox error={error ?? typedProblem} />
          <div className="actions">
            <button type="button" className="secondary" onClick={onCancel}>
              Cancel
            </button>
            <button type="button" className="primary" disabled={!!refusal || !!typedProblem} onClick={submit}>
              {amountMsat > 0n ? `Pay ${formatMsat(amountMsat, unit)}` : 'Pay'}
            </button>
          </div>
        </>
      )}
    </div>
  );
}

/** Which node's answer failed a payment, and its answer, for those who look closer. */
export function FailedAt({ hop, known }: { hop: NonNullable<NonNullable<PaymentView['failure_detail']>['hop']>; known: Record<string, string> }): ReactNode {
  return (
    <p className="muted small" data-testid="failed-at">
      {hop.is_payee ? 'Refused by the payee, ' : `Stopped at hop ${hop.index} of the route, `}
      <NodeName pubkey={hop.pub_key} known={known} />
      {', which answered '}
      <code>{hop.failure}</code>.
    </p>
  );
}

/** "Paying…", then the proof of payment, or the sentence that says why not. */
function PayingScreen({ paying, unit, known, onDone, onBack }: { paying: Paying; unit: Unit; known: Record<string, string>; onDone: () => void; onBack: () => void }): ReactNode {
  if (paying.phase === 'paying') {
    return (
      <div className="screen">
        <h1>Paying…</h1>
        <section className="card pay-status" aria-busy="true">
          <Spinner label={`Paying ${formatSats(paying.amountSat, unit)} over Lightning. This usually takes a second or two.`} />
          <p className="muted">
            To <NodeName pubkey={paying.payee} known={known} />
          </p>
        </section>
      </div>
    );
  }
  if (paying.phase === 'failed') {
    return (
      <div className="screen">
        <h1>The payment did not go through</h1>
        <section className="card pay-status">
          <ErrorBox error={paying.message} testId="pay-failure" />
          {paying.payment?.failure_detail?.hop ? <FailedAt hop={paying.payment.failure_detail.hop} known={known} /> : null}
          <p className="muted">Nothing left your channels: a Lightning payment either arrives whole or not at all.</p>
          <div className="actions">
            <button type="button" className="secondary" onClick={onDone}>
              Done
            </button>
            <button type="button" className="primary" onClick={onBack}>
              Back to the invoice
            </button>
          </div>
        </section>
      </div>
    );
  }
  const p = paying.payment;
  if (paying.phase === 'in_flight') {
    return (
      <div className="screen">
        <h1>Still on its way</h1>
        <section className="card pay-status">
          <p data-testid="pay-in-flight">
            The payment of {formatSats(p.value_sat, unit)} has not finished yet. It will either arrive or come back to you on its own; History shows how it ends.
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={onDone}>
              Done
            </button>
          </div>
        </section>
      </div>
    );
  }
  return (
    <div className="screen">
      <h1>Paid</h1>
      <section className="card pay-status">
        <div className="paid-mark" data-testid="pay-result">
          <span className="check-mark" aria-hidden="true">
            ✓
          </span>
          <span>
            <strong className="big-amount">{formatMsat(p.value_msat, unit)}</strong>
            <span className="muted">
              {' '}
              to <NodeName pubkey={paying.payee} known={known} />
            </span>
          </span>
        </div>
        <dl>
          <dt>Fee</dt>
          <dd data-testid="pay-fee" title={`${p.fee_msat} msat`}>
            {formatFee(p.fee_msat, unit)}
          </dd>
          <dt>Proof of payment</dt>
          <dd>
            <div className="secret-row">
              <code className="secret" data-testid="pay-preimage">
                {p.payment_preimage}
              </code>
              <CopyButton text={p.payment_preimage} what="proof of payment" />
            </div>
            <span className="field-hint">The payment’s preimage: only the payee could reveal it, and only by being paid.</span>
          </dd>
        </dl>
        <div className="actions">
          <button type="button" className="primary" onClick={onDone}>
            Done
          </button>
        </div>
      </section>
    </div>
  );
}
