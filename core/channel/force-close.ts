/**
 * A channel closing on chain (BOLT 5), as phases: the chain monitor (core/monitor/) does the work;
 * the channel only records where it stands, so that it is not used and is shown as it is.
 *
 * - `force_close`: we publish our commitment (the user asked, we failed an open channel, or the monitor
 *   found an HTLC past its deadline and the peer is sent an error; the monitor refuses when our data is
 *   stale, and then we wait for the peer's) → FORCE_CLOSING;
 * - `funding_spent`: a block holds a commitment spending the funding output → FORCE_CLOSING (a
 *   cooperative closing is the closing flow's, core/channel/close.ts);
 * - `funding_unspent`: that block left the chain → the spend is forgotten, the phase stays;
 * - `onchain_closed`: every output is settled and final → CLOSED.
 */
import type { ChannelInput, ChannelState, ForceClose, Step } from './types.ts';

export type OnChainInput = Extract<ChannelInput, { type: 'force_close' | 'funding_spent' | 'funding_unspent' | 'onchain_closed' }>;

export function isOnChainInput(i: ChannelInput): i is OnChainInput {
  return i.type === 'force_close' || i.type === 'funding_spent' || i.type === 'funding_unspent' || i.type === 'onchain_closed';
}

/** Could the channel reach the chain: a funding output, and a commitment of ours the peer signed? */
export function canForceClose(s: ChannelState): boolean {
  return !!s.funding && !!s.remote && !!s.remoteSigOnLocalCommitment;
}

export function onChainStep(s: ChannelState, i: OnChainInput): Step {
  const same = { state: s, actions: [] };
  switch (i.type) {
    case 'force_close': {
      if (s.phase === 'CLOSED' || s.phase === 'FORCE_CLOSING' || !canForceClose(s)) return same;
      const forceClose: ForceClose = { ...s.forceClose, initiator: s.forceClose?.initiator ?? 'local', reason: i.reason };
      const tell: Step['actions'] = i.errorToPeer !== undefined && s.channelId ? [{ type: 'send', msg: { type: 'error', channel_id: s.channelId, data: new TextEncoder().encode(i.errorToPeer) } }] : [];
      return { state: { ...s, phase: 'FORCE_CLOSING', forceClose }, actions: [{ type: 'store' }, ...tell] };
    }
    case 'funding_spent': {
      if (s.phase === 'CLOSED') return same;
      // A cooperative close confirms through its own flow (closing_confirmed).
      if (i.spentBy === 'cooperative') return same;
      const initiator = s.forceClose?.initiator ?? (i.spentBy === 'local' ? 'local' : 'remote');
      const reason = s.forceClose?.reason ?? (i.spentBy === 'local' ? 'our commitment was published' : i.spentBy === 'revoked' ? 'the peer published a revoked commitment (a breach): the penalty takes everything' : 'the peer published its commitment');
      const forceClose: ForceClose = { initiator, reason, txid: i.txid, spentBy: i.spentBy, height: i.height };
      if (s.forceClose?.txid === i.txid && s.forceClose.height === i.height && s.phase === 'FORCE_CLOSING') return same;
      return { state: { ...s, phase: 'FORCE_CLOSING', forceClose }, actions: [{ type: 'store' }] };
    }
    case 'funding_unspent': {
      if (!s.forceClose?.txid || s.phase !== 'FORCE_CLOSING') return same;
      const { txid: _t, spentBy: _k, height: _h, ...rest } = s.forceClose;
      return { state: { ...s, forceClose: rest }, actions: [{ type: 'store' }] };
    }
    case 'onchain_closed':
      if (s.phase !== 'FORCE_CLOSING') return same;
      return { state: { ...s, phase: 'CLOSED', forceClose: { ...s.forceClose!, txid: s.forceClose?.txid ?? i.txid } }, actions: [{ type: 'store' }] };
  }
}

/** How a closed (or closing) channel ended, as lncli names it. */
export function closeTypeOf(s: ChannelState): 'COOPERATIVE_CLOSE' | 'LOCAL_FORCE_CLOSE' | 'REMOTE_FORCE_CLOSE' | 'BREACH_CLOSE' {
  const f = s.forceClose;
  if (!f) return 'COOPERATIVE_CLOSE';
  if (f.spentBy === 'revoked') return 'BREACH_CLOSE';
  if (f.spentBy === 'local') return 'LOCAL_FORCE_CLOSE';
  if (f.spentBy === 'remote' || f.spentBy === 'remote_unknown') return 'REMOTE_FORCE_CLOSE';
  return f.initiator === 'local' ? 'LOCAL_FORCE_CLOSE' : 'REMOTE_FORCE_CLOSE';
}
