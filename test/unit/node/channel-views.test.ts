/**
 * What the API says about a channel through its life, lncli-shaped: pendingchannels with the funding's
 * confirmations while it opens and the closing transaction while it closes, closedchannels once it is
 * over (cooperatively, with what the close paid us; or failed, with the reason). Two in-process nodes
 * on one playground chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlaygroundPair } from '../../helpers/playground-pair.ts';
import type { PlaygroundPair } from '../../helpers/playground-pair.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import type { ApiHandlers } from '../../../core/api/contract.ts';

describe('channel views: pendingchannels and closedchannels', () => {
  let pair: PlaygroundPair;
  let alice: TestNode;
  let bob: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  const mine = (n: number): Promise<void> => pair.mine(n);

  beforeAll(async () => {
    // Bob takes no channel under 50 000 sat, so Alice's smaller offer is refused by him, not by her.
    pair = await startPlaygroundPair('views', { bobChannel: { limits: { minFundingSat: 50_000n } } });
    ({ alice, bob, a, b } = pair);
    const { address } = await a.newaddress({});
    await a.playground_faucet({ addr: address, amt: 3_000_000 });
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
  });

  it('start empty', async () => {
    expect(await a.pendingchannels({})).toEqual({ total_limbo_balance: '0', pending_open_channels: [], pending_force_closing_channels: [], waiting_close_channels: [] });
    expect(await a.closedchannels({})).toEqual({ channels: [] });
  });

  it('list a channel the peer refused as FUNDING_CANCELED, with the reason, on both sides', async () => {
    await expect(a.openchannel({ node_key: bob.node.nodeId, local_amt: 30_000 })).rejects.toThrow(/below our minimum/);
    const [ours] = (await a.closedchannels({})).channels;
    expect(ours).toMatchObject({ remote_pubkey: bob.node.nodeId, capacity: '30000', closing_tx_hash: '', settled_balance: '0', close_type: 'FUNDING_CANCELED', open_initiator: 'INITIATOR_LOCAL' });
    expect(ours!.failure_reason).toMatch(/the peer refused: funding of 30000 sat is below our minimum/);
    const theirs = await waitFor('bob to record the refusal', async () => (await b.closedchannels({})).channels[0]);
    expect(theirs).toMatchObject({ remote_pubkey: alice.node.nodeId, close_type: 'FUNDING_CANCELED', open_initiator: 'INITIATOR_REMOTE' });
    expect((await a.pendingchannels({})).pending_open_channels).toEqual([]);
  });

  it('count the funding confirmations while a channel opens, then close it and report what the close paid', { timeout: 30_000 }, async () => {
    const { funding_txid } = await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000 });
    const opening = (await a.pendingchannels({})).pending_open_channels;
    expect(opening).toHaveLength(1);
    expect(opening[0]).toMatchObject({ funding_txid, confirmations: 0, confirmations_needed: 3, state: 'WAIT_FUNDING_CONFIRMED' });
    expect(opening[0]!.channel).toMatchObject({ remote_pubkey: bob.node.nodeId, capacity: '1000000', initiator: true });
    expect(opening[0]!.channel.channel_point.startsWith(`${funding_txid}:`)).toBe(true);

    await mine(1);
    expect((await a.pendingchannels({})).pending_open_channels[0]).toMatchObject({ confirmations: 1, state: 'WAIT_FUNDING_CONFIRMED' });
    await waitFor('bob to count the same confirmation', async () => (await b.pendingchannels({})).pending_open_channels[0]?.confirmations === 1 || undefined);
    await mine(2);
    const open = await waitFor('the channel to be active', async () => (await a.listchannels({})).channels.find((c) => c.active));
    expect((await a.pendingchannels({})).pending_open_channels).toEqual([]);

    const before = BigInt((await a.walletbalance({})).confirmed_balance);
    const { closing_txid } = await a.closechannel({ chan_point: open.channel_point });
    const pending = await a.pendingchannels({});
    expect(pending.pending_open_channels).toEqual([]);
    expect(pending.waiting_close_channels).toHaveLength(1);
    const waiting = pending.waiting_close_channels[0]!;
    expect(waiting).toMatchObject({ closing_txid, state: 'CLOSING' });
    expect(waiting.channel.channel_point).toBe(open.channel_point);
    // The closing transaction pays us the whole channel less its fee, which is smaller than the
    // commitment's fee and anchors that listchannels' local_balance is net of.
    const limbo = BigInt(waiting.limbo_balance);
    expect(limbo).toBeGreaterThan(BigInt(open.local_balance));
    expect(limbo).toBeLessThan(1_000_000n);
    expect(limbo).toBeGreaterThan(1_000_000n - 2_000n);
    expect(pending.total_limbo_balance).toBe(waiting.limbo_balance);

    await mine(1);
    const closed = await waitFor('the channel to be closed', async () => (await a.closedchannels({})).channels.find((c) => c.close_type === 'COOPERATIVE_CLOSE'));
    expect(closed).toEqual({
      channel_point: open.channel_point,
      chan_id: open.chan_id,
      remote_pubkey: bob.node.nodeId,
      capacity: '1000000',
      closing_tx_hash: closing_txid,
      settled_balance: waiting.limbo_balance,
      time_locked_balance: '0',
      close_type: 'COOPERATIVE_CLOSE',
      open_initiator: 'INITIATOR_LOCAL',
    });
    expect(await a.pendingchannels({})).toEqual({ total_limbo_balance: '0', pending_open_channels: [], pending_force_closing_channels: [], waiting_close_channels: [] });
    // What the close paid is what came back to the wallet.
    expect(BigInt((await a.walletbalance({})).confirmed_balance) - before).toBe(limbo);
    // Bob put nothing in and was paid nothing.
    const bobs = await waitFor('bob to see it closed', async () => (await b.closedchannels({})).channels.find((c) => c.close_type === 'COOPERATIVE_CLOSE'));
    expect(bobs).toMatchObject({ settled_balance: '0', open_initiator: 'INITIATOR_REMOTE', closing_tx_hash: closing_txid });
  });
});
