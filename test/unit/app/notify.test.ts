/**
 * What a desktop notification says for each node event: a payment received (amount as the app writes
 * it, and its note), a channel opened, closed or force-closed (naming the node when the app knows it);
 * and nothing for the events that are not news to a person.
 */
import { describe, expect, it } from 'vitest';
import { notificationFor } from '../../../renderer/notify.ts';
import type { ChannelEventView } from '../../../core/api/contract.ts';

const PEER = '02' + '11'.repeat(32);
const channel = (state: string): ChannelEventView => ({ remote_pubkey: PEER, channel_point: `${'ab'.repeat(32)}:0`, chan_id: '101x1x0', capacity: '500000', state });

describe('notifications of node events', () => {
  it('says a payment arrived, with its amount and note', () => {
    expect(notificationFor({ type: 'invoice_paid', r_hash: 'aa', memo: 'Pixel paint', value_sat: '5000', amt_paid_sat: '5000' }, 'sat', {})).toEqual({ title: 'Payment received', body: '+5\u202f000 sat · Pixel paint', tag: 'invoice:aa' });
  });

  it('says a channel opened, closed or was force-closed, naming the node when it is known', () => {
    const known = { [PEER]: 'playground counterparty' };
    expect(notificationFor({ type: 'channel_opened', channel: channel('NORMAL') }, 'sat', known)?.body).toBe('A 500\u202f000 sat channel with playground counterparty is ready for payments.');
    expect(notificationFor({ type: 'channel_closed', channel: channel('CLOSED') }, 'sat', {})).toMatchObject({ title: 'Channel closed' });
    expect(notificationFor({ type: 'channel_state_changed', channel: channel('FORCE_CLOSING'), previous_state: 'NORMAL' }, 'sat', known)).toMatchObject({ title: 'Channel force-closed' });
  });

  it('stays quiet for everything else', () => {
    expect(notificationFor({ type: 'channel_state_changed', channel: channel('SHUTDOWN'), previous_state: 'NORMAL' }, 'sat', {})).toBeUndefined();
    expect(notificationFor({ type: 'block_connected', height: 1, hash: '00' }, 'sat', {})).toBeUndefined();
    expect(notificationFor({ type: 'payment_settled', payment_hash: 'aa', value_sat: '1', fee_sat: '0' }, 'sat', {})).toBeUndefined();
  });
});
