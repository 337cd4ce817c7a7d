/**
 * Force close and breach between Coulomb and LDK (a real LDK 0.1 node, in WebAssembly, over TCP) on
 * one playground chain (BOLT 5), static_remotekey channels that Coulomb opens to LDK:
 *
 * 1. LDK force-closes with four HTLCs held in flight, two each way. Coulomb sweeps to_remote, claims
 *    the HTLC it learnt the preimage of and times out one it offered (its payment fails); LDK claims
 *    the other with its preimage (HTLC-success), which settles Coulomb's payment, and times out the
 *    last one (HTLC-timeout). LDK sweeps its to_local and both second-stage outputs after Coulomb's
 *    to_self_delay with the KeysManager, into the same chain.
 * 2. Coulomb force-closes (closechannel --force) with four HTLCs held the same way. Its HTLC-success
 *    goes out at once, its HTLC-timeout at the expiry, and to_local and both second-stage outputs after
 *    LDK's to_self_delay (at least 144 blocks); LDK claims one HTLC with its preimage (settling
 *    Coulomb's payment), times out the other, and sweeps to_remote and both claims to its key.
 * 3. LDK publishes a revoked commitment: a ChannelMonitor its persister kept from before a payment
 *    back to Coulomb, read again and made to broadcast its holder commitment. Coulomb's justice takes
 *    LDK's to_local before LDK's delay, and its to_remote beside it; LDK gets nothing.
 * 4. Coulomb, restored from a copy of its data directory taken before a payment to LDK and kept away
 *    from LDK, force-closes from that state: LDK's justice spends the revoked to_local before
 *    Coulomb's delay, LDK sweeps it and its to_remote, and Coulomb's wallet gets nothing.
 *
 * Each side's claims are read off the chain: Coulomb's wallet changes by what its claims took less
 * their fees, to the satoshi; every output of the commitment is spent once; the views say how the
 * channel closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkInvoice, ldkPay } from './ldk/payments.ts';
import { cutLink, hexOf, ldkOnChain, txidOf } from './ldk/onchain.ts';
import type { LdkOnChain } from './ldk/onchain.ts';
import { holdIncoming, startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { cp, rm } from 'node:fs/promises';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';

/** The to_self_delay Coulomb asks of LDK (LDK's own, asked of Coulomb, is at least 144). */
const DELAY = 12;
const CAPACITY = 1_000_000;
const PUSH = 300_000;
/** Expiry of LDK's HTLCs to us at most this far above the tip (our invoices ask 40). */
const MAX_CLTV = 60;

describe('force close and breach between Coulomb and LDK', () => {
  let p: CoulombPair;
  /** Coulomb's node under test; the pair's other node only hosts the chain. */
  let us: TestNode;
  let b: ApiHandlers;
  let ldk: LdkNode;
  const d = new LdkEventDriver();
  const ldkSweepKey = newKey();
  /** Chain plumbing shared with the other on-chain tests beside LDK (./ldk/onchain.ts). */
  let h: LdkOnChain;
  const pg = () => h.pg();
  const tip = (): number => h.tip();
  const pump = (): void => h.pump();
  const mine = (n: number): Promise<void> => h.mine(n);
  const txOnChain = (txid: string) => h.txOnChain(txid);
  const spendersOf = (txid: string, from: number) => h.spendersOf(txid, from);
  const monitorOf = (point: string) => h.monitorOf(point);
  const phaseOf = (point: string) => h.phaseOf(point);
  const quiet = (point: string, n: number) => h.quiet(point, n);
  const lastExpiry = (point: string) => h.lastExpiry(point);
  const ldkChannel = (point: string) => h.ldkChannel(point);
  const untilBothDone = (point: string, commitHeight: number, limit: number, sweepsFrom: number, quietUntil = 0, ldkSweeps = true) => h.untilBothDone(point, commitHeight, limit, sweepsFrom, { quietUntil, ldkSweeps });
  /** Coulomb opens a channel to LDK, pushing PUSH to it; resolves with the channel point once both use it. */
  const openToLdk = () => h.openToLdk(CAPACITY, PUSH);

  beforeAll(async () => {
    p = await startCoulombPair('ldkfc', DELAY);
    us = p.bob;
    b = p.b();
    ldk = await startLdkNode({ alias: 'ldk', onEvent: d.onEvent, logLevel: 'info' });
    d.sweepTo = ldkSweepKey.script;
    h = ldkOnChain({ p, us, ldk, d, ldkPort: await ldk.listen(0, '127.0.0.1') });
    ldk.syncTo(tip(), h.blockAt);
    await p.a().playground_faucet({ addr: (await b.newaddress({})).address, amt: 5_000_000 });
    await mine(1);
  }, 60_000);

  afterAll(async () => {
    await ldk?.stop();
    await p?.close();
  });

  it('LDK force-closes with HTLCs in flight both ways: each side claims its own, to the satoshi', { timeout: 120_000 }, async () => {
    const point = await openToLdk();
    const channelId = ldkChannel(point)!.get_channel_id();

    // Four HTLCs, held by their payees: A and B from us to LDK, C and D from LDK to us.
    d.holdPayments = true;
    const heldUs = holdIncoming(us);
    const invA = ldkInvoice(ldk, 20_000_000n, 'A');
    const invB = ldkInvoice(ldk, 25_000_000n, 'B');
    const payA = b.sendpayment({ pay_req: invA.bolt11, timeout_seconds: 600 });
    const payB = b.sendpayment({ pay_req: invB.bolt11, timeout_seconds: 600 });
    payA.catch(() => undefined);
    const invC = await b.addinvoice({ value: 30_000, cltv_expiry: 40 });
    const invD = await b.addinvoice({ value: 35_000, cltv_expiry: 40 });
    ldkPay(ldk, invC.payment_request, { maxTotalCltvExpiryDelta: MAX_CLTV });
    ldkPay(ldk, invD.payment_request, { maxTotalCltvExpiryDelta: MAX_CLTV });
    await waitFor('four HTLCs held, the commitments quiet', () => {
      if (d.held.has(invA.paymentHash) && d.held.has(invB.paymentHash) && heldUs.events.length === 2 && quiet(point, 4)) return true;
      throw new Error(`LDK holds ${d.held.size}, we hold ${heldUs.events.length}, quiet ${quiet(point, 4)}`);
    }, 20_000);

    // The link is cut: we settle C and LDK claims B, neither hearing of the other's.
    const cut = cutLink(us, ldk.nodeId);
    heldUs.release((e) => e.type === 'locked_in' && hexOf(e.htlc.paymentHash) === invC.r_hash);
    await waitFor('our monitor to know the preimage of C', () => (monitorOf(point).data.preimages.length === 1 ? true : undefined), 10_000);
    d.claimHeld(ldk, invB.paymentHash);

    const before = await p.confirmed(us);
    const r = ldk.channelManager.force_close_broadcasting_latest_txn(channelId, Buffer.from(us.node.nodeId, 'hex'), 'test: force close');
    expect(r.is_ok()).toBeTruthy();
    ldk.processEvents();
    const fundingTxid = point.split(':')[0]!;
    const commitment = ldk.broadcasted.map((t) => Transaction.fromBuffer(Buffer.from(t))).find((t) => t.ins.some((i) => txidOf(i) === fundingTxid));
    expect(commitment, 'LDK broadcast its commitment').toBeDefined();
    const commitTxid = commitment!.getId();
    await mine(1);
    const commitHeight = tip();
    expect(txOnChain(commitTxid)).toBeDefined();
    await waitFor('our monitor to see LDK\'s commitment', () => (monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
    await waitFor('our channel to be force-closing', () => (phaseOf(point) === 'FORCE_CLOSING' ? true : undefined), 10_000);
    const pending = (await b.pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point);
    expect(pending?.close_type).toBe('REMOTE_FORCE_CLOSE');

    await untilBothDone(point, commitHeight, lastExpiry(point) + DELAY + 30, 0);
    cut.on = false;
    heldUs.hold = false;
    d.held.delete(invA.paymentHash);

    // Payments: B settled from LDK's HTLC-success, A failed by our timeout; LDK's C sent, D failed.
    expect((await payB).status).toBe('SUCCEEDED');
    await expect(payA).rejects.toThrow();
    expect((await b.lookuppayment({ payment_hash: invA.paymentHash })).status).toBe('FAILED');
    await d.until('LDK to see C paid and D failed', () => d.sent.has(invC.r_hash) && d.failed.has(invD.r_hash));
    expect(d.errors).toEqual([]);

    // Every output of LDK's commitment, spent once on chain: who took which.
    const outs = commitment!.outs;
    const spenders = spendersOf(commitTxid, commitHeight);
    const takerOf = (vout: number): Transaction[] => spenders.filter((t) => t.ins.some((i) => txidOf(i) === commitTxid && i.index === vout));
    for (let v = 0; v < outs.length; v++) expect(takerOf(v), `output ${v} spent once`).toHaveLength(1);
    const mon = monitorOf(point);
    const ourClaims = Object.values(mon.chain.claims).filter((c) => txOnChain(c.txid));
    const ourTxids = new Set(ourClaims.map((c) => c.txid));
    const oursFromCommitment = outs.map((o, v) => ({ v, value: o.value, ours: ourTxids.has(takerOf(v)[0]!.getId()) }));
    // Ours: to_remote (the P2WPKH output), C with its preimage, A by timeout.
    const ourValues = oursFromCommitment.filter((o) => o.ours).map((o) => o.value).sort((x, y) => Number(x - y));
    const toRemote = outs.find((o) => o.script.length === 22)!.value;
    expect(ourValues).toEqual([20_000n, 30_000n, toRemote].sort((x, y) => Number(x - y)));
    const book = new TxBook();
    book.add(commitment!);
    const ourTxs = [...ourTxids].map((id) => book.add(txOnChain(id)!));
    const ourFees = ourTxs.reduce((s, t) => s + book.feeOf(t), 0n);
    const after = await p.confirmed(us);
    expect(after).toBe(before + ourValues.reduce((s, v) => s + v, 0n) - ourFees);

    // LDK's: to_local and B through its HTLC-success, D through its HTLC-timeout, then each swept.
    const theirs = oursFromCommitment.filter((o) => !o.ours);
    expect(theirs.map((o) => o.value).filter((v) => v === 25_000n || v === 35_000n).sort()).toEqual([25_000n, 35_000n]);
    const sweeps = d.sweeps.map((s) => book.add(Transaction.fromBuffer(Buffer.from(s))));
    for (const t of sweeps) {
      expect(t.outs.every((o) => hexOf(o.script) === hexOf(ldkSweepKey.script))).toBe(true);
    }
    // The sweeps take to_local from the commitment and the two HTLC transactions' outputs.
    const swept = sweeps.flatMap((t) => t.ins.map((i) => txidOf(i)));
    expect(swept.filter((x) => x === commitTxid)).toHaveLength(1);
    const htlcTxs = theirs.filter((o) => o.value === 25_000n || o.value === 35_000n).map((o) => takerOf(o.v)[0]!.getId());
    for (const id of htlcTxs) expect(swept).toContain(id);

    const closed = (await b.closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('REMOTE_FORCE_CLOSE');
  });
  it('Coulomb force-closes with HTLCs in flight both ways: second-stage claims and to_local after LDK\'s delay, to the satoshi', { timeout: 120_000 }, async () => {
    const point = await openToLdk();
    const sweepsFrom = d.sweeps.length;

    // E and F from us to LDK, G and H from LDK to us, each held by its payee.
    d.holdPayments = true;
    const heldUs = holdIncoming(us);
    const invE = ldkInvoice(ldk, 21_000_000n, 'E');
    const invF = ldkInvoice(ldk, 26_000_000n, 'F');
    const payE = b.sendpayment({ pay_req: invE.bolt11, timeout_seconds: 600 });
    const payF = b.sendpayment({ pay_req: invF.bolt11, timeout_seconds: 600 });
    payF.catch(() => undefined);
    // G and H expire at different heights (LDK's router adds at most 5 blocks of shadow offset): LDK would put their
    // timeouts in one claim, and it keeps that claim with G's output in it after our HTLC-success
    // spent it (LDK 0.1.0), so it never confirms and H is never timed out.
    const invG = await b.addinvoice({ value: 31_000, cltv_expiry: 40 });
    const invH = await b.addinvoice({ value: 36_000, cltv_expiry: 50 });
    ldkPay(ldk, invG.payment_request, { maxTotalCltvExpiryDelta: 45 });
    ldkPay(ldk, invH.payment_request, { maxTotalCltvExpiryDelta: 55 });
    await waitFor('four HTLCs held, the commitments quiet', () => {
      if (d.held.has(invE.paymentHash) && d.held.has(invF.paymentHash) && heldUs.events.length === 2 && quiet(point, 4)) return true;
      throw new Error(`LDK holds ${d.held.size}, we hold ${heldUs.events.length}, quiet ${quiet(point, 4)}`);
    }, 20_000);

    // The link is cut: we settle G, LDK claims E; then we publish our commitment.
    const cut = cutLink(us, ldk.nodeId);
    heldUs.release((e) => e.type === 'locked_in' && hexOf(e.htlc.paymentHash) === invG.r_hash);
    await waitFor('our monitor to know the preimage of G', () => (monitorOf(point).data.preimages.length === 1 ? true : undefined), 10_000);
    d.claimHeld(ldk, invE.paymentHash);
    const before = await p.confirmed(us);
    const { closing_txid: commitTxid } = await b.closechannel({ chan_point: point, force: true });
    await mine(1);
    const commitHeight = tip();
    const commitment = txOnChain(commitTxid);
    expect(commitment, 'our commitment mined').toBeDefined();
    const pending = (await b.pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point)!;
    expect(pending.close_type).toBe('LOCAL_FORCE_CLOSE');
    // LDK asks at least 144 blocks (its BREAKDOWN_TIMEOUT) before our to_local is ours.
    const ldkDelay = pending.maturity_height - commitHeight;
    expect(ldkDelay).toBeGreaterThanOrEqual(144);
    await waitFor('LDK to see the channel closed', () => (ldkChannel(point) === undefined ? true : undefined), 10_000);

    await untilBothDone(point, commitHeight, lastExpiry(point) + ldkDelay + 20, sweepsFrom, commitHeight + ldkDelay);
    cut.on = false;
    heldUs.hold = false;
    d.held.delete(invF.paymentHash);

    // E settled from LDK's preimage claim, F failed by our HTLC-timeout; LDK's G sent, H failed.
    expect((await payE).status).toBe('SUCCEEDED');
    await expect(payF).rejects.toThrow();
    expect((await b.lookuppayment({ payment_hash: invF.paymentHash })).status).toBe('FAILED');
    await d.until('LDK to see G paid and H failed', () => d.sent.has(invG.r_hash) && d.failed.has(invH.r_hash));
    expect(d.errors).toEqual([]);

    const outs = commitment!.outs;
    const spenders = spendersOf(commitTxid, commitHeight);
    const takerOf = (vout: number): Transaction => {
      const t = spenders.filter((x) => x.ins.some((i) => txidOf(i) === commitTxid && i.index === vout));
      expect(t, `output ${vout} spent once`).toHaveLength(1);
      return t[0]!;
    };
    const mon = monitorOf(point);
    // Our claims on chain (the commitment itself aside: its fee came out of the channel).
    const ourClaims = Object.values(mon.chain.claims).filter((c) => !c.id.startsWith('commitment:') && txOnChain(c.txid));
    expect(ourClaims.map((c) => c.label.replace(/\d+/g, 'n')).sort()).toEqual(['htlc n output', 'htlc n output', 'htlc-success n', 'htlc-timeout n', 'to_local']);
    const ourTxids = new Set(ourClaims.map((c) => c.txid));
    expect(ourTxids.has(commitTxid)).toBe(false);
    const toLocalSweep = ourClaims.find((c) => c.label === 'to_local')!;
    expect(pg().txHeight(toLocalSweep.txid)!).toBeGreaterThanOrEqual(commitHeight + ldkDelay);
    // Ours from the commitment: to_local, G (HTLC-success) and F (HTLC-timeout); LDK's: to_remote,
    // E (its preimage) and H (its timeout).
    const taken = outs.map((o, v) => ({ v, value: o.value, ours: ourTxids.has(takerOf(v).getId()) }));
    const toRemote = outs.find((o) => o.script.length === 22)!.value;
    const toLocal = taken.find((o) => o.ours && ![26_000n, 31_000n].includes(o.value))!.value;
    expect(taken.filter((o) => o.ours).map((o) => o.value).sort()).toEqual([26_000n, 31_000n, toLocal].sort());
    expect(taken.filter((o) => !o.ours).map((o) => o.value).sort()).toEqual([21_000n, 36_000n, toRemote].sort());
    const book = new TxBook();
    book.add(commitment!);
    // Parents first: the HTLC transactions, then what sweeps their outputs.
    const ourTxs = [...ourTxids].map((id) => txOnChain(id)!).sort((x, y) => pg().txHeight(x.getId())! - pg().txHeight(y.getId())!);
    for (const t of ourTxs) book.add(t);
    const ourFees = ourTxs.reduce((s, t) => s + book.feeOf(t), 0n);
    const after = await p.confirmed(us);
    expect(after).toBe(before + toLocal + 26_000n + 31_000n - ourFees);

    // LDK swept to_remote and the outputs of its two claims to its own key.
    const sweeps = d.sweeps.slice(sweepsFrom).map((x) => Transaction.fromBuffer(Buffer.from(x)));
    for (const t of sweeps) expect(t.outs.every((o) => hexOf(o.script) === hexOf(ldkSweepKey.script))).toBe(true);
    const swept = new Set(sweeps.flatMap((t) => t.ins.map((i) => `${txidOf(i)}:${i.index}`)));
    const toRemoteVout = outs.findIndex((o) => o.script.length === 22);
    expect(swept.has(`${commitTxid}:${toRemoteVout}`)).toBe(true);
    for (const o of taken.filter((x) => !x.ours && x.v !== toRemoteVout)) {
      const claim = takerOf(o.v);
      expect([...swept].some((k) => k.startsWith(claim.getId())), `LDK swept its claim of ${o.value}`).toBe(true);
    }

    const closed = (await b.closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('LOCAL_FORCE_CLOSE');
  });
  it('LDK publishes a revoked commitment from an old ChannelMonitor: our justice takes everything, to the satoshi', { timeout: 120_000 }, async () => {
    const point = await openToLdk();
    const sweepsFrom = d.sweeps.length;
    d.holdPayments = false;
    const inv = ldkInvoice(ldk, 80_000_000n, 'before the copy');
    expect((await b.sendpayment({ pay_req: inv.bolt11, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
    await waitFor('the payment settled in both commitments', () => (quiet(point, 0) ? true : undefined), 10_000);
    // LDK's monitor as its persister has it now: its latest commitment pays it PUSH + 80,000.
    await d.until('LDK to report the payment claimed', () => d.claimed.has(inv.paymentHash));
    const old = ldk.monitorHistory.get(point)!.at(-1)!;
    // LDK pays most of it back, which revokes that commitment.
    const ours = await b.addinvoice({ value: 200_000 });
    ldkPay(ldk, ours.payment_request);
    expect(await d.paymentEnded(ours.r_hash)).toBe('sent');
    await waitFor('the payment settled in both commitments', () => (quiet(point, 0) ? true : undefined), 10_000);

    const before = await p.confirmed(us);
    pump();
    ldk.broadcastFromMonitor(old);
    const fundingTxid = point.split(':')[0]!;
    const revoked = ldk.broadcasted.map((t) => Transaction.fromBuffer(Buffer.from(t))).find((t) => t.ins.some((i) => txidOf(i) === fundingTxid));
    expect(revoked, 'LDK broadcast the old commitment').toBeDefined();
    const commitTxid = revoked!.getId();
    await mine(1);
    const commitHeight = tip();
    expect(txOnChain(commitTxid)).toBeDefined();
    await waitFor('our monitor to see the revoked commitment', () => (monitorOf(point).chain.fundingSpend?.txid === commitTxid ? true : undefined), 10_000);
    expect((await b.pendingchannels({})).pending_force_closing_channels.find((c) => c.channel.channel_point === point)?.close_type).toBe('BREACH_CLOSE');
    // Two outputs: LDK's to_local (PUSH + 80,000, LDK pays no commitment fee) and our to_remote.
    const outs = revoked!.outs.map((o) => o.value);
    expect(outs).toHaveLength(2);
    expect(outs).toContain(BigInt(PUSH) + 80_000n);

    await untilBothDone(point, commitHeight, commitHeight + 40, sweepsFrom, 0, false);
    const mon = monitorOf(point);
    const ourClaims = Object.values(mon.chain.claims).filter((c) => txOnChain(c.txid));
    expect(ourClaims.map((c) => c.label).sort()).toEqual(['justice', 'to_remote']);
    const justice = ourClaims.find((c) => c.label === 'justice')!;
    expect(pg().txHeight(justice.txid)!).toBeLessThan(commitHeight + DELAY);
    const book = new TxBook();
    book.add(revoked!);
    const claims = ourClaims.map((c) => book.add(txOnChain(c.txid)!));
    book.spentOnce();
    const fromCommitment = claims.flatMap((t) => t.ins.filter((i) => txidOf(i) === commitTxid).map((i) => revoked!.outs[i.index]!.value));
    expect(fromCommitment.sort()).toEqual([...outs].sort());
    const fees = claims.reduce((x, t) => x + book.feeOf(t), 0n);
    const after = await p.confirmed(us);
    expect(after).toBe(before + outs[0]! + outs[1]! - fees);
    const closed = (await b.closedchannels({})).channels.find((c) => c.channel_point === point)!;
    expect(closed.close_type).toBe('BREACH_CLOSE');
    expect(BigInt(closed.settled_balance)).toBe(after - before);
    // LDK got nothing from it.
    expect(d.sweeps.length).toBe(sweepsFrom);
    expect(d.errors).toEqual([]);
  });

  it('Coulomb restored from an old copy publishes a revoked commitment: LDK\'s justice takes everything', { timeout: 120_000 }, async () => {
    const point = await openToLdk();
    const sweepsFrom = d.sweeps.length;
    d.holdPayments = false;
    const payLdk = async (msat: bigint): Promise<void> => {
      const inv = ldkInvoice(ldk, msat, 'breach');
      expect((await b.sendpayment({ pay_req: inv.bolt11, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
      await waitFor('the payment settled in both commitments', () => (quiet(point, 0) ? true : undefined), 10_000);
    };
    const backup = await tempDir('ldk-breach-copy');
    try {
      await payLdk(50_000_000n);
      // Our state now, copied while we are stopped; we dial LDK again by ourselves.
      await us.restart(async () => {
        await cp(us.datadir, backup, { recursive: true });
      });
      b = us.node.handlers();
      await waitFor('LDK to use the channel again', () => (ldkChannel(point)?.get_is_usable() ? true : undefined), 20_000);
      await waitFor('the channel active again on our side', async () => ((await b.listchannels({})).channels.find((c) => c.channel_point === point)?.active ? true : undefined), 20_000);
      // A payment revokes the copied state.
      await payLdk(100_000_000n);
      const ours = BigInt((await b.listchannels({})).channels.find((c) => c.channel_point === point)!.local_balance);

      // We come back from the copy while LDK turns every connection away, and force-close from it.
      ldk.refuseInbound = true;
      await us.restart(async () => {
        await rm(us.datadir, { recursive: true, force: true });
        await cp(backup, us.datadir, { recursive: true });
      });
      b = us.node.handlers();
      await p.sync();
      const stale = BigInt((await b.listchannels({})).channels.find((c) => c.channel_point === point)!.local_balance);
      expect(stale - ours).toBe(100_000n);
      expect(us.node.peers.get(ldk.nodeId)?.state).not.toBe('ready');
      const before = await p.confirmed(us);
      const { closing_txid: commitTxid } = await b.closechannel({ chan_point: point, force: true });
      await mine(1);
      const commitHeight = tip();
      const commitment = txOnChain(commitTxid)!;
      expect(commitment, 'the revoked commitment mined').toBeDefined();
      const toLocalVout = commitment.outs.findIndex((o) => o.script.length === 34);
      const toRemoteVout = commitment.outs.findIndex((o) => o.script.length === 22);
      expect(commitment.outs).toHaveLength(2);

      // LDK's justice must confirm before our to_self_delay (LDK's, at least 144 blocks) lets us spend.
      await untilBothDone(point, commitHeight, commitHeight + 60, sweepsFrom);
      const [justice, ...more] = spendersOf(commitTxid, commitHeight).filter((t) => t.ins.some((i) => i.index === toLocalVout && txidOf(i) === commitTxid));
      expect(more).toHaveLength(0);
      expect(pg().txHeight(justice!.getId())!).toBeLessThan(commitHeight + 144);
      // The penalty paid LDK: its key, straight or through the sweep of what the justice paid it.
      const sweeps = d.sweeps.slice(sweepsFrom).map((x) => Transaction.fromBuffer(Buffer.from(x)));
      const sweptInputs = new Set(sweeps.flatMap((t) => t.ins.map((i) => `${txidOf(i)}:${i.index}`)));
      expect(justice!.outs.every((o, v) => hexOf(o.script) === hexOf(ldkSweepKey.script) || sweptInputs.has(`${justice!.getId()}:${v}`))).toBe(true);
      expect(sweptInputs.has(`${commitTxid}:${toRemoteVout}`)).toBe(true);
      for (const t of sweeps) expect(t.outs.every((o) => hexOf(o.script) === hexOf(ldkSweepKey.script))).toBe(true);
      // We got nothing back (a static_remotekey commitment has no anchor to pay a child from).
      expect(await p.confirmed(us)).toBe(before);
      // Ours says how it closed: we published it, and what we put in is gone.
      const closed = (await b.closedchannels({})).channels.find((c) => c.channel_point === point)!;
      expect({ type: closed.close_type, settled: closed.settled_balance }).toEqual({ type: 'LOCAL_FORCE_CLOSE', settled: '0' });
      expect(d.errors).toEqual([]);
    } finally {
      ldk.refuseInbound = false;
      await removeDir(backup);
    }
  });
});
