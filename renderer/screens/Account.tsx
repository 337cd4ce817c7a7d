/**
 * Keeping the wallet safe: see the recovery words again (after the password; they stay on screen only
 * until hidden or the screen is left), change the password, lock the wallet now.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, Field, useAction } from '../components.tsx';

function ShowWords(): ReactNode {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [words, setWords] = useState<string[]>();
  const act = useAction();
  if (words) {
    return (
      <div className="notice" data-testid="revealed-words">
        <p>Write these 24 words down, in order, and keep them where nobody else can read them. Anyone who has them has this wallet.</p>
        <ol className="words" data-testid="seed-words">
          {words.map((w, i) => (
            <li key={i}>
              <span className="n">{i + 1}</span> <span className="w">{w}</span>
            </li>
          ))}
        </ol>
        <button type="button" className="secondary" onClick={() => setWords(undefined)}>
          Hide the words
        </button>
      </div>
    );
  }
  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Show recovery words…
      </button>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void act.run(async () => {
          const r = await api('revealseed', { password });
          setPassword('');
          setOpen(false);
          setWords(r.mnemonic);
        });
      }}
    >
      <Field label="Your password" hint="The words are shown only after it, and only here.">
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" autoFocus />
      </Field>
      <ErrorBox error={act.error} />
      <div className="actions left">
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={act.busy || !password}>
          Show the words
        </button>
      </div>
    </form>
  );
}

function ChangePassword(): ReactNode {
  const [open, setOpen] = useState(false);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [done, setDone] = useState(false);
  const act = useAction();
  if (!open) {
    return (
      <>
        <button type="button" className="secondary" onClick={() => (setOpen(true), setDone(false))}>
          Change password…
        </button>
        {done ? (
          <p className="muted small" role="status" data-testid="password-changed">
            The password is changed: use the new one from now on.
          </p>
        ) : null}
      </>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void act.run(async () => {
          if (next.length < 8) throw new Error('Choose a new password of at least 8 characters.');
          if (next !== again) throw new Error('The two new passwords are not the same.');
          await api('changepassword', { current_password: current, new_password: next });
          setCurrent('');
          setNext('');
          setAgain('');
          setOpen(false);
          setDone(true);
        });
      }}
    >
      <Field label="Current password">
        <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" autoFocus />
      </Field>
      <Field label="New password">
        <input type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" />
      </Field>
      <Field label="Repeat the new password">
        <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" />
      </Field>
      <ErrorBox error={act.error} />
      <div className="actions left">
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={act.busy || !current || !next}>
          {act.busy ? 'Changing…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}

export function AccountSafety({ onLocked }: { onLocked: () => void }): ReactNode {
  const lock = useAction();
  return (
    <section className="card account">
      <h2>Keep your wallet safe</h2>
      <p className="muted">The 24 recovery words restore this wallet anywhere; the password only unlocks it on this computer.</p>
      <div className="stack-left">
        <ShowWords />
        <ChangePassword />
        <div>
          <button
            type="button"
            className="secondary"
            disabled={lock.busy}
            onClick={() =>
              void lock.run(async () => {
                await api('app_lock');
                onLocked();
              })
            }
          >
            {lock.busy ? 'Locking…' : 'Lock now'}
          </button>
          <ErrorBox error={lock.error} />
        </div>
      </div>
    </section>
  );
}
