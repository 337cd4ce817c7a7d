/** Pieces every screen uses: QR codes, copy buttons, amounts, errors, empty states. */
import { cloneElement, useEffect, useId, useState } from 'react';
import type { ReactElement, ReactNode } from 'react';
import { renderSVG } from 'uqr';
import { api, onEvent } from './api.ts';
import { shown, toShown } from './errors.ts';
import type { ErrorLike, Shown } from './errors.ts';
import { formatSats } from './format.ts';
import type { Unit } from './format.ts';

export function Qr({ text, label }: { text: string; label: string }): ReactNode {
  const svg = renderSVG(text, { border: 2, pixelSize: 8 });
  return <img className="qr" alt={label} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} />;
}

export function CopyButton({ text, what }: { text: string; what: string }): ReactNode {
  const [done, setDone] = useState(false);
  // "Copied" speaks of what was copied: new content has not been.
  useEffect(() => setDone(false), [text]);
  useEffect(() => {
    if (!done) return;
    const t = setTimeout(() => setDone(false), 1500);
    return () => clearTimeout(t);
  }, [done]);
  return (
    <button
      type="button"
      className="secondary small"
      onClick={() => {
        void navigator.clipboard
          ?.writeText(text)
          .then(() => setDone(true))
          .catch(() => setDone(false));
      }}
      aria-label={`Copy ${what}`}
      data-testid="copy-button"
    >
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}

export function Amount({ sats, unit, testId }: { sats: bigint | string | number; unit: Unit; testId?: string }): ReactNode {
  return (
    <span className="amount" data-testid={testId}>
      {formatSats(sats, unit)}
    </span>
  );
}

/** An error in people's words (renderer/errors.ts), with what lies behind it in a "Details" disclosure. */
export function ErrorBox({ error, testId }: { error: ErrorLike; testId?: string }): ReactNode {
  const e = shown(error);
  if (!e) return null;
  return (
    <div className="error" role="alert" data-testid={testId}>
      <span className="error-text-main">{e.text}</span>
      {e.details && e.details !== e.text ? (
        <details className="error-details">
          <summary>Details</summary>
          <code>{e.details}</code>
        </details>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }): ReactNode {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** A labelled control: the label names it, the hint describes it (so screen readers read both, apart). */
export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactElement<{ id?: string; 'aria-describedby'?: string }> }): ReactNode {
  const id = useId();
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {cloneElement(children, { id, ...(hint ? { 'aria-describedby': `${id}-hint` } : {}) })}
      {hint ? (
        <span className="field-hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}

export function Spinner({ label }: { label: string }): ReactNode {
  return (
    <div className="spinner-row" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** A button that runs an async action, shows it is busy, and reports the error under it. */
export function useAction(): { busy: boolean; error: Shown | undefined; run: (fn: () => Promise<void>) => Promise<void>; setError: (e: ErrorLike) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setShown] = useState<Shown>();
  const setError = (e: ErrorLike): void => setShown(shown(e));
  const run = async (fn: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setShown(toShown(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** What the playground counterparty puts in a channel it opens to us. */
export const PLAYGROUND_INBOUND_SAT = 500_000;

/**
 * Playground only: asks the counterparty to open a channel to us. All of it starts on the
 * counterparty's side, which is exactly the room a newcomer needs to receive over Lightning.
 */
export function InboundChannelButton({ unit, className = 'secondary', onOpened }: { unit: Unit; className?: string; onOpened?: () => void }): ReactNode {
  const act = useAction();
  const [done, setDone] = useState(false);
  /** The funding transaction of the channel asked for, and whether the node has told it is open. */
  const [funding, setFunding] = useState<string>();
  const [open, setOpen] = useState(false);
  useEffect(
    () =>
      onEvent((e) => {
        if (funding && e.type === 'changed' && e.event?.type === 'channel_opened' && e.event.channel.channel_point.startsWith(`${funding}:`)) setOpen(true);
      }),
    [funding],
  );
  return (
    <div className="inbound">
      <button
        type="button"
        className={className}
        disabled={act.busy || done}
        onClick={() =>
          void act.run(async () => {
            const { funding_txid } = await api('app_counterparty_open_channel', { amt: PLAYGROUND_INBOUND_SAT });
            setFunding(funding_txid);
            setDone(true);
            onOpened?.();
          })
        }
      >
        {act.busy ? 'Asking the counterparty…' : 'Get a channel from the counterparty (to receive)'}
      </button>
      {done ? (
        <p className="muted small" role="status" data-testid="inbound-status">
          {open
            ? `The ${formatSats(PLAYGROUND_INBOUND_SAT, unit)} channel from the counterparty is open: you can receive now.`
            : `The counterparty is opening a ${formatSats(PLAYGROUND_INBOUND_SAT, unit)} channel to you. It is ready in about 20 seconds, once a few blocks confirm it.`}
        </p>
      ) : null}
      <ErrorBox error={act.error} />
    </div>
  );
}
