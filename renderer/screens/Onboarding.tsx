/**
 * A new wallet: write down the 24 words, prove it by typing a few of them back, choose a password.
 * Or restore from words. On later starts: unlock with the password.
 */
import { useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorBox, Field, useAction } from '../components.tsx';

type Step = 'welcome' | 'words' | 'confirm' | 'password' | 'restore';

function pickPositions(n: number, count: number): number[] {
  const picked = new Set<number>();
  const rnd = new Uint32Array(16);
  crypto.getRandomValues(rnd);
  let i = 0;
  while (picked.size < count) picked.add(rnd[i++ % rnd.length]! % n);
  return [...picked].sort((a, b) => a - b);
}

function PasswordFields({ onSubmit, busy, submitLabel, children }: { onSubmit: (password: string) => void; busy: boolean; submitLabel: string; children?: ReactNode }): ReactNode {
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [err, setErr] = useState<string>();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (a.length < 8) return setErr('Choose a password of at least 8 characters.');
        if (a !== b) return setErr('The two passwords are not the same.');
        setErr(undefined);
        onSubmit(a);
      }}
    >
      {children}
      <Field label="Password" hint="Unlocks this wallet on this computer. It cannot recover the wallet: the 24 words do.">
        <input type="password" value={a} onChange={(e) => setA(e.target.value)} autoComplete="new-password" autoFocus />
      </Field>
      <Field label="Repeat the password">
        <input type="password" value={b} onChange={(e) => setB(e.target.value)} autoComplete="new-password" />
      </Field>
      <ErrorBox error={err} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Setting up your wallet…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

/** Which network the wallet is on, said where a person decides (a test network's coins are not real). */
export function NetworkLine({ network }: { network: string }): ReactNode {
  if (!network) return null;
  const name = network === 'playground' ? 'the playground (practice coins, nothing real)' : network === 'mainnet' ? 'Bitcoin mainnet (real money)' : `${network} (test coins)`;
  return (
    <p className="muted network-line" data-testid="network-name">
      Network: {name}
    </p>
  );
}

export function Onboarding({ onDone, network = '' }: { onDone: () => void; network?: string }): ReactNode {
  const [step, setStep] = useState<Step>('welcome');
  const [words, setWords] = useState<string[]>([]);
  const [written, setWritten] = useState(false);
  const positions = useMemo(() => (words.length ? pickPositions(words.length, 3) : []), [words]);
  const [answers, setAnswers] = useState<Record<number, string>>({});
  const [restoreWords, setRestoreWords] = useState('');
  const [birthday, setBirthday] = useState('');
  const act = useAction();

  if (step === 'welcome') {
    return (
      <div className="centered">
        <div className="onboarding">
          <h1>Welcome to Coulomb</h1>
          <p className="lead">A Lightning wallet that runs its own node. Your keys stay on this computer.</p>
          <NetworkLine network={network} />
          <div className="stack">
            <button
              type="button"
              className="primary big"
              disabled={act.busy}
              onClick={() =>
                void act.run(async () => {
                  const r = await api('genseed');
                  setWords(r.mnemonic);
                  setWritten(false);
                  setAnswers({});
                  setStep('words');
                })
              }
            >
              Create a new wallet
            </button>
            <button type="button" className="secondary big" onClick={() => setStep('restore')}>
              Restore from recovery words
            </button>
          </div>
          <ErrorBox error={act.error} />
        </div>
      </div>
    );
  }

  if (step === 'words') {
    return (
      <div className="centered">
        <div className="onboarding wide">
          <h1>Your recovery words</h1>
          <p className="lead">
            Write these 24 words on paper, in order, and keep them somewhere safe. Anyone who has them can take your money; without them, a lost computer means lost money.
          </p>
          <ol className="words" data-testid="seed-words">
            {words.map((w, i) => (
              <li key={i}>
                <span className="n">{i + 1}</span>
                <span className="w">{w}</span>
              </li>
            ))}
          </ol>
          <label className="check">
            <input type="checkbox" checked={written} onChange={(e) => setWritten(e.target.checked)} />I have written down all 24 words
          </label>
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setStep('welcome')}>
              Back
            </button>
            <button type="button" className="primary" disabled={!written} onClick={() => setStep('confirm')}>
              Next
            </button>
          </div>
        </div>
      </div>
    );
  }

  if (step === 'confirm') {
    const wrong = positions.filter((p) => (answers[p] ?? '').trim().toLowerCase() !== words[p]);
    return (
      <div className="centered">
        <div className="onboarding">
          <h1>Check your words</h1>
          <p className="lead">Type these words from your paper, so we both know it is right.</p>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (wrong.length) act.setError(`Word #${wrong[0]! + 1} is not right. Look at your paper again, or go back to see the words.`);
              else {
                act.setError(undefined);
                setStep('password');
              }
            }}
          >
            {positions.map((p, i) => (
              <Field key={p} label={`Word #${p + 1}`}>
                <input
                  value={answers[p] ?? ''}
                  onChange={(e) => setAnswers({ ...answers, [p]: e.target.value })}
                  autoComplete="off"
                  autoCapitalize="none"
                  spellCheck={false}
                  autoFocus={i === 0}
                />
              </Field>
            ))}
            <ErrorBox error={act.error} />
            <div className="actions">
              <button type="button" className="secondary" onClick={() => setStep('words')}>
                Show the words again
              </button>
              <button type="submit" className="primary">
                Confirm
              </button>
            </div>
          </form>
        </div>
      </div>
    );
  }

  if (step === 'password') {
    return (
      <div className="centered">
        <div className="onboarding">
          <h1>Choose a password</h1>
          <PasswordFields
            busy={act.busy}
            submitLabel="Create wallet"
            onSubmit={(password) =>
              void act.run(async () => {
                await api('create', { password, words: words.join(' '), new_wallet: true });
                setWords([]);
                onDone();
              })
            }
          />
          <ErrorBox error={act.error} />
        </div>
      </div>
    );
  }

  return (
    <div className="centered">
      <div className="onboarding">
        <h1>Restore a wallet</h1>
        <p className="lead">Type your 24 recovery words, separated by spaces. Coulomb then looks through the chain for your coins.</p>
        <PasswordFields
          busy={act.busy}
          submitLabel="Restore wallet"
          onSubmit={(password) =>
            void act.run(async () => {
              const h = birthday.trim() ? Number(birthday) : undefined;
              if (h !== undefined && !(Number.isInteger(h) && h >= 0)) throw new Error('The start height is a block number, like 800000.');
              await api('create', { password, words: restoreWords, ...(h !== undefined ? { birthday_height: h } : {}) });
              onDone();
            })
          }
        >
          <Field label="Recovery words">
            <textarea rows={4} value={restoreWords} onChange={(e) => setRestoreWords(e.target.value)} spellCheck={false} autoCapitalize="none" autoComplete="off" />
          </Field>
          <Field label="Start looking at block (optional)" hint="The height when you created the wallet, if you know it: restoring is faster. Leave empty to look through the whole chain.">
            <input inputMode="numeric" value={birthday} onChange={(e) => setBirthday(e.target.value)} />
          </Field>
        </PasswordFields>
        <ErrorBox error={act.error} />
        <div className="actions">
          <button type="button" className="link" onClick={() => setStep('welcome')}>
            Back
          </button>
        </div>
      </div>
    </div>
  );
}

/** A forgotten password: the 24 words unlock the wallet, and a new password replaces the old one. */
function RestoreAccess({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }): ReactNode {
  const [words, setWords] = useState('');
  const act = useAction();
  return (
    <>
      <h1>Restore from your 24 words</h1>
      <p className="lead">Your recovery words prove this wallet is yours. Type them, then choose a new password: your coins and channels stay as they are.</p>
      <PasswordFields
        busy={act.busy}
        submitLabel="Unlock with my words"
        onSubmit={(password) =>
          void act.run(async () => {
            if (words.trim().split(/\s+/).length !== 24) throw new Error('Type all 24 words, in order, separated by spaces.');
            await api('unlockwithwords', { words, new_password: password });
            setWords('');
            onDone();
          })
        }
      >
        <Field label="Your 24 recovery words" hint="In order, separated by spaces.">
          <textarea rows={4} value={words} onChange={(e) => setWords(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
      </PasswordFields>
      <ErrorBox error={act.error} />
      <button type="button" className="link small" onClick={onCancel}>
        Back to the password
      </button>
    </>
  );
}

export function Unlock({ onDone, network = '' }: { onDone: () => void; network?: string }): ReactNode {
  const [password, setPassword] = useState('');
  const [forgot, setForgot] = useState(false);
  const act = useAction();
  if (forgot) {
    return (
      <div className="centered">
        <div className="onboarding narrow">
          <RestoreAccess onDone={onDone} onCancel={() => setForgot(false)} />
          <NetworkLine network={network} />
        </div>
      </div>
    );
  }
  return (
    <div className="centered">
      <div className="onboarding narrow">
        <h1>Unlock your wallet</h1>
        <NetworkLine network={network} />
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              await api('unlock', { password });
              setPassword('');
              onDone();
            });
          }}
        >
          <Field label="Password">
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" autoFocus />
          </Field>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={act.busy || !password}>
              {act.busy ? 'Unlocking…' : 'Unlock'}
            </button>
          </div>
        </form>
        <button type="button" className="link small" onClick={() => setForgot(true)}>
          Forgot your password? Restore from your 24 words
        </button>
      </div>
    </div>
  );
}
