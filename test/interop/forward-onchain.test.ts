/**
 * A forward that ends on chain, between three Coulomb nodes on one playground chain: Alice pays Carol
 * through Bob (Carol's invoice names Bob's channel), Carol holds the HTLC, and the Bob–Carol link is
 * cut, so the HTLC can only end on chain; the Alice–Bob channel stays open and settles off chain.
 * - Carol releases the HTLC: her fulfill never reaches Bob, and a block FULFILL_DEADLINE_BUFFER before
 *   the HTLC's expiry sends her on chain (BOLT 2's fulfillment deadline). She claims it with the
 *   preimage; Bob's monitor reads it from her HTLC-success and Bob settles Alice's HTLC off chain.
 * - Carol never answers: OFFERED_HTLC_GRACE blocks past the HTLC's expiry Bob goes on chain (BOLT 2's
 *   timeout deadline), times the HTLC out, and fails Alice's HTLC once that is final, long before
 *   Alice's own HTLC expires.
 * The amounts on chain are checked to the satoshi, and the Alice–Bob balances to the millisatoshi.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startCoulombTrio, quiet } from '../helpers/coulomb-trio.ts';
import type { CoulombTrio } from '../helpers/coulomb-trio.ts';
import { holdIncoming } from '../helpers/coulomb-pair.ts';
import { waitFor } from '../helpers/daemon.ts';
import { ANTI_REORG_DELAY, FULFILL_DEADLINE_BUFFER, OFFERED_HTLC_GRACE } from '../../core/monitor/index.ts';
import { FORWARDING_POLICY } from '../../core/channel/channel-update.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';

const DELAY = 12;
const AMOUNT_SAT = 50_000n;
/** Bob's fee for forwarding AMOUNT_SAT (BOLT 7: base + proportional). */
const FEE_MSAT = FORWARDING_POLICY.feeBaseMsat + (AMOUNT_SAT * 1000n * FORWARDING_POLICY.feeProportionalMillionths) / 1_000_000n;

const prevOf = (tx: Transaction, i: number): { txid: string; vout: number } => ({ txid: Buffer.from(tx.ins[i]!.hash).reverse().toString('hex'), vout: tx.ins[i]!.index });

describe('a forward that ends on chain (three Coulomb nodes)', () => {
  const trios: CoulombTrio[] = [];
  afterEach(async () => {
    for (const t of trios.splice(0)) await t.close();
  });

  /** Alice → Bob → Carol with channels both funded by their payer, and an HTLC of AMOUNT_SAT held by Carol. */
  async function forwardHeld(prefix: string) {
    const t = await startCoulombTrio(prefix, DELAY);
    trios.push(t);
    const { alice, bob, carol } = t;
    // Bob and Carol keep coins for the fees of their anchors and HTLC transactions.
    await t.faucet(alice, 3_000_000);
    await t.faucet(bob, 3_000_000, 100_000, 100_000);
    await t.faucet(carol, 100_000, 100_000);
    await t.openChannel(alice, bob, 1_000_000, 0);
    await t.openChannel(bob, carol, 1_000_000, 0);
    const held = holdIncoming(carol);
    const inv = await carol.node.handlers().addinvoice({ value: Number(AMOUNT_SAT), cltv_expiry: 20 });
    const before = { alice: t.localMsat(alice, bob), bob: t.localMsat(bob, alice) };
    const pay = alice.node.handlers().sendpayment({ pay_req: inv.payment_request, timeout_seconds: 600 });
    pay.catch(() => undefined);
    await waitFor('Carol to hold the HTLC with every commitment quiet', () => (held.events.length === 1 && quiet(t, alice, bob, 1) && quiet(t, bob, alice, 1) && quiet(t, bob, carol, 1) && quiet(t, carol, bob, 1)) || undefined, 30_000);
    const e = held.events[0]!;
    if (e.type !== 'locked_in') throw new Error('not a locked_in event');
    expect(e.htlc.amountMsat).toBe(AMOUNT_SAT * 1000n);
    const upstream = t.monitorOf(bob, alice)!.data.local.htlcs[0]!;
    expect(upstream.amountMsat).toBe(AMOUNT_SAT * 1000n + FEE_MSAT);
    expect(upstream.cltvExpiry).toBe(e.htlc.cltvExpiry + FORWARDING_POLICY.cltvExpiryDelta);
    const link = t.cut(bob, carol);
    return { t, alice, bob, carol, held, inv, before, pay, expiry: e.htlc.cltvExpiry, upstreamExpiry: upstream.cltvExpiry, link };
  }

  it('Carol claims on chain by her fulfillment deadline; Bob reads the preimage and settles Alice off chain', { timeout: 90_000 }, async () => {
    const { t, alice, bob, carol, held, inv, before, pay, expiry, link } = await forwardHeld('fwd-claim');
    held.release(() => true);
    await waitFor("Carol's monitor to know the preimage she released", () => t.monitorOf(carol, bob)!.data.preimages.length === 1 || undefined, 10_000);

    // A block before her deadline nothing happens; at it, her commitment goes out and the channel fails.
    await t.mine(expiry - FULFILL_DEADLINE_BUFFER - 1 - t.tip());
    await waitFor("Carol's monitor to see the tip", () => t.monitorOf(carol, bob)!.chain.height === t.tip() || undefined, 10_000);
    expect(t.monitorOf(carol, bob)!.chain.forceClose).toBe(false);
    expect(t.phaseOf(carol, bob)).toBe('NORMAL');
    await t.mine(1);
    await waitFor('Carol to go on chain', () => (t.phaseOf(carol, bob) === 'FORCE_CLOSING' && t.monitorOf(carol, bob)!.chain.forceClose) || undefined, 10_000);
    expect(carol.logs.some((l) => /preimage of HTLC 0 \(50000 sat\).*expires at block \d+ \(now \d+\).*fulfillment deadline/.test(l))).toBe(true);
    await waitFor('her error to reach Bob (dropped by the cut)', () => link.dropped.get(bob)!.some((m) => m.type === 'error' && /fulfillment deadline/.test(new TextDecoder().decode(m.data))) || undefined, 10_000);
    const commitment = Object.values(t.monitorOf(carol, bob)!.chain.claims).find((c) => c.id.startsWith('commitment:'))!;
    await waitFor('her commitment to reach the mempool', () => t.inMempool(commitment.txid) || undefined, 10_000);
    const bobBefore = await t.confirmed(bob);

    // Her commitment confirms; she claims the HTLC with the preimage, Bob sweeps his to_remote.
    await t.mine(1);
    await waitFor("Bob's monitor to see Carol's commitment", () => t.monitorOf(bob, carol)!.chain.fundingSpend?.txid === commitment.txid || undefined, 10_000);
    const claimOf = (m: MonitorState | undefined, label: string) => Object.values(m?.chain.claims ?? {}).find((c) => c.label === label);
    await waitFor('her HTLC-success and his to_remote sweep to reach the mempool', () => [claimOf(t.monitorOf(carol, bob), 'htlc-success 0'), claimOf(t.monitorOf(bob, carol), 'to_remote')].every((c) => c && t.inMempool(c.txid)) || undefined, 10_000);
    await t.mine(1);
    const success = claimOf(t.monitorOf(carol, bob), 'htlc-success 0')!;
    await waitFor("Bob's monitor to read the preimage from Carol's HTLC-success", () => t.monitorOf(bob, carol)!.chain.told.includes('claimed:out:0') || undefined, 10_000);

    // Upstream, off chain: Alice's payment succeeds, and the channel moved by the amount and Bob's fee.
    expect((await pay).status).toBe('SUCCEEDED');
    expect((await alice.node.handlers().lookuppayment({ payment_hash: inv.r_hash })).status).toBe('SUCCEEDED');
    await waitFor('the Alice–Bob channel to settle the HTLC', () => (quiet(t, alice, bob, 0) && quiet(t, bob, alice, 0)) || undefined, 10_000);
    expect([t.phaseOf(alice, bob), t.phaseOf(bob, alice)]).toEqual(['NORMAL', 'NORMAL']);
    expect(before.alice - t.localMsat(alice, bob)).toBe(AMOUNT_SAT * 1000n + FEE_MSAT);
    expect(t.localMsat(bob, alice) - before.bob).toBe(AMOUNT_SAT * 1000n + FEE_MSAT);

    // On chain: the HTLC output of Carol's commitment holds the HTLC's amount, and her HTLC-success
    // (anchors: no fee of its own) passes all of it to its output 0.
    const ctx = Transaction.fromHex(t.monitorOf(bob, carol)!.chain.fundingSpend!.rawTx);
    const stx = Transaction.fromHex(success.txHex);
    const htlcIn = prevOf(stx, 0);
    expect(htlcIn.txid).toBe(commitment.txid);
    expect(ctx.outs[htlcIn.vout]!.value).toBe(AMOUNT_SAT);
    expect(stx.outs[0]!.value).toBe(AMOUNT_SAT);
    // Bob's wallet gained his to_remote less his sweep's fee, to the satoshi.
    const sweep = Transaction.fromHex(claimOf(t.monitorOf(bob, carol), 'to_remote')!.txHex);
    expect(sweep.ins).toHaveLength(1);
    expect(prevOf(sweep, 0).txid).toBe(commitment.txid);
    const toRemote = ctx.outs[prevOf(sweep, 0).vout]!.value;
    await waitFor("Bob's wallet to count his sweep", async () => ((await t.confirmed(bob)) !== bobBefore ? true : undefined), 10_000);
    expect((await t.confirmed(bob)) - bobBefore).toBe(sweep.outs[0]!.value);
    expect(toRemote - sweep.outs[0]!.value).toBeGreaterThan(0n);
    expect(toRemote - sweep.outs[0]!.value).toBeLessThan(1_000n);
  });

  it('Carol never answers: Bob goes on chain by his timeout deadline, times the HTLC out and fails Alice off chain in time', { timeout: 90_000 }, async () => {
    const { t, alice, bob, carol, inv, before, pay, expiry, upstreamExpiry, link } = await forwardHeld('fwd-timeout');

    await t.mine(expiry + OFFERED_HTLC_GRACE - 1 - t.tip());
    await waitFor("Bob's monitor to see the tip", () => t.monitorOf(bob, carol)!.chain.height === t.tip() || undefined, 10_000);
    expect(t.monitorOf(bob, carol)!.chain.forceClose).toBe(false);
    expect(t.phaseOf(bob, carol)).toBe('NORMAL');
    await t.mine(1);
    await waitFor('Bob to go on chain', () => (t.phaseOf(bob, carol) === 'FORCE_CLOSING' && t.monitorOf(bob, carol)!.chain.forceClose) || undefined, 10_000);
    expect(bob.logs.some((l) => new RegExp(`HTLC 0 \\(50000 sat\\) we offered expired at block ${expiry} and the peer has not failed or fulfilled it by block ${expiry + OFFERED_HTLC_GRACE}.*timeout deadline`).test(l))).toBe(true);
    await waitFor('his error to reach Carol (dropped by the cut)', () => link.dropped.get(carol)!.some((m) => m.type === 'error' && /timeout deadline/.test(new TextDecoder().decode(m.data))) || undefined, 10_000);
    // Only the channel whose HTLC is late fails.
    expect([t.phaseOf(alice, bob), t.phaseOf(bob, alice)]).toEqual(['NORMAL', 'NORMAL']);
    const commitment = Object.values(t.monitorOf(bob, carol)!.chain.claims).find((c) => c.id.startsWith('commitment:'))!;
    await waitFor('his commitment to reach the mempool', () => t.inMempool(commitment.txid) || undefined, 10_000);

    await t.mine(1);
    const timeoutClaim = await waitFor("Bob's HTLC-timeout to reach the mempool", () => Object.values(t.monitorOf(bob, carol)!.chain.claims).find((c) => c.label === 'htlc-timeout 0' && t.inMempool(c.txid)), 10_000);
    expect(t.monitorOf(bob, carol)!.chain.fundingSpend?.txid).toBe(commitment.txid);
    await t.mine(1);
    const timeoutHeight = t.tip();
    await waitFor("Bob's monitor to see his HTLC-timeout confirmed", () => Object.values(t.monitorOf(bob, carol)!.chain.spends).some((sp) => sp.txid === timeoutClaim.txid && sp.height === timeoutHeight) || undefined, 10_000);
    // Failed upstream, off chain, once final (ANTI_REORG_DELAY deep), not before.
    await t.mine(ANTI_REORG_DELAY - 2);
    await waitFor("Bob's monitor to see the tip", () => t.monitorOf(bob, carol)!.chain.height === t.tip() || undefined, 10_000);
    expect((await alice.node.handlers().lookuppayment({ payment_hash: inv.r_hash })).status).toBe('IN_FLIGHT');
    expect(t.monitorOf(bob, carol)!.chain.told.some((x) => x.startsWith('resolved:'))).toBe(false);
    await t.mine(1);
    await expect(pay).rejects.toThrow(/^Your channel peer could not pass the payment on: its channel toward the next node has no room/);
    expect((await alice.node.handlers().lookuppayment({ payment_hash: inv.r_hash })).status).toBe('FAILED');
    expect(t.tip()).toBeLessThan(upstreamExpiry);
    await waitFor('the Alice–Bob channel to drop the HTLC', () => (quiet(t, alice, bob, 0) && quiet(t, bob, alice, 0)) || undefined, 10_000);
    expect([t.phaseOf(alice, bob), t.phaseOf(bob, alice)]).toEqual(['NORMAL', 'NORMAL']);
    expect(t.localMsat(alice, bob)).toBe(before.alice);
    expect(t.localMsat(bob, alice)).toBe(before.bob);
    expect((await alice.node.handlers().listchannels({})).channels.map((c) => c.active)).toEqual([true]);

    // On chain: Bob's commitment holds the HTLC's amount, and his HTLC-timeout (locktime at the
    // expiry; anchors: no fee of its own) passes all of it to its output 0, after the expiry.
    const ctx = Transaction.fromHex(commitment.txHex);
    const ttx = Transaction.fromHex(timeoutClaim.txHex);
    const htlcIn = prevOf(ttx, 0);
    expect(htlcIn.txid).toBe(commitment.txid);
    expect(ctx.outs[htlcIn.vout]!.value).toBe(AMOUNT_SAT);
    expect(ttx.outs[0]!.value).toBe(AMOUNT_SAT);
    expect(ttx.locktime).toBe(expiry);
    expect(timeoutHeight).toBeGreaterThan(expiry);
    // Carol's monitor saw Bob's commitment: nothing of it is hers (no balance, no preimage released),
    // and Bob's HTLC-timeout, once final, leaves nothing open.
    await waitFor("Carol's monitor to see Bob's commitment", () => t.monitorOf(carol, bob)?.chain.fundingSpend?.txid === commitment.txid || undefined, 10_000);
    expect(t.monitorOf(carol, bob)!.chain.claims).toEqual({});
    expect(['FORCE_CLOSING', 'CLOSED']).toContain(t.phaseOf(carol, bob));
  });
});
