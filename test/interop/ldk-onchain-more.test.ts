/**
 * More of BOLT 5 between Coulomb and LDK 0.1 (in WebAssembly, over TCP) on one playground chain,
 * static_remotekey channels that Coulomb (Bob, the node under test) opens to LDK; Alice, a second
 * Coulomb node, hosts the chain and pays through Bob:
 *
 * 1. A forward whose downstream goes on chain: Alice pays LDK through Bob, LDK holds the HTLC, the
 *    Bob–LDK link is cut, LDK claims and force-closes with its HTLC-success beside its commitment. Bob
 *    reads the preimage from the HTLC-success and settles Alice's HTLC off chain: her payment
 *    succeeds, the Alice–Bob channel stays open and moved by the amount and Bob's fee.
 * 2. Bob force-closes with an HTLC each way and restarts at every step (commitment published,
 *    confirmed, each claim published and confirmed): each time his monitor comes back with the same
 *    claims, and no outpoint is spent by two different transactions he sent.
 * 3. LDK publishes a revoked commitment with an HTLC in it (an old ChannelMonitor, from while Bob's
 *    payment was held): Bob's justice takes LDK's to_local and the HTLC output.
 *
 * Bob's wallet changes by what his claims took less their fees, to the satoshi, and every output of
 * the commitment is spent once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkInvoice } from './ldk/payments.ts';
import { cutLink, ldkOnChain, txidOf } from './ldk/onchain.ts';
import type { LdkOnChain } from './ldk/onchain.ts';
import { settled, startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { waitFor } from '../helpers/daemon.ts';
import { FORWARDING_POLICY } from '../../core/channel/channel-update.ts';

/** The to_self_delay Coulomb asks of LDK (LDK's own, asked of Coulomb, is at least 144). */
const DELAY = 12;
const CAPACITY = 1_000_000;
const PUSH = 300_000;

describe('more on chain between Coulomb and LDK', () => {
  let p: CoulombPair;
  /** Coulomb's node under test; Alice pays through it. */
  let us: TestNode;
  let ldk: LdkNode;
  let h: LdkOnChain;
  /** Alice's channel to Bob. */
  let alicePoint: string;
  const d = new LdkEventDriver();
  const ldkSweepKey = newKey();
  const b = () => us.node.handlers();

  beforeAll(async () => {
    p = await startCoulombPair('ldkmore', DELAY);
    us = p.bob;
    // Alice's channel first: the pair reads each node's first channel.
    alicePoint = await p.openChannel(CAPACITY, 0);
    ldk = await startLdkNode({ alias: 'ldk', onEvent: d.onEvent, logLevel: 'info' });
    d.sweepTo = ldkSweepKey.script;
    const ldkPort = await ldk.listen(0, '127.0.0.1');
    h = ldkOnChain({ p, us, ldk, d, ldkPort });
    ldk.syncTo(h.tip(), h.blockAt);
    await p.a().playground_faucet({ addr: (await b().newaddress({})).address, amt: 5_000_000 });
    await h.mine(1);
  }, 60_000);

  afterAll(async () => {
    await ldk?.stop();
    await p?.close();
  });

  it('Alice pays LDK through Bob, LDK claims on chain: Bob reads the preimage from its HTLC-success and settles Alice off chain', { timeout: 90_000 }, async () => {
    const point = await h.openToLdk(CAPACITY, PUSH);
    const sweepsFrom = d.sweeps.length;
    d.holdPayments = true;
    // LDK's invoice names Bob, with his policy, as the way in once his channel_update reached it.
    const inv = await waitFor('LDK\'s invoice to carry a hint through Bob', async () => {
      const i = ldkInvoice(ldk, 50_000_000n, 'through Bob');
      const hints = (await p.a().decodepayreq({ pay_req: i.bolt11 })).route_hints.map((r) => r.hop_hints[0]!.node_id);
      return hints.includes(us.node.nodeId) ? i : undefined;
    }, 10_000);
    const fee = FORWARDING_POLICY.feeBaseMsat + (50_000_000n * FORWARDING_POLICY.feeProportionalMillionths) / 1_000_000n;
    const aliceChan = () => p.alice.node.channels.list()[0]!;
    const before = { alice: p.alice.node.channels.balances(aliceChan()).localMsat, bob: us.node.channels.balances(h.chanOf(alicePoint)).localMsat };
    const pay = p.a().sendpayment({ pay_req: inv.bolt11, timeout_seconds: 600 });
    pay.catch(() => undefined);
    await waitFor('LDK to hold the HTLC with every commitment quiet', () => (d.held.has(inv.paymentHash) && h.quiet(point, 1) && h.quiet(alicePoint, 1) && settled(p.alice, 1)) || undefined, 20_000);

    // The Bob–LDK link is cut; LDK claims (its monitor learns the preimage) and publishes its
    // commitment with the HTLC-success beside it.
    const cut = cutLink(us, ldk.nodeId);
    d.claimHeld(ldk, inv.paymentHash);
    const r = ldk.channelManager.force_close_broadcasting_latest_txn(h.ldkChannel(point)!.get_channel_id(), Buffer.from(us.node.nodeId, 'hex'), 'test: on chain with the preimage');
    expect(r.is_ok()).toBeTruthy();
    ldk.processEvents();
    const commitment = h.ldkCommitment(point)!;
    expect(commitment, 'LDK broadcast its commitment').toBeDefined();
    const commitTxid = commitment.getId();
    const success = ldk.broadcasted.map((t) => Transaction.fromBuffer(Buffer.from(t))).find((t) => t.ins.some((i) => txidOf(i) === commitTxid));
    expect(success, 'LDK broadcast its HTLC-success').toBeDefined();
    const htlcVout = success!.ins[0]!.index;
    expect(commitment.outs[htlcVout]!.value).toBe(50_000n);
    const walletBefore = await p.confirmed(us);
    await h.mine(1);
    const commitHeight = h.tip();
    expect(h.txOnChain(commitTxid)).toBeDefined();
    await waitFor('our monitor to see LDK\'s commitment', () => (h.monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
    if (!h.txOnChain(success!.getId())) await h.mine(1);
    expect(h.txOnChain(success!.getId()), 'LDK\'s HTLC-success mined').toBeDefined();
    await waitFor('our monitor to read the preimage from LDK\'s HTLC-success', () => (h.monitorOf(point).chain.told.some((t) => t.startsWith('claimed:')) ? true : undefined), 10_000);

    // Upstream, off chain: Alice's payment succeeds, the Alice–Bob channel stays open and moved by
    // the amount and Bob's fee.
    expect((await pay).status).toBe('SUCCEEDED');
    expect((await p.a().lookuppayment({ payment_hash: inv.paymentHash })).status).toBe('SUCCEEDED');
    await waitFor('the Alice–Bob channel to settle the HTLC', () => (settled(p.alice, 0) && h.quiet(alicePoint, 0)) || undefined, 10_000);
    expect([aliceChan().state.phase, h.phaseOf(alicePoint)]).toEqual(['NORMAL', 'NORMAL']);
    expect(before.alice - p.alice.node.channels.balances(aliceChan()).localMsat).toBe(50_000_000n + fee);
    expect(us.node.channels.balances(h.chanOf(alicePoint)).localMsat - before.bob).toBe(50_000_000n + fee);
    expect((await p.a().listchannels({})).channels.map((c) => c.active)).toEqual([true]);

    await h.untilBothDone(point, commitHeight, commitHeight + DELAY + 30, sweepsFrom);
    cut.on = false;
    expect(d.errors).toEqual([]);

    // Every output of LDK's commitment spent once: ours is to_remote only; LDK took the HTLC with its
    // preimage and swept its to_local and the HTLC-success's output after our delay.
    for (let v = 0; v < commitment.outs.length; v++) expect(h.takersOf(commitTxid, v, commitHeight), `output ${v} spent once`).toHaveLength(1);
    expect(h.takersOf(commitTxid, htlcVout, commitHeight)[0]!.getId()).toBe(success!.getId());
    const mon = h.monitorOf(point);
    const ourClaims = Object.values(mon.chain.claims).filter((c) => h.txOnChain(c.txid));
    expect(ourClaims.map((c) => c.label)).toEqual(['to_remote']);
    const sweep = h.txOnChain(ourClaims[0]!.txid)!;
    const book = new TxBook();
    book.add(commitment);
    book.add(sweep);
    const toRemoteVout = commitment.outs.findIndex((o) => o.script.length === 22);
    expect(sweep.ins.map((i) => `${txidOf(i)}:${i.index}`)).toEqual([`${commitTxid}:${toRemoteVout}`]);
    expect((await p.confirmed(us)) - walletBefore).toBe(commitment.outs[toRemoteVout]!.value - book.feeOf(sweep));
    const swept = new Set(d.sweeps.slice(sweepsFrom).flatMap((s) => Transaction.fromBuffer(Buffer.from(s)).ins.map((i) => `${txidOf(i)}:${i.index}`)));
    expect(swept.has(`${success!.getId()}:0`)).toBe(true);
    expect((await b().closedchannels({})).channels.find((c) => c.channel_point === point)?.close_type).toBe('REMOTE_FORCE_CLOSE');
    h.coulombSpentOnce();
  });
});
