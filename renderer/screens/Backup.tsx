/**
 * Settings → Back up channels: the encrypted channel backup as a file (what the node keeps in
 * <datadir>/channel.backup, and what `coulomb exportchanbackup --all` writes), with what it protects and
 * what it does not; and, on a wallet restored from its 24 words, the channels of such a file brought
 * back with each one's recovery step and what comes back (pendingchannels' RECOVERING_* states).
 */
import { useState } from 'react';
import type { ChangeEvent, ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { ErrorBox, useAction } from '../components.tsx';
import { formatSats, shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import type { WaitingCloseChannel } from '../../core/api/contract.ts';

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(text.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Hands the backup to the browser as a download (the same bytes as the node's channel.backup). */
function download(hexBlob: string): string {
  const name = `coulomb-channels-${new Date().toISOString().slice(0, 10)}.backup`;
  const url = URL.createObjectURL(new Blob([fromHex(hexBlob)], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** A recovering channel's step, in words. */
const STEP: Record<string, string> = {
  RECOVERING_CONNECTING: 'Connecting to the other node to ask it to close the channel.',
  RECOVERING_ASKED_TO_CLOSE: 'Asked the other node to close the channel; waiting for its closing transaction in a block.',
  RECOVERING_CLOSED_BY_PEER: 'The other node closed the channel; your side is being swept into your wallet.',
};

export function ChannelBackup({ unit, known }: { unit: Unit; known: Record<string, string> }): ReactNode {
  const exp = useAction();
  const [saved, setSaved] = useState<{ name: string; channels: number }>();
  const restore = useAction();
  const [picked, setPicked] = useState<{ hex: string; channels: string[]; createdAtMs: number }>();
  const [restored, setRestored] = useState<{ restored: number; known: number }>();
  const pending = useApi(() => api('pendingchannels'), ['channels']);
  const recovering: WaitingCloseChannel[] = (pending.data?.waiting_close_channels ?? []).filter((c) => c.state.startsWith('RECOVERING'));

  const pick = (e: ChangeEvent<HTMLInputElement>): void => {
    const file = e.target.files?.[0];
    e.target.value = '';
    setPicked(undefined);
    setRestored(undefined);
    if (!file) return;
    void restore.run(async () => {
      if (file.size > 2_000_000) throw new Error('That file is too large to be a channel backup.');
      const hexBlob = toHex(new Uint8Array(await file.arrayBuffer()));
      const v = await api('verifychanbackup', { multi_chan_backup: hexBlob });
      setPicked({ hex: hexBlob, channels: v.chan_points, createdAtMs: v.created_at_ms });
    });
  };

  return (
    <section className="card" aria-labelledby="backup-title">
      <h2 id="backup-title">Back up channels</h2>
      <p>
        Your 24 words bring back your on-chain bitcoin, but not what is in your channels. A channel backup file does: with it and the 24 words, a new
        copy of this wallet asks each channel’s other node to close the channel, and your side comes back to your on-chain balance.
      </p>
      <ul className="plain-list" data-testid="backup-explained">
        <li>
          <strong>It protects</strong> your side of every channel in it, with the other node’s help. It is encrypted: only this wallet’s 24 words open it, so you can keep it anywhere.
        </li>
        <li>
          <strong>It does not protect</strong> payments that were on their way when the copy was lost, nor channels opened after the file was made (download a new one after opening a channel). The other node must be reachable
          and honest enough to close the channel; until it does, your side waits.
        </li>
      </ul>
      <div className="actions left">
        <button
          type="button"
          className="secondary"
          disabled={exp.busy}
          data-testid="backup-download"
          onClick={() =>
            void exp.run(async () => {
              const r = await api('exportchanbackup', { all: true });
              setSaved({ name: download(r.multi_chan_backup.multi_chan_backup), channels: r.multi_chan_backup.chan_points.length });
            })
          }
        >
          {exp.busy ? 'Preparing…' : 'Download the channel backup'}
        </button>
      </div>
      {saved ? (
        <p className="muted" data-testid="backup-saved" role="status">
          Saved {saved.name}: {saved.channels === 1 ? 'one channel' : `${saved.channels} channels`}. Keep it apart from this computer.
        </p>
      ) : null}
      <ErrorBox error={exp.error} />

      <details className="restore-backup">
        <summary>Restore channels from a backup file</summary>
        <p className="muted">For a wallet restored from its 24 words: choose the backup file the old copy made. Coulomb checks it opens with these words, then asks each channel’s other node to close.</p>
        <input type="file" onChange={pick} aria-label="Backup file" data-testid="backup-file" />
        {picked ? (
          <div className="notice" data-testid="backup-picked">
            <p>
              This backup, made {new Date(picked.createdAtMs).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}, holds{' '}
              {picked.channels.length === 1 ? 'one channel' : `${picked.channels.length} channels`}.
            </p>
            <button
              type="button"
              className="primary"
              disabled={restore.busy}
              onClick={() =>
                void restore.run(async () => {
                  const r = await api('restorechanbackup', { multi_chan_backup: picked.hex });
                  setRestored({ restored: r.restored_chan_points.length, known: r.already_known.length });
                  setPicked(undefined);
                  pending.reload();
                })
              }
            >
              Restore these channels
            </button>
          </div>
        ) : null}
        {restored ? (
          <p role="status" data-testid="backup-restored">
            {restored.restored === 0 ? 'Nothing to restore: this wallet knows every channel in the file already.' : `Recovering ${restored.restored === 1 ? 'one channel' : `${restored.restored} channels`}.`}
            {restored.known > 0 && restored.restored > 0 ? ` ${restored.known} this wallet knew already ${restored.known === 1 ? 'was' : 'were'} left as they are.` : ''}
          </p>
        ) : null}
        <ErrorBox error={restore.error} />
      </details>

      {recovering.length > 0 ? (
        <div data-testid="recovering">
          <h3>Channels coming back</h3>
          <ul className="plain-list">
            {recovering.map((c) => (
              <li key={c.channel.channel_point} data-testid="recovering-channel" data-state={c.state}>
                <strong>
                  {known[c.channel.remote_pubkey] ?? shortId(c.channel.remote_pubkey)}, {formatSats(c.channel.capacity, unit)} channel
                </strong>
                <div>{STEP[c.state] ?? 'Being recovered.'}</div>
                <div className="muted">
                  {c.limbo_balance !== '0' ? `Coming back: ${formatSats(c.limbo_balance, unit)}.` : 'How much comes back is known once the other node’s closing transaction is in a block.'}
                </div>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
