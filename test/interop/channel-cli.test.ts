/**
 * The lnd-tutorial flow with coulomb: connect → openchannel → mine → listchannels → closechannel, between two
 * daemons on one playground chain, driven only through the CLI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, cliJson, removeDir, startDaemonProcess, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

interface Channels {
  channels: { remote_pubkey: string; capacity: string; local_balance: string; remote_balance: string; active: boolean; initiator: boolean; chan_id: string; commitment_type: string }[];
}

describe('channels over the CLI', () => {
  const daemons: DaemonProcess[] = [];
  afterAll(async () => {
    for (const d of [...daemons].reverse()) {
      await d.stop();
      await removeDir(d.datadir);
    }
  });

  it('connect, openchannel, mine, listchannels on both sides', { timeout: 120_000 }, async () => {
    const alice = await startDaemonProcess('alice-ch');
    daemons.push(alice);
    const rpc = JSON.parse(await readFile(join(alice.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const bob = await startDaemonProcess('bob-ch', ['--network', 'regtest', '--bitcoind.rpchost', rpc.url.replace('http://', ''), '--bitcoind.rpccookie', rpc.cookie]);
    daemons.push(bob);

    const { address } = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    await cliJson(alice.datadir, 'playground', 'faucet', address, '5000000');
    await waitFor('alice to see her coins', async () => (await cliJson<{ confirmed_balance: string }>(alice.datadir, 'walletbalance')).confirmed_balance === '5000000' || undefined);

    const notConnected = await cli(alice.datadir, 'openchannel', '--node_key', bob.nodeId, '--local_amt', '1000000');
    expect(notConnected.stderr).toMatch(/Not connected to .*; connect first/);
    await cliJson(alice.datadir, 'connect', bob.uri);
    const tooBig = await cli(alice.datadir, 'openchannel', '--node_key', bob.nodeId, '--local_amt', '9000000');
    expect(tooBig.stderr).toMatch(/more than your confirmed balance can fund: you can open up to [\d\u202f]+ sat now/);

    const opened = await cliJson<{ funding_txid: string }>(alice.datadir, 'openchannel', '--node_key', bob.nodeId, '--local_amt', '1000000', '--push_amt', '100000');
    expect(opened.funding_txid).toMatch(/^[0-9a-f]{64}$/);
    const pending = await cliJson<{ pending_open_channels: { state: string }[] }>(alice.datadir, 'pendingchannels');
    expect(pending.pending_open_channels.map((p) => p.state)).toEqual(['WAIT_FUNDING_CONFIRMED']);

    await cliJson(alice.datadir, 'playground', 'mine', '3');
    const aliceCh = await waitFor('alice to list the channel as active', async () => {
      const r = await cliJson<Channels>(alice.datadir, 'listchannels');
      return r.channels[0]?.active ? r.channels[0] : undefined;
    }, 20_000);
    expect(aliceCh).toMatchObject({ remote_pubkey: bob.nodeId, capacity: '1000000', remote_balance: '100000', initiator: true, commitment_type: 'ANCHORS' });
    expect(aliceCh.chan_id).toMatch(/^\d+x\d+x\d+$/);
    const bobCh = await waitFor('bob to list the channel as active', async () => {
      const r = await cliJson<Channels>(bob.datadir, 'listchannels');
      return r.channels[0]?.active ? r.channels[0] : undefined;
    }, 20_000);
    expect(bobCh).toMatchObject({ remote_pubkey: alice.nodeId, local_balance: '100000', initiator: false, chan_id: aliceCh.chan_id });
    const bal = await cliJson<{ balance: string; remote_balance: { sat: string } }>(bob.datadir, 'channelbalance');
    // The funder's side is net of the commitment fee.
    expect(Number(aliceCh.local_balance)).toBeLessThan(900000);
    expect(Number(aliceCh.local_balance)).toBeGreaterThan(890000);
    expect(bal).toMatchObject({ balance: '100000', remote_balance: { sat: aliceCh.local_balance } });

    // Cooperative close from bob's side (the fundee); the funds return on-chain to both wallets.
    const listed = await cliJson<{ channels: { channel_point: string }[] }>(bob.datadir, 'listchannels');
    const badPoint = await cli(bob.datadir, 'closechannel', '--chan_point', `${'00'.repeat(32)}:0`);
    expect(badPoint.stderr).toMatch(/No channel with channel point/);
    const closed = await cliJson<{ closing_txid: string }>(bob.datadir, 'closechannel', '--chan_point', listed.channels[0]!.channel_point);
    expect(closed.closing_txid).toMatch(/^[0-9a-f]{64}$/);
    await cliJson(alice.datadir, 'playground', 'mine', '1');
    await waitFor('bob to have his 100000 sat on-chain', async () => (await cliJson<{ confirmed_balance: string }>(bob.datadir, 'walletbalance')).confirmed_balance === '100000' || undefined, 20_000);
    await waitFor('the channel to be gone on alice\'s side', async () => ((await cliJson<Channels>(alice.datadir, 'listchannels')).channels.length === 0 ? true : undefined), 20_000);
    const aliceOnChain = BigInt((await cliJson<{ confirmed_balance: string }>(alice.datadir, 'walletbalance')).confirmed_balance);
    // Alice had 5,000,000; 100,000 went to bob; what remains is less only by the funding and closing fees.
    expect(aliceOnChain).toBeLessThan(4_900_000n);
    expect(aliceOnChain).toBeGreaterThan(4_890_000n);
  });
});
