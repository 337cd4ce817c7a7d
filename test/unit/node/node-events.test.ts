/**
 * The node's event stream: each change is told once, as it happens, in the contract's shape. The pure
 * mappings first (a channel's steps, a payment's and an invoice's changes), then one node on its own
 * playground: blocks and the chain's numbers, the wallet's own sends, invoices made and canceled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import type { NodeEvent } from '../../../core/api/contract.ts';
import type { ChannelState } from '../../../core/channel/types.ts';
import { channelEventView, channelStepEvent, invoiceEvent, paymentEvent } from '../../../core/node/node-events.ts';
import { topicsOf } from '../../../core/app/contract.ts';

const PEER = '02' + '11'.repeat(32);
const TXID = 'ab'.repeat(32);

function st(phase: ChannelState['phase'], extra: Partial<ChannelState> = {}): ChannelState {
  return { phase, capacitySat: 500_000n, ...extra } as ChannelState;
}

describe('node events: the mappings', () => {
  it('a channel is told when it is new, opens, moves on and ends; a commitment update is not a channel event', () => {
    const funded = { funding: { txid: TXID, vout: 1 } } as Partial<ChannelState>;
    expect(channelStepEvent(PEER, st('WAIT_ACCEPT'), undefined)).toEqual({
      type: 'channel_state_changed',
      previous_state: '',
      channel: { remote_pubkey: PEER, channel_point: '', chan_id: '', capacity: '500000', state: 'WAIT_ACCEPT' },
    });
    const open = channelStepEvent(PEER, st('NORMAL', { ...funded, shortChannelId: (101n << 40n) | (1n << 16n) | 1n }), st('WAIT_CHANNEL_READY', funded));
    expect(open).toEqual({ type: 'channel_opened', channel: { remote_pubkey: PEER, channel_point: `${TXID}:1`, chan_id: '101x1x1', capacity: '500000', state: 'NORMAL' } });
    // The same phase again (an HTLC added, a commitment signed): nothing.
    expect(channelStepEvent(PEER, st('NORMAL', funded), st('NORMAL', funded))).toBeUndefined();
    // A new commitment of ours: the balances moved.
    const at = (localIndex: bigint): Partial<ChannelState> => ({ ...funded, commit: { localIndex } as ChannelState['commit'] });
    expect(channelStepEvent(PEER, st('NORMAL', at(3n)), st('NORMAL', at(2n)))).toMatchObject({ type: 'channel_updated', local_commit_height: '3', channel: { channel_point: `${TXID}:1` } });
    expect(channelStepEvent(PEER, st('NORMAL', at(3n)), st('NORMAL', at(3n)))).toBeUndefined();
    expect(topicsOf({ type: 'channel_updated', channel: channelEventView(PEER, st('NORMAL', funded)), local_commit_height: '3' })).toEqual(['channels', 'balance']);
    expect(channelStepEvent(PEER, st('SHUTDOWN', funded), st('NORMAL', funded))).toMatchObject({ type: 'channel_state_changed', previous_state: 'NORMAL', channel: { state: 'SHUTDOWN' } });
    expect(channelStepEvent(PEER, st('CLOSED', funded), st('CLOSING', funded))).toMatchObject({ type: 'channel_closed', channel: { state: 'CLOSED' } });
    expect(channelStepEvent(PEER, st('FAILED'), st('WAIT_FUNDING_SIGNED'))).toMatchObject({ type: 'channel_closed', channel: { state: 'FAILED' } });
    // Back to NORMAL from elsewhere (never the case today) is a state change, not an opening.
    expect(channelStepEvent(PEER, st('NORMAL', funded), st('SHUTDOWN', funded))).toMatchObject({ type: 'channel_state_changed' });
  });

  it('payments and invoices in whole sat, with the reason of a failure', () => {
    expect(paymentEvent({ paymentHash: 'aa', status: 'IN_FLIGHT', amountMsat: 5_000_999n, feeMsat: 0n })).toEqual({ type: 'payment_in_flight', payment_hash: 'aa', value_sat: '5000' });
    expect(paymentEvent({ paymentHash: 'aa', status: 'SUCCEEDED', amountMsat: 5_000_000n, feeMsat: 1_500n })).toEqual({ type: 'payment_settled', payment_hash: 'aa', value_sat: '5000', fee_sat: '1' });
    expect(paymentEvent({ paymentHash: 'aa', status: 'FAILED', amountMsat: 5_000_000n, feeMsat: 0n, failureReason: 'FAILURE_REASON_NO_ROUTE' })).toEqual({
      type: 'payment_failed',
      payment_hash: 'aa',
      value_sat: '5000',
      failure_reason: 'FAILURE_REASON_NO_ROUTE',
    });
    expect(invoiceEvent({ paymentHash: 'bb', state: 'SETTLED', memo: 'tea', amountMsat: undefined, amtPaidMsat: 2_000_000n })).toEqual({ type: 'invoice_paid', r_hash: 'bb', memo: 'tea', value_sat: '0', amt_paid_sat: '2000' });
    expect(invoiceEvent({ paymentHash: 'bb', state: 'CANCELED', memo: '', amountMsat: 1000n, amtPaidMsat: 0n })).toMatchObject({ type: 'invoice_canceled', value_sat: '1' });
  });

  it('every event names what it changes on the screens', () => {
    expect(topicsOf({ type: 'invoice_paid', r_hash: 'bb', memo: '', value_sat: '0', amt_paid_sat: '1' })).toEqual(['invoices', 'channels']);
    expect(topicsOf({ type: 'block_connected', height: 1, hash: 'h' })).toContain('sync');
    expect(topicsOf({ type: 'chain_status', synced: false, height: 1, best_height: 2, error: 'down' })).toEqual(['sync']);
    expect(topicsOf({ type: 'channel_opened', channel: { remote_pubkey: PEER, channel_point: '', chan_id: '', capacity: '1', state: 'NORMAL' } })).toEqual(['channels', 'balance', 'transactions']);
  });
});

describe('node events: one node on the playground', () => {
  let t: TestNode;
  const events: NodeEvent[] = [];

  beforeAll(async () => {
    t = await startTestNode('node-events');
    t.node.events.add((e) => events.push(e));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("a block, the wallet's own send, an invoice made and canceled: each told once", async () => {
    const api = t.node.handlers();
    const { address } = await api.newaddress({});
    await api.playground_faucet({ addr: address, amt: 200_000 });
    await t.node.chain.source.poke();
    const height = t.node.chain.source.status().height;
    await waitFor('the faucet block', () => events.find((e) => e.type === 'block_connected' && e.height === height), 10_000);
    expect(events.filter((e) => e.type === 'block_connected' && e.height === height)).toHaveLength(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'chain_status', height, synced: true }));

    // Our own send is told at once, before any block.
    events.length = 0;
    const other = await api.newaddress({});
    await api.sendcoins({ addr: other.address, amt: 50_000 });
    expect(events).toEqual([{ type: 'chain_transactions', unconfirmed: 1 }]);

    const inv = await api.addinvoice({ value: 1000, memo: 'a test' });
    await api.cancelinvoice({ payment_hash: inv.r_hash });
    await waitFor('invoice events', () => events.some((e) => e.type === 'invoice_canceled') || undefined, 5_000);
    expect(events.filter((e) => e.type.startsWith('invoice_'))).toEqual([
      { type: 'invoice_added', r_hash: inv.r_hash, memo: 'a test', value_sat: '1000' },
      { type: 'invoice_canceled', r_hash: inv.r_hash, memo: 'a test', value_sat: '1000' },
    ]);
  });
});
