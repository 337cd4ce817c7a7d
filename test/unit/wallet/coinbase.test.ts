/**
 * Mining rewards paid to the wallet: a coinbase output counts as spendable only once a transaction
 * spending it could enter the next block (100 confirmations, as Bitcoin Core's consensus rules and the
 * playground check it); until then it is shown apart, never listed, selected or sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from '../../../core/wallet/wallet.ts';
import { COINBASE_MATURITY, blocksToMaturity } from '../../../core/wallet/maturity.ts';
import { createMnemonic, mnemonicToSeed } from '../../../core/wallet/mnemonic.ts';
import { checkTransaction, TxRejected } from '../../../core/chain/playground/index.ts';
import type { BitcoindChainSource } from '../../../core/chain/index.ts';
import { startTestChain } from '../../helpers/chain.ts';
import type { TestChain } from '../../helpers/chain.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';

const REWARD = 5_000_000_000n; // regtest's subsidy below height 150, and the blocks carry no fees

describe('coinbase maturity', () => {
  it('agrees with the playground\'s consensus check at every depth around the boundary', () => {
    // A spend of a coinbase mined at height 10, checked for the next block (tip + 1) as the mempool does.
    const spend = new Transaction();
    spend.version = 2;
    spend.addInput(Buffer.alloc(32, 7), 0);
    spend.addOutput(Buffer.from('0014' + '11'.repeat(20), 'hex'), 1000n);
    const coin = { value: REWARD, script: Uint8Array.from(Buffer.from('0014' + '22'.repeat(20), 'hex')), height: 10, coinbase: true };
    for (let tip = 10; tip <= 10 + COINBASE_MATURITY + 1; tip++) {
      let premature = false;
      try {
        checkTransaction(spend, () => coin, { height: tip + 1, mtp: 0, mtpAt: () => 0 }, false);
      } catch (e) {
        if (!(e instanceof TxRejected)) throw e;
        premature = e.reason === 'bad-txns-premature-spend-of-coinbase';
      }
      expect({ tip, premature }).toEqual({ tip, premature: blocksToMaturity(10, tip) > 0 });
    }
    // 100 confirmations: the tip is 99 blocks above the coinbase's block.
    expect(blocksToMaturity(10, 108)).toBe(1);
    expect(blocksToMaturity(10, 109)).toBe(0);
  });
});

// The wallet's history on the two backends a node runs on. The walk through every height is about the
// wallet's arithmetic, not its store: it runs once, on the embedded store; on PostgreSQL the same 101
// blocks come at once, and what is stored is checked as on the embedded store.
describeEachKvBackend('coinbase maturity, a wallet that mines to its own address, its history on the $name store', (backend) => {
  let chain: TestChain;
  let wallet: Wallet;
  let src: BitcoindChainSource;
  let dir: string;
  let addr: string;
  /** The node's store (opened again across the wallet's close and open below, as across a restart). */
  let kv: KvStore;
  const words = createMnemonic();
  const sync = () => src.poke();

  beforeAll(async () => {
    chain = await startTestChain();
    dir = await tempDir('coinbase-wallet');
    kv = await backend.open(dir);
    wallet = await Wallet.open({ dir, kv, seed: mnemonicToSeed(words), network: 'regtest', birthday: 1, broadcaster: chain.broadcaster });
    src = chain.source();
    await src.start((e) => wallet.onChainEvent(e), { height: 0, hash: await chain.rpc.call<string>('getblockhash', 0) }, (a, r) => wallet.onMempool(a, r));
    addr = await wallet.newAddress();
  });
  afterAll(async () => {
    await src?.stop();
    await wallet?.close();
    await kv?.close();
    if (dir) await removeDir(dir);
    await chain?.stop();
  });

  const balanceAt = (tip: number) => {
    // Coinbases at heights 1..tip; the one at height h is spendable once h + 100 <= tip + 1.
    const mature = BigInt(Math.max(0, tip - COINBASE_MATURITY + 1));
    const immature = BigInt(tip) - mature;
    return { tip, confirmed: mature * REWARD, immature: immature * REWARD, total: mature * REWARD, unconfirmed: 0n };
  };

  if (backend.name !== 'embedded') {
    it('counts a coinbase as confirmed only once it is mature, 101 blocks at once', { timeout: 120_000 }, async () => {
      await chain.mine(101, addr);
      await sync();
      const b = wallet.balance();
      expect({ tip: 101, confirmed: b.confirmed, immature: b.immature, total: b.total, unconfirmed: b.unconfirmed }).toEqual(balanceAt(101));
      expect(wallet.listUnspent(101)).toHaveLength(2);
    });
  } else {
    it('counts a coinbase as confirmed only once it is mature, at every height from 1 to 101', { timeout: 120_000 }, async () => {
      for (let tip = 1; tip <= 101; tip++) {
        await chain.mine(1, addr);
        await sync();
        const b = wallet.balance();
        expect({ tip, confirmed: b.confirmed, immature: b.immature, total: b.total, unconfirmed: b.unconfirmed }).toEqual(balanceAt(tip));
        // The soonest immature coin is the oldest one still waiting: height tip - 98 (or 1).
        expect(b.maturing[0]).toEqual({ blocks: blocksToMaturity(Math.max(1, tip - COINBASE_MATURITY + 2), tip), amount: REWARD });
        expect(b.maturing.reduce((s, m) => s + m.amount, 0n)).toBe(b.immature);
        expect(wallet.listUnspent(tip)).toHaveLength(Math.max(0, tip - COINBASE_MATURITY + 1));
      }
    });
  }

  it('never spends an immature coinbase: a send above the mature amount is refused naming what is spendable', async () => {
    const to = chain.pg.faucet.address;
    const spendable = wallet.balance().confirmed;
    expect(spendable).toBe(2n * REWARD);
    await expect(wallet.send({ address: to, amount: spendable + 1n, satPerVb: 2 })).rejects.toThrow(
      `not enough funds: sending ${spendable + 1n} sat plus fees needs more than the ${spendable} sat spendable; ${99n * REWARD} sat more from mining becomes spendable over the next 99 blocks`,
    );
    // Sending everything takes only the mature coins, and the chain accepts it.
    const txid = await wallet.send({ address: to, all: true, satPerVb: 2 });
    expect(chain.pg.chain.mempool.has(txid)).toBe(true);
    expect(chain.pg.chain.mempool.get(txid)!.tx.ins).toHaveLength(2);
    await sync();
    expect(wallet.balance()).toMatchObject({ confirmed: 0n, immature: 99n * REWARD });
    await expect(wallet.send({ address: to, amount: 10_000n, satPerVb: 2 })).rejects.toThrow(/the 0 sat spendable; .* sat more from mining becomes spendable over the next 99 blocks/);
    await chain.mine(1);
    await sync();
  });

  it('a coinbase whose block is reorganised away is gone, not unconfirmed', async () => {
    const before = wallet.balance();
    const [h] = await chain.mine(1, addr);
    await sync();
    expect(wallet.balance().immature).toBe(before.immature);
    await chain.rpc.call('invalidateblock', h);
    await sync();
    // Back where it was before that block: one coin less from mining, and the oldest waits one block more.
    expect(wallet.balance()).toEqual(before);
    expect(wallet.listTransactions(chain.pg.chain.height).filter((t) => t.confirmations === 0)).toEqual([]);
  });

  it('tells coinbase coins stored before that was kept from the history when it opens', async () => {
    const expected = wallet.balance();
    expect(expected.immature).toBeGreaterThan(0n);
    await src.stop();
    await wallet.close();
    await kv.close();
    kv = await backend.open(dir);
    // A store written before coins carried the flag.
    const file = join(dir, 'wallet.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { data: { coins: Record<string, { coinbase?: boolean }> } };
    for (const c of Object.values(stored.data.coins)) delete c.coinbase;
    await writeFile(file, JSON.stringify(stored));
    wallet = await Wallet.open({ dir, kv, seed: mnemonicToSeed(words), network: 'regtest', birthday: 1, broadcaster: chain.broadcaster });
    expect(wallet.balance()).toEqual(expected);
    src = chain.source();
    await src.start((e) => wallet.onChainEvent(e), wallet.scanFrom!, (a, r) => wallet.onMempool(a, r));
  });
}, { backends: ['embedded', 'postgres'] });
