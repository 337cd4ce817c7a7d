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
 *
 * Two more runs. On a chain apart from both nodes, Alice restarts at every step (the revoked commitment
 * seen and her justice published, the justice confirmed, each block after until closed) and comes back
 * with the same claims as the same transactions; no two different transactions ever sent spend one
 * output. And with the HTLC taken to its second stage: Alice's broadcasts are held back while Bob's
 * HTLC-timeout gets in first, and her penalty takes its output with the revocation key, beside to_local.
 * Last, Bob restored from the copy reconnects instead of closing: Alice's channel_reestablish tells him
 * his data is out of date, closechannel --force is refused saying why, he never publishes a commitment,
 * and he sweeps to_remote from the one Alice publishes, to the satoshi.
 */
import { describe, expect, it } from 'vitest';
import { cp, rm } from 'node:fs/promises';
import { Transaction } from 'bitcoinjs-lib';
import { tempDir, removeDir, waitFor } from '../helpers/daemon.ts';
import { holdIncoming, settled, startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import { expectBreachOutcome } from '../helpers/breach-outcome.ts';

interface Case {
  /** Bob's copied state holds an HTLC he offered. */
  htlc?: boolean;
  /** Alice restarts at every step (on a standalone chain). */
  restarts?: boolean;
  /** Bob's HTLC-timeout confirms before Alice's penalty (her broadcasts held until it does). */
  secondStage?: boolean;
  /**
   * Bob, restored, reconnects instead: Alice's channel_reestablish tells him his data is out of date, he
   * refuses to force-close and never publishes, and sweeps to_remote from the commitment Alice publishes.
   */
  stale?: boolean;
}

/** Bob cheats with a copy of his old data directory; Alice takes everything. */
async function breach(k: Case): Promise<void> {
  const htlc = !!k.htlc || !!k.secondStage;
  // Bob's HTLC must time out (18 blocks from the payment, and a few) before his to_local is his.
  const DELAY = k.secondStage ? 40 : 12;
  const p = await startCoulombPair(`breach${htlc ? '-htlc' : ''}${k.restarts ? '-restarts' : ''}${k.secondStage ? '-second' : ''}${k.stale ? '-stale' : ''}`, DELAY, k.restarts || k.stale ? { chain: 'standalone' } : {});
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
      // Bob pays the fee of his HTLC transaction from his wallet (anchors).
      if (k.secondStage) await p.faucet(bob, 100_000);
      await pay('a', 50_000);
      await pay('b', 10_000);
      await bobHas(240_000n);
      const held = htlc ? holdIncoming(alice) : undefined;
      if (held) {
        const inv = await p.a().addinvoice({ value: 30_000, ...(k.secondStage ? { cltv_expiry: 18 } : {}) });
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
      if (k.stale) {
        await staleBob(p, chanPoint, bobBefore, htlc ? 130_000n : 160_000n);
        return;
      }
      const { closing_txid } = await p.b().closechannel({ chan_point: chanPoint, force: true });
      // Alice's broadcasts are held while Bob's HTLC-timeout is not confirmed.
      const holdAlice = { on: !!k.secondStage };
      if (k.secondStage) {
        const br = alice.node.chain.broadcaster;
        const send = br.broadcast.bind(br);
        br.broadcast = (txHex: string) => (holdAlice.on ? Promise.reject(new Error('held back by the test')) : send(txHex));
      }
      const restarts: string[] = [];
      const restartAlice = async (step: string): Promise<void> => {
        if (k.restarts && p.phaseOf(alice) !== 'CLOSED' && (await p.restartOnChange(alice, step))) restarts.push(step);
      };

      await p.mine(1);
      const commitHeight = p.tip();
      await waitFor('Alice to see the revoked commitment', () => (p.monitorOf(alice).chain.fundingSpend?.txid === closing_txid ? true : undefined), 10_000);
      const pending = (await p.a().pendingchannels({})).pending_force_closing_channels;
      expect(pending.map((c) => c.close_type)).toEqual(['BREACH_CLOSE']);
      await restartAlice('the revoked commitment seen, the justice published');

      const ma = () => p.monitorOf(alice);
      const commitment = Transaction.fromHex(ma().chain.fundingSpend!.rawTx);
      const htlcVout = commitment.outs.findIndex((o) => o.value === 30_000n);
      /** Bob's HTLC-timeout, once Alice saw it confirmed (a spend of the HTLC output not hers). */
      const bobsHtlcTx = () => {
        const sp = htlc ? ma().chain.spends[`${closing_txid}:${htlcVout}`] : undefined;
        return sp && !Object.values(ma().chain.claims).some((c) => c.txid === sp.txid) ? sp : undefined;
      };
      if (k.secondStage) {
        const expiry = p.monitorOf(bob).data.local.htlcs[0]!.cltvExpiry;
        expect(expiry - commitHeight).toBeLessThan(DELAY - 6);
        while (!bobsHtlcTx()) {
          if (p.tip() > expiry + 3) throw new Error(`Bob's HTLC-timeout not confirmed by ${p.tip()} (expiry ${expiry}): Bob's claims [${Object.values(p.monitorOf(bob).chain.claims).map((c) => c.label).join(', ')}]; ${bob.logs.filter((l) => /WARN|ERROR|monitor/i.test(l)).slice(-4).join(' | ')}`);
          await p.mine(1);
        }
        holdAlice.on = false;
      }

      // Block by block: the justice must confirm before Bob's to_local is his to spend.
      const confirmedClaims = () => Object.values(ma().chain.claims).filter((c) => Object.values(ma().chain.spends).some((sp) => sp.txid === c.txid));
      const tookToLocal = () => confirmedClaims().some((c) => c.label === 'justice');
      while (!tookToLocal()) {
        if (p.tip() >= commitHeight + DELAY - 1) throw new Error(`no justice confirmed by ${p.tip()} (commitment at ${commitHeight}): claims [${Object.values(ma().chain.claims).map((c) => c.label).join(', ')}]; ${alice.logs.filter((l) => /WARN|ERROR|monitor|justice/i.test(l)).slice(-6).join(' | ')}`);
        await p.mine(1);
        await restartAlice(`block ${p.tip()}`);
      }
      await restartAlice('the justice confirmed');
      // Then six more blocks for the outcomes to be final, until both sides are closed.
      while (p.phaseOf(alice) !== 'CLOSED' || p.phaseOf(bob) !== 'CLOSED') {
        if (p.tip() > commitHeight + 2 * DELAY + 20) throw new Error(`not closed at ${p.tip()}: alice ${p.phaseOf(alice)} [${Object.values(ma().chain.claims).map((c) => c.label).join(', ')}], bob ${p.phaseOf(bob)}`);
        await p.mine(2);
        await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => p.phaseOf(t) === 'CLOSED' || !p.monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
        await restartAlice(`block ${p.tip()}`);
      }
      if (k.restarts) {
        expect(restarts[0]).toBe('the revoked commitment seen, the justice published');
        expect(restarts.length, restarts.join('; ')).toBeGreaterThanOrEqual(2);
        p.chain!.sentSpendsOnce();
      }

      // Alice's confirmed claims take all of the channel (with the second stage, the output of Bob's
      // HTLC-timeout instead of the HTLC's: the same amount); Bob gets nothing back, to the satoshi.
      const second = bobsHtlcTx();
      if (k.secondStage) expect(second).toBeDefined();
      else expect(second).toBeUndefined();
      const { outs, bobTxs } = await expectBreachOutcome(p, { closingTxid: closing_txid, aliceBefore, bobBefore, ...(second ? { bobsHtlcTx: second } : {}) });
      // What the revoked commitment held: two anchors, Bob's to_local (he pays no commitment fee), the
      // HTLC if any, and Alice's to_remote.
      expect(outs).toHaveLength(htlc ? 3 : 2);
      expect(outs).toContain(htlc ? 210_000n : 240_000n);
      if (htlc) expect(outs).toContain(30_000n);
      const justiceHeight = Object.values(ma().chain.spends).find((sp) => sp.txid === confirmedClaims().find((c) => c.label === 'justice')!.txid)!.height;
      expect(justiceHeight).toBeLessThan(commitHeight + DELAY);
      // Only with the second stage did Bob spend the HTLC output himself (his HTLC-timeout; its output is Alice's).
      expect(bobTxs.filter((t) => t.ins.some((i) => Buffer.from(i.hash).reverse().toString('hex') === closing_txid && i.index === htlcVout))).toHaveLength(k.secondStage ? 1 : 0);
  } finally {
    await p.close();
    await removeDir(backup);
  }
}

/**
 * Bob, restored from the copy, reconnects: Alice's channel_reestablish proves his data out of date. He
 * refuses closechannel --force, saying why, and never publishes a commitment; Alice fails the channel
 * and publishes hers, and Bob sweeps his `bobHas` from it, less the sweep's fee, to the satoshi.
 */
async function staleBob(p: CoulombPair, chanPoint: string, bobBefore: bigint, bobHas: bigint): Promise<void> {
  const { alice, bob } = p;
  const chain = p.chain!;
  await p.a().connect({ addr: bob.uri });
  await waitFor("Bob to learn from Alice's channel_reestablish that his data is out of date", () => (p.monitorOf(bob).data.stale ? true : undefined), 15_000);
  await expect(p.b().closechannel({ chan_point: chanPoint, force: true })).rejects.toThrow(/cannot be force-closed: the peer proved our channel data out of date.*wait for the peer to close it/);
  const aliceCommitment = () => Object.values(p.monitorOf(alice).chain.claims).find((c) => c.id.startsWith('commitment:'));
  await waitFor('Alice to fail the channel and publish her commitment', () => (aliceCommitment() && chain.mempool().includes(aliceCommitment()!.txid) ? true : undefined), 15_000);
  const theirs = aliceCommitment()!.txid;
  await p.mine(1);
  await waitFor('Bob to see her commitment', () => (p.monitorOf(bob).chain.fundingSpend?.txid === theirs ? true : undefined), 10_000);
  const start = p.tip();
  while (p.phaseOf(alice) !== 'CLOSED' || p.phaseOf(bob) !== 'CLOSED') {
    if (p.tip() > start + 40) throw new Error(`not closed at ${p.tip()}: alice ${p.phaseOf(alice)}, bob ${p.phaseOf(bob)} [${Object.values(p.monitorOf(bob).chain.claims).map((c) => c.label).join(', ')}]`);
    await p.mine(2);
    await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => p.phaseOf(t) === 'CLOSED' || !p.monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
  }
  // Bob never built nor sent a commitment: the only spend of the funding output ever sent is Alice's.
  expect(Object.keys(p.monitorOf(bob).chain.claims).filter((id) => id.startsWith('commitment:'))).toEqual([]);
  const spendsFunding = chain.sent.filter((tx) => tx.ins.some((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}` === chanPoint));
  expect(spendsFunding.map((tx) => tx.getId())).toEqual([theirs]);
  chain.sentSpendsOnce();
  // His to_remote, from a commitment later than any he knows of.
  const book = new TxBook();
  for (const tx of chain.sent) book.add(tx);
  const bobClaims = Object.values(p.monitorOf(bob).chain.claims);
  expect(bobClaims.map((c) => c.label)).toEqual(['to_remote']);
  const sweep = book.txs.get(bobClaims[0]!.txid)!;
  expect(book.inputsOf(sweep)).toBe(bobHas);
  expect(await p.confirmed(bob)).toBe(bobBefore + bobHas - book.feeOf(sweep));
  expect((await p.b().closedchannels({})).channels[0]!.close_type).toBe('REMOTE_FORCE_CLOSE');
}

describe('breach: a node restored from an old copy publishes a revoked commitment', () => {
  it('Alice takes everything with the justice transaction before the delay runs out, to the satoshi', { timeout: 120_000 }, () => breach({}));
  it('with an HTLC in the revoked state, the justice takes it too', { timeout: 120_000 }, () => breach({ htlc: true }));
  it('Alice restarts at every step and resumes: the same justice, nothing sent twice, to the satoshi', { timeout: 120_000 }, () => breach({ htlc: true, restarts: true }));
  it('Bob restored from the copy reconnects: told his data is out of date, he refuses to force-close and sweeps to_remote from Alice\'s commitment', { timeout: 120_000 }, () => breach({ stale: true }));
  it("Bob's HTLC-timeout confirms first: Alice's penalty takes its output with the revocation key, to the satoshi", { timeout: 120_000 }, () => breach({ secondStage: true }));
});
