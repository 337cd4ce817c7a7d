/**
 * Fees raised on chain between two Coulomb nodes (BOLT 5 with anchors), on a standalone playground
 * chain that plays a busy network (setfeeestimate: the estimate, and the least package feerate miners
 * take). Alice force-closes at 1 sat/vB and the estimate rises while her commitment waits: her CPFP
 * child goes out, is the same after a restart, is replaced by one paying more (the mempool takes it in
 * place of the first), and the commitment confirms with the latest child. And where Bob's commitment
 * confirms instead of Alice's, the wallet coins of her child are spendable again, to the satoshi.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { startCoulombPair } from '../helpers/coulomb-pair.ts';
import type { CoulombPair } from '../helpers/coulomb-pair.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { Claim } from '../../core/monitor/index.ts';

const DELAY = 12;
const prev = (i: Transaction['ins'][number]): string => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;

describe('fees raised as the deadline nears', () => {
  let p: CoulombPair | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  /** The estimate (sat/vB) and the miners' floor; the nodes read the estimate after the next block. */
  const market = async (estimate: number, minMining: number): Promise<void> => {
    await p!.chain!.test.rpc.call('setfeeestimate', estimate, minMining);
  };
  const childOf = (): Claim | undefined => Object.values(p!.monitorOf(p!.alice).chain.claims).find((c) => c.id.startsWith('anchor:'));

  it("replaces Alice's CPFP child as the estimate rises; the commitment confirms with the latest", { timeout: 240_000 }, async () => {
    p = await startCoulombPair('feebump', DELAY, { chain: 'standalone' });
    const pg = p.chain!.test.pg.chain;
    await p.openChannel(1_000_000, 200_000);
    const a = p.a();
    const { closing_txid } = await a.closechannel({ chan_point: (await a.listchannels({})).channels[0]!.channel_point, force: true });
    expect(pg.mempool.has(closing_txid)).toBe(true);
    // At the estimate the commitment was signed at, no child: it pays enough alone.
    expect(childOf()).toBeUndefined();

    // Busy: the estimate a little above the commitment's feerate, and miners above both (a block for the
    // nodes to read the estimate, then one to act on it).
    const signedAt = Math.ceil(p.monitorOf(p.alice).data.local.feeratePerKw / 250);
    const [e1, floor, e2] = [signedAt + 2, signedAt + 4, 2 * (signedAt + 4)];
    await market(e1, floor);
    await p.mine(1);
    await p.mine(1);
    const v1 = await waitFor('a first child', () => childOf(), 10_000);
    expect(v1.feeratePerKw).toBe(e1 * 250);
    expect(pg.mempool.has(v1.txid)).toBe(true);
    expect(pg.txHeight(closing_txid)).toBeUndefined();
    // The child is stored with the monitor's claims: the same one after a restart.
    expect(await p.restartOnChange(p.alice, 'the CPFP child published')).toBe(true);

    // The estimate rises past the miners' floor (the playground's estimate also follows its mempool, which
    // the first child raised): replacements the mempool takes in place of the first, the last one mined.
    await market(e2, floor);
    for (let n = 0; n < 4 && pg.txHeight(closing_txid) === undefined; n++) await p.mine(1);
    expect(pg.txHeight(closing_txid)).toBeDefined();
    const v2 = await waitFor('the child to be seen confirmed', () => (p!.monitorOf(p!.alice).chain.fundingSpend ? childOf() : undefined), 10_000);
    expect(v2.replaced![0]).toBe(v1.txid);
    expect(v2.feeratePerKw).toBeGreaterThanOrEqual(1.25 * v1.feeratePerKw!);
    expect(pg.txHeight(v2.txid)).toBe(pg.txHeight(closing_txid));
    for (const old of v2.replaced!) expect(pg.txHeight(old)).toBeUndefined();
    // Alice's wallet (her node since the restart) holds the child that was mined, and no other: its
    // coins spent by it, its change hers, to the satoshi.
    const wallet = p.a();
    await waitFor("Alice's wallet to hold the mined child", async () => ((await wallet.listchaintxns({})).transactions.find((t) => t.tx_hash === v2.txid)?.num_confirmations ? true : undefined), 10_000);
    const history = (await wallet.listchaintxns({})).transactions;
    for (const old of v2.replaced!) expect(history.some((t) => t.tx_hash === old)).toBe(false);
    const child = Transaction.fromHex(v2.txHex);
    const unspent = (await wallet.listunspent({})).utxos;
    expect(unspent.map((u) => u.outpoint)).toEqual(child.outs.map((_o, i) => `${v2.txid}:${i}`));
    expect((await wallet.walletbalance({})).confirmed_balance).toBe(child.outs.reduce((s2, o) => s2 + o.value, 0n).toString());
  });

  it("gives Alice's child's coins back when Bob's commitment confirms instead", { timeout: 240_000 }, async () => {
    p = await startCoulombPair('feebump-conflict', DELAY, { chain: 'standalone' });
    const pg = p.chain!.test.pg.chain;
    await p.openChannel(1_000_000, 200_000);
    const a = p.a();
    const before = await p.confirmed(p.alice);
    const unspentBefore = (await a.listunspent({})).utxos.map((u) => `${u.outpoint}`).sort();
    await market(10, 20);
    await p.mine(1);
    const { closing_txid } = await a.closechannel({ chan_point: (await a.listchannels({})).channels[0]!.channel_point, force: true });
    const child = await waitFor('a child', () => childOf(), 10_000);
    expect(pg.mempool.has(child.txid)).toBe(true);
    const spent = Transaction.fromHex(child.txHex).ins.map(prev).filter((o) => unspentBefore.includes(o));
    expect(spent.length).toBeGreaterThan(0);
    expect(await p.confirmed(p.alice)).toBeLessThan(before);

    // Alice's commitment and child leave the mempool; Bob's commitment goes in and is mined instead.
    p.chain!.clearMempool();
    const b = p.b();
    const bob = await b.closechannel({ chan_point: (await b.listchannels({})).channels[0]!.channel_point, force: true });
    expect(bob.closing_txid).not.toBe(closing_txid);
    await market(1, 0);
    await p.mine(1);
    expect(pg.txHeight(bob.closing_txid)).toBeDefined();
    // The child can never confirm: its coins are Alice's again, to the satoshi.
    await waitFor("Alice's confirmed balance back", async () => ((await p!.confirmed(p!.alice)) === before ? true : undefined), 10_000);
    const unspent = (await a.listunspent({})).utxos.map((u) => `${u.outpoint}`);
    for (const o of spent) expect(unspent).toContain(o);
    expect((await a.listchaintxns({})).transactions.some((t) => t.tx_hash === child.txid)).toBe(false);
  });
});
