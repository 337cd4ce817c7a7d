/**
 * channel_reestablish (BOLT 2) for channels that have not moved past their first commitment: after
 * a reconnect or a restart both sides say where they are, and resend what the other may have missed.
 * A peer that claims a later state than ours means our data is stale: the channel is flagged and
 * nothing is published (option_data_loss_protect), never guessed.
 */
import { hex } from '@scure/base';
import type { ChannelReestablishMessage, Message } from '../wire/index.ts';
import { pointAt } from './establish.ts';
import type { ChannelState, Step } from './types.ts';
import { commitmentsOf, forgetUnsigned, onReestablishUpdates, reestablishFields } from './updates.ts';

const RESUMABLE = ['WAIT_FUNDING_CONFIRMED', 'WAIT_CHANNEL_READY', 'NORMAL', 'SHUTDOWN', 'NEGOTIATING'];

export function canReestablish(s: ChannelState): boolean {
  return RESUMABLE.includes(s.phase) && !!s.channelId;
}

/** Has the channel moved past its first commitment's bookkeeping (both channel_ready exchanged)? */
function open(s: ChannelState): boolean {
  return !!s.commit || (['NORMAL', 'SHUTDOWN', 'NEGOTIATING'].includes(s.phase) && !!s.remoteSecondPoint);
}

/** What we tell the peer on reconnecting: where our commitments stand, and the last secret it gave us. */
export function reestablishMessage(s: ChannelState): ChannelReestablishMessage {
  if (open(s)) return { type: 'channel_reestablish', channel_id: s.channelId!, ...reestablishFields(s) };
  return {
    type: 'channel_reestablish',
    channel_id: s.channelId!,
    next_commitment_number: 1n,
    next_revocation_number: 0n,
    your_last_per_commitment_secret: new Uint8Array(32),
    my_current_per_commitment_point: pointAt(s.secrets, 0n),
  };
}

export function onReestablish(state: ChannelState, m: ChannelReestablishMessage): Step {
  if (!canReestablish(state)) return { state, actions: [] };
  if (open(state)) return onReestablishOpen(state, m);
  if (m.next_commitment_number !== 1n || m.next_revocation_number !== 0n || hex.encode(m.your_last_per_commitment_secret) !== '00'.repeat(32)) {
    const reason = `the peer reports a later channel state (next commitment ${m.next_commitment_number}, next revocation ${m.next_revocation_number}) than ours: our data may be out of date, so nothing is published; restore a current backup`;
    return {
      state: { ...state, phase: 'FAILED', failure: reason, staleData: true },
      actions: [{ type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode('channel state mismatch; please force-close') } }, { type: 'failed', reason }, { type: 'store' }],
    };
  }
  const resend: Message[] = [];
  // The peer may not have received our channel_ready before the connection dropped.
  if (state.sentChannelReady) resend.push({ type: 'channel_ready', channel_id: state.channelId!, second_per_commitment_point: pointAt(state.secrets, 1n) });
  if (state.close?.sentShutdown && state.close.localScript) resend.push({ type: 'shutdown', channel_id: state.channelId!, scriptpubkey: state.close.localScript });
  return { state, actions: resend.map((msg) => ({ type: 'send' as const, msg })) };
}

function onReestablishOpen(stored: ChannelState, m: ChannelReestablishMessage): Step {
  // Whatever the peer sent that no commitment_signed of ours covers is forgotten on both sides, after
  // a restart as after a disconnect: the peer sends it again.
  const forgot = forgetUnsigned(stored);
  const state = forgot.state;
  const { messages, problem } = onReestablishUpdates(state, m);
  if (problem) {
    const reason = `${problem}: our data may be out of date, so nothing is published; restore a current backup`;
    // The peer knows of a commitment or a revocation of ours later than ours: publishing ours would
    // publish a revoked state (option_data_loss_protect). A peer that is behind us is another matter.
    const c = commitmentsOf(state);
    const stale = m.next_commitment_number > c.remoteIndex + (c.remoteNext ? 2n : 1n) || m.next_revocation_number > c.localIndex;
    return {
      state: { ...state, phase: 'FAILED', failure: reason, ...(stale ? { staleData: true as const } : {}) },
      actions: [...forgot.actions, { type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode('channel state mismatch; please force-close') } }, { type: 'failed', reason }, { type: 'store' }],
    };
  }
  const resend: Message[] = [];
  // Both still at the first commitment: the peer may have missed our channel_ready.
  if (state.sentChannelReady && m.next_commitment_number === 1n && commitmentsOf(state).localIndex === 0n) {
    resend.push({ type: 'channel_ready', channel_id: state.channelId!, second_per_commitment_point: pointAt(state.secrets, 1n) });
  }
  resend.push(...messages);
  if (state.close?.sentShutdown && state.close.localScript) resend.push({ type: 'shutdown', channel_id: state.channelId!, scriptpubkey: state.close.localScript });
  return { state: { ...state, commit: commitmentsOf(state) }, actions: [...forgot.actions, ...resend.map((msg) => ({ type: 'send' as const, msg }))] };
}
