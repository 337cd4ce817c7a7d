/**
 * A breach between two Coulomb nodes on one playground chain (BOLT 5, a revoked commitment confirmed).
 * Bob is the cheater: after payments both ways his data directory is copied (with him stopped), more
 * payments revoke the state in that copy, and Bob, restored from it, runs closechannel --force while
 * disconnected from Alice (so no channel_reestablish tells him he is behind): his node publishes the
 * revoked commitment, which pays him more than the current one. Alice, honest, sees it on chain and
 * takes Bob's to_local with the revocation key before his to_self_delay runs out, and her own output
 * too: her wallet ends at what it had plus both, less the fees of her claims, to the satoshi against
 * the chain; Bob gets nothing, and closedchannels says BREACH_CLOSE on Alice's side. In the second
 * case the copied state holds an HTLC Bob offered (Alice held it back, and settled it after the copy):
 * the justice takes that output too.
 */
import { describe, expect, it } from 'vitest';
import { cp, rm } from 'node:fs/promises';
import { Transaction } from 'bitcoinjs-lib';
import { tempDir, removeDir, waitFor } from '../helpers/daemon.ts';
import { holdIncoming, settled, startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';

const DELAY = 12;

/** Bob cheats with a copy of his old data directory; Alice takes everything. */
async function breach(htlc: boolean): Promise<void> {
  const p = await startCoulombPair(htlc ? 'breach-htlc' : 'breach', DELAY);
  const backup = await tempDir('breach-bob-copy');
  /** `from` pays `amt` sat to the other and the payment settles. */
  const pay = async (from: 'a' | 'b', amt: number): Promise<void> => {
    const [payer, payee] = from === 'a' ? [p.a(), p.b()] : [p.b(), p.a()];
    const inv = await payee.addinvoice({ value: amt });
    expect((await payer.sendpayment({ pay_req: inv.payment_request, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
  };
  /** Bob's balance in the channel comes to `sat` once the last payment's commitments are exchanged. */
  const bobHas = async (sat: bigint): Promise<void> => {
    await waitFor(`Bob's channel balance to be ${sat}`, async () => {
      const now = BigInt((await p.b().listchannels({})).channels[0]?.local_balance ?? -1);
      if (now === sat) return true;
      throw new Error(`Bob has ${now}`);
    }, 10_000);
  };
  const reconnect = async (): Promise<void> => {
    await p.a().connect({ addr: p.bob.uri });
    await waitFor('the channel to be active again on both sides', async () => ((await p.a().listchannels({})).channels[0]?.active && (await p.b().listchannels({})).channels[0]?.active) || undefined, 30_000);
  };
  try {
      const { alice, bob } = p;
      const chanPoint = await p.openChannel(1_000_000, 200_000);
      await pay('a', 50_000);
      await pay('b', 10_000);
      await bobHas(240_000n);
      const held = htlc ? holdIncoming(alice) : undefined;
      if (held) {
        const inv = await p.a().addinvoice({ value: 30_000 });
        p.b().sendpayment({ pay_req: inv.payment_request, timeout_seconds: 60 }).catch(() => undefined);
        await waitFor('the HTLC held by Alice, in both commitments', () => (held.events.length === 1 && [alice, bob].every((t) => settled(t, 1)) ? true : undefined), 10_000);
      }

      // Bob's old state, copied while he is stopped.
      await bob.restart(async () => {
        await cp(bob.datadir, backup, { recursive: true });
      });
      await reconnect();
      if (held) {
        held.hold = false;
        held.release(() => true);
        await waitFor('the HTLC settled', () => (settled(alice, 0) && settled(bob, 0) ? true : undefined), 10_000);
        await bobHas(210_000n);
      }
      await pay('b', 100_000);
      await pay('a', 20_000);
      await bobHas(htlc ? 130_000n : 160_000n);

      // Bob comes back from the copy, not connected to Alice (she dials his old port; he never dialled her).
      await bob.restart(async () => {
        await rm(bob.datadir, { recursive: true, force: true });
        await cp(backup, bob.datadir, { recursive: true });
      });
      await p.sync();
      expect(bob.node.peers.list()).toHaveLength(0);
      expect(BigInt((await p.b().listchannels({})).channels[0]!.local_balance)).toBe(htlc ? 210_000n : 240_000n);
      const aliceBefore = await p.confirmed(alice);
      const bobBefore = await p.confirmed(bob);
      const { closing_txid } = await p.b().closechannel({ chan_point: chanPoint, force: true });

      await p.mine(1);
      const commitHeight = p.tip();
      await waitFor('Alice to see the revoked commitment', () => (p.monitorOf(alice).chain.fundingSpend?.txid === closing_txid ? true : undefined), 10_000);
      const pending = (await p.a().pendingchannels({})).pending_force_closing_channels;
      expect(pending.map((c) => c.close_type)).toEqual(['BREACH_CLOSE']);

      // Block by block: the justice must confirm before Bob's to_local is his to spend.
      const ma = () => p.monitorOf(alice);
      const confirmedClaims = () => Object.values(ma().chain.claims).filter((c) => Object.values(ma().chain.spends).some((sp) => sp.txid === c.txid));
      const tookToLocal = () => confirmedClaims().some((c) => c.label === 'justice');
      while (!tookToLocal()) {
        if (p.tip() >= commitHeight + DELAY - 1) throw new Error(`no justice confirmed by ${p.tip()} (commitment at ${commitHeight}): claims [${Object.values(ma().chain.claims).map((c) => c.label).join(', ')}]; ${alice.logs.filter((l) => /WARN|ERROR|monitor|justice/i.test(l)).slice(-6).join(' | ')}`);
        await p.mine(1);
      }
      // Then six more blocks for the outcomes to be final, until both sides are closed.
      while (p.phaseOf(alice) !== 'CLOSED' || p.phaseOf(bob) !== 'CLOSED') {
        if (p.tip() > commitHeight + 2 * DELAY + 20) throw new Error(`not closed at ${p.tip()}: alice ${p.phaseOf(alice)} [${Object.values(ma().chain.claims).map((c) => c.label).join(', ')}], bob ${p.phaseOf(bob)}`);
        await p.mine(2);
        await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => p.phaseOf(t) === 'CLOSED' || !p.monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
      }

      // What the revoked commitment held: two anchors, Bob's to_local (he pays no commitment fee), the
      // HTLC if any, and Alice's to_remote.
      const book = new TxBook();
      const commitment = book.add(ma().chain.fundingSpend!.rawTx);
      expect(commitment.getId()).toBe(closing_txid);
      const outs = commitment.outs.map((o) => o.value).filter((v) => v !== 330n);
      expect(outs).toHaveLength(htlc ? 3 : 2);
      expect(outs).toContain(htlc ? 210_000n : 240_000n);
      if (htlc) expect(outs).toContain(30_000n);
      for (const sp of Object.values(ma().chain.spends)) book.add(sp.rawTx);
      for (const t of (await p.a().listchaintxns({})).transactions) book.add(t.raw_tx_hex);
      book.spentOnce();

      expect(confirmedClaims().map((c) => c.label).sort()).toEqual(['justice', 'to_remote']);
      const justiceHeight = Object.values(ma().chain.spends).find((sp) => sp.txid === confirmedClaims().find((c) => c.label === 'justice')!.txid)!.height;
      expect(justiceHeight).toBeLessThan(commitHeight + DELAY);
      // Alice's confirmed claims spend both non-anchor outputs of the commitment and nothing else of it.
      const claims = confirmedClaims().map((c) => book.txs.get(c.txid) ?? book.add(c.txHex));
      const fromCommitment = claims.flatMap((tx) => tx.ins.filter((i) => Buffer.from(i.hash).reverse().toString('hex') === closing_txid).map((i) => commitment.outs[i.index]!.value));
      expect(fromCommitment.sort()).toEqual([...outs].sort());
      const taken = outs.reduce((s, v) => s + v, 0n);
      const fees = claims.reduce((s, tx) => s + book.feeOf(tx), 0n);
      const aliceAfter = await p.confirmed(alice);
      expect(aliceAfter).toBe(aliceBefore + taken - fees);

      // Bob got nothing back from the channel; at most his commitment's CPFP cost him.
      const bobTxs = (await p.b().listchaintxns({})).transactions.filter((t) => t.label.includes('anchor CPFP')).map((t) => Transaction.fromHex(t.raw_tx_hex));
      const cpfp = bobTxs.reduce((s, tx) => s + book.feeOf(tx), 0n);
      expect(await p.confirmed(bob)).toBe(bobBefore - cpfp);

      const closed = (await p.a().closedchannels({})).channels[0]!;
      expect(closed.close_type).toBe('BREACH_CLOSE');
      expect(BigInt(closed.settled_balance)).toBe(aliceAfter - aliceBefore);
  } finally {
    await p.close();
    await removeDir(backup);
  }
}

describe('breach: a node restored from an old copy publishes a revoked commitment', () => {
  it('Alice takes everything with the justice transaction before the delay runs out, to the satoshi', { timeout: 120_000 }, () => breach(false));
  it('with an HTLC in the revoked state, the justice takes it too', { timeout: 120_000 }, () => breach(true));
});
