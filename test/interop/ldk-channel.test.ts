/**
 * Channels between Coulomb and LDK over real TCP, both ways: LDK follows the same playground chain
 * (blocks fed to its ChannelManager and ChainMonitor), and both sides reach a ready channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startLdkNode } from './ldk/node.ts';
import { fundPendingChannel } from './ldk/funding.ts';
import { newKey } from '../helpers/txbuilder.ts';
import type { LdkNode } from './ldk/node.ts';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';

describe('Coulomb ↔ LDK channels', () => {
  let ldk: LdkNode;
  let us: TestNode;
  let fedHeight = 0;

  /** Hands LDK every block of our playground it has not seen yet. */
  function feedLdk(): void {
    const pg = us.node.chain.playground!.chain;
    for (let h = fedHeight + 1; h <= pg.height; h++) {
      const raw = pg.entries[h]!.block.toBuffer();
      ldk.channelManager.as_Listen().block_connected(raw, h);
      ldk.chainMonitor.as_Listen().block_connected(raw, h);
    }
    fedHeight = pg.height;
    ldk.processEvents();
  }

  beforeAll(async () => {
    ldk = await startLdkNode({ alias: 'ldk' });
    us = await startTestNode('coulomb-ldk-ch');
  });
  afterAll(async () => {
    await us?.close();
    await ldk?.stop();
  });

  it('we open a private static_remotekey channel to LDK; both see it ready after the funding confirms', { timeout: 60_000 }, async () => {
    const h = us.node.handlers();
    const { address } = await h.newaddress({});
    await h.playground_faucet({ addr: address, amt: 5_000_000 });
    const port = await ldk.listen(0, '127.0.0.1');
    await h.connect({ addr: `${ldk.nodeId}@127.0.0.1:${port}` });
    feedLdk();

    const { funding_txid } = await h.openchannel({ node_key: ldk.nodeId, local_amt: 1_000_000, push_amt: 10_000, private: true });
    expect(funding_txid).toMatch(/^[0-9a-f]{64}$/);
    await h.playground_mine({ blocks: 6 });
    feedLdk();
    await us.node.chain.source.poke();

    await waitFor('LDK to see the channel ready', () => ldk.channelManager.list_channels().some((c) => c.get_is_channel_ready()) || undefined, 20_000);
    await waitFor('our channel to be active', async () => ((await h.listchannels({})).channels[0]?.active ? true : undefined), 20_000);
    const ours = (await h.listchannels({})).channels[0]!;
    expect(ours).toMatchObject({ remote_pubkey: ldk.nodeId, capacity: '1000000', remote_balance: '10000', initiator: true });
    const theirs = ldk.channelManager.list_channels()[0]!;
    expect(theirs.get_channel_value_satoshis()).toBe(1_000_000n);
    expect(Buffer.from(theirs.get_funding_txo().get_txid()).reverse().toString('hex')).toBe(funding_txid);
  });

  it('LDK opens a channel to us; we accept, sign, and both see it ready', { timeout: 60_000 }, async () => {
    const h = us.node.handlers();
    const pg = us.node.chain.playground!;
    // LDK's on-chain money: a key of the test's, funded by the playground faucet.
    const key = newKey();
    const coinTxid = await pg.faucet.send(key.address, 3_000_000n);
    await h.playground_mine({ blocks: 1 });
    const coinTx = pg.chain.entries[pg.chain.height]!.block.transactions!.find((t) => t.getId() === coinTxid)!;
    const vout = coinTx.outs.findIndex((o) => Buffer.compare(Buffer.from(o.script), Buffer.from(key.script)) === 0);
    feedLdk();

    const before = (await h.listchannels({})).channels.length;
    const r = ldk.channelManager.create_channel(Buffer.from(us.node.nodeId, 'hex'), 2_000_000n, 0n, 7n, null, null);
    expect(r.is_ok()).toBeTruthy();
    ldk.processEvents();
    // LDK asks its user for a funding transaction paying the 2-of-2 script.
    const coin = { key, txid: coinTxid, vout, value: coinTx.outs[vout]!.value };
    await waitFor('LDK to ask for a funding transaction', () => fundPendingChannel(ldk, coin) || undefined, 10_000);
    // Once we have signed its commitment, LDK broadcasts the funding transaction.
    await waitFor('LDK to broadcast the funding', () => ldk.broadcasted.length > 0 || undefined, 10_000);
    const fundingTx = ldk.broadcasted[0]!;
    for (const tx of ldk.broadcasted.splice(0)) pg.chain.acceptToMempool(Buffer.from(tx).toString('hex'));
    const pending = await h.pendingchannels({});
    expect(pending.pending_open_channels.some((p) => p.channel.channel_point.startsWith(Transaction.fromBuffer(Buffer.from(fundingTx)).getId()) && !p.channel.initiator)).toBe(true);
    await h.playground_mine({ blocks: 6 });
    feedLdk();
    await us.node.chain.source.poke();
    await waitFor('our side to list the inbound channel as active', async () => ((await h.listchannels({})).channels.length > before ? true : undefined), 20_000);
    const inbound = (await h.listchannels({})).channels.find((c) => !c.initiator)!;
    expect(inbound).toMatchObject({ remote_pubkey: ldk.nodeId, capacity: '2000000', local_balance: '0', active: true });
    await waitFor('LDK to see it ready', () => ldk.channelManager.list_channels().filter((c) => c.get_is_channel_ready()).length === 2 || undefined, 20_000);
  });

  it('a restart of our node while the channels are open resumes both with LDK (channel_reestablish)', { timeout: 60_000 }, async () => {
    const usable = () => ldk.channelManager.list_channels().filter((c) => c.get_is_usable()).length;
    await waitFor('both channels usable on LDK\'s side', () => usable() === 2 || undefined, 10_000);
    await us.restart();
    const h = us.node.handlers();
    expect((await h.listchannels({})).channels.map((c) => c.state)).toEqual(['NORMAL', 'NORMAL']);
    // No connect: the restarted node dials LDK by itself, at the address it dialled it at before.
    await waitFor('LDK to resume both channels', () => usable() === 2 || undefined, 15_000);
    expect(us.node.peers.get(ldk.nodeId)?.inbound).toBe(false);
    await waitFor('both channels active on our side', async () => ((await h.listchannels({})).channels.every((c) => c.active) ? true : undefined), 10_000);
    expect(us.logs.some((l) => /channel failed/.test(l))).toBe(false);
  });

  it('we close the channel we opened, cooperatively; the money comes back on-chain', { timeout: 60_000 }, async () => {
    const h = us.node.handlers();
    const ours = (await h.listchannels({})).channels.find((c) => c.initiator)!;
    const before = BigInt((await h.walletbalance({})).total_balance);
    const { closing_txid } = await h.closechannel({ chan_point: ours.channel_point });
    expect(closing_txid).toMatch(/^[0-9a-f]{64}$/);
    await waitFor('LDK to consider the channel closing', () => !ldk.channelManager.list_channels().some((c) => c.get_is_usable() && c.get_channel_value_satoshis() === 1_000_000n) || undefined, 10_000);
    await h.playground_mine({ blocks: 1 });
    feedLdk();
    await us.node.chain.source.poke();
    const after = BigInt((await h.walletbalance({})).confirmed_balance);
    // The closing transaction pays LDK its 10,000 pushed sats and us the rest of the capacity less a small fee.
    const pg = us.node.chain.playground!.chain;
    const closing = pg.entries[pg.txHeight(closing_txid)!]!.block.transactions!.find((t) => t.getId() === closing_txid)!;
    const values = closing.outs.map((o) => o.value).sort((a, b) => (a < b ? -1 : 1));
    expect(values[0]).toBe(10_000n);
    const fee = 1_000_000n - values[0]! - values[1]!;
    expect(fee > 0n && fee < 2_000n).toBe(true);
    expect(after - before).toBe(values[1]);
    expect((await h.listchannels({})).channels.some((c) => c.channel_point === ours.channel_point)).toBe(false);
  });

  it('LDK closes the channel it opened; we agree on the fee and sign', { timeout: 60_000 }, async () => {
    const h = us.node.handlers();
    const inbound = (await h.listchannels({})).channels.find((c) => !c.initiator)!;
    const theirs = ldk.channelManager.list_channels().find((c) => c.get_channel_value_satoshis() === 2_000_000n)!;
    const r = ldk.channelManager.close_channel(theirs.get_channel_id(), Buffer.from(us.node.nodeId, 'hex'));
    expect(r.is_ok()).toBeTruthy();
    ldk.processEvents();
    await waitFor('our side to publish the agreed closing transaction', async () => ((await h.pendingchannels({})).waiting_close_channels.some((w) => w.state === 'CLOSING' && w.closing_txid !== '') ? true : undefined), 15_000);
    await h.playground_mine({ blocks: 1 });
    await us.node.chain.source.poke();
    expect((await h.listchannels({})).channels.some((c) => c.channel_point === inbound.channel_point)).toBe(false);
  });

  it('an LDK node that negotiates anchors opens an anchors channel to us', { timeout: 60_000 }, async () => {
    const anchored = await startLdkNode({ alias: 'ldk-anchors', configure: (c) => c.get_channel_handshake_config().set_negotiate_anchors_zero_fee_htlc_tx(true) });
    try {
      const pg = us.node.chain.playground!.chain;
      // Blocks must reach LDK one by one, in order, none skipped.
      let fed = 0;
      const feed = (): void => {
        for (let height = fed + 1; height <= pg.height; height++) {
          const raw = pg.entries[height]!.block.toBuffer();
          anchored.channelManager.as_Listen().block_connected(raw, height);
          anchored.chainMonitor.as_Listen().block_connected(raw, height);
        }
        fed = pg.height;
        anchored.processEvents();
      };
      feed();
      const h = us.node.handlers();
      const port = await anchored.listen(0, '127.0.0.1');
      await h.connect({ addr: `${anchored.nodeId}@127.0.0.1:${port}` });
      const key = newKey();
      const coinTxid = await us.node.chain.playground!.faucet.send(key.address, 3_000_000n);
      await h.playground_mine({ blocks: 1 });
      const coinTx = pg.entries[pg.height]!.block.transactions!.find((t) => t.getId() === coinTxid)!;
      const vout = coinTx.outs.findIndex((o) => Buffer.compare(Buffer.from(o.script), Buffer.from(key.script)) === 0);
      feed();
      expect(anchored.channelManager.create_channel(Buffer.from(us.node.nodeId, 'hex'), 1_500_000n, 0n, 9n, null, null).is_ok()).toBeTruthy();
      const coin = { key, txid: coinTxid, vout, value: coinTx.outs[vout]!.value };
      await waitFor('LDK to fund the anchors channel', () => fundPendingChannel(anchored, coin) || undefined, 10_000);
      await waitFor('LDK to broadcast the funding', () => anchored.broadcasted.length > 0 || undefined, 10_000);
      for (const tx of anchored.broadcasted.splice(0)) pg.acceptToMempool(Buffer.from(tx).toString('hex'));
      for (let i = 0; i < 6; i++) {
        await h.playground_mine({ blocks: 1 });
        feed();
      }
      await us.node.chain.source.poke();
      await waitFor('the anchors channel to be active on our side', async () => ((await h.listchannels({})).channels.find((c) => c.remote_pubkey === anchored.nodeId && c.active) ? true : undefined), 20_000);
      expect((await h.listchannels({})).channels.find((c) => c.remote_pubkey === anchored.nodeId)).toMatchObject({ commitment_type: 'ANCHORS', capacity: '1500000', initiator: false });
      await waitFor('LDK to see it ready', () => anchored.channelManager.list_channels().some((c) => c.get_is_channel_ready()) || undefined, 20_000);
    } finally {
      await anchored.stop();
    }
  });
});
