/**
 * A restart looks like a disconnect: two daemons with a channel, each restarted in turn (the one that
 * was dialled, then the one that dialled), find each other again with no `connect`, the channel
 * becomes active, and a payment goes through.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliJson, removeDir, startDaemonProcess, tempDir, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';
import { freePort } from '../helpers/ports.ts';

interface Channels {
  channels: { remote_pubkey: string; active: boolean }[];
}

/** A port nobody listens on now, for a daemon that must come back at the same address. */

describe('reconnecting after a restart', () => {
  const running = new Set<DaemonProcess>();
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of [...running].reverse()) await d.stop();
    for (const d of dirs) await removeDir(d);
  });

  async function start(name: string, flags: string[], dir: string): Promise<DaemonProcess> {
    const d = await startDaemonProcess(name, flags, dir);
    running.add(d);
    return d;
  }

  async function restart(d: DaemonProcess, name: string, flags: string[]): Promise<DaemonProcess> {
    await d.stop();
    running.delete(d);
    return start(name, flags, d.datadir);
  }

  it('the channel comes back by itself after either side restarts, and pays', { timeout: 300_000 }, async () => {
    const [aDir, bDir] = [await tempDir('rc-alice'), await tempDir('rc-bob')];
    dirs.push(aDir, bDir);
    const [alicePort, bobPort, chainPort] = [await freePort(), await freePort(), await freePort()];
    // Alice runs the playground chain at a fixed address, so Bob finds it again after her restart.
    const aliceFlags = ['--listen', `127.0.0.1:${alicePort}`, '--playground.rpclisten', `127.0.0.1:${chainPort}`];
    let alice = await start('rc-alice', aliceFlags, aDir);
    const rpc = JSON.parse(await readFile(join(aDir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const bobFlags = ['--listen', `127.0.0.1:${bobPort}`, '--network', 'regtest', '--bitcoind.rpchost', rpc.url.replace('http://', ''), '--bitcoind.rpccookie', rpc.cookie];
    let bob = await start('rc-bob', bobFlags, bDir);
    const aliceId = alice.nodeId;
    const bobId = bob.nodeId;

    const { address } = await cliJson<{ address: string }>(aDir, 'newaddress', 'p2wkh');
    await cliJson(aDir, 'playground', 'faucet', address, '3000000');
    await waitFor('alice to see her coins', async () => (await cliJson<{ confirmed_balance: string }>(aDir, 'walletbalance')).confirmed_balance === '3000000' || undefined, 30_000);
    // A plain connect (not --perm): the channel alone is reason enough to reconnect.
    await cliJson(aDir, 'connect', `${bobId}@127.0.0.1:${bobPort}`);
    await cliJson(aDir, 'openchannel', '--node_key', bobId, '--local_amt', '1000000', '--push_amt', '100000');
    await cliJson(aDir, 'playground', 'mine', '3');
    const activeOn = (dir: string, peer: string) => async () => ((await cliJson<Channels>(dir, 'listchannels')).channels.some((c) => c.remote_pubkey === peer && c.active) || undefined);
    const activeBoth = async () => ((await activeOn(aDir, bobId)()) && (await activeOn(bDir, aliceId)())) || undefined;
    await waitFor('the channel to be active', activeBoth, 60_000);

    const pay = async (payer: string, payee: string, sat: number): Promise<void> => {
      const inv = await cliJson<{ payment_request: string; r_hash: string }>(payee, 'addinvoice', '--amt', String(sat));
      const paid = await cliJson<{ status: string }>(payer, 'sendpayment', '--pay_req', inv.payment_request);
      expect(paid.status).toBe('SUCCEEDED');
      await waitFor('the invoice to settle', async () => (await cliJson<{ state: string }>(payee, 'lookupinvoice', inv.r_hash)).state === 'SETTLED' || undefined);
    };

    // The side that was dialled restarts: Alice redials it with backoff until it is back.
    bob = await restart(bob, 'rc-bob', bobFlags);
    await waitFor('the channel to be active after bob restarted', activeBoth, 120_000);
    await pay(aDir, bDir, 10_000);

    // The side that dialled restarts: it dials Bob at start, from the address it kept.
    alice = await restart(alice, 'rc-alice', aliceFlags);
    await waitFor('the channel to be active after alice restarted', activeBoth, 120_000);
    const peers = await cliJson<{ peers: { pub_key: string; inbound: boolean }[] }>(aDir, 'listpeers');
    expect(peers.peers).toEqual([expect.objectContaining({ pub_key: bobId, inbound: false })]);
    await pay(bDir, aDir, 5_000);
    await pay(aDir, bDir, 1_000);
  });
});
