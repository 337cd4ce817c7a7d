/**
 * Watchtowers between Coulomb nodes on one playground chain (hosted by the tower node, which runs
 * `watchtower.active`; Alice and Bob follow it over RPC).
 *
 * Breach while offline: Alice backs up to the tower and to a second tower that is down at first. Bob's
 * data directory is copied, more payments revoke that state (each revocation a backup), the second
 * tower comes up and gets its whole backlog. Alice stops. Bob, restored from the copy, publishes the
 * revoked commitment; the tower publishes the justice transaction, which confirms while Alice is
 * still stopped, long before Bob's delay. Alice starts later: her wallet holds Bob's old to_local less
 * the justice fee at the session's feerate, and her own to_remote (swept by her monitor), to the
 * satoshi; Bob gets nothing.
 *
 * Hostile: with its only tower down, Alice online punishes a breach herself (her chain monitor needs no
 * tower) and her backups wait for the tower, none lost or counted as sent. A client that sends garbage to the tower (state updates without a session, of the wrong
 * size, out of order; bytes that do not parse) is refused or disconnected, and nothing of it is
 * stored; the tower goes on serving.
 */
import { describe, expect, it } from 'vitest';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Transaction } from 'bitcoinjs-lib';
import { tempDir, removeDir, waitFor } from '../helpers/daemon.ts';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { TxBook } from '../helpers/coulomb-pair.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';
import { dialTower } from '../../core/node/tower-link.ts';
import { TOWER_JUSTICE_NS, TOWER_UPDATES_NS } from '../../core/node/tower.ts';
import { CHAIN_HASHES } from '../../core/wire/index.ts';
import { CODE } from '../../core/tower/wire.ts';
import { BLOB_TYPE_TO_LOCAL_V0 } from '../../core/tower/sessions.ts';
import { BLOB_V0_SIZE } from '../../core/tower/blob.ts';
import { kvJson } from '../../core/store/kv/types.ts';
import { hex } from '../../core/util/bytes.ts';

const DELAY = 12;
const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };
const channel = { config: { toSelfDelay: DELAY, minimumDepth: 1 } };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Net {
  tower: TestNode;
  follow: { kind: 'bitcoind'; rpcHost: string; rpcCookie: string };
  mine(n: number, ...nodes: TestNode[]): Promise<void>;
  tip(): number;
}

async function startTower(prefix: string): Promise<Net> {
  const tower = await startTestNode(`${prefix}-tower`, peerOptions, undefined, channel, { config: { watchtower: { active: true, listen: [{ host: '127.0.0.1', port: 0 }] } } });
  const rpc = JSON.parse(await readFile(join(tower.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  return {
    tower,
    follow: { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie },
    async mine(n, ...nodes) {
      await tower.node.handlers().playground_mine({ blocks: n });
      for (const t of [tower, ...nodes]) await t.node.chain.source.poke();
    },
    tip: () => tower.node.chain.source.status().height,
  };
}

/** Over the channel between Alice and Bob: `from` pays `amt` sat to the other, and the payment succeeds. */
const payBetween = (alice: TestNode, bob: TestNode) => async (from: 'a' | 'b', amt: number): Promise<void> => {
  const [payer, payee] = from === 'a' ? [alice, bob] : [bob, alice];
  const inv = await payee.node.handlers().addinvoice({ value: amt });
  expect((await payer.node.handlers().sendpayment({ pay_req: inv.payment_request, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
};

const monitorOf = (t: TestNode): MonitorState => {
  const m = (t.node as unknown as { unlocked: { monitors: { stateOf(k: string): MonitorState | undefined } } }).unlocked.monitors;
  return m.stateOf(t.node.channels.list()[0]!.key)!;
};
const confirmed = async (t: TestNode): Promise<bigint> => BigInt((await t.node.handlers().walletbalance({})).confirmed_balance);

describe('watchtower', () => {
  it('breach while the victim is offline: the tower publishes the justice transaction and the victim finds the money in its wallet, to the satoshi', { timeout: 180_000 }, async () => {
    const net = await startTower('wt-breach');
    const { tower } = net;
    const backup = await tempDir('wt-bob-copy');
    const port2 = await freePort();
    const alice = await startTestNode('wt-breach-alice', peerOptions, net.follow, channel);
    const bob = await startTestNode('wt-breach-bob', peerOptions, net.follow, channel);
    const tower2 = await startTestNode('wt-breach-tower2', peerOptions, net.follow, channel, { config: { watchtower: { active: true, listen: [{ host: '127.0.0.1', port: port2 }] } } });
    const all = [alice, bob, tower2];
    const a = () => alice.node.handlers();
    const b = () => bob.node.handlers();
    const pay = payBetween(alice, bob);
    const bobHas = (sat: bigint) =>
      waitFor(`Bob's channel balance to be ${sat}`, async () => {
        const now = BigInt((await b().listchannels({})).channels[0]?.local_balance ?? -1);
        if (now === sat) return true;
        throw new Error(`Bob has ${now}`);
      }, 10_000);
    try {
      const uri1 = (await tower.node.handlers().towerinfo({})).uris[0]!;
      const info2 = await tower2.node.handlers().towerinfo({});
      expect(info2.uris).toEqual([`${info2.pubkey}@127.0.0.1:${port2}`]);
      // The second tower goes down before Alice adds it: her backups for it wait.
      await tower2.node.stop();
      await a().wtclient_add({ uri: uri1 });
      await a().wtclient_add({ uri: info2.uris[0]! });
      await expect(a().wtclient_add({ uri: 'not-a-tower' })).rejects.toThrow(/not a tower address/);
      expect((await a().wtclient_towers({})).towers.map((t) => t.pubkey).sort()).toEqual([(await tower.node.handlers().towerinfo({})).pubkey, info2.pubkey].sort());

      // Alice opens a channel to Bob, with payments both ways.
      await tower.node.handlers().playground_faucet({ addr: (await a().newaddress({})).address, amt: 3_000_000 });
      await net.mine(1, alice, bob);
      await a().connect({ addr: bob.uri });
      const chanPoint = (await a().openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, push_amt: 200_000, private: true })).funding_txid;
      expect(chanPoint).toBeTruthy();
      await net.mine(3, alice, bob);
      await waitFor('the channel to be active on both sides', async () => ((await a().listchannels({})).channels[0]?.active && (await b().listchannels({})).channels[0]?.active) || undefined, 30_000);
      await pay('a', 50_000);
      await pay('b', 10_000);
      await bobHas(240_000n);

      // Bob's old state, copied while he is stopped; then payments revoke it.
      await bob.restart(async () => {
        await cp(bob.datadir, backup, { recursive: true });
      });
      await a().connect({ addr: bob.uri });
      await waitFor('the channel to be active again', async () => ((await a().listchannels({})).channels[0]?.active && (await b().listchannels({})).channels[0]?.active) || undefined, 30_000);
      await pay('b', 100_000);
      await pay('a', 20_000);
      await bobHas(160_000n);

      // The tower that is up holds every backup; the one that is down holds nothing and loses nothing.
      const towerOf = async (pk: string) => (await a().wtclient_towers({})).towers.find((t) => t.pubkey === pk)!;
      const pk1 = uri1.split('@')[0]!;
      await waitFor('every backup acknowledged by the tower', async () => {
        const t = await towerOf(pk1);
        return t.num_backlog === 0 && t.sessions.length === 1 && t.sessions[0]!.num_pending_backups === 0 && t.sessions[0]!.num_backups > 0 ? true : undefined;
      }, 30_000);
      const down = await towerOf(info2.pubkey);
      expect(down.num_backlog).toBeGreaterThan(0);
      expect(down.last_error).toMatch(/could not reach|did not answer|handshake/);
      const backedUp = (await towerOf(pk1)).sessions[0]!.num_backups;
      expect(down.num_backlog).toBe(backedUp);
      const towerUpdates = await tower.node.kv.count(TOWER_UPDATES_NS);
      expect(towerUpdates).toBe(backedUp);

      // The second tower comes back (same port): the next revocation sends it its whole backlog.
      await tower2.restart();
      await pay('a', 1_000);
      await pay('b', 1_000);
      await bobHas(160_000n);
      await waitFor('the second tower to get the whole backlog', async () => {
        const t = await towerOf(info2.pubkey);
        return t.num_backlog === 0 && t.sessions[0]?.num_pending_backups === 0 ? true : undefined;
      }, 30_000);
      const stats = await a().wtclient_stats({});
      expect(stats).toMatchObject({ num_pending_backups: 0, num_failed_backups: 0, num_sessions_acquired: 2, num_sessions_exhausted: 0 });
      expect((await towerOf(info2.pubkey)).sessions[0]!.num_backups).toBe((await towerOf(pk1)).sessions[0]!.num_backups);

      // Alice stops; the breach happens while she is away.
      const aliceBefore = await confirmed(alice);
      let commitment!: Transaction;
      let justiceTxid = '';
      let justiceHex = '';
      let bobBefore = 0n;
      await alice.restart(async () => {
        await bob.restart(async () => {
          await rm(bob.datadir, { recursive: true, force: true });
          await cp(backup, bob.datadir, { recursive: true });
        });
        await bob.node.chain.source.poke();
        expect(BigInt((await b().listchannels({})).channels[0]!.local_balance)).toBe(240_000n);
        bobBefore = await confirmed(bob);
        const { closing_txid } = await b().closechannel({ chan_point: (await b().listchannels({})).channels[0]!.channel_point, force: true });
        commitment = Transaction.fromHex(await tower.node.chain.rpc.call<string>('getrawtransaction', closing_txid));
        await net.mine(1, bob, tower2);
        const commitHeight = net.tip();
        await waitFor('the tower to publish the justice transaction', async () => {
          const j = await tower.node.kv.get(TOWER_JUSTICE_NS, closing_txid);
          if (!j) return undefined;
          justiceTxid = kvJson.decode<{ justiceTxid: string }>(j).justiceTxid;
          return true;
        }, 20_000);
        justiceHex = await tower.node.chain.rpc.call<string>('getrawtransaction', justiceTxid);
        await net.mine(1, bob, tower2);
        const tx = await tower.node.chain.rpc.call<{ confirmations?: number }>('getrawtransaction', justiceTxid, true, await tower.node.chain.rpc.call<string>('getblockhash', net.tip()));
        expect(tx.confirmations).toBe(1);
        expect(net.tip()).toBeLessThan(commitHeight + DELAY);
        expect((await tower.node.handlers().towerinfo({})).num_justice_published).toBe(1);
      });

      // Alice is back: her monitor sees the breach and its to_local taken; she sweeps her to_remote.
      await alice.node.chain.source.poke();
      await waitFor('Alice to see the revoked commitment', () => (monitorOf(alice).chain.fundingSpend?.txid === commitment.getId() ? true : undefined), 20_000);
      const sweptToRemote = () => Object.values(monitorOf(alice).chain.claims).find((c) => c.label === 'to_remote' && Object.values(monitorOf(alice).chain.spends).some((sp) => sp.txid === c.txid));
      for (let i = 0; i < 10 && !sweptToRemote(); i++) await net.mine(1, alice, bob, tower2);
      expect(sweptToRemote()).toBeDefined();
      await net.mine(1, alice, bob, tower2);

      const book = new TxBook();
      book.add(commitment);
      const justice = book.add(justiceHex);
      const toRemoteSweep = book.add(sweptToRemote()!.txHex);
      const outs = commitment.outs.map((o) => o.value).filter((v) => v !== 330n);
      // The revoked commitment: two anchors, Bob's to_local as in his copy, and Alice's to_remote.
      expect(outs).toHaveLength(2);
      expect(outs).toContain(240_000n);
      // The justice spends Bob's old to_local (240,000 sat, he paid no commitment fee) into Alice's wallet.
      expect(justice.ins).toHaveLength(1);
      expect(book.inputsOf(justice)).toBe(240_000n);
      expect(justice.outs).toHaveLength(1);
      const aliceAfter = await confirmed(alice);
      expect(aliceAfter).toBe(aliceBefore + justice.outs[0]!.value + toRemoteSweep.outs[0]!.value);
      expect(aliceAfter).toBe(aliceBefore + outs.reduce((s, v) => s + v, 0n) - book.feeOf(justice) - book.feeOf(toRemoteSweep));
      // Alice's own justice attempt (while catching up) never replaced the tower's: to_local was spent once.
      book.spentOnce();
      expect(Object.values(monitorOf(alice).chain.spends).some((sp) => sp.txid === justiceTxid)).toBe(true);
      // Bob got nothing back from the channel; at most his commitment's CPFP cost him.
      const bobTxs = (await b().listchaintxns({})).transactions.filter((t) => t.label.includes('anchor CPFP')).map((t) => Transaction.fromHex(t.raw_tx_hex));
      for (const t of (await b().listchaintxns({})).transactions) book.add(t.raw_tx_hex);
      expect(await confirmed(bob)).toBe(bobBefore - bobTxs.reduce((s, t) => s + book.feeOf(t), 0n));
    } finally {
      for (const t of all) await t.close().catch(() => undefined);
      await tower.close();
      await removeDir(backup);
    }
  });

  it('hostile: with its only tower down, the victim online punishes the breach itself, and the backlog waits for the tower', { timeout: 150_000 }, async () => {
    const net = await startTower('wt-down');
    const backup = await tempDir('wt-down-bob-copy');
    const alice = await startTestNode('wt-down-alice', peerOptions, net.follow, channel);
    const bob = await startTestNode('wt-down-bob', peerOptions, net.follow, channel);
    const a = () => alice.node.handlers();
    const b = () => bob.node.handlers();
    const pay = payBetween(alice, bob);
    const active = () => waitFor('the channel to be active on both sides', async () => ((await a().listchannels({})).channels[0]?.active && (await b().listchannels({})).channels[0]?.active) || undefined, 30_000);
    try {
      // A tower nobody answers for: a key of no one, a port nothing listens on.
      const dead = `02${'11'.repeat(32)}@127.0.0.1:${await freePort()}`;
      await a().wtclient_add({ uri: dead });
      await net.tower.node.handlers().playground_faucet({ addr: (await a().newaddress({})).address, amt: 3_000_000 });
      await net.mine(1, alice, bob);
      await a().connect({ addr: bob.uri });
      await a().openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, push_amt: 200_000, private: true });
      await net.mine(3, alice, bob);
      await active();
      await pay('a', 50_000);
      await bob.restart(async () => {
        await cp(bob.datadir, backup, { recursive: true });
      });
      await a().connect({ addr: bob.uri });
      await active();
      await pay('b', 100_000);
      await waitFor('the revocations queued for the tower that is down', async () => ((await a().wtclient_stats({})).num_pending_backups > 0 ? true : undefined), 10_000);
      const queued = (await a().wtclient_stats({})).num_pending_backups;
      expect(await a().wtclient_stats({})).toMatchObject({ num_backups: 0, num_failed_backups: 0 });
      expect((await a().wtclient_towers({})).towers[0]!.last_error).toMatch(/could not reach/);

      // Bob, from the copy, publishes the revoked commitment while Alice is online.
      await bob.restart(async () => {
        await rm(bob.datadir, { recursive: true, force: true });
        await cp(backup, bob.datadir, { recursive: true });
      });
      await bob.node.chain.source.poke();
      const { closing_txid } = await b().closechannel({ chan_point: (await b().listchannels({})).channels[0]!.channel_point, force: true });
      await net.mine(1, alice, bob);
      const commitHeight = net.tip();
      await waitFor('Alice to see the revoked commitment', () => (monitorOf(alice).chain.fundingSpend?.txid === closing_txid ? true : undefined), 20_000);
      const ma = () => monitorOf(alice);
      const justiceConfirmed = () => Object.values(ma().chain.claims).some((c) => c.label === 'justice' && Object.values(ma().chain.spends).some((sp) => sp.txid === c.txid));
      while (!justiceConfirmed()) {
        if (net.tip() >= commitHeight + DELAY - 1) throw new Error('Alice\'s own justice did not confirm before Bob\'s delay');
        await net.mine(1, alice, bob);
      }
      // Nothing of the backlog was lost or counted as sent.
      expect((await a().wtclient_stats({})).num_pending_backups).toBeGreaterThanOrEqual(queued);
      expect((await a().wtclient_stats({})).num_backups).toBe(0);
    } finally {
      for (const t of [alice, bob]) await t.close().catch(() => undefined);
      await net.tower.close();
      await removeDir(backup);
    }
  });

  it('hostile: garbage state updates are refused or disconnected, nothing of them is stored, and the tower serves on', { timeout: 60_000 }, async () => {
    const { tower } = await startTower('wt-hostile');
    try {
      const info = await tower.node.handlers().towerinfo({});
      const [host, port] = info.listeners[0]!.split(':');
      const dial = () => dialTower({ host: host!, port: Number(port), towerPubkey: hex.decode(info.pubkey), localSecret: new Uint8Array(randomBytes(32)), timeoutMs: 5000 });
      const chainHash = CHAIN_HASHES.regtest;
      const blob = () => new Uint8Array(randomBytes(BLOB_V0_SIZE));
      const hint = () => new Uint8Array(randomBytes(16));

      // A session of another chain is refused.
      const other = await dial();
      const refused = await other.request({ type: 'init', features: new Uint8Array(0), chainHash: new Uint8Array(32) }, 5000);
      expect(refused).toMatchObject({ type: 'error', code: CODE.permanentFailure });

      const l = await dial();
      expect((await l.request({ type: 'init', features: new Uint8Array(0), chainHash }, 5000)).type).toBe('init');
      // No session yet.
      expect(await l.request({ type: 'state_update', seqNum: 1, lastApplied: 0, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ type: 'state_update_reply', code: CODE.sessionNotFound });
      // Sessions the tower does not offer.
      expect(await l.request({ type: 'create_session', blobType: 2, maxUpdates: 10, rewardBase: 0, rewardRate: 0, sweepFeeRate: 2500n }, 5000)).toMatchObject({ code: CODE.rejectBlobType });
      expect(await l.request({ type: 'create_session', blobType: BLOB_TYPE_TO_LOCAL_V0, maxUpdates: 60_000, rewardBase: 0, rewardRate: 0, sweepFeeRate: 2500n }, 5000)).toMatchObject({ code: CODE.rejectMaxUpdates });
      expect(await l.request({ type: 'create_session', blobType: BLOB_TYPE_TO_LOCAL_V0, maxUpdates: 2, rewardBase: 0, rewardRate: 0, sweepFeeRate: 2500n }, 5000)).toMatchObject({ code: CODE.ok });
      // Wrong sizes, out of order, a client claiming what the tower never applied, past the session.
      expect(await l.request({ type: 'state_update', seqNum: 1, lastApplied: 0, isComplete: 0, hint: hint(), blob: new Uint8Array(5000) }, 5000)).toMatchObject({ code: CODE.invalidBlob });
      expect(await l.request({ type: 'state_update', seqNum: 2, lastApplied: 0, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ code: CODE.seqNumOutOfOrder, lastApplied: 0 });
      expect(await l.request({ type: 'state_update', seqNum: 1, lastApplied: 1, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ code: CODE.clientBehind });
      expect(await tower.node.kv.count(TOWER_UPDATES_NS)).toBe(0);
      // Two good ones fill the session; a third is refused.
      expect(await l.request({ type: 'state_update', seqNum: 1, lastApplied: 0, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ code: CODE.ok, lastApplied: 1 });
      expect(await l.request({ type: 'state_update', seqNum: 2, lastApplied: 1, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ code: CODE.ok, lastApplied: 2 });
      expect(await l.request({ type: 'state_update', seqNum: 3, lastApplied: 2, isComplete: 0, hint: hint(), blob: blob() }, 5000)).toMatchObject({ code: CODE.maxUpdatesExceeded });
      expect(await tower.node.kv.count(TOWER_UPDATES_NS)).toBe(2);
      // Bytes that do not parse: the tower hangs up on this client only.
      l.conn.send(Uint8Array.of(0x02, 0x5c, 1, 2, 3));
      await waitFor('the tower to close the connection', () => (l.closed ? true : undefined), 5000);
      const again = await dial();
      expect((await again.request({ type: 'init', features: new Uint8Array(0), chainHash }, 5000)).type).toBe('init');
      expect(await again.request({ type: 'delete_session' }, 5000)).toMatchObject({ code: CODE.sessionNotFound });
      again.close('done');
      expect((await tower.node.handlers().towerinfo({})).num_updates).toBe(2);
      // Random blobs on a breach are nothing: a block with no matching hint publishes nothing.
      await tower.node.handlers().playground_mine({ blocks: 1 });
      await tower.node.chain.source.poke();
      expect((await tower.node.handlers().towerinfo({})).num_justice_published).toBe(0);
    } finally {
      await tower.close();
    }
  });
});
