/**
 * Disk lost (issue 13): Alice's node has a channel to Bob (Coulomb) and one to a real LDK 0.1 node,
 * each with payments settled both ways and one HTLC in flight: hers to LDK (LDK holds the payment),
 * and Bob's to her (her node holds it).
 * Her data directory is deleted. A new node restored from her 24 words (rescanning the chain) and the
 * channel.backup file she had exported asks each peer to close with channel_reestablish numbers zero;
 * each peer publishes its latest commitment, and her output in each is swept into her wallet.
 *
 * What comes back, read from the transactions on chain, to the satoshi:
 * - each commitment pays her exactly her settled balance: the capacity, less what she pushed and paid,
 *   plus what she was paid, less the commitment's fee and anchors (hers to pay as the funder; the fee
 *   read as the funding output less the commitment's outputs); on the LDK channel less the HTLC in
 *   flight too;
 * - her wallet ends with what it held before the loss plus those outputs, less each sweep's fee.
 *
 * HTLCs in flight are not protected by a backup (no static backup can be: they change with every
 * update), and the restored node touches nothing of a commitment but its to_remote output:
 * - hers to LDK: LDK claimed the payment while she was gone, so it knows the preimage; its commitment
 *   carries the HTLC, and LDK takes it with its HTLC-success transaction. The 50,000 sat are LDK's, as
 *   for a payment that went through (the restored node has no record of it);
 * - Bob's to her: the preimage was lost with her disk. Bob's commitment carries the HTLC, Bob times it
 *   out at its expiry with his HTLC-timeout, and his payment fails: the 40,000 sat go back to Bob.
 *
 * LDK 0.1 answers the recovery channel_reestablish by failing the channel ("Peer sent an invalid
 * channel_reestablish to force close in a non-standard way") and publishing its latest commitment,
 * which is what BOLT 2 asks; the test pins that reason.
 *
 * The chain is a standalone playground (it outlives Alice's node); LDK is fed every block and its
 * broadcasts go into the chain's mempool. Restoring from peer storage alone between Coulomb nodes is
 * covered by channel-backup.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Transaction } from 'bitcoinjs-lib';
import { startTestChain } from '../helpers/chain.ts';
import type { TestChain } from '../helpers/chain.ts';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { holdIncoming } from '../helpers/coulomb-pair.ts';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkInvoice, ldkPay } from './ldk/payments.ts';
import { hexOf, pumpLdkBroadcasts, txidOf } from './ldk/onchain.ts';
import { createMnemonic } from '../../core/wallet/mnemonic.ts';
import { BACKUP_FILE } from '../../core/node/backups.ts';
import { RECOVERY_NS } from '../../core/node/recovery.ts';
import type { RecoveryRecord } from '../../core/node/recovery.ts';
import { kvJson } from '../../core/store/kv/types.ts';
import type { BackupSet } from '../../core/backup/scb.ts';
import { commitmentsOf } from '../../core/channel/updates.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { NodeConfig } from '../../core/node/config.ts';

const CAPACITY = 1_000_000n;
const PUSH = 300_000n;
const HTLC_SAT = 50_000n;
const BOB_HTLC_SAT = 40_000n;
const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('disk lost: restore from the 24 words and the backup file', () => {
  let chain: TestChain;
  let follow: NodeConfig['chain'];
  let alice: TestNode;
  let bob: TestNode;
  let restored: TestNode | undefined;
  let ldk: LdkNode;
  let ldkPort: number;
  const d = new LdkEventDriver();
  const words = createMnemonic();
  const channel = { config: { toSelfDelay: 12, minimumDepth: 1 } };
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };
  const rejected: string[] = [];

  const pg = () => chain.pg.chain;
  const tip = (): number => pg().height;
  const pump = (): void => pumpLdkBroadcasts(ldk, pg(), rejected);
  const live = (): TestNode[] => [alice, bob, restored].filter((t): t is TestNode => t !== undefined && t.node.state === 'READY');
  const sync = async (): Promise<void> => {
    for (const t of live()) await t.node.chain.source.poke();
    ldk.syncTo(tip(), (h) => pg().entries[h]!.block.toBuffer());
    pump();
  };
  const mine = async (n: number): Promise<void> => {
    pump();
    await chain.mine(n);
    await sync();
  };
  const txOnChain = (txid: string): Transaction | undefined => {
    const h = pg().txHeight(txid);
    return h === undefined ? undefined : pg().entries[h]!.block.transactions!.find((t) => t.getId() === txid);
  };
  const confirmed = async (h: ApiHandlers): Promise<bigint> => BigInt((await h.walletbalance({})).confirmed_balance);
  const chanWith = (t: TestNode, peer: string) => t.node.channels.list().find((c) => c.peer === peer && c.state.phase === 'NORMAL')!;
  /** Both commitments of the channel hold `n` HTLCs and nothing is being changed. */
  const quiet = (t: TestNode, peer: string, n: number): boolean => {
    const c = commitmentsOf(chanWith(t, peer).state);
    const changes = [...Object.values(c.localChanges), ...Object.values(c.remoteChanges)] as unknown[][];
    return c.localSpec.htlcs.length === n && c.remoteSpec.htlcs.length === n && !c.remoteNext && changes.every((l) => l.length === 0);
  };

  beforeAll(async () => {
    chain = await startTestChain();
    follow = { kind: 'bitcoind', rpcHost: chain.pg.url.replace('http://', ''), rpcUser: chain.pg.rpcuser, rpcPass: chain.pg.rpcpassword };
    alice = await startTestNode('disklost-alice', peerOptions, follow, channel, { words });
    bob = await startTestNode('disklost-bob', peerOptions, follow, channel);
    ldk = await startLdkNode({ alias: 'ldk', onEvent: d.onEvent, logLevel: 'info' });
    d.sweepTo = newKey().script;
    ldkPort = await ldk.listen(0, '127.0.0.1');
    await sync();
  }, 60_000);

  afterAll(async () => {
    await ldk?.stop();
    for (const t of [restored, bob]) await t?.close().catch(() => undefined);
    await chain?.stop();
  });

  it('brings every channel\'s settled balance back on chain into the wallet; HTLCs in flight end with the peer (claimed with its preimage, or timed out)', { timeout: 150_000 }, async () => {
    const birthday = tip();
    const a = alice.node.handlers();
    const b = bob.node.handlers();
    for (const amt of [1_500_000, 1_500_000]) await chain.rpc.call('sendtoaddress', (await a.newaddress({})).address, amt / 1e8);
    await mine(1);
    await waitFor('alice to see her coins', async () => ((await confirmed(a)) === 3_000_000n ? true : undefined), 20_000);

    // Two channels, both opened by Alice with a push: to Bob, and to LDK (which asks six confirmations).
    await a.connect({ addr: bob.uri });
    await a.connect({ addr: `${ldk.nodeId}@127.0.0.1:${ldkPort}` });
    const toBob = await a.openchannel({ node_key: bob.node.nodeId, local_amt: Number(CAPACITY), push_amt: Number(PUSH), private: true });
    const toLdk = await a.openchannel({ node_key: ldk.nodeId, local_amt: Number(CAPACITY), push_amt: Number(PUSH), private: true });
    await mine(6);
    const pointOf = async (txid: string) => (await waitFor(`channel ${txid.slice(0, 8)} to be active`, async () => (await a.listchannels({})).channels.find((c) => c.channel_point.startsWith(txid) && c.active), 30_000)).channel_point;
    const bobPoint = await pointOf(toBob.funding_txid);
    const ldkPoint = await pointOf(toLdk.funding_txid);
    await waitFor('LDK to use the channel', () => ldk.channelManager.list_channels().some((c) => c.get_is_usable()) || undefined, 20_000);
    await waitFor('bob to use the channel', async () => (await b.listchannels({})).channels.some((c) => c.active) || undefined, 20_000);

    // Settled both ways on each channel.
    const pay = async (payer: ApiHandlers, payee: ApiHandlers, sat: number) => {
      const r = await payer.sendpayment({ pay_req: (await payee.addinvoice({ value: sat })).payment_request, timeout_seconds: 60 });
      expect(r.status).toBe('SUCCEEDED');
    };
    await pay(a, b, 20_000);
    await pay(b, a, 7_000);
    expect((await a.sendpayment({ pay_req: ldkInvoice(ldk, 15_000_000n, 'settled').bolt11, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
    const back = await a.addinvoice({ value: 9_000 });
    ldkPay(ldk, back.payment_request);
    await d.until('LDK to see its payment to Alice sent', () => d.sent.has(back.r_hash), 30_000);

    // In flight: Alice pays LDK, and LDK holds the payment (its HTLC stays in both commitments).
    d.holdPayments = true;
    const held = ldkInvoice(ldk, HTLC_SAT * 1000n, 'in flight');
    a.sendpayment({ pay_req: held.bolt11, timeout_seconds: 600 }).catch(() => undefined);
    await d.until('LDK to hold the payment', () => d.held.has(held.paymentHash), 30_000);
    // And Bob pays Alice, whose node holds the HTLC (her invoice's preimage is in her data directory).
    const heldByAlice = holdIncoming(alice);
    const bobsInvoice = await a.addinvoice({ value: Number(BOB_HTLC_SAT), cltv_expiry: 40 });
    b.sendpayment({ pay_req: bobsInvoice.payment_request, timeout_seconds: 600 }).catch(() => undefined);
    await waitFor('both channels quiet, each HTLC in both commitments', () => (heldByAlice.events.length === 1 && quiet(alice, ldk.nodeId, 1) && quiet(alice, bob.node.nodeId, 1)) || undefined, 20_000);

    // What Alice had when the disk was lost: her wallet, each channel's balance, the backup file she exported.
    const walletBefore = await confirmed(a);
    const balances = new Map((await a.listchannels({})).channels.map((c) => [c.channel_point, BigInt(c.local_balance)]));
    const backup = await waitFor('channel.backup to list both channels with their block heights', async () => {
      const bytes = await readFile(join(alice.datadir, BACKUP_FILE)).catch(() => undefined);
      const set = bytes && (alice.node as unknown as { unlocked: { backup: { backups: { open(b: Uint8Array): BackupSet } } } }).unlocked.backup.backups.open(bytes);
      return set && [bobPoint, ldkPoint].every((p) => set.channels.some((c) => c.chanPoint === p && c.shortChannelId)) && bytes;
    });

    // The disk is lost: the node stops and its data directory is deleted.
    await alice.close();
    await ldk.waitForPeerGone(alice.node.nodeId);
    // LDK claims the payment it held while she is gone: its monitor has the preimage; she never hears it.
    d.claimHeld(ldk, held.paymentHash);

    restored = await startTestNode('disklost-alice2', peerOptions, follow, channel, { words, restoreFrom: birthday });
    expect(restored.node.nodeId).toBe(alice.node.nodeId);
    const r = restored.node.handlers();
    await waitFor('the restored wallet to find its coins again', async () => ((await confirmed(r)) === walletBefore ? true : undefined), 30_000);
    const res = await r.restorechanbackup({ multi_chan_backup: backup.toString('hex') });
    expect(res.restored_chan_points.sort()).toEqual([bobPoint, ldkPoint].sort());

    // Each peer publishes its latest commitment (LDK's with its HTLC-success beside it).
    const spendOf = (point: string) => {
      const [txid, vout] = point.split(':');
      return [...pg().mempool.values()].find((e) => e.tx.ins.some((i) => txidOf(i) === txid && i.index === Number(vout)))?.txid;
    };
    const commitments = await waitFor('both peers to publish their commitments', () => {
      pump();
      const c = [spendOf(bobPoint), spendOf(ldkPoint)];
      return c.every(Boolean) && (c as string[]);
    }, 60_000);
    // The restored node holds no commitment of its own: nothing of it could have been published.
    expect(restored.node.channels.list()).toEqual([]);
    await d.until('LDK to tell of the channel closed', () => d.closed.length > 0);
    expect(d.closed.map((c) => c.reason)).toEqual([expect.stringContaining('Peer sent an invalid channel_reestablish to force close in a non-standard way')]);
    await mine(1);

    const recordOf = async (point: string): Promise<RecoveryRecord | undefined> => {
      const v = await restored!.node.kv.get(RECOVERY_NS, point);
      return v && kvJson.decode<RecoveryRecord>(v);
    };
    const sweeps = await waitFor('both outputs found and their sweeps in the mempool', async () => {
      const recs = await Promise.all([bobPoint, ldkPoint].map(recordOf));
      return recs.every((x) => x?.sweep && pg().mempool.has(x.sweep.txid)) && (recs as RecoveryRecord[]);
    }, 30_000);
    await mine(1);
    await waitFor('the sweeps to be in a block', async () => ((await Promise.all([bobPoint, ldkPoint].map(recordOf))).every((x) => x?.sweep?.height !== undefined) ? true : undefined), 30_000);

    // Read from the chain: each commitment, our output in it, and its sweep.
    let expected = walletBefore;
    for (const [i, point] of [bobPoint, ldkPoint].entries()) {
      const rec = sweeps[i]!;
      // Bob's HTLC to her was never hers: it is out of his balance, not in hers.
      const [paid, received, inFlight] = point === bobPoint ? [20_000n, 7_000n, 0n] : [15_000n, 9_000n, HTLC_SAT];
      const commitment = txOnChain(commitments[i]!)!;
      expect(rec.closingTxid).toBe(commitment.getId());
      // The funder pays the commitment's fee and, on an anchors channel, both 330-sat anchors.
      const anchors = commitment.outs.filter((o) => o.value === 330n).length;
      expect(anchors).toBe(commitment.outs.length > 3 ? 2 : 0);
      const commitFee = CAPACITY - commitment.outs.reduce((s, o) => s + o.value, 0n) + 330n * BigInt(anchors);
      const settled = CAPACITY - PUSH - paid + received - inFlight - commitFee;
      const [ctxid, cvout] = rec.toRemote!.outpoint.split(':') as [string, string];
      expect(ctxid).toBe(commitment.getId());
      expect(commitment.outs[Number(cvout)]!.value).toBe(settled);
      expect(balances.get(point)).toBe(settled);
      const sweep = txOnChain(rec.sweep!.txid)!;
      expect(sweep.ins.map((x) => `${txidOf(x)}:${x.index}`)).toEqual([rec.toRemote!.outpoint]);
      const sweepFee = settled - sweep.outs[0]!.value;
      expect(sweepFee > 0n && sweepFee < 2_000n).toBe(true);
      expected += settled - sweepFee;
    }
    await waitFor('the wallet to hold both sweeps', async () => ((await confirmed(r)) === expected ? true : undefined), 30_000);

    // The HTLC in flight: an output of LDK's commitment worth exactly the payment, taken by LDK's
    // HTLC-success (LDK knew the preimage); the restored node spent nothing of LDK's commitment but its output.
    const ldkCommitment = txOnChain(commitments[1]!)!;
    const htlcVout = ldkCommitment.outs.findIndex((o) => o.value === HTLC_SAT);
    expect(htlcVout).toBeGreaterThanOrEqual(0);
    const htlcTaker = await waitFor('LDK to take the HTLC with its preimage', async () => {
      await mine(1);
      for (let h = tip(); h > tip() - 3; h--) {
        const t = pg().entries[h]!.block.transactions!.find((x) => x.ins.some((i) => txidOf(i) === ldkCommitment.getId() && i.index === htlcVout));
        if (t) return t;
      }
      return undefined;
    }, 30_000, 200);
    expect(htlcTaker.getId()).not.toBe(sweeps[1]!.sweep!.txid);
    expect(htlcTaker.ins[0]!.witness.some((w) => hexOf(w).length === 64 && sha256hex(w) === held.paymentHash)).toBe(true);

    // Six blocks deep, both recoveries are done and the wallet holds what came back.
    await mine(5);
    await waitFor('both recoveries done', async () => ((await Promise.all([bobPoint, ldkPoint].map(recordOf))).every((x) => x?.step === 'swept') ? true : undefined), 30_000);

    // Bob's HTLC to her: an output of his commitment worth exactly the payment, which he times out at
    // its expiry (not before), and his payment fails.
    const bobCommitment = txOnChain(commitments[0]!)!;
    const bobHtlcVout = bobCommitment.outs.findIndex((o) => o.value === BOB_HTLC_SAT);
    expect(bobHtlcVout).toBeGreaterThanOrEqual(0);
    const expiry = heldByAlice.events[0]!.type === 'locked_in' ? heldByAlice.events[0]!.htlc.cltvExpiry : -1;
    const timeout = await waitFor('Bob to time out his HTLC to Alice', async () => {
      const spender = [...pg().mempool.values()].find((e) => e.tx.ins.some((i) => txidOf(i) === bobCommitment.getId() && i.index === bobHtlcVout));
      if (spender) return spender.tx;
      if (tip() > expiry + 5) throw new Error(`not timed out at ${tip()}, expiry ${expiry}`);
      await mine(tip() + 5 < expiry ? 5 : 1);
      return undefined;
    }, 60_000, 50);
    expect(timeout.locktime).toBe(expiry);
    expect(timeout.getId()).not.toBe(sweeps[0]!.sweep!.txid);
    // Bob fails the payment once his timeout is final (six blocks deep).
    const timedOutAt = tip() + 1;
    await waitFor("Bob's payment to fail", async () => {
      if ((await b.lookuppayment({ payment_hash: bobsInvoice.r_hash })).status === 'FAILED') return true;
      if (tip() >= timedOutAt + 8) throw new Error(`payment not failed ${tip() - timedOutAt} blocks after the timeout was mined`);
      await mine(1);
      return undefined;
    }, 30_000, 50);
    expect(txOnChain(timeout.getId())).toBeDefined();
    expect((await r.pendingchannels({})).waiting_close_channels).toEqual([]);
    expect(await confirmed(r)).toBe(expected);
    expect(rejected.filter((x) => !/already|spent|conflict/i.test(x))).toEqual([]);
  });
});
