/**
 * Force close between two Coulomb nodes on one playground chain, with HTLCs in flight both ways
 * (BOLT 5). Alice pays Bob twice and Bob pays Alice once; each payee holds its HTLCs (the switch's
 * locked_in events are held back), so all three sit in both commitments. The link is cut, Bob learns
 * one preimage (his fulfill never reaches Alice) and Alice learns Bob's payment's; the third is left
 * unanswered. Alice runs closechannel --force:
 * - Alice's commitment with its CPFP child; her HTLC-success at once, her HTLC-timeout from the
 *   HTLC's expiry, each second-stage output and to_local after Bob's to_self_delay, every one swept
 *   to her wallet once; Bob's preimage, read from his claim on chain, settles her payment, and the
 *   timed-out one fails;
 * - Bob (the peer force-closed on him) sweeps to_remote and claims his HTLC with the preimage, and
 *   his own payment settles from the preimage Alice's HTLC-success revealed.
 * Bob gives up the third invoice, so Alice times it out on chain and her payment fails. Every wallet's
 * change is checked to the satoshi against the transactions on chain, and each output is spent once.
 * Bob restarts between blocks with his claims published and unmined, and picks up where he was; and
 * again after his monitor stored an outcome his switch never heard (a stop between the two writes):
 * the outcome is told again at start.
 *
 * The same flow runs a second time on a chain apart from both nodes, with Alice, who does most of the
 * work, restarting at every step: her commitment published, confirmed, each HTLC transaction
 * published, each second stage confirmed, each sweep published. After each restart she plans the same
 * claims as the same transactions; in the end no two different transactions ever sent to the chain
 * spend one output, and the amounts are the same to the satoshi.
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { holdIncoming, settled, startCoulombPair } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { Message } from '../../core/wire/index.ts';
import type { Peer } from '../../core/peer/peer.ts';
import { commitmentsOf } from '../../core/channel/updates.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';
import { localCommitment } from '../../core/monitor/view.ts';

const DELAY = 12;

/** Drops every message that comes into `t`'s node while `cut.on`. */
function cuttable(t: TestNode, cut: { on: boolean }): void {
  const peers = t.node.peers as unknown as { route: (peer: Peer, msg: Message) => void };
  const route = peers.route.bind(t.node.peers);
  peers.route = (peer, msg) => {
    if (cut.on) return;
    route(peer, msg);
  };
}

/**
 * `restarts`: on a standalone chain, Alice restarts at every step of her close, and each time her
 * monitor comes back with the same claims as the same transactions.
 */
async function forceClose(restarts: boolean): Promise<void> {
  const p: CoulombPair = await startCoulombPair(restarts ? 'fc-restarts' : 'fc', DELAY, restarts ? { chain: 'standalone' } : {});
  try {
    await flow(p, restarts);
  } finally {
    await p.close();
  }
}

async function flow(p: CoulombPair, restarts: boolean): Promise<void> {
  const { alice, bob } = p;
  let a: ApiHandlers = p.a();
  let b: ApiHandlers = p.b();
  const aliceRestarts: string[] = [];
  /** In the restarts run, Alice restarts when her monitor planned or saw something new, and comes back as she was. */
  const restartAlice = async (step: string): Promise<void> => {
    if (!restarts || !(await p.restartOnChange(alice, step))) return;
    aliceRestarts.push(step);
    a = alice.node.handlers();
    expect(phaseOf(alice)).toBe('FORCE_CLOSING');
  };

  const mine = (n: number): Promise<void> => p.mine(n);
  const tip = (): number => p.tip();
  const monitorOf = (t: TestNode): MonitorState => p.monitorOf(t);
  const phaseOf = (t: TestNode): string => p.phaseOf(t);
  const confirmed = (t: TestNode): Promise<bigint> => p.confirmed(t);

  {
    await p.openChannel(1_000_000, 200_000);
    expect(alice.node.channels.list()[0]!.state.channelType).toBe('anchors');

    const heldA = holdIncoming(alice);
    const heldB = holdIncoming(bob);
    const inv1 = await b.addinvoice({ value: 20_000, cltv_expiry: 40 });
    const inv3 = await b.addinvoice({ value: 25_000, cltv_expiry: 40 });
    const inv2 = await a.addinvoice({ value: 30_000, cltv_expiry: 40 });
    const pay1 = a.sendpayment({ pay_req: inv1.payment_request, timeout_seconds: 600 });
    const pay3 = a.sendpayment({ pay_req: inv3.payment_request, timeout_seconds: 600 });
    pay3.catch(() => undefined);
    const pay2 = b.sendpayment({ pay_req: inv2.payment_request, timeout_seconds: 600 });
    await waitFor('three HTLCs held, both sides quiet', () => {
      if (heldB.events.length === 2 && heldA.events.length === 1 && [alice, bob].every((t) => settled(t, 3))) return true;
      throw new Error(`held: bob ${heldB.events.length}, alice ${heldA.events.length}; settled: ${[alice, bob].map((t) => settled(t, 3)).join(', ')}`);
    }, 30_000);
    expect(commitmentsOf(alice.node.channels.list()[0]!.state).localSpec.htlcs).toHaveLength(3);

    // The link is cut; each payee settles one HTLC, which the other never hears of.
    const cut = { on: true };
    cuttable(alice, cut);
    cuttable(bob, cut);
    const hash1 = inv1.r_hash;
    heldB.release((e) => e.type === 'locked_in' && Buffer.from(e.htlc.paymentHash).toString('hex') === hash1);
    heldA.release(() => true);
    await waitFor('both monitors to know their preimage', () => (monitorOf(alice).data.preimages.length === 1 && monitorOf(bob).data.preimages.length === 1 ? true : undefined), 10_000);

    // Bob gives up the third invoice: he will not claim it, even after a restart (Alice times it out).
    await b.cancelinvoice({ payment_hash: inv3.r_hash });
    const aliceBefore = await confirmed(alice);
    const bobBefore = await confirmed(bob);
    const chanPoint = (await a.listchannels({})).channels[0]!.channel_point;
    const { closing_txid } = await a.closechannel({ chan_point: chanPoint, force: true });
    expect(phaseOf(alice)).toBe('FORCE_CLOSING');
    expect((await a.listchannels({})).channels).toHaveLength(0);
    const pending = (await a.pendingchannels({})).pending_force_closing_channels;
    expect(pending).toHaveLength(1);
    expect(pending[0]!.closing_txid).toBe(closing_txid);
    expect(pending[0]!.pending_htlcs).toHaveLength(3);
    await restartAlice('our commitment published');

    await mine(1);
    const fundingHeight = tip();
    await waitFor('both monitors to see the commitment', () => (monitorOf(alice).chain.fundingSpend?.txid === closing_txid && monitorOf(bob).chain.fundingSpend?.txid === closing_txid ? true : undefined), 10_000);
    await waitFor('both channels to be force-closing', () => (phaseOf(alice) === 'FORCE_CLOSING' && phaseOf(bob) === 'FORCE_CLOSING' ? true : undefined), 10_000);
    await restartAlice('our commitment confirmed, the HTLC-success published');
    // Bob restarts between blocks, his claims published and not yet mined: he resumes, nothing doubled.
    await bob.restart();
    b = bob.node.handlers();
    expect(phaseOf(bob)).toBe('FORCE_CLOSING');
    expect(Object.values(monitorOf(bob).chain.claims).map((c) => c.label).sort()).toEqual(['htlc 0 (preimage)', 'to_remote']);
    // Bob's switch misses the next outcome his monitor tells, as if he stopped between the monitor's
    // write (the outcome told) and the switch's: after a restart he is told again.
    const missed: string[] = [];
    const sw = (bob.node as unknown as { unlocked: { htlcSwitch: { onChainOutcome: (o: { type: string }) => Promise<void> } } }).unlocked.htlcSwitch;
    sw.onChainOutcome = (o) => {
      missed.push(o.type);
      return Promise.reject(new Error('stopped before the switch heard it'));
    };
    // The first-stage claims go out: Alice's HTLC-success, Bob's to_remote and his HTLC with the preimage.
    await mine(1);
    await waitFor("Alice's payment to settle from the preimage on chain", async () => ((await a.lookuppayment({ payment_hash: inv1.r_hash })).status === 'SUCCEEDED' ? true : undefined), 10_000);
    await waitFor("Bob's monitor to tell the preimage from Alice's HTLC-success", () => (monitorOf(bob).chain.told.includes('claimed:out:0') ? true : undefined), 10_000);
    expect(missed).toEqual(['claimed']);
    expect((await b.lookuppayment({ payment_hash: inv2.r_hash })).status).toBe('IN_FLIGHT');
    await bob.restart();
    b = bob.node.handlers();
    await waitFor("Bob's payment to settle from Alice's HTLC-success", async () => ((await b.lookuppayment({ payment_hash: inv2.r_hash })).status === 'SUCCEEDED' ? true : undefined), 10_000);
    await restartAlice('the HTLC-success confirmed');

    const status = (await a.pendingchannels({})).pending_force_closing_channels[0]!;
    expect(status.close_type).toBe('LOCAL_FORCE_CLOSE');
    expect(status.maturity_height).toBe(fundingHeight + DELAY);
    expect(BigInt(status.limbo_balance)).toBeGreaterThan(0n);

    // Past the HTLC's expiry and every delay (its HTLC transaction's output waits one more), then six
    // more for the outcomes to be final: mined in batches until both monitors say closed (one block at
    // a time where Alice restarts, so that she restarts between each publication and its confirmation).
    const expiry = Math.max(...monitorOf(alice).data.local.htlcs.map((h) => h.cltvExpiry));
    const show = (t: TestNode): string => `${phaseOf(t)} claims [${Object.values(monitorOf(t).chain.claims).map((c) => c.label).join(', ')}] spends [${Object.keys(monitorOf(t).chain.spends).map((k) => k.slice(-3)).join(' ')}] told [${monitorOf(t).chain.told.map((x) => x.slice(0, 16)).join(', ')}]`;
    while (phaseOf(alice) !== 'CLOSED' || phaseOf(bob) !== 'CLOSED') {
      if (tip() > expiry + 2 * DELAY + 20) throw new Error(`not closed at ${tip()} (expiry ${expiry}): alice ${show(alice)}; bob ${show(bob)} ${monitorOf(bob).chain.height} ${JSON.stringify(Object.values(monitorOf(bob).chain.spends).map((x) => x.height))} ${bob.logs.filter((l) => /WARN|ERROR|monitor/i.test(l)).slice(-6).join(' | ')}`);
      await mine(tip() < expiry ? expiry - tip() : restarts ? 1 : 4);
      // The channels hear of a monitor's closed after its block: give them their turn.
      await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => phaseOf(t) === 'CLOSED' || !monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
      if (phaseOf(alice) !== 'CLOSED') await restartAlice(`block ${tip()}: [${Object.values(monitorOf(alice).chain.claims).map((c) => c.label).join(', ')}], ${Object.keys(monitorOf(alice).chain.spends).length} spent`);
    }
    if (restarts) {
      // Alice's sendpayment calls died with her restarts; her ledger has the outcomes.
      void pay1.catch(() => undefined);
      expect((await a.lookuppayment({ payment_hash: inv1.r_hash })).status).toBe('SUCCEEDED');
    } else {
      expect((await pay1).status).toBe('SUCCEEDED');
      await expect(pay3).rejects.toThrow(/closed on chain while the payment was in it/);
    }
    // Bob's sendpayment call died with his restart; his ledger has the outcome.
    void pay2.catch(() => undefined);
    expect((await b.lookuppayment({ payment_hash: inv2.r_hash })).status).toBe('SUCCEEDED');
    expect((await a.lookuppayment({ payment_hash: inv3.r_hash })).status).toBe('FAILED');
    if (restarts) {
      // A restart at each step: the commitment published; confirmed with the HTLC-success published;
      // that confirmed; the HTLC-timeout, to_local's and the HTLC-success output's sweeps published;
      // confirmed; the HTLC-timeout output's sweep published; confirmed.
      expect(aliceRestarts.length, aliceRestarts.join('; ')).toBeGreaterThanOrEqual(7);
      // Nothing Alice or Bob sent ever competed with another of theirs for an output.
      p.chain!.sentSpendsOnce();
    }

    // Alice: every claim of hers on chain, each output swept once.
    const ma = monitorOf(alice);
    const txs = new Map<string, Transaction>();
    const add = (hexTx: string): void => void txs.set(Transaction.fromHex(hexTx).getId(), Transaction.fromHex(hexTx));
    add(ma.chain.fundingSpend!.rawTx);
    for (const sp of Object.values(ma.chain.spends)) add(sp.rawTx);
    for (const t of (await a.listchaintxns({})).transactions) add(t.raw_tx_hex);
    const spentBy = new Map<string, string>();
    for (const [id, tx] of txs) for (const i of tx.ins) {
      const k = `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;
      const prev = spentBy.get(k);
      expect(prev === undefined || prev === id, `${k} spent twice`).toBe(true);
      spentBy.set(k, id);
    }
    const valueOf = (txid: string, vout: number): bigint => {
      const t = txs.get(txid);
      if (t) return t.outs[vout]!.value;
      throw new Error(`no parent ${txid}`);
    };
    const feeOf = (tx: Transaction): bigint => tx.ins.reduce((s, i) => s + valueOf(Buffer.from(i.hash).reverse().toString('hex'), i.index), 0n) - tx.outs.reduce((s, o) => s + o.value, 0n);
    // What Alice's commitment held: to_local for her, P2 (by success) and P3 (by timeout) back to her,
    // to_remote and P1 (with his preimage) for Bob.
    const { c: lc } = localCommitment(ma.data, alice.node.channels.list()[0]!.state.secrets);
    const amountOf = (kind: string): bigint => lc.outputs.find((o) => o.kind === kind)!.amountSat;
    const htlcSat = (hash: string): bigint => lc.outputs.find((o) => o.kind === 'htlc' && Buffer.from(o.htlc.paymentHash).toString('hex') === hash)!.amountSat;
    expect([htlcSat(inv1.r_hash), htlcSat(inv2.r_hash), htlcSat(inv3.r_hash)]).toEqual([20_000n, 30_000n, 25_000n]);
    const aliceClaims = Object.values(ma.chain.claims).filter((c) => !c.id.startsWith('commitment:'));
    // Two HTLC transactions, their two outputs and to_local swept: five, each confirmed.
    expect(aliceClaims.map((c) => c.label).sort()).toEqual(['htlc 0 output', 'htlc 1 output', 'htlc-success 0', 'htlc-timeout 1', 'to_local'].sort());
    for (const c of aliceClaims) expect(txs.has(c.txid), `${c.label} confirmed`).toBe(true);
    const child = (await a.listchaintxns({})).transactions.find((t) => t.label.includes('anchor CPFP'));
    const childFee = child ? feeOf(Transaction.fromHex(child.raw_tx_hex)) : 0n;
    const claimFees = aliceClaims.reduce((s, c) => s + feeOf(txs.get(c.txid)!), 0n);
    const aliceAfter = await confirmed(alice);
    expect(aliceAfter).toBe(aliceBefore + amountOf('to_local') + htlcSat(inv2.r_hash) + htlcSat(inv3.r_hash) - claimFees - childFee);

    // Bob: to_remote and P1, less the fees of his sweeps; nothing else of the commitment.
    const mb = monitorOf(bob);
    const bobClaims = Object.values(mb.chain.claims).filter((c) => Object.values(mb.chain.spends).some((sp) => sp.txid === c.txid));
    const bobTxs = bobClaims.map((c) => Transaction.fromHex(c.txHex));
    for (const t of bobTxs) txs.set(t.getId(), t);
    const bobIn = bobTxs.reduce((s, t) => s + t.ins.reduce((x, i) => x + valueOf(Buffer.from(i.hash).reverse().toString('hex'), i.index), 0n), 0n);
    expect(bobIn).toBe(amountOf('to_remote') + htlcSat(inv1.r_hash));
    const bobAfter = await confirmed(bob);
    expect(bobAfter - bobBefore).toBe(bobIn - bobTxs.reduce((s, t) => s + feeOf(t), 0n));

    const closed = (await a.closedchannels({})).channels[0]!;
    expect(closed.close_type).toBe('LOCAL_FORCE_CLOSE');
    expect(BigInt(closed.settled_balance)).toBe(aliceAfter - aliceBefore + childFee);
    expect((await b.closedchannels({})).channels[0]!.close_type).toBe('REMOTE_FORCE_CLOSE');
  }
}

describe('force close with HTLCs in flight both ways', () => {
  it('sweeps every output to the wallets, settles and fails upstream, to the satoshi', { timeout: 120_000 }, () => forceClose(false));
  it('Alice restarts at every step and resumes: the same claims, nothing sent twice, the same amounts', { timeout: 120_000 }, () => forceClose(true));
});
