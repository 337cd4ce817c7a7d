/**
 * The client's side of one session with a tower, pure: which sequence number the next backup takes,
 * and what each reply of the tower means for the session and for the backup it answers. The shell
 * (core/node/wtclient.ts) stores the session and the backup with its number before it is sent, and
 * sends again what was not acknowledged, with the same number and bytes, after a reconnection.
 *
 * Outcomes of a state_update_reply for the backup it answers:
 * - `acked`: the tower holds it (its last_applied reached the number);
 * - `resend`: the tower is behind this session's numbering but in it: send again from its last_applied;
 * - `reassign`: this session can take no more (full, or the tower forgot it): the backup goes back to
 *   the backlog for a new session, and the session is retired;
 * - `later`: the tower is busy or rate-limits us: the same backup goes again after a pause;
 * - `refused`: the tower says the backup itself is wrong (it never is, unless the two disagree on the
 *   format): counted as failed and kept for a new session, never dropped silently.
 */
import { CODE } from './wire.ts';
import type { TowerMessageOf } from './wire.ts';

export interface ClientSession {
  v: number;
  /** The tower's public key (hex). */
  tower: string;
  /** Which session key (m/1017'/coin'/8'/0/index) this session uses, as the tower knows it. */
  keyIndex: number;
  blobType: number;
  maxUpdates: number;
  sweepFeeRate: number;
  /** The last sequence number given to a backup. */
  seqNum: number;
  /** The last one the tower acknowledged. */
  lastApplied: number;
  /** Takes no more backups (full, or the tower forgot it). */
  retired: boolean;
}

export const CLIENT_RECORD_VERSION = 1;

/** The next sequence number of the session, or undefined when it is full or retired. */
export function nextSeq(s: ClientSession): number | undefined {
  if (s.retired || s.seqNum >= s.maxUpdates) return undefined;
  return s.seqNum + 1;
}

export type UpdateOutcome = 'acked' | 'resend' | 'reassign' | 'later' | 'refused';

export function onUpdateReply(s: ClientSession, seq: number, r: TowerMessageOf<'state_update_reply'>): { session: ClientSession; outcome: UpdateOutcome } {
  const acked = (): { session: ClientSession; outcome: UpdateOutcome } => ({ session: { ...s, lastApplied: Math.max(s.lastApplied, Math.min(r.lastApplied, s.seqNum)) }, outcome: 'acked' });
  switch (r.code) {
    case CODE.ok:
      return r.lastApplied >= seq ? acked() : { session: s, outcome: 'resend' };
    case CODE.seqNumOutOfOrder:
    case CODE.clientBehind:
      if (r.lastApplied >= seq) return acked();
      // A tower that forgot what it acknowledged cannot be trusted with this session.
      if (r.lastApplied < s.lastApplied) return { session: { ...s, retired: true }, outcome: 'reassign' };
      return { session: { ...s, lastApplied: r.lastApplied }, outcome: 'resend' };
    case CODE.maxUpdatesExceeded:
    case CODE.sessionNotFound:
    case CODE.permanentFailure:
      return { session: { ...s, retired: true }, outcome: 'reassign' };
    case CODE.temporaryFailure:
    case CODE.rateLimited:
      return { session: s, outcome: 'later' };
    default:
      return { session: { ...s, retired: true }, outcome: 'refused' };
  }
}

/**
 * A create_session_reply: the session as the tower has it, or why not. `alreadyExists` (a reply lost
 * before a restart) picks the session up where the tower's last_applied says.
 */
export function onCreateReply(s: ClientSession, r: TowerMessageOf<'create_session_reply'>): { ok: true; session: ClientSession } | { ok: false; reason: string } {
  if (r.code === CODE.ok) return { ok: true, session: s };
  if (r.code === CODE.alreadyExists) {
    if (r.lastApplied > s.maxUpdates) return { ok: false, reason: `the tower says this session applied ${r.lastApplied} updates, more than its ${s.maxUpdates}` };
    return { ok: true, session: { ...s, lastApplied: r.lastApplied, seqNum: Math.max(s.seqNum, r.lastApplied) } };
  }
  const why: Record<number, string> = {
    [CODE.rejectBlobType]: 'the tower does not take this blob type',
    [CODE.rejectMaxUpdates]: `the tower does not take sessions of ${s.maxUpdates} updates`,
    [CODE.rejectRewardRate]: 'the tower wants a reward (only altruist towers are supported)',
    [CODE.rejectSweepFeeRate]: `the tower refuses the sweep feerate ${s.sweepFeeRate} sat/kw`,
    [CODE.temporaryFailure]: 'the tower is busy or full; trying again later',
  };
  return { ok: false, reason: why[r.code] ?? `the tower refused the session (code ${r.code})` };
}
