/**
 * The wallet against the playground chain through the real bitcoind client: receive, send, send-all,
 * fee bump, reorg, restore from the 24 words with a rescan, and a restart on the same store; the
 * history kept on the embedded store and on PostgreSQL.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { Wallet, WalletError } from '../../../core/wallet/wallet.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { createMnemonic, mnemonicToSeed } from '../../../core/wallet/mnemonic.ts';
import type { BitcoindChainSource } from '../../../core/chain/index.ts';
import { startTestChain } from '../../helpers/chain.ts';
import type { TestChain } from '../../helpers/chain.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';
import type { KvBackend } from '../../helpers/kv.ts';

interface Running {
  wallet: Wallet;
  kv: KvStore;
  src: BitcoindChainSource;
  dir: string;
}

/** A wallet on the node's store for `dir` (a new directory if none is given), following the chain. */
async function openWallet(backend: KvBackend, chain: TestChain, words: string, birthday: number, dir?: string): Promise<Running> {
  const d = dir ?? (await tempDir('wallet'));
  const kv = await backend.open(d);
  const wallet = await Wallet.open({ dir: d, kv, seed: mnemonicToSeed(words), network: 'regtest', birthday, broadcaster: chain.broadcaster });
  const src = chain.source();
  const from = wallet.scanFrom ?? { height: Math.max(0, birthday - 1), hash: await chain.rpc.call<string>('getblockhash', Math.max(0, birthday - 1)) };
  await src.start((e) => wallet.onChainEvent(e), from, (a, r) => wallet.onMempool(a, r));
  return { wallet, kv, src, dir: d };
}

// On the two backends a node runs on: the wallet's history is in the node's store.
describeEachKvBackend('on-chain wallet, its history on the $name store', (backend) => {
  let chain: TestChain;
  let alice: Running;
  let bob: Running;
  const aliceWords = createMnemonic();
  const sync = async (...ws: Running[]) => {
    for (const w of ws) await w.src.poke();
  };

  beforeAll(async () => {
    chain = await startTestChain();
    await chain.mine(101); // the faucet's coins mature
    alice = await openWallet(backend, chain, aliceWords, 5);
    bob = await openWallet(backend, chain, createMnemonic(), 101);
  });
  afterAll(async () => {
    for (const w of [alice, bob]) {
      await w?.src.stop();
      await w?.wallet.close();
      await w?.kv.close();
      if (w) await removeDir(w.dir);
    }
    await chain?.stop();
  });

  it('receives: a faucet payment shows once mined, on a fresh BIP84 address', async () => {
    const addr = await alice.wallet.newAddress();
    expect(addr).toMatch(/^bcrt1q/);
    expect(await alice.wallet.newAddress()).not.toBe(addr);
    await chain.rpc.call('sendtoaddress', addr, 1.5);
    await chain.mine(1);
    await sync(alice);
    expect(alice.wallet.balance()).toMatchObject({ confirmed: 150_000_000n, unconfirmed: 0n });
    expect(alice.wallet.listUnspent(chain.pg.chain.height)[0]).toMatchObject({ value: 150_000_000n, address: addr, confirmations: 1 });
  });

  it('an incoming payment shows as unconfirmed while in the mempool, and is forgotten if it leaves unmined', async () => {
    const addr = await alice.wallet.newAddress();
    const txid = await chain.rpc.call<string>('sendtoaddress', addr, 0.25);
    await sync(alice);
    expect(alice.wallet.balance()).toMatchObject({ confirmed: 150_000_000n, unconfirmed: 25_000_000n });
    expect(alice.wallet.listTransactions(chain.pg.chain.height).find((t) => t.txid === txid)).toMatchObject({ amount: 25_000_000n, confirmations: 0 });
    // It leaves the mempool without being mined (evicted): the payment never happened.
    chain.pg.chain.evict(txid);
    await sync(alice);
    expect(alice.wallet.balance()).toMatchObject({ unconfirmed: 0n });
    expect(alice.wallet.listTransactions(chain.pg.chain.height).find((t) => t.txid === txid)).toBeUndefined();
  });

  it('sends with change, checks everything before signing', async () => {
    const to = await bob.wallet.newAddress();
    await expect(alice.wallet.send({ address: to, amount: 10_000_000_000n, satPerVb: 2 })).rejects.toThrow(/not enough funds/);
    await expect(alice.wallet.send({ address: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', amount: 1000n, satPerVb: 2 })).rejects.toThrow(/is a mainnet address; this wallet is on regtest/);
    await expect(alice.wallet.send({ address: 'nonsense', amount: 1000n, satPerVb: 2 })).rejects.toThrow(WalletError);
    await expect(alice.wallet.send({ address: to, amount: 100n, satPerVb: 2 })).rejects.toThrow(/dust/);
    const txid = await alice.wallet.send({ address: to, amount: 50_000_000n, satPerVb: 3 });
    expect(chain.pg.chain.mempool.has(txid)).toBe(true);
    const { unconfirmed, confirmed } = alice.wallet.balance();
    expect(confirmed).toBe(0n);
    const fee = 150_000_000n - 50_000_000n - unconfirmed;
    expect(Number(fee)).toBeGreaterThanOrEqual(3 * Transaction.fromHex(chain.pg.chain.mempool.get(txid)!.tx.toHex()).virtualSize());
    await chain.mine(1);
    await sync(alice, bob);
    expect(bob.wallet.balance().confirmed).toBe(50_000_000n);
    expect(alice.wallet.balance().confirmed).toBe(100_000_000n - fee);
    const hist = alice.wallet.listTransactions(chain.pg.chain.height);
    expect(hist.map((h) => h.amount)).toEqual([150_000_000n, -(50_000_000n + fee)]);
    expect(hist[1]!.fee).toBe(fee);
  });

  it('bumps the fee of a stuck send (RBF), and the replacement is what confirms', async () => {
    const to = await bob.wallet.newAddress();
    const first = await alice.wallet.send({ address: to, amount: 1_000_000n, satPerVb: 1 });
    const second = await alice.wallet.bumpFee(first, 20);
    expect(chain.pg.chain.mempool.has(first)).toBe(false);
    expect(chain.pg.chain.mempool.has(second)).toBe(true);
    await chain.mine(1);
    await sync(alice, bob);
    expect(bob.wallet.balance().confirmed).toBe(51_000_000n);
    expect(alice.wallet.listTransactions(chain.pg.chain.height).map((t) => t.txid)).not.toContain(first);
  });

  it('a reorg that removes a block makes its payment unconfirmed again, then confirmed on the new chain', async () => {
    const to = await bob.wallet.newAddress();
    await alice.wallet.send({ address: to, amount: 2_000_000n, satPerVb: 2 });
    const [h] = await chain.mine(1);
    await sync(bob);
    expect(bob.wallet.balance()).toMatchObject({ confirmed: 53_000_000n, unconfirmed: 0n });
    await chain.rpc.call('invalidateblock', h);
    // Two new blocks make a longer chain without the old one; the payment is mined again there.
    await chain.mine(2);
    await sync(bob);
    expect(bob.wallet.balance()).toMatchObject({ confirmed: 53_000_000n, unconfirmed: 0n });
  });

  it('send-all empties the wallet into one output', async () => {
    const to = await bob.wallet.newAddress();
    await alice.wallet.send({ address: to, all: true, satPerVb: 2 });
    await chain.mine(1);
    await sync(alice, bob);
    expect(alice.wallet.balance().total).toBe(0n);
  });

  it('restoring the 24 words into a new data directory finds the same balance and history', async () => {
    await sync(alice);
    const restored = await openWallet(backend, chain, aliceWords, 5);
    try {
      await sync(restored);
      expect(restored.wallet.balance()).toEqual(alice.wallet.balance());
      const strip = (w: Wallet) => w.listTransactions(chain.pg.chain.height).map((t) => ({ txid: t.txid, amount: t.amount, fee: t.fee, height: t.height }));
      expect(strip(restored.wallet)).toEqual(strip(alice.wallet));
    } finally {
      await restored.src.stop();
      await restored.wallet.close();
      await restored.kv.close();
      await removeDir(restored.dir);
    }
  });

  it('a restart on the same store finds the same balance and history, and follows the chain on from where it stopped', async () => {
    await sync(alice);
    const strip = (w: Wallet) => w.listTransactions(chain.pg.chain.height).map((t) => ({ txid: t.txid, amount: t.amount, fee: t.fee, height: t.height, label: t.label }));
    const balance = alice.wallet.balance();
    const history = strip(alice.wallet);
    expect(history.length).toBeGreaterThan(3);
    await alice.src.stop();
    await alice.wallet.close();
    await alice.kv.close();
    alice = await openWallet(backend, chain, aliceWords, 5, alice.dir);
    expect(alice.wallet.balance()).toEqual(balance);
    expect(strip(alice.wallet)).toEqual(history);
    // A payment after the restart joins the history read back.
    const addr = await alice.wallet.newAddress();
    const txid = await chain.rpc.call<string>('sendtoaddress', addr, 0.1);
    await chain.mine(1);
    await sync(alice);
    expect(strip(alice.wallet).map((t) => t.txid)).toEqual([...history.map((t) => t.txid), txid]);
    expect(alice.wallet.balance().confirmed).toBe(balance.confirmed + 10_000_000n);
  });
}, { backends: ['embedded', 'postgres'] });
