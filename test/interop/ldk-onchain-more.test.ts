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
 * 3. LDK publishes a revoked commitment with an HTLC each way in it (an old ChannelMonitor, from while
 *    both payments were held): one justice transaction of Bob's takes LDK's to_local and both HTLC
 *    outputs before LDK's delay, and Bob sweeps his to_remote; LDK gets nothing.
 * 4. Bob, restored from a copy of his data directory taken while an HTLC each way was held, and kept
 *    away from LDK, publishes that revoked commitment and claims N (his invoice's) with HTLC-success
 *    before LDK sees the block: LDK's justice takes to_local and the other HTLC output, and the
 *    HTLC-success's output at the second stage; Bob gets nothing.
 * 5. LDK publishes a revoked commitment and its HTLC-success in one block (an old ChannelMonitor that
 *    already knew the preimage): Bob's one justice takes to_local and the HTLC-success's output, and
 *    the justice he first planned from the commitment alone (with the HTLC output in it) never goes
 *    out; Bob restarts whenever his monitor moved (the justice published, confirmed, final) and
 *    comes back with the same claims. LDK 0.1.0 takes that commitment for its previous one and later
 *    hands its outputs over as SpendableOutputs, though the justice spent them; its sweeps of them
 *    are refused.
 *
 * Bob's wallet changes by what his claims took less their fees, to the satoshi, and every output of
 * the commitment is spent once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkInvoice, ldkPay } from './ldk/payments.ts';
import { cutLink, hexOf, ldkOnChain, txidOf } from './ldk/onchain.ts';
import type { LdkOnChain } from './ldk/onchain.ts';
import { holdIncoming, settled, startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.ts';
import { cp, rm } from 'node:fs/promises';
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
  it('Bob force-closes with an HTLC each way and restarts at every step: the same claims each time, nothing sent twice, to the satoshi', { timeout: 120_000 }, async () => {
    const point = await h.openToLdk(CAPACITY, PUSH);
    const sweepsFrom = d.sweeps.length;
    // E from Bob to LDK, held by LDK and never claimed (Bob times it out); G from LDK to Bob, settled
    // by Bob after the link is cut (he claims it with the preimage).
    d.holdPayments = true;
    const heldUs = holdIncoming(us);
    const invE = ldkInvoice(ldk, 22_000_000n, 'E');
    const payE = b().sendpayment({ pay_req: invE.bolt11, timeout_seconds: 600 });
    payE.catch(() => undefined);
    const invG = await b().addinvoice({ value: 32_000, cltv_expiry: 40 });
    ldkPay(ldk, invG.payment_request, { maxTotalCltvExpiryDelta: 45 });
    await waitFor('two HTLCs held, the commitments quiet', () => (d.held.has(invE.paymentHash) && heldUs.events.length === 1 && h.quiet(point, 2)) || undefined, 20_000);
    cutLink(us, ldk.nodeId);
    heldUs.release(() => true);
    await waitFor('our monitor to know the preimage of G', () => (h.monitorOf(point).data.preimages.length === 1 ? true : undefined), 10_000);
    // LDK stays out of reach while we restart: nothing it says changes what is on chain.
    ldk.refuseInbound = true;
    try {
      const restarts: string[] = [];
      /** Each of our claims (by label) and how far it was at a restart: published (in the mempool) or confirmed. */
      const stages = new Set<string>();
      const restartAt = async (step: string): Promise<void> => {
        const at = Object.values(h.monitorOf(point).chain.claims).map((c) => `${c.label.replace(/\d+/g, 'n')} ${h.txOnChain(c.txid) ? 'confirmed' : h.pg().mempool.has(c.txid) ? 'published' : 'planned'}`);
        if (await h.restartOnChange(point, step)) {
          restarts.push(step);
          for (const x of at) stages.add(x);
        }
      };
      const before = await p.confirmed(us);
      const { closing_txid: commitTxid } = await b().closechannel({ chan_point: point, force: true });
      await waitFor('our commitment in the mempool', () => (h.pg().mempool.has(commitTxid) ? true : undefined), 10_000);
      await restartAt('commitment published');
      await h.mine(1);
      const commitHeight = h.tip();
      const commitment = h.txOnChain(commitTxid)!;
      expect(commitment, 'our commitment mined').toBeDefined();
      await waitFor('our monitor to see our commitment', () => (h.monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
      await restartAt('commitment confirmed');
      const pending = (await b().pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point)!;
      const ldkDelay = pending.maturity_height - commitHeight;
      expect(ldkDelay).toBeGreaterThanOrEqual(144);
      const expiryE = h.lastExpiry(point);

      // Blocks come in one call up to a block before the next height something is due at, then one
      // at a time while any claim of ours waits in the mempool; we restart whenever the monitor moved.
      while (h.phaseOf(point) !== 'CLOSED') {
        if (h.tip() > expiryE + ldkDelay + 20) throw new Error(`not done at ${h.tip()}: ${h.describe(point)}; restarts ${restarts.join(', ')}`);
        const pend = (await b().pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point);
        const due = [pend?.maturity_height ?? 0, ...(pend?.pending_htlcs ?? []).map((x) => x.maturity_height), expiryE].filter((x) => x > h.tip());
        const waiting = Object.values(h.monitorOf(point).chain.claims).some((c) => h.pg().mempool.has(c.txid));
        const n = waiting || due.length === 0 ? 1 : Math.max(1, Math.min(...due) - h.tip() - 1);
        await h.mine(n);
        await waitFor('our monitor to see the tip', () => (h.monitorOf(point).chain.height === h.tip() ? true : undefined), 10_000);
        if (h.phaseOf(point) !== 'CLOSED') await restartAt(`block ${h.tip()}`);
      }
      // LDK sweeps its to_remote.
      await h.untilBothDone(point, commitHeight, h.tip() + 30, sweepsFrom);
      // Restarted with the commitment published and confirmed, and with each claim published and confirmed.
      expect(restarts.slice(0, 2)).toEqual(['commitment published', 'commitment confirmed']);
      const claimKinds = ['htlc n output', 'htlc-success n', 'htlc-timeout n', 'our commitment n', 'to_local'];
      expect([...stages].filter((x) => !x.endsWith('planned')).sort()).toEqual(claimKinds.flatMap((k) => [`${k} confirmed`, `${k} published`]));
      h.coulombSpentOnce();

      expect((await b().lookuppayment({ payment_hash: invE.paymentHash })).status).toBe('FAILED');
      await d.until('LDK to see G paid', () => d.sent.has(invG.r_hash));
      d.held.delete(invE.paymentHash);
      expect(d.errors).toEqual([]);

      // Ours: to_local after LDK's delay, G by HTLC-success and E by HTLC-timeout, each second-stage
      // output after the delay; LDK's: to_remote. Each output spent once, our wallet to the satoshi.
      const ourClaims = Object.values(h.monitorOf(point).chain.claims).filter((c) => !c.id.startsWith('commitment:') && h.txOnChain(c.txid));
      expect(ourClaims.map((c) => c.label.replace(/\d+/g, 'n')).sort()).toEqual(['htlc n output', 'htlc n output', 'htlc-success n', 'htlc-timeout n', 'to_local']);
      const ourTxids = new Set(ourClaims.map((c) => c.txid));
      const taken = commitment.outs.map((o, v) => {
        const t = h.takersOf(commitTxid, v, commitHeight);
        expect(t, `output ${v} spent once`).toHaveLength(1);
        return { value: o.value, ours: ourTxids.has(t[0]!.getId()) };
      });
      const toRemote = commitment.outs.find((o) => o.script.length === 22)!.value;
      expect(taken.filter((o) => !o.ours).map((o) => o.value)).toEqual([toRemote]);
      const fromCommitment = taken.filter((o) => o.ours).reduce((s, o) => s + o.value, 0n);
      const book = new TxBook();
      book.add(commitment);
      const ourTxs = [...ourTxids].map((id) => h.txOnChain(id)!).sort((x, y) => h.pg().txHeight(x.getId())! - h.pg().txHeight(y.getId())!);
      for (const t of ourTxs) book.add(t);
      book.spentOnce();
      const fees = ourTxs.reduce((s, t) => s + book.feeOf(t), 0n);
      expect(await p.confirmed(us)).toBe(before + fromCommitment - fees);
      expect((await b().closedchannels({})).channels.find((c) => c.channel_point === point)?.close_type).toBe('LOCAL_FORCE_CLOSE');
    } finally {
      ldk.refuseInbound = false;
    }
  });
  it('LDK publishes a revoked commitment with an HTLC each way in it: our justice takes to_local and both HTLC outputs, to the satoshi', { timeout: 90_000 }, async () => {
    const point = await h.openToLdk(CAPACITY, PUSH);
    const sweepsFrom = d.sweeps.length;
    // J from Bob to LDK and K from LDK to Bob, each held by its payee while LDK's monitor is kept.
    d.holdPayments = true;
    const heldUs = holdIncoming(us);
    const invJ = ldkInvoice(ldk, 23_000_000n, 'J');
    const payJ = b().sendpayment({ pay_req: invJ.bolt11, timeout_seconds: 600 });
    const invK = await b().addinvoice({ value: 33_000, cltv_expiry: 40 });
    ldkPay(ldk, invK.payment_request, { maxTotalCltvExpiryDelta: 45 });
    await waitFor('two HTLCs held, the commitments quiet', () => (d.held.has(invJ.paymentHash) && heldUs.events.length === 1 && h.quiet(point, 2)) || undefined, 20_000);
    // LDK's monitor as its persister has it now: its latest commitment holds both HTLCs.
    const old = ldk.monitorHistory.get(point)!.at(-1)!;
    // Both are settled, which revokes that commitment.
    d.claimHeld(ldk, invJ.paymentHash);
    heldUs.hold = false;
    heldUs.release(() => true);
    expect((await payJ).status).toBe('SUCCEEDED');
    expect(await d.paymentEnded(invK.r_hash)).toBe('sent');
    await waitFor('both HTLCs out of the commitments', () => (h.quiet(point, 0) ? true : undefined), 10_000);
    d.holdPayments = false;

    const before = await p.confirmed(us);
    h.pump();
    ldk.broadcastFromMonitor(old);
    const revoked = h.ldkCommitment(point)!;
    expect(revoked, 'LDK broadcast the old commitment').toBeDefined();
    const commitTxid = revoked.getId();
    await h.mine(1);
    const commitHeight = h.tip();
    expect(h.txOnChain(commitTxid)).toBeDefined();
    await waitFor('our monitor to see the revoked commitment', () => (h.monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
    expect((await b().pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point)?.close_type).toBe('BREACH_CLOSE');
    // LDK's to_local, our to_remote, J's and K's outputs.
    const outs = revoked.outs.map((o) => o.value);
    expect(outs).toHaveLength(4);
    expect(outs).toContain(23_000n);
    expect(outs).toContain(33_000n);

    await h.untilBothDone(point, commitHeight, commitHeight + 40, sweepsFrom, { ldkSweeps: false });
    const ourClaims = Object.values(h.monitorOf(point).chain.claims).filter((c) => h.txOnChain(c.txid));
    // One justice transaction takes LDK's to_local and both HTLC outputs, before LDK's delay ran out.
    expect(ourClaims.map((c) => c.label).sort()).toEqual(['justice', 'to_remote']);
    const justice = h.txOnChain(ourClaims.find((c) => c.label === 'justice')!.txid)!;
    expect(h.pg().txHeight(justice.getId())!).toBeLessThan(commitHeight + DELAY);
    const toRemoteVout = revoked.outs.findIndex((o) => o.script.length === 22);
    expect(justice.ins.map((i) => `${txidOf(i)}:${i.index}`).sort()).toEqual([0, 1, 2, 3].filter((v) => v !== toRemoteVout).map((v) => `${commitTxid}:${v}`));
    // Every output of the revoked commitment, spent once, by us.
    const ourTxids = new Set(ourClaims.map((c) => c.txid));
    for (let v = 0; v < outs.length; v++) {
      const t = h.takersOf(commitTxid, v, commitHeight);
      expect(t, `output ${v} spent once`).toHaveLength(1);
      expect(ourTxids.has(t[0]!.getId()), `output ${v} (${outs[v]} sat) ours`).toBe(true);
    }
    const book = new TxBook();
    book.add(revoked);
    const claims = ourClaims.map((c) => book.add(h.txOnChain(c.txid)!));
    book.spentOnce();
    const fees = claims.reduce((x, t) => x + book.feeOf(t), 0n);
    const after = await p.confirmed(us);
    expect(after).toBe(before + outs.reduce((x, v) => x + v, 0n) - fees);
    const closed = (await b().closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('BREACH_CLOSE');
    expect(BigInt(closed.settled_balance)).toBe(after - before);
    // LDK got nothing from it.
    expect(d.sweeps.length).toBe(sweepsFrom);
    expect(d.errors).toEqual([]);
    h.coulombSpentOnce();
  });
  it('Coulomb restored from a copy taken with an HTLC each way in flight publishes that revoked commitment: LDK\'s justice takes everything, second stage included', { timeout: 120_000 }, async () => {
    const point = await h.openToLdk(CAPACITY, PUSH);
    const sweepsFrom = d.sweeps.length;
    // M from Bob to LDK and N from LDK to Bob, each held by its payee when the copy is taken.
    d.holdPayments = true;
    const heldUs = holdIncoming(us);
    const invM = ldkInvoice(ldk, 24_000_000n, 'M');
    b().sendpayment({ pay_req: invM.bolt11, timeout_seconds: 600 }).catch(() => undefined);
    const invN = await b().addinvoice({ value: 34_000, cltv_expiry: 40 });
    ldkPay(ldk, invN.payment_request, { maxTotalCltvExpiryDelta: 45 });
    await waitFor('two HTLCs held, the commitments quiet', () => (d.held.has(invM.paymentHash) && heldUs.events.length === 1 && h.quiet(point, 2) && h.quiet(alicePoint, 0)) || undefined, 20_000);
    const backup = await tempDir('ldk-breach-htlc-copy');
    try {
      // Our state now, copied while we are stopped; back, we dial LDK again and settle N (our invoice).
      await us.restart(async () => {
        await cp(us.datadir, backup, { recursive: true });
      });
      await waitFor('LDK to use the channel again', () => (h.ldkChannel(point)?.get_is_usable() ? true : undefined), 20_000);
      d.claimHeld(ldk, invM.paymentHash);
      d.holdPayments = false;
      expect(await d.paymentEnded(invN.r_hash, 20_000)).toBe('sent');
      await waitFor('both HTLCs out of the commitments', () => (h.quiet(point, 0) ? true : undefined), 20_000);
      expect((await b().lookuppayment({ payment_hash: invM.paymentHash })).status).toBe('SUCCEEDED');

      // We come back from the copy while LDK turns every connection away, and force-close from it.
      ldk.refuseInbound = true;
      await us.restart(async () => {
        await rm(us.datadir, { recursive: true, force: true });
        await cp(backup, us.datadir, { recursive: true });
      });
      await p.sync();
      // Its latest commitment, as far as the copy knows, still holds both HTLCs.
      expect(h.monitorOf(point).data.local.htlcs.map((x) => x.amountMsat).sort()).toEqual([24_000_000n, 34_000_000n]);
      const before = await p.confirmed(us);
      const { closing_txid: commitTxid } = await b().closechannel({ chan_point: point, force: true });
      // The block reaches us first: our HTLC-success for N (its preimage is our invoice's) is in the
      // mempool before LDK sees the commitment, so LDK's justice must take it at the second stage.
      await p.mine(1);
      const commitHeight = h.tip();
      const commitment = h.txOnChain(commitTxid)!;
      expect(commitment, 'the revoked commitment mined').toBeDefined();
      expect(commitment.outs.map((o) => o.value)).toEqual(expect.arrayContaining([24_000n, 34_000n]));
      const success = await waitFor('our HTLC-success for N in the mempool', () => Object.values(h.monitorOf(point).chain.claims).find((c) => c.label.startsWith('htlc-success') && h.pg().mempool.has(c.txid)), 10_000);
      ldk.syncTo(h.tip(), h.blockAt);
      h.pump();
      expect(commitment.outs).toHaveLength(4);

      // LDK's justice must confirm before our to_self_delay (LDK's, at least 144 blocks) lets us spend.
      await h.untilBothDone(point, commitHeight, commitHeight + 60, sweepsFrom);
      const sweeps = d.sweeps.slice(sweepsFrom).map((x) => Transaction.fromBuffer(Buffer.from(x)));
      for (const t of sweeps) expect(t.outs.every((o) => hexOf(o.script) === hexOf(ldkSweepKey.script))).toBe(true);
      const swept = new Set(sweeps.flatMap((t) => t.ins.map((i) => `${txidOf(i)}:${i.index}`)));
      /** Everything `tx` pays went to LDK: to its key, or swept there. */
      const ldkGot = (tx: Transaction): boolean => tx.outs.every((o, v) => hexOf(o.script) === hexOf(ldkSweepKey.script) || swept.has(`${tx.getId()}:${v}`));
      const ours = new Set(Object.values(h.monitorOf(point).chain.claims).map((c) => c.txid));
      // Each output of the commitment spent once: by LDK, or by an HTLC transaction of ours whose
      // output LDK's justice then took (the second stage).
      const secondStage: bigint[] = [];
      for (let v = 0; v < commitment.outs.length; v++) {
        const takers = h.takersOf(commitTxid, v, commitHeight);
        expect(takers, `output ${v} spent once`).toHaveLength(1);
        const t = takers[0]!;
        if (ours.has(t.getId())) {
          secondStage.push(commitment.outs[v]!.value);
          const penalty = h.takersOf(t.getId(), 0, commitHeight);
          expect(penalty, `the output of our HTLC transaction for ${commitment.outs[v]!.value} sat spent once`).toHaveLength(1);
          expect(ours.has(penalty[0]!.getId())).toBe(false);
          expect(ldkGot(penalty[0]!)).toBe(true);
        } else {
          expect(ldkGot(t), `LDK took output ${v} (${commitment.outs[v]!.value} sat)`).toBe(true);
        }
      }
      expect(secondStage).toEqual([34_000n]);
      expect(h.takersOf(commitTxid, commitment.outs.findIndex((o) => o.value === 34_000n), commitHeight)[0]!.getId()).toBe(success.txid);
      // We got nothing back, and say so.
      expect(await p.confirmed(us)).toBe(before);
      const closed = (await b().closedchannels({})).channels.find((c) => c.channel_point === point)!;
      expect({ type: closed.close_type, settled: closed.settled_balance }).toEqual({ type: 'LOCAL_FORCE_CLOSE', settled: '0' });
      expect(d.errors).toEqual([]);
      h.coulombSpentOnce();
    } finally {
      ldk.refuseInbound = false;
      await removeDir(backup);
    }
  });
  it('LDK publishes a revoked commitment and its HTLC-success with it: our justice takes to_local and the HTLC-success\'s output, to the satoshi, through restarts', { timeout: 90_000 }, async () => {
    const point = await h.openToLdk(CAPACITY, PUSH);
    const sweepsFrom = d.sweeps.length;
    // P from Bob to LDK, held, then claimed: the first monitor LDK persists after the claim knows the
    // preimage while its commitment still holds P; the settlement that follows revokes it.
    d.holdPayments = true;
    const invP = ldkInvoice(ldk, 25_000_000n, 'P');
    const payP = b().sendpayment({ pay_req: invP.bolt11, timeout_seconds: 600 });
    await waitFor('P held, the commitments quiet', () => (d.held.has(invP.paymentHash) && h.quiet(point, 1)) || undefined, 20_000);
    const history = ldk.monitorHistory.get(point)!;
    const withPreimage = history.length;
    d.claimHeld(ldk, invP.paymentHash);
    d.holdPayments = false;
    expect((await payP).status).toBe('SUCCEEDED');
    await waitFor('P out of the commitments', () => (h.quiet(point, 0) ? true : undefined), 10_000);
    const old = history[withPreimage]!;

    const before = await p.confirmed(us);
    h.pump();
    ldk.broadcastFromMonitor(old);
    const revoked = h.ldkCommitment(point)!;
    expect(revoked, 'LDK broadcast the old commitment').toBeDefined();
    const commitTxid = revoked.getId();
    const success = ldk.broadcasted.map((t) => Transaction.fromBuffer(Buffer.from(t))).find((t) => t.ins.some((i) => txidOf(i) === commitTxid));
    expect(success, 'LDK broadcast its HTLC-success beside it').toBeDefined();
    const htlcVout = success!.ins[0]!.index;
    expect(revoked.outs[htlcVout]!.value).toBe(25_000n);
    await h.mine(1);
    const commitHeight = h.tip();
    expect(h.txOnChain(commitTxid)).toBeDefined();
    expect(h.txOnChain(success!.getId()), 'LDK\'s HTLC-success mined with the commitment').toBeDefined();
    await waitFor('our monitor to see the revoked commitment', () => (h.monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
    expect((await b().pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point)?.close_type).toBe('BREACH_CLOSE');
    // We restart whenever our monitor moved (LDK turns connections away meanwhile): the justice
    // published, confirmed, final.
    ldk.refuseInbound = true;
    const restarts: string[] = [];
    const restartAt = async (step: string): Promise<void> => {
      if (h.phaseOf(point) !== 'CLOSED' && (await h.restartOnChange(point, step))) restarts.push(step);
    };
    const justiceOut = await waitFor('our justice in the mempool', () => Object.values(h.monitorOf(point).chain.claims).find((c) => c.label === 'justice' && h.pg().mempool.has(c.txid)), 10_000);
    await restartAt('the justice published');
    await h.mine(1);
    await waitFor('our monitor to see the tip', () => (h.monitorOf(point).chain.height === h.tip() ? true : undefined), 10_000);
    expect(h.txOnChain(justiceOut.txid), 'the justice mined').toBeDefined();
    await restartAt('the justice confirmed');

    // Not untilBothDone: LDK 0.1.0 takes this commitment for its previous holder commitment and, after the
    // delay, hands over its to_local and the HTLC-success's output as SpendableOutputs, though our
    // justice spent both; its sweeps of them are refused for good.
    while (h.phaseOf(point) !== 'CLOSED' || h.ldkBalances().length > 0 || h.tip() < commitHeight + DELAY + 8) {
      if (h.tip() > commitHeight + 40) throw new Error(`not done at ${h.tip()} (commitment at ${commitHeight}): ${h.describe(point)}`);
      await h.mine(2);
      await waitFor('our channel to catch up with its monitor', () => (h.phaseOf(point) === 'CLOSED' || !h.monitorOf(point).chain.told.includes('closed') ? true : undefined), 10_000);
      await restartAt(`block ${h.tip()}`);
    }
    ldk.refuseInbound = false;
    expect(restarts.slice(0, 2)).toEqual(['the justice published', 'the justice confirmed']);
    const ldkSweeps = d.sweeps.slice(sweepsFrom).map((x) => Transaction.fromBuffer(Buffer.from(x)));
    for (const t of ldkSweeps) expect(h.txOnChain(t.getId()), 'an LDK sweep confirmed').toBeUndefined();
    const ourClaims = Object.values(h.monitorOf(point).chain.claims).filter((c) => h.txOnChain(c.txid));
    const ourTxids = new Set(ourClaims.map((c) => c.txid));
    // The commitment: to_local and to_remote ours, the HTLC LDK's HTLC-success's; its output ours too,
    // each spent once and before LDK's delay (ours, asked of it) ran out.
    for (let v = 0; v < revoked.outs.length; v++) {
      const t = h.takersOf(commitTxid, v, commitHeight);
      expect(t, `output ${v} spent once`).toHaveLength(1);
      expect(ourTxids.has(t[0]!.getId()), `output ${v} (${revoked.outs[v]!.value} sat) ours`).toBe(v !== htlcVout);
    }
    const penalty = h.takersOf(success!.getId(), 0, commitHeight);
    expect(penalty, 'the HTLC-success\'s output spent once').toHaveLength(1);
    expect(ourTxids.has(penalty[0]!.getId())).toBe(true);
    for (const id of ourTxids) if (id !== h.takersOf(commitTxid, revoked.outs.findIndex((o) => o.script.length === 22), commitHeight)[0]!.getId()) expect(h.pg().txHeight(id)!).toBeLessThan(commitHeight + DELAY);
    const book = new TxBook();
    book.add(revoked);
    book.add(success!);
    const claims = ourClaims.map((c) => book.add(h.txOnChain(c.txid)!));
    book.spentOnce();
    const fees = claims.reduce((x, t) => x + book.feeOf(t), 0n);
    const taken = revoked.outs.filter((_, v) => v !== htlcVout).reduce((x, o) => x + o.value, 0n) + success!.outs[0]!.value;
    const after = await p.confirmed(us);
    expect(after).toBe(before + taken - fees);
    const closed = (await b().closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('BREACH_CLOSE');
    expect(BigInt(closed.settled_balance)).toBe(after - before);
    // What LDK tried to sweep, our justice had taken.
    for (const t of ldkSweeps) for (const i of t.ins) expect(ourTxids.has(h.takersOf(txidOf(i), i.index, commitHeight)[0]?.getId() ?? ''), `LDK's sweep of ${txidOf(i).slice(0, 8)}:${i.index}`).toBe(true);
    expect(d.errors).toEqual([]);
    h.coulombSpentOnce();
  });
});
