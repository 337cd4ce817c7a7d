/**
 * What a breach between a Coulomb pair left, to the satoshi, once both sides are closed: Bob published
 * a revoked commitment and Alice took the channel. One reckoning for every chain the breach is played
 * on (the playground hosted by Alice, a standalone one, or bitcoind's RPC only).
 */
import { expect } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { TxBook } from './coulomb-pair.ts';
import type { CoulombPair } from './coulomb-pair.ts';

/** An anchor output's value (BOLT 3, option_anchors): not part of the channel's balance. */
const ANCHOR_SAT = 330n;

const prevOf = (i: Transaction['ins'][number]): string => Buffer.from(i.hash).reverse().toString('hex');

export interface BreachOutcome {
  /** The revoked commitment, and the values of its outputs but the anchors. */
  commitment: Transaction;
  outs: bigint[];
  /** Alice's confirmed claims, by label. */
  claims: { label: string; tx: Transaction }[];
  /** Bob's own transactions from the close: his commitment's CPFP child and his HTLC-timeout. */
  bobTxs: Transaction[];
}

/**
 * Checks, and returns, what the breach of `closingTxid` left: Alice's confirmed claims are the justice
 * and to_remote, and spend every non-anchor output of the revoked commitment and nothing else of it
 * (with `bobsHtlcTx`, Bob's HTLC transaction that confirmed first, its output in place of the HTLC's:
 * the same amount); her wallet gains all of them less her claims' fees, and closedchannels says so as
 * a BREACH_CLOSE. Bob gets nothing back: his wallet loses at most the fees of his own transactions.
 * No two transactions seen spend one output.
 */
export async function expectBreachOutcome(p: CoulombPair, o: { closingTxid: string; aliceBefore: bigint; bobBefore: bigint; bobsHtlcTx?: { txid: string; rawTx: string } }): Promise<BreachOutcome> {
  const ma = p.monitorOf(p.alice);
  const commitment = Transaction.fromHex(ma.chain.fundingSpend!.rawTx);
  expect(commitment.getId()).toBe(o.closingTxid);
  const outs = commitment.outs.map((out) => out.value).filter((v) => v !== ANCHOR_SAT);
  const book = new TxBook();
  book.add(commitment);
  for (const sp of Object.values(ma.chain.spends)) book.add(sp.rawTx);
  const bobChainTxs = (await p.b().listchaintxns({})).transactions;
  for (const t of [...(await p.a().listchaintxns({})).transactions, ...bobChainTxs]) book.add(t.raw_tx_hex);
  book.spentOnce();

  const confirmed = Object.values(ma.chain.claims).filter((c) => Object.values(ma.chain.spends).some((sp) => sp.txid === c.txid));
  expect(confirmed.map((c) => c.label).sort()).toEqual(['justice', 'to_remote']);
  const claims = confirmed.map((c) => ({ label: c.label, tx: book.txs.get(c.txid) ?? book.add(c.txHex) }));
  const spending = (txid: string, from: Transaction): bigint[] => claims.flatMap(({ tx }) => tx.ins.filter((i) => prevOf(i) === txid).map((i) => from.outs[i.index]!.value));
  let expected = outs;
  if (o.bobsHtlcTx) {
    const htlcTx = book.add(o.bobsHtlcTx.rawTx);
    const htlcIn = htlcTx.ins.find((i) => prevOf(i) === o.closingTxid)!;
    const htlcSat = commitment.outs[htlcIn.index]!.value;
    expect(spending(o.bobsHtlcTx.txid, htlcTx)).toEqual([htlcSat]);
    const at = outs.indexOf(htlcSat);
    expected = [...outs.slice(0, at), ...outs.slice(at + 1)];
  }
  expect(spending(o.closingTxid, commitment).sort()).toEqual([...expected].sort());
  const taken = outs.reduce((s, v) => s + v, 0n);
  expect(claims.reduce((s, { tx }) => s + book.inputsOf(tx), 0n)).toBe(taken);
  const aliceAfter = await p.confirmed(p.alice);
  expect(aliceAfter).toBe(o.aliceBefore + taken - claims.reduce((s, { tx }) => s + book.feeOf(tx), 0n));

  const bobTxs = bobChainTxs.filter((t) => /anchor CPFP|htlc-timeout/.test(t.label)).map((t) => Transaction.fromHex(t.raw_tx_hex));
  expect(await p.confirmed(p.bob)).toBe(o.bobBefore - bobTxs.reduce((s, tx) => s + book.feeOf(tx), 0n));

  const closed = (await p.a().closedchannels({})).channels[0]!;
  expect(closed.close_type).toBe('BREACH_CLOSE');
  expect(BigInt(closed.settled_balance)).toBe(aliceAfter - o.aliceBefore);
  return { commitment, outs, claims, bobTxs };
}
