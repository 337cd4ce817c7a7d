/**
 * A reorganization through both nodes after a force close had been swept (BOLT 5: a claim depends on
 * the blocks it stands on). Alice force-closes a channel with Bob on a playground chain apart from both;
 * Bob's to_remote sweep and, after the delay, Alice's to_local sweep confirm. Then every block from the
 * commitment's up (five, fewer than the six after which an outcome is final) is invalidated and the
 * mempool emptied, and two empty blocks take their place:
 * - the same commitment comes back: both monitors forget what left (the funding spend, the sweeps),
 *   both channels forget their funding spend, Alice's node sends her commitment again, and once it is
 *   mined again both sweeps go out again as the same transactions (to_local only after the delay
 *   counted from the new height); in the end each output is swept once, to the satoshi;
 * - Bob's commitment takes its place (Alice's broadcasts held back until it confirms): Alice takes
 *   to_remote from it and Bob his to_local after the delay; nothing Alice built for her own commitment
 *   is ever sent again, and each wallet ends with what the new commitment gave it, to the satoshi.
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startCoulombPair, TxBook } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import { signedLocalCommitment } from '../../core/monitor/view.ts';

// Short, so that the reorganization (the commitment's block and the four after it, to_local's sweep
// in the last) stays under ANTI_REORG_DELAY: a monitor whose every spend is six deep is closed for good.
const DELAY = 4;

const outpointsOf = (tx: Transaction): string[] => tx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`);

async function reorg(replaced: boolean): Promise<void> {
  const p: CoulombPair = await startCoulombPair(replaced ? 'reorg-replaced' : 'reorg', DELAY, { chain: 'standalone' });
  const { alice, bob } = p;
  const chain = p.chain!;
  try {
    const chanPoint = await p.openChannel(1_000_000, 200_000);
    const aliceBefore = await p.confirmed(alice);
    const bobBefore = await p.confirmed(bob);
    const { closing_txid: ours } = await p.a().closechannel({ chan_point: chanPoint, force: true });
    await p.mine(1);
    const commitHeight = p.tip();
    await waitFor('both monitors to see the commitment', () => ([alice, bob].every((t) => p.monitorOf(t).chain.fundingSpend?.txid === ours) ? true : undefined), 10_000);
    const commitment = Transaction.fromHex(p.monitorOf(alice).chain.fundingSpend!.rawTx);
    const vout = (value: bigint): number => commitment.outs.findIndex((o) => o.value === value);
    const toRemote = `${ours}:${vout(200_000n)}`;
    const toLocal = `${ours}:${commitment.outs.findIndex((o, i) => o.value > 330n && i !== vout(200_000n))}`;
    const swept = (t: TestNode, outpoint: string): boolean => !!p.monitorOf(t).chain.spends[outpoint];
    while (!swept(alice, toLocal) || !swept(bob, toRemote)) {
      if (p.tip() > commitHeight + DELAY + 2) throw new Error(`not swept by ${p.tip()}: alice [${Object.keys(p.monitorOf(alice).chain.spends).join(', ')}], bob [${Object.keys(p.monitorOf(bob).chain.spends).join(', ')}]`);
      await p.mine(1);
    }
    const claimsBefore = (t: TestNode): Record<string, string> => Object.fromEntries(Object.values(p.monitorOf(t).chain.claims).map((c) => [c.id, c.txid]));
    const [aliceClaims, bobClaims] = [claimsBefore(alice), claimsBefore(bob)];
    expect(Object.keys(aliceClaims).sort()).toEqual([`commitment:${p.monitorOf(alice).data.local.number}`, `to_local:${toLocal}`].sort());
    expect(Object.keys(bobClaims)).toEqual([`to_remote:${toRemote}`]);

    // Back past the commitment: two empty blocks replace the sweeps' and the commitment's.
    await chain.invalidateFrom(commitHeight);
    chain.clearMempool();
    const hold = { on: replaced };
    const br = alice.node.chain.broadcaster;
    const send = br.broadcast.bind(br);
    br.broadcast = (txHex: string) => (hold.on ? Promise.reject(new Error('held back by the test')) : send(txHex));
    await chain.test.mine(2);
    await p.sync();
    const where = (t: TestNode): string => `${t.node.config.alias}: monitor at ${p.monitorOf(t).chain.height}, funding spend ${p.monitorOf(t).chain.fundingSpend?.txid.slice(0, 8)} at ${p.monitorOf(t).chain.fundingSpend?.height}, ${Object.keys(p.monitorOf(t).chain.spends).length} spends, channel's ${t.node.channels.list()[0]!.state.forceClose?.txid?.slice(0, 8)}`;
    await waitFor('both monitors and channels to forget the funding spend', () => {
      if ([alice, bob].every((t) => !p.monitorOf(t).chain.fundingSpend && Object.keys(p.monitorOf(t).chain.spends).length === 0 && !t.node.channels.list()[0]!.state.forceClose?.txid)) return true;
      throw new Error(`${where(alice)}; ${where(bob)}`);
    }, 10_000);
    expect([alice, bob].map((t) => p.phaseOf(t))).toEqual(['FORCE_CLOSING', 'FORCE_CLOSING']);
    expect(p.tip()).toBe(commitHeight + 1);

    let winner = ours;
    if (replaced) {
      // Alice's commitment stays out (her node would send it again); Bob's goes in instead.
      expect(chain.mempool()).toEqual([]);
      const bobs = signedLocalCommitment(p.monitorOf(bob).data, bob.node.channels.list()[0]!.state.secrets);
      winner = await chain.test.rpc.call<string>('sendrawtransaction', bobs.toHex());
    } else {
      await waitFor("Alice's node to send her commitment again", () => (chain.mempool().includes(ours) ? true : undefined), 10_000);
    }
    await p.mine(1);
    hold.on = false;
    const newHeight = p.tip();
    await waitFor('both monitors to see the commitment again', () => ([alice, bob].every((t) => p.monitorOf(t).chain.fundingSpend?.txid === winner) ? true : undefined), 10_000);
    const sentBefore = chain.attempts.length;
    await waitFor('both channels to record the funding spend again', () => ([alice, bob].every((t) => t.node.channels.list()[0]!.state.forceClose?.txid === winner && t.node.channels.list()[0]!.state.forceClose?.height === newHeight) ? true : undefined), 10_000);

    // Until both are closed: every output swept once.
    while (p.phaseOf(alice) !== 'CLOSED' || p.phaseOf(bob) !== 'CLOSED') {
      if (p.tip() > newHeight + DELAY + 12) throw new Error(`not closed at ${p.tip()}: alice ${p.phaseOf(alice)} [${Object.values(p.monitorOf(alice).chain.claims).map((c) => c.label).join(', ')}], bob ${p.phaseOf(bob)} [${Object.values(p.monitorOf(bob).chain.claims).map((c) => c.label).join(', ')}]`);
      await p.mine(2);
      await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => p.phaseOf(t) === 'CLOSED' || !p.monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
    }
    // Only the funding output had two spenders sent, when Bob's commitment replaced Alice's.
    chain.sentSpendsOnce((o) => replaced && o === chanPoint);
    const book = new TxBook();
    for (const tx of chain.sent) book.add(tx);
    const mined = new Set<string>();
    for (let h = 1; h <= p.tip(); h++) {
      const block = await chain.test.rpc.call<{ tx: string[] }>('getblock', await chain.test.rpc.call<string>('getblockhash', h), 1);
      for (const id of block.tx) mined.add(id);
    }
    expect(mined.has(winner)).toBe(true);
    const winning = book.txs.get(winner)!;
    /** The confirmed transactions that spend outputs of the commitment that won. */
    const sweepsOf = (t: TestNode): Transaction[] =>
      Object.values(p.monitorOf(t).chain.claims)
        .filter((c) => mined.has(c.txid))
        .map((c) => book.txs.get(c.txid)!)
        .filter((tx) => outpointsOf(tx).some((o) => o.startsWith(`${winner}:`)));
    const cpfpFees = async (t: TestNode): Promise<bigint> =>
      (await t.node.handlers().listchaintxns({})).transactions
        .filter((x) => x.label.includes('anchor CPFP') && mined.has(Transaction.fromHex(x.raw_tx_hex).getId()))
        .reduce((s, x) => s + book.feeOf(Transaction.fromHex(x.raw_tx_hex)), 0n);
    const aliceSweeps = sweepsOf(alice);
    const bobSweeps = sweepsOf(bob);
    expect(aliceSweeps).toHaveLength(1);
    expect(bobSweeps).toHaveLength(1);
    // Alice's side of either commitment is 800,000 less its fee (hers, as funder); Bob's is 200,000.
    const aliceIn = book.inputsOf(aliceSweeps[0]!);
    const bobIn = book.inputsOf(bobSweeps[0]!);
    expect(bobIn).toBe(200_000n);
    expect(winning.outs.map((o) => o.value).filter((v) => v !== 330n).sort()).toEqual([aliceIn, bobIn].sort());
    expect(await p.confirmed(alice)).toBe(aliceBefore + aliceIn - book.feeOf(aliceSweeps[0]!) - (await cpfpFees(alice)));
    expect(await p.confirmed(bob)).toBe(bobBefore + bobIn - book.feeOf(bobSweeps[0]!) - (await cpfpFees(bob)));

    if (!replaced) {
      // The same claims as the same transactions: nothing was built twice.
      expect(claimsBefore(alice)).toEqual(aliceClaims);
      expect(claimsBefore(bob)).toEqual(bobClaims);
      expect((await p.a().closedchannels({})).channels[0]!.close_type).toBe('LOCAL_FORCE_CLOSE');
      expect((await p.b().closedchannels({})).channels[0]!.close_type).toBe('REMOTE_FORCE_CLOSE');
    } else {
      // Once Bob's commitment stood, nothing of Alice's commitment (nor it) was sent again.
      const byId = new Map(chain.sent.map((tx) => [tx.getId(), tx]));
      const stale = chain.attempts.slice(sentBefore).filter((id) => id === ours || outpointsOf(byId.get(id)!).some((o) => o.startsWith(`${ours}:`)));
      expect(stale).toEqual([]);
      expect((await p.a().closedchannels({})).channels[0]!.close_type).toBe('REMOTE_FORCE_CLOSE');
      expect((await p.b().closedchannels({})).channels[0]!.close_type).toBe('LOCAL_FORCE_CLOSE');
    }
  } finally {
    await p.close();
  }
}

describe('force close undone by a reorganization after its sweeps confirmed', () => {
  it('the same commitment mined again: the same sweeps go out again, each output swept once, to the satoshi', { timeout: 90_000 }, () => reorg(false));
  it("Bob's commitment replaces Alice's: each takes its output of the new one, to the satoshi", { timeout: 90_000 }, () => reorg(true));
});
