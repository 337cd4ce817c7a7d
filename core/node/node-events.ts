/**
 * The node's domain events (core/api/contract.ts `NodeEvent`), made where things happen: the channel
 * store's steps and the channels' links, the payments' and invoices' stored changes, the peer manager.
 * The mapping from each part's own change to an event is pure (below, tested alone); `wireNodeEvents`
 * only subscribes. Chain and wallet events come from the node itself (node.ts), which follows the chain.
 */
import type { ChannelEventView, NodeEvent } from '../api/contract.ts';
import type { ChannelState, Phase } from '../channel/types.ts';
import type { PaymentChange, PaymentStore } from '../payments/payments.ts';
import type { InvoiceChange, InvoiceRegistry } from '../payments/invoices.ts';
import type { PeerManager } from '../peer/manager.ts';
import type { ChannelManager } from './channels.ts';
import { formatScid } from './channels.ts';

const OVER: Phase[] = ['CLOSED', 'FAILED'];

/** msat to whole sat, as a decimal string (rounded down, as listpayments' value_sat). */
const sat = (msat: bigint): string => (msat / 1000n).toString();

export function channelEventView(peer: string, st: ChannelState): ChannelEventView {
  return {
    remote_pubkey: peer,
    channel_point: st.funding ? `${st.funding.txid}:${st.funding.vout}` : '',
    chan_id: st.shortChannelId !== undefined ? formatScid(st.shortChannelId) : '',
    capacity: st.capacitySat.toString(),
    state: st.phase,
  };
}

/**
 * The event of one stored channel step: its phase moved, or an open channel's commitment of ours was
 * replaced (its balances are new; a step that only proposes or acknowledges tells nothing, and the
 * payment's own events tell of the payment). A new channel is a state change from "".
 */
export function channelStepEvent(peer: string, state: ChannelState, prev: ChannelState | undefined): NodeEvent | undefined {
  if (prev && prev.phase === state.phase) {
    const height = state.commit?.localIndex;
    if (state.phase !== 'NORMAL' || height === undefined || height === prev.commit?.localIndex) return undefined;
    return { type: 'channel_updated', channel: channelEventView(peer, state), local_commit_height: height.toString() };
  }
  const channel = channelEventView(peer, state);
  if (state.phase === 'NORMAL' && (!prev || prev.phase.startsWith('WAIT_'))) return { type: 'channel_opened', channel };
  if (OVER.includes(state.phase)) return { type: 'channel_closed', channel };
  return { type: 'channel_state_changed', channel, previous_state: prev?.phase ?? '' };
}

export function paymentEvent(c: PaymentChange): NodeEvent {
  const value_sat = sat(c.amountMsat);
  switch (c.status) {
    case 'IN_FLIGHT':
      return { type: 'payment_in_flight', payment_hash: c.paymentHash, value_sat };
    case 'SUCCEEDED':
      return { type: 'payment_settled', payment_hash: c.paymentHash, value_sat, fee_sat: sat(c.feeMsat) };
    case 'FAILED':
      return { type: 'payment_failed', payment_hash: c.paymentHash, value_sat, failure_reason: c.failureReason ?? 'FAILURE_REASON_ERROR' };
  }
}

export function invoiceEvent(c: InvoiceChange): NodeEvent {
  const base = { r_hash: c.paymentHash, memo: c.memo, value_sat: sat(c.amountMsat ?? 0n) };
  switch (c.state) {
    case 'OPEN':
      return { type: 'invoice_added', ...base };
    case 'ACCEPTED':
      return { type: 'invoice_accepted', ...base };
    case 'SETTLED':
      return { type: 'invoice_paid', ...base, amt_paid_sat: sat(c.amtPaidMsat) };
    case 'CANCELED':
      return { type: 'invoice_canceled', ...base };
  }
}

/** Subscribes to the unlocked node's parts; every event goes to `emit`. Returns what unsubscribes the peers (the rest close with the node). */
export function wireNodeEvents(parts: { peers: PeerManager; channels: ChannelManager; payments: PaymentStore; invoices: InvoiceRegistry }, emit: (e: NodeEvent) => void): () => void {
  const { peers, channels } = parts;
  channels.onChange((c) => {
    if (c.type === 'saved') {
      const e = channelStepEvent(c.peer, c.state, c.prev);
      if (e) emit(e);
      return;
    }
    // Active means usable: an open channel linked again after a reconnect, or unlinked when its
    // connection drops. A new channel is linked before its first state is stored; channel_opened tells that one.
    const row = channels.get(c.key);
    if (row?.state.phase === 'NORMAL') emit({ type: c.linked ? 'channel_active' : 'channel_inactive', channel: channelEventView(row.peer, row.state) });
  });
  parts.payments.changes.add((c) => emit(paymentEvent(c)));
  parts.invoices.changes.add((c) => emit(invoiceEvent(c)));
  const up = (p: { pubkey: string }): void => emit({ type: 'peer_online', pub_key: p.pubkey });
  // A connection that never finished its handshake and init was never online.
  const down = (p: { pubkey: string; readyAt?: number | undefined }, reason: string): void => {
    if (p.readyAt) emit({ type: 'peer_offline', pub_key: p.pubkey, reason });
  };
  peers.on('peer_ready', up);
  peers.on('peer_closed', down);
  return () => {
    peers.off('peer_ready', up);
    peers.off('peer_closed', down);
  };
}
