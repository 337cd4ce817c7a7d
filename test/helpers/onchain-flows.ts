/**
 * The core on-chain flows between two Coulomb nodes, on any chain reached only through bitcoind's
 * standard JSON-RPC (test/helpers/rpc-chain.ts): coins come from a coinbase mined to the wallet and
 * left to mature, blocks from generatetoaddress, and the test reads the chain as a node without
 * -txindex must: the mempool, and confirmed transactions only with the hash of their block. Every
 * rule Bitcoin Core enforces is met by the nodes themselves: BIP 68 delays and nLockTime (a claim
 * sent too early is refused and sent again each block), the relay fee floor, coinbase maturity, and
 * no fee estimate (the node falls back).
 *
 * - forceCloseFlow: open; Alice pays Bob an HTLC that Bob holds and gives up; Alice force-closes. Her
 *   commitment confirms, Bob's to_remote is swept the next block, Alice's HTLC-timeout confirms only
 *   past the HTLC's expiry, and her to_local and the HTLC-timeout's output only after Bob's delay;
 *   every amount to the satoshi.
 * - breachFlow: Bob, restored from an old copy of his data directory, publishes a revoked commitment;
 *   Alice's justice takes his to_local before his delay runs out, and her own output too.
 */
import { expect } from 'vitest';
import { cp, rm } from 'node:fs/promises';
import { Transaction } from 'bitcoinjs-lib';
import { holdIncoming, settled, startCoulombPair, TxBook } from './coulomb-pair.ts';
import type { CoulombPair } from './coulomb-pair.ts';
import { expectBreachOutcome } from './breach-outcome.ts';
import type { TestNode } from './node.ts';
import type { RpcChain } from './rpc-chain.ts';
import { removeDir, tempDir, waitFor } from './daemon.ts';
import { localCommitment } from '../../core/monitor/view.ts';
import type { BitcoindRpc } from '../../core/chain/index.ts';

const DELAY = 12;

const prevOf = (i: Transaction['ins'][number]): string => Buffer.from(i.hash).reverse().toString('hex');

/** Where each transaction of the blocks `from`..tip is, read block by block (no -txindex needed). */
async function blocksFrom(rpc: BitcoindRpc, from: number): Promise<Map<string, { height: number; hash: string }>> {
  const at = new Map<string, { height: number; hash: string }>();
  const tip = await rpc.call<number>('getblockcount');
  for (let h = from; h <= tip; h++) {
    const hash = await rpc.call<string>('getblockhash', h);
    for (const txid of (await rpc.call<{ tx: string[] }>('getblock', hash, 1)).tx) at.set(txid, { height: h, hash });
  }
  return at;
}

/** The mempool's transactions, read as a node without -txindex can. */
async function mempoolTxs(rpc: BitcoindRpc): Promise<Transaction[]> {
  const out: Transaction[] = [];
  for (const txid of await rpc.call<string[]>('getrawmempool')) {
    const raw = await rpc.call<string>('getrawtransaction', txid, false).catch(() => undefined); // mined or evicted meanwhile
    if (raw) out.push(Transaction.fromHex(raw));
  }
  return out;
}

/** The chain is what a fresh regtest Bitcoin Core is: in initial block download, with no fee estimate. */
async function expectFreshCore(rpc: BitcoindRpc): Promise<void> {
  expect((await rpc.call<{ initialblockdownload: boolean }>('getblockchaininfo')).initialblockdownload).toBe(true);
  const est = await rpc.call<{ feerate?: number; errors?: string[] }>('estimatesmartfee', 6, 'CONSERVATIVE');
  expect(est.feerate).toBeUndefined();
  expect(est.errors?.length).toBeGreaterThan(0);
}

/** Mines one block at a time until both channels are closed, checking `each` after every block. */
async function mineUntilClosed(p: CoulombPair, limit: number, each: () => Promise<void> = async () => undefined): Promise<void> {
  const { alice, bob } = p;
  const show = (t: TestNode): string => `${p.phaseOf(t)} [${Object.values(p.monitorOf(t).chain.claims).map((c) => c.label).join(', ')}] ${t.logs.filter((l) => /WARN|ERROR|not accepted/i.test(l)).slice(-3).join(' | ')}`;
  while (p.phaseOf(alice) !== 'CLOSED' || p.phaseOf(bob) !== 'CLOSED') {
    if (p.tip() > limit) throw new Error(`not closed at ${p.tip()}: alice ${show(alice)}; bob ${show(bob)}`);
    await p.mine(1);
    // The channels hear of a monitor's closed after its block: give them their turn.
    await waitFor('the channels to catch up with their monitors', () => ([alice, bob].every((t) => p.phaseOf(t) === 'CLOSED' || !p.monitorOf(t).chain.told.includes('closed')) ? true : undefined), 10_000);
    await each();
  }
}

/** Open, force close with an HTLC timed out on chain, every output swept after its delay. */
export async function forceCloseFlow(chain: RpcChain): Promise<void> {
  await expectFreshCore(chain.rpc);
  const p = await startCoulombPair('rpc-fc', DELAY, { chain: 'bitcoind', rpcChain: chain });
  const { alice, bob } = p;
  const rpc = chain.rpc;
  try {
    const chanPoint = await p.openChannel(1_000_000, 200_000);
    expect(alice.node.channels.list()[0]!.state.channelType).toBe('anchors');
    // Without -txindex bitcoind finds the confirmed funding only in its block.
    const fundingTxid = chanPoint.split(':')[0]!;
    await expect(rpc.call('getrawtransaction', fundingTxid, true)).rejects.toMatchObject({ code: -5 });

    // An HTLC from Alice that Bob holds, then gives up: only Alice can resolve it, by timeout on chain.
    const held = holdIncoming(bob);
    const inv = await p.b().addinvoice({ value: 30_000, cltv_expiry: 18 });
    const pay = p.a().sendpayment({ pay_req: inv.payment_request, timeout_seconds: 600 });
    pay.catch(() => undefined);
    await waitFor('the HTLC held by Bob, in both commitments', () => (held.events.length === 1 && [alice, bob].every((t) => settled(t, 1)) ? true : undefined), 30_000);
    await p.b().cancelinvoice({ payment_hash: inv.r_hash });

    const aliceBefore = await p.confirmed(alice);
    const bobBefore = await p.confirmed(bob);
    const { closing_txid } = await p.a().closechannel({ chan_point: chanPoint, force: true });
    await waitFor('our commitment in bitcoind\'s mempool', async () => ((await rpc.call<string[]>('getrawmempool')).includes(closing_txid) ? true : undefined), 10_000);
    await p.mine(1);
    const commitHeight = p.tip();
    await waitFor('both monitors to see the commitment', () => ([alice, bob].every((t) => p.monitorOf(t).chain.fundingSpend?.txid === closing_txid) ? true : undefined), 10_000);
    const commitment = Transaction.fromHex(p.monitorOf(alice).chain.fundingSpend!.rawTx);
    const { c: lc } = localCommitment(p.monitorOf(alice).data, alice.node.channels.list()[0]!.state.secrets);
    const vout = (kind: string): number => lc.outputs.findIndex((o) => o.kind === kind);
    const htlcOut = vout('htlc');
    expect(commitment.outs[htlcOut]!.value).toBe(30_000n);
    const expiry = p.monitorOf(alice).data.local.htlcs[0]!.cltvExpiry;
    expect(expiry - commitHeight).toBeGreaterThan(3);

    // Block by block: nothing may spend the HTLC output before its expiry, nor to_local before the delay.
    const toLocal = `${closing_txid}:${vout('to_local')}`;
    const htlcKey = `${closing_txid}:${htlcOut}`;
    await mineUntilClosed(p, expiry + 3 * DELAY + 10, async () => {
      const spent = new Set((await mempoolTxs(rpc)).flatMap((tx) => tx.ins.map((i) => `${prevOf(i)}:${i.index}`)));
      if (p.tip() < expiry) expect(spent.has(htlcKey), `HTLC output spent in the mempool at ${p.tip()}`).toBe(false);
      if (p.tip() < commitHeight + DELAY - 1) expect(spent.has(toLocal), `to_local spent in the mempool at ${p.tip()}`).toBe(false);
    });
    expect((await p.a().lookuppayment({ payment_hash: inv.r_hash })).status).toBe('FAILED');

    // Every claim of both sides, found in its block as a node without -txindex finds it.
    const at = await blocksFrom(rpc, commitHeight);
    const ma = p.monitorOf(alice);
    const mb = p.monitorOf(bob);
    const book = new TxBook();
    book.add(commitment);
    for (const sp of [...Object.values(ma.chain.spends), ...Object.values(mb.chain.spends)]) book.add(sp.rawTx);
    for (const t of [...(await p.a().listchaintxns({})).transactions, ...(await p.b().listchaintxns({})).transactions]) book.add(t.raw_tx_hex);
    book.spentOnce();
    const claimsOf = (t: TestNode) => Object.values(p.monitorOf(t).chain.claims).filter((c) => !c.id.startsWith('commitment:') && at.has(c.txid));
    const heightOf = (t: TestNode, label: string): number => {
      const c = claimsOf(t).find((x) => x.label.startsWith(label));
      if (!c) throw new Error(`${t.node.config.alias} has no confirmed ${label} claim: [${claimsOf(t).map((x) => x.label).join(', ')}]`);
      return at.get(c.txid)!.height;
    };
    for (const c of [...claimsOf(alice), ...claimsOf(bob)]) {
      const { hash, height } = at.get(c.txid)!;
      await expect(rpc.call('getrawtransaction', c.txid, true)).rejects.toMatchObject({ code: -5 });
      expect(await rpc.call('getrawtransaction', c.txid, true, hash)).toMatchObject({ txid: c.txid, in_active_chain: true });
      expect(height).toBeGreaterThan(commitHeight);
    }
    expect(claimsOf(alice).map((c) => c.label).sort()).toEqual(['htlc 0 output', 'htlc-timeout 0', 'to_local']);
    // BIP 68 and nLockTime, as the chain enforced them on what the nodes sent.
    expect(heightOf(alice, 'to_local')).toBeGreaterThanOrEqual(commitHeight + DELAY);
    expect(heightOf(alice, 'htlc-timeout')).toBeGreaterThan(expiry);
    expect(heightOf(alice, 'htlc 0 output')).toBeGreaterThanOrEqual(heightOf(alice, 'htlc-timeout') + DELAY);
    expect(heightOf(bob, 'to_remote')).toBeGreaterThanOrEqual(commitHeight + 1);

    // Alice: to_local and the HTLC back, less the fees of her claims and of her commitment's CPFP child.
    const child = (await p.a().listchaintxns({})).transactions.find((t) => t.label.includes('anchor CPFP'));
    const childFee = child ? book.feeOf(Transaction.fromHex(child.raw_tx_hex)) : 0n;
    const aliceFees = claimsOf(alice).reduce((s, c) => s + book.feeOf(book.txs.get(c.txid) ?? book.add(c.txHex)), 0n);
    const aliceAfter = await p.confirmed(alice);
    expect(aliceAfter).toBe(aliceBefore + commitment.outs[vout('to_local')]!.value + 30_000n - aliceFees - childFee);
    // Bob: his 200,000 sat to_remote, less its sweep's fee; nothing else of the commitment.
    const bobTxs = claimsOf(bob).map((c) => book.txs.get(c.txid) ?? book.add(c.txHex));
    expect(bobTxs.flatMap((tx) => tx.ins.filter((i) => prevOf(i) === closing_txid).map((i) => commitment.outs[i.index]!.value))).toEqual([200_000n]);
    expect((await p.confirmed(bob)) - bobBefore).toBe(200_000n - bobTxs.reduce((s, tx) => s + book.feeOf(tx), 0n));

    const closed = (await p.a().closedchannels({})).channels[0]!;
    expect(closed.close_type).toBe('LOCAL_FORCE_CLOSE');
    expect(BigInt(closed.settled_balance)).toBe(aliceAfter - aliceBefore + childFee);
    expect((await p.b().closedchannels({})).channels[0]!.close_type).toBe('REMOTE_FORCE_CLOSE');
  } finally {
    await p.close();
  }
}

/** Bob, restored from an old copy of his data directory, publishes a revoked commitment; Alice takes everything. */
export async function breachFlow(chain: RpcChain): Promise<void> {
  await expectFreshCore(chain.rpc);
  const p = await startCoulombPair('rpc-breach', DELAY, { chain: 'bitcoind', rpcChain: chain });
  const { alice, bob } = p;
  const rpc = chain.rpc;
  const backup = await tempDir('rpc-breach-bob-copy');
  const bobHas = (sat: bigint): Promise<unknown> =>
    waitFor(`Bob's channel balance to be ${sat}`, async () => {
      const now = BigInt((await p.b().listchannels({})).channels[0]?.local_balance ?? -1);
      if (now === sat) return true;
      throw new Error(`Bob has ${now}`);
    }, 10_000);
  try {
    const chanPoint = await p.openChannel(1_000_000, 200_000);
    await p.pay('a', 50_000);
    await p.pay('b', 10_000);
    await bobHas(240_000n);
    // Bob's old state, copied while he is stopped; then payments revoke it.
    await bob.restart(() => cp(bob.datadir, backup, { recursive: true }));
    await p.reconnect();
    await p.pay('b', 100_000);
    await p.pay('a', 20_000);
    await bobHas(160_000n);

    // Bob comes back from the copy, not connected to Alice (nothing tells him he is behind).
    await bob.restart(async () => {
      await rm(bob.datadir, { recursive: true, force: true });
      await cp(backup, bob.datadir, { recursive: true });
    });
    await p.sync();
    expect(bob.node.peers.list()).toHaveLength(0);
    const aliceBefore = await p.confirmed(alice);
    const bobBefore = await p.confirmed(bob);
    const { closing_txid } = await p.b().closechannel({ chan_point: chanPoint, force: true });
    await waitFor('the revoked commitment in bitcoind\'s mempool', async () => ((await rpc.call<string[]>('getrawmempool')).includes(closing_txid) ? true : undefined), 10_000);
    await p.mine(1);
    const commitHeight = p.tip();
    await waitFor('Alice to see the revoked commitment', () => (p.monitorOf(alice).chain.fundingSpend?.txid === closing_txid ? true : undefined), 10_000);
    expect((await p.a().pendingchannels({})).pending_force_closing_channels.map((c) => c.close_type)).toEqual(['BREACH_CLOSE']);

    const ma = () => p.monitorOf(alice);
    const confirmedClaims = () => Object.values(ma().chain.claims).filter((c) => Object.values(ma().chain.spends).some((sp) => sp.txid === c.txid));
    // The justice must confirm before Bob's to_local is his to spend.
    await mineUntilClosed(p, commitHeight + 3 * DELAY + 10, async () => {
      if (p.tip() >= commitHeight + DELAY - 1) expect(confirmedClaims().map((c) => c.label), `justice confirmed by ${p.tip()}`).toContain('justice');
    });

    // Alice's claims take all of the channel; Bob gets nothing back, to the satoshi.
    const { outs, claims } = await expectBreachOutcome(p, { closingTxid: closing_txid, aliceBefore, bobBefore });
    // The revoked commitment: two anchors, Bob's 240,000 sat to_local, Alice's to_remote.
    expect(outs).toHaveLength(2);
    expect(outs).toContain(240_000n);
    // Read as a node without -txindex must: block by block.
    const at = await blocksFrom(rpc, commitHeight);
    expect(at.get(closing_txid)?.height).toBe(commitHeight);
    for (const { tx } of claims) expect(at.has(tx.getId()), `${tx.getId()} in a block`).toBe(true);
    expect(at.get(claims.find((c) => c.label === 'justice')!.tx.getId())!.height).toBeLessThan(commitHeight + DELAY);
  } finally {
    await p.close();
    await removeDir(backup);
  }
}
