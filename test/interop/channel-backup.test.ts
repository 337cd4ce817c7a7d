/**
 * Channel backups between two in-process Coulomb nodes on one playground chain (hosted by bob, so
 * alice can be lost and restored):
 * - alice's channel.backup appears when the channel opens (verifychanbackup lists it) and is
 *   rewritten when it closes; bob keeps alice's blob (peer storage) and hands it back on reconnect;
 * - alice's data directory is lost; a node restored from her 24 words and the backup file shows the
 *   channel as recovering, reaches bob, and bob force-closes: his commitment reaches the mempool
 *   and, once mined, alice's recovery finds her output in it, to the satoshi of her balance, and
 *   sweeps it into her wallet (less the sweep's fee, to the satoshi);
 * - a channel bob closed alone while she was gone: the restore finds the close in the blocks passed
 *   (the UTXO set says the funding is spent; the blocks from the funding's on say where) and sweeps;
 * - the same from her 24 words alone: bob hands back the backup he kept for her (peer storage) when
 *   she connects, and her channel is recovered and swept the same way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import { createMnemonic } from '../../core/wallet/mnemonic.ts';
import { BACKUP_FILE, PEER_STORAGE_NS } from '../../core/node/backups.ts';
import { RECOVERY_NS } from '../../core/node/recovery.ts';
import type { RecoveryRecord } from '../../core/node/recovery.ts';
import { kvJson } from '../../core/store/kv/types.ts';
import type { BackupSet } from '../../core/backup/scb.ts';
import type { NodeConfig } from '../../core/node/config.ts';

type Handlers = ReturnType<TestNode['node']['handlers']>;

describe('channel backups', () => {
  const nodes: TestNode[] = [];
  afterAll(async () => {
    for (const n of nodes.reverse()) await n.node.stop().catch(() => undefined);
    for (const n of nodes) await n.close().catch(() => undefined);
  });

  /** Bob hosts the chain; alice follows it over JSON-RPC (so she can be stopped and restored). */
  async function pair(name: string, words: string): Promise<{ alice: TestNode; bob: TestNode; a: Handlers; b: Handlers; chain: NodeConfig['chain']; pokeAll: (extra?: TestNode[]) => Promise<void>; chanPoint: string }> {
    const bob = await startTestNode(`${name}-bob`);
    nodes.push(bob);
    const rpc = JSON.parse(await readFile(join(bob.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const chain: NodeConfig['chain'] = { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie };
    const alice = await startTestNode(`${name}-alice`, undefined, chain, undefined, { words });
    nodes.push(alice);
    const [a, b] = [alice.node.handlers(), bob.node.handlers()];
    const pokeAll = async (extra: TestNode[] = []): Promise<void> => {
      for (const t of [alice, bob, ...extra]) if (t.node.state === 'READY') await t.node.chain.source.poke();
    };
    await b.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
    await pokeAll();
    await waitFor('alice to see her coins', async () => BigInt((await a.walletbalance({})).confirmed_balance) > 0n, 30_000);
    await a.connect({ addr: bob.uri });
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000 });
    await b.playground_mine({ blocks: 3 });
    await pokeAll();
    const active = (h: Handlers) => async () => (await h.listchannels({})).channels.find((c) => c.active)?.channel_point;
    const chanPoint = await waitFor('the channel to be active on both sides', async () => (await active(b)()) && (await active(a)()), 30_000);
    return { alice, bob, a, b, chain, pokeAll, chanPoint };
  }

  it('writes channel.backup on open and close, and a peer keeps our blob and returns it on reconnect', { timeout: 120_000 }, async () => {
    const { alice, bob, a, b, pokeAll, chanPoint } = await pair('scb', createMnemonic());
    const file = join(alice.node.config.datadir, BACKUP_FILE);
    const fileLists = async (points: string[]) => {
      const bytes = await readFile(file).catch(() => undefined);
      if (!bytes) return false;
      const v = await a.verifychanbackup({ multi_chan_backup: bytes.toString('hex') });
      return JSON.stringify(v.chan_points) === JSON.stringify(points) && bytes;
    };
    await waitFor('channel.backup to list the channel', () => fileLists([chanPoint]), 15_000);
    // The export is the file's bytes (once the channel's last change is in both); one channel's export opens too.
    const exported = (await a.exportchanbackup({ all: true })).multi_chan_backup.multi_chan_backup;
    const opened = await readFile(file);
    expect(exported).toBe(opened.toString('hex'));
    expect((await a.exportchanbackup({ chan_point: chanPoint })).multi_chan_backup.chan_points).toEqual([chanPoint]);
    // Bob's seed does not open alice's backup.
    await expect(b.verifychanbackup({ multi_chan_backup: opened.toString('hex') })).rejects.toThrow(/does not open with this wallet's seed/);

    // Bob offers storage and has a channel with alice: he keeps her blob, in his store.
    // (A later blob within a minute of the last waits before it is written: BOLT 1's rate limit.)
    const held = await waitFor('bob to keep alice\'s blob', () => bob.node.kv.get(PEER_STORAGE_NS, alice.node.nodeId), 15_000);
    expect((await a.verifychanbackup({ multi_chan_backup: Buffer.from(held).toString('hex') })).chan_points).toEqual([chanPoint]);
    // On reconnecting, bob hands it back first thing; alice opens it and finds it no newer than hers.
    const returned = alice.logs.length;
    await a.disconnect({ pub_key: bob.node.nodeId });
    // A disconnect by the user is not redialled: connect again.
    await waitFor('alice to connect to bob again', () => a.connect({ addr: bob.uri }).then(() => true), 15_000);
    await waitFor('alice to get her backup back from bob', () => alice.logs.slice(returned).some((l) => l.includes(`peer ${bob.node.nodeId} returned our channel backup (1 channel(s)), no newer than ours`)), 30_000);

    // A cooperative close rewrites the backup without the channel once it is closed.
    await a.closechannel({ chan_point: chanPoint });
    await b.playground_mine({ blocks: 1 });
    await pokeAll();
    const closed = await waitFor('channel.backup to drop the closed channel', () => fileLists([]), 30_000);
    expect(closed.equals(opened)).toBe(false);
  });

  /** channel.backup once it lists the channel with its short channel id (the block to look for its close from). */
  const backupOf = (alice: TestNode, chanPoint: string): Promise<Buffer> =>
    waitFor('channel.backup to list the confirmed channel', async () => {
      const bytes = await readFile(join(alice.node.config.datadir, BACKUP_FILE)).catch(() => undefined);
      const backups = (alice.node as unknown as { unlocked: { backup: { backups: { open(b: Uint8Array): BackupSet } } } }).unlocked.backup.backups;
      return bytes && backups.open(bytes).channels.some((c) => c.chanPoint === chanPoint && c.shortChannelId) && bytes;
    });

  it('restores from the 24 words and the backup file: the peer force-closes and our output is found in its commitment', { timeout: 180_000 }, async () => {
    const words = createMnemonic();
    const { alice, bob, b, chain, pokeAll, chanPoint } = await pair('restore', words);
    const backup = await backupOf(alice, chanPoint);
    const balance = BigInt((await alice.node.handlers().listchannels({})).channels[0]!.local_balance);

    // The disk is lost: alice is gone. A new node comes up from her words alone, on the same chain.
    await alice.close();
    nodes.splice(nodes.indexOf(alice), 1);
    const restored = await startTestNode('restore-alice2', undefined, chain, undefined, { words });
    nodes.push(restored);
    expect(restored.node.nodeId).toBe(alice.node.nodeId);
    const r = restored.node.handlers();
    expect(await r.restorechanbackup({ multi_chan_backup: backup.toString('hex') })).toEqual({ restored_chan_points: [chanPoint], already_known: [] });
    // Again: nothing new.
    expect(await r.restorechanbackup({ multi_chan_backup: backup.toString('hex') })).toEqual({ restored_chan_points: [], already_known: [chanPoint] });
    expect((await r.pendingchannels({})).waiting_close_channels.map((w) => [w.channel.channel_point, w.channel.state])).toEqual([[chanPoint, 'RECOVERING']]);
    await closedAndSwept(restored, bob, b, pokeAll, chanPoint, balance);
  });

  it('restores a channel its peer closed while the node was gone: the close is found in the blocks passed, and our output swept', { timeout: 180_000 }, async () => {
    const words = createMnemonic();
    const { alice, bob, b, chain, pokeAll, chanPoint } = await pair('gone', words);
    const backup = await backupOf(alice, chanPoint);
    const balance = BigInt((await alice.node.handlers().listchannels({})).channels[0]!.local_balance);
    await alice.close();
    nodes.splice(nodes.indexOf(alice), 1);
    // Bob gives up on alice and closes alone; blocks pass before she is restored.
    const { closing_txid } = await b.closechannel({ chan_point: chanPoint, force: true });
    await b.playground_mine({ blocks: 3 });
    const restored = await startTestNode('gone-alice2', undefined, chain, undefined, { words });
    nodes.push(restored);
    await restored.node.handlers().restorechanbackup({ multi_chan_backup: backup.toString('hex') });
    await closedAndSwept(restored, bob, b, pokeAll, chanPoint, balance, closing_txid);
  });

  it('restores from the 24 words alone: the peer hands back our backup from its storage, and the channel is recovered and swept', { timeout: 180_000 }, async () => {
    const words = createMnemonic();
    const { alice, bob, b, chain, pokeAll, chanPoint } = await pair('peerstore', words);
    await waitFor("bob to keep alice's blob", () => bob.node.kv.get(PEER_STORAGE_NS, alice.node.nodeId), 15_000);
    const balance = BigInt((await alice.node.handlers().listchannels({})).channels[0]!.local_balance);
    await alice.close();
    nodes.splice(nodes.indexOf(alice), 1);
    // No file: the restored node knows nothing of the channel until it connects to bob.
    const restored = await startTestNode('peerstore-alice2', undefined, chain, undefined, { words });
    nodes.push(restored);
    const r = restored.node.handlers();
    expect((await r.pendingchannels({})).waiting_close_channels).toEqual([]);
    await r.connect({ addr: bob.uri });
    await waitFor('the channel to be recovering from the backup bob kept', async () => ((await r.pendingchannels({})).waiting_close_channels.some((w) => w.channel.channel_point === chanPoint) ? true : undefined), 30_000);
    await closedAndSwept(restored, bob, b, pokeAll, chanPoint, balance);
  });

  /**
   * After a restore: bob force-closes at the restored node's request; its output in his commitment is
   * found to the satoshi of its balance, swept into its wallet (less the sweep's fee, to the satoshi),
   * and the recovery ends six blocks later; a restart sweeps nothing twice.
   */
  async function closedAndSwept(restored: TestNode, bob: TestNode, b: Handlers, pokeAll: (extra?: TestNode[]) => Promise<void>, chanPoint: string, balance: bigint, closedAlready?: string): Promise<void> {
    const commitmentTxid = closedAlready ?? (await askedToClose(restored, bob, b, pokeAll, chanPoint));
    await recoveredAndSwept(restored, bob, b, pokeAll, chanPoint, balance, commitmentTxid);
  }

  /** The restored node dials bob at the address in the backup and asks him to close: bob publishes his commitment, mined. */
  async function askedToClose(restored: TestNode, bob: TestNode, b: Handlers, pokeAll: (extra?: TestNode[]) => Promise<void>, chanPoint: string): Promise<string> {
    const bobChannel = () => bob.node.channels.list().find((c) => c.state.funding && `${c.state.funding.txid}:${c.state.funding.vout}` === chanPoint);
    const [fundingTxid, fundingVout] = chanPoint.split(':');
    const spendsFunding = (hexTx: string): boolean => Transaction.fromHex(hexTx).ins.some((i) => Buffer.from(i.hash).reverse().toString('hex') === fundingTxid && i.index === Number(fundingVout));
    const txid = await waitFor('a spend of the funding output in the mempool', async () => {
      for (const txid of await bob.node.chain.rpc.call<string[]>('getrawmempool')) {
        if (spendsFunding(await bob.node.chain.rpc.call<string>('getrawtransaction', txid))) return txid;
      }
      return undefined;
    }, 60_000);
    // It is bob's commitment: his channel is closing on chain and his log names it; the restored node published nothing.
    expect(bobChannel()?.state.phase).toBe('FORCE_CLOSING');
    expect(bob.logs.some((l) => l.includes(`our commitment ${txid} is published`))).toBe(true);
    expect(restored.logs.some((l) => l.includes(txid))).toBe(false);
    await b.playground_mine({ blocks: 1 });
    await pokeAll([restored]);
    return txid;
  }

  /** Our output in bob's commitment is found, swept into the wallet, and final; a restart changes nothing. */
  async function recoveredAndSwept(restored: TestNode, bob: TestNode, b: Handlers, pokeAll: (extra?: TestNode[]) => Promise<void>, chanPoint: string, balance: bigint, commitmentTxid: string): Promise<void> {
    const r = restored.node.handlers();
    const rec = await waitFor('the restored node to find our output in bob\'s commitment', async () => {
      const v = await restored.node.kv.get(RECOVERY_NS, chanPoint);
      const x = v && kvJson.decode<RecoveryRecord>(v);
      return x && x.step === 'closed_by_peer' && x;
    }, 30_000);
    expect(rec.closingTxid).toBe(commitmentTxid);
    expect(rec.toRemote?.outpoint.startsWith(`${commitmentTxid}:`)).toBe(true);
    // Bob's commitment pays alice her balance, as her node showed it before the loss.
    expect(rec.toRemote?.valueSat).toBe(balance);
    const pending = (await r.pendingchannels({})).waiting_close_channels[0]!;
    expect(pending).toMatchObject({ state: 'RECOVERING_CLOSED_BY_PEER', closing_txid: commitmentTxid, limbo_balance: balance.toString() });
    // A new channel never takes the recovered channel's key index.
    expect(await restored.node.kv.get('meta', 'channel-index').then((v) => Number(new TextDecoder().decode(v)))).toBeGreaterThan(rec.channel.keyIndex);

    // The output is swept to the wallet (stored before it left): once mined, the wallet holds it, less
    // the sweep's fee, to the satoshi; six blocks deep, the channel's recovery is done.
    const stored = async (): Promise<RecoveryRecord> => kvJson.decode<RecoveryRecord>((await restored.node.kv.get(RECOVERY_NS, chanPoint))!);
    const sweepTx = await waitFor('the sweep of our output to be published', async () => {
      const x = await stored();
      return x.sweep && (await bob.node.chain.rpc.call<string[]>('getrawmempool')).includes(x.sweep.txid) && Transaction.fromHex(x.sweep.txHex);
    }, 30_000);
    expect(sweepTx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`)).toEqual([rec.toRemote!.outpoint]);
    expect(sweepTx.outs).toHaveLength(1);
    const before = BigInt((await r.walletbalance({})).confirmed_balance);
    await b.playground_mine({ blocks: 1 });
    await pokeAll([restored]);
    await waitFor('the sweep to be in a block', async () => ((await stored()).sweep?.height !== undefined ? true : undefined), 30_000);
    await waitFor('the wallet to hold the swept coins', async () => (BigInt((await r.walletbalance({})).confirmed_balance) === before + sweepTx.outs[0]!.value ? true : undefined), 30_000);
    expect(sweepTx.outs[0]!.value).toBeLessThan(balance);
    expect(balance - sweepTx.outs[0]!.value).toBeLessThan(2_000n);
    expect((await r.pendingchannels({})).waiting_close_channels[0]).toMatchObject({ state: 'RECOVERING_CLOSED_BY_PEER' });
    await b.playground_mine({ blocks: 5 });
    await pokeAll([restored]);
    await waitFor('the recovery to be done', async () => ((await stored()).step === 'swept' ? true : undefined), 30_000);
    expect((await r.pendingchannels({})).waiting_close_channels).toEqual([]);
    // A restart sweeps nothing twice.
    await restored.restart();
    expect((await stored()).step).toBe('swept');
    expect(restored.logs.filter((l) => l.includes('sweeping our')).length).toBe(1);
  }
});
