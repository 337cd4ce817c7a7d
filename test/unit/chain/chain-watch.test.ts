/**
 * The chain watch registry (core/chain/chain-watch.ts) on the embedded store and on PostgreSQL: watched
 * txids found confirmed and watched outputs found spent in delivered blocks, durable before the block's
 * delivery completes; a reorg forgets what the removed block recorded and the new branch is matched
 * afresh; everything survives closing and reopening the store; an old `txwatch.json` moves in once.
 *
 * Blocks are built here (bitcoinjs-lib), so each case says exactly what the chain holds.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Block, Transaction } from 'bitcoinjs-lib';
import { ChainWatch, MATCH_NS, UNKNOWN_OWNER } from '../../../core/chain/chain-watch.ts';
import type { BlockMatches, Outpoint } from '../../../core/chain/chain-watch.ts';
import type { ChainEvent } from '../../../core/chain/types.ts';
import { openKvStore } from '../../../core/store/kv/open.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { openStore } from '../../../core/store/store.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';


/** A transaction spending `spends` (or a random outpoint), with one output. */
function tx(spends: Outpoint[] = [{ txid: randomBytes(32).toString('hex'), vout: 0 }]): Transaction {
  const t = new Transaction();
  t.version = 2;
  for (const o of spends) t.addInput(Uint8Array.from(Buffer.from(o.txid, 'hex').reverse()), o.vout);
  t.addOutput(Uint8Array.from([0x00, 0x14, ...randomBytes(20)]), 10_000n);
  return t;
}

function coinbase(height: number): Transaction {
  const t = new Transaction();
  t.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, Uint8Array.from([0x03, height & 0xff, (height >> 8) & 0xff, 0]));
  t.addOutput(Uint8Array.from([0x51]), 5_000_000_000n);
  return t;
}

/** A block at `height` holding a coinbase and `txs`, as the chain source delivers it. */
function connected(height: number, txs: Transaction[]): ChainEvent & { type: 'connected' } {
  const block = new Block();
  block.version = 0x20000000;
  block.prevHash = new Uint8Array(randomBytes(32));
  block.timestamp = 1_700_000_000 + height;
  block.bits = 0x207fffff;
  block.nonce = 0;
  block.transactions = [coinbase(height), ...txs];
  block.merkleRoot = Block.calculateMerkleRoot(block.transactions);
  return { type: 'connected', hash: block.getId(), height, block, raw: block.toBuffer() };
}

const disconnected = (e: { hash: string; height: number }): ChainEvent => ({ type: 'disconnected', hash: e.hash, height: e.height });
const outOf = (t: Transaction, vout = 0): Outpoint => ({ txid: t.getId(), vout });

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

describeEachKvBackend('chain watch on the $name store', (backend) => {
  /** A fresh store, and how to open it again after closing it (a restart). */
  const freshStore = async (): Promise<{ kv: KvStore; reopen: () => Promise<KvStore>; dir: string }> => {
    const dir = await tempDir('chain-watch');
    dirs.push(dir);
    return { kv: await backend.open(dir), reopen: () => backend.open(dir), dir };
  };

  it('finds a watched txid confirmed and a watched output spent, durably before the block is done, and tells subscribers', async () => {
    const { kv: inner } = await freshStore();
    const kv = new WatchedKvStore(inner);
    try {
      const w = await ChainWatch.open(kv);
      const funding = tx();
      const spendTx = tx([{ txid: randomBytes(32).toString('hex'), vout: 3 }, outOf(funding, 1)]);
      await w.watchTxids([funding.getId()], 'chan-a');
      await w.watchOutpoints([outOf(funding, 1)], 'chan-a');
      expect(w.watched()).toEqual({ txids: [{ txid: funding.getId(), owners: ['chan-a'] }], outpoints: [{ outpoint: outOf(funding, 1), owners: ['chan-a'] }] });
      const heard: BlockMatches[] = [];
      w.subscribe((m) => void heard.push(m));

      const b1 = connected(101, [tx(), funding]);
      const writes = kv.writes.length;
      await w.onChainEvent(b1);
      // One atomic write, durable, done by the time the delivery resolved.
      expect(kv.writes.slice(writes)).toEqual([{ ops: [expect.objectContaining({ type: 'put', ns: MATCH_NS, key: `tx:${funding.getId()}` })], durable: true }]);
      expect(w.location(funding.getId())).toEqual({ blockHash: b1.hash, height: 101, index: 2 });
      expect(w.confirmations(funding.getId(), 103)).toBe(3);
      expect(w.spend(outOf(funding, 1))).toBeUndefined();
      expect(w.spend(outOf(funding, 0))).toBeUndefined(); // not watched, and not spent either

      // A block matching nothing writes nothing and tells nobody.
      const quiet = kv.writes.length;
      await w.onChainEvent(connected(102, [tx(), tx()]));
      expect(kv.writes.length).toBe(quiet);

      const b3 = connected(103, [tx(), tx(), spendTx]);
      await w.onChainEvent(b3);
      const spend = { outpoint: outOf(funding, 1), txid: spendTx.getId(), input: 1, rawTx: spendTx.toHex(), blockHash: b3.hash, height: 103, index: 3 };
      expect(w.spend(outOf(funding, 1))).toEqual(spend);
      expect(heard).toEqual([
        { type: 'connected', block: { hash: b1.hash, height: 101 }, confirmed: [{ txid: funding.getId(), blockHash: b1.hash, height: 101, index: 2 }], spent: [] },
        { type: 'connected', block: { hash: b3.hash, height: 103 }, confirmed: [], spent: [spend] },
      ]);
      // A subscriber that fails is reported; the block's delivery and the other subscribers go on.
      const warned: string[] = [];
      const w2 = await ChainWatch.open(kv, { warn: (m) => warned.push(m) });
      const later: BlockMatches[] = [];
      w2.subscribe(() => {
        throw new Error('monitor broke');
      });
      w2.subscribe((m) => void later.push(m));
      await w2.onChainEvent(disconnected(b3));
      expect(warned).toEqual([expect.stringMatching(/subscriber failed on block 103 .*monitor broke/)]);
      expect(later).toEqual([{ type: 'disconnected', block: { hash: b3.hash, height: 103 }, confirmed: [], spent: [spend] }]);
    } finally {
      await kv.close();
    }
  });

  it('forgets what a disconnected block recorded, finds the spend again on the new branch at its new height, and keeps it all across a restart', async () => {
    const fresh = await freshStore();
    let kv = fresh.kv;
    try {
      let w = await ChainWatch.open(kv);
      const funding = tx();
      const closing = tx([outOf(funding)]);
      await w.watchOutpoints([outOf(funding)], 'chan-a');
      await w.watchTxids([closing.getId()], 'chan-a');
      const heard: BlockMatches[] = [];
      w.subscribe((m) => void heard.push(m));
      const a201 = connected(201, [closing]);
      await w.onChainEvent(a201);
      expect(w.spend(outOf(funding))).toMatchObject({ txid: closing.getId(), height: 201, blockHash: a201.hash });
      expect(w.location(closing.getId())).toEqual({ blockHash: a201.hash, height: 201, index: 1 });

      // The reorg: 201 leaves; the new branch has an empty 201 and the same spend in 202.
      await w.onChainEvent(disconnected(a201));
      expect(w.spend(outOf(funding))).toBeUndefined();
      expect(w.location(closing.getId())).toBeUndefined();
      expect(w.confirmations(closing.getId(), 201)).toBe(0);
      expect(heard.at(-1)).toMatchObject({ type: 'disconnected', block: { hash: a201.hash, height: 201 }, confirmed: [{ txid: closing.getId() }], spent: [{ txid: closing.getId() }] });
      const b201 = connected(201, [tx()]);
      await w.onChainEvent(b201);
      expect(w.spend(outOf(funding))).toBeUndefined();
      const b202 = connected(202, [tx(), closing]);
      await w.onChainEvent(b202);
      expect(w.spend(outOf(funding))).toEqual({ outpoint: outOf(funding), txid: closing.getId(), input: 0, rawTx: closing.toHex(), blockHash: b202.hash, height: 202, index: 2 });
      expect(w.location(closing.getId())).toEqual({ blockHash: b202.hash, height: 202, index: 2 });
      // The old block disconnected again (a source repeating itself) touches nothing of the new branch.
      await w.onChainEvent(disconnected(a201));
      expect(w.spend(outOf(funding))?.blockHash).toBe(b202.hash);

      // Restart: the store closed and opened again; what was watched and found is all there.
      await kv.close();
      kv = await fresh.reopen();
      w = await ChainWatch.open(kv);
      expect(w.spend(outOf(funding))).toEqual({ outpoint: outOf(funding), txid: closing.getId(), input: 0, rawTx: closing.toHex(), blockHash: b202.hash, height: 202, index: 2 });
      expect(w.location(closing.getId())).toEqual({ blockHash: b202.hash, height: 202, index: 2 });
      expect(w.ownersOf(outOf(funding))).toEqual(['chan-a']);
      // ...and a reorg after the restart still forgets it.
      await w.onChainEvent(disconnected(b202));
      expect(w.spend(outOf(funding))).toBeUndefined();
      await kv.close();
      kv = await fresh.reopen();
      w = await ChainWatch.open(kv);
      expect(w.spend(outOf(funding))).toBeUndefined();
      expect(w.watched().outpoints).toEqual([{ outpoint: outOf(funding), owners: ['chan-a'] }]);
    } finally {
      await kv.close();
    }
  });

  it('keeps an item while any owner watches it, and forgets it with what was found once none does', async () => {
    const fresh = await freshStore();
    let kv = fresh.kv;
    try {
      let w = await ChainWatch.open(kv);
      const f = tx();
      const s = tx([outOf(f)]);
      await w.watchOutpoints([outOf(f)], 'chan-a');
      await w.watchOutpoints([outOf(f)], 'monitor');
      await w.watchOutpoints([outOf(f)], 'chan-a'); // again: nothing changes
      await w.onChainEvent(connected(300, [s]));
      await w.unwatch('chan-a');
      expect(w.ownersOf(outOf(f))).toEqual(['monitor']);
      expect(w.spend(outOf(f))?.txid).toBe(s.getId());
      await w.unwatch('monitor', { outpoints: [outOf(f)] });
      expect(w.ownersOf(outOf(f))).toEqual([]);
      expect(w.spend(outOf(f))).toBeUndefined();
      await kv.close();
      kv = await fresh.reopen();
      w = await ChainWatch.open(kv);
      expect(w.watched()).toEqual({ txids: [], outpoints: [] });
      expect(await kv.count(MATCH_NS)).toBe(0);
    } finally {
      await kv.close();
    }
  });

  it('still matches an output of a transaction after another output of it is no longer watched', async () => {
    const { kv } = await freshStore();
    try {
      const w = await ChainWatch.open(kv);
      const f = tx();
      await w.watchOutpoints([outOf(f, 0)], 'chan-a');
      await w.watchOutpoints([outOf(f, 1)], 'chan-b');
      await w.unwatch('chan-a');
      const s = tx([outOf(f, 0), outOf(f, 1)]);
      await w.onChainEvent(connected(400, [s]));
      expect(w.spend(outOf(f, 0))).toBeUndefined();
      expect(w.spend(outOf(f, 1))).toMatchObject({ txid: s.getId(), input: 1 });
    } finally {
      await kv.close();
    }
  });

  it('moves an old txwatch.json in once, keeping the file as txwatch.json.migrated', async () => {
    const fresh = await freshStore();
    let kv = fresh.kv;
    try {
      // The file as the previous Coulomb's TxWatch left it: one txid found, one still waited for.
      const waitingTx = tx();
      const [seen, waiting] = [tx().getId(), waitingTx.getId()];
      const at = { blockHash: randomBytes(32).toString('hex'), height: 150, index: 4 };
      const old = await openStore<{ watched: Record<string, unknown> }>({ dir: fresh.dir, name: 'txwatch', version: 1, migrations: [], defaults: () => ({ watched: {} }) });
      await old.update((d) => void Object.assign(d.watched, { [seen]: at, [waiting]: null }));
      await old.close();

      let w = await ChainWatch.open(kv, { dir: fresh.dir });
      expect(w.location(seen)).toEqual(at);
      expect(w.location(waiting)).toBeUndefined();
      expect(w.watched().txids.sort((a, b) => a.txid.localeCompare(b.txid))).toEqual([seen, waiting].sort().map((txid) => ({ txid, owners: [UNKNOWN_OWNER] })));
      expect((await readdir(fresh.dir)).filter((f) => f.startsWith('txwatch'))).toEqual(['txwatch.json.migrated']);
      // The one still waited for is found in the next block, as before the move.
      const b = connected(151, [tx(), waitingTx]);
      await w.onChainEvent(b);
      expect(w.location(waiting)).toEqual({ blockHash: b.hash, height: 151, index: 2 });

      // Opened again: nothing moved twice, the records are what count.
      await kv.close();
      kv = await fresh.reopen();
      w = await ChainWatch.open(kv, { dir: fresh.dir });
      expect(w.location(seen)).toEqual(at);
      expect(w.location(waiting)).toEqual({ blockHash: b.hash, height: 151, index: 2 });
      expect(w.watched().txids).toHaveLength(2);
    } finally {
      await kv.close();
    }
  });
}, { backends: ['embedded', 'postgres'] });

describe('chain watch matching', () => {
  it('looks each input up in a hash set: a 4,000-transaction block against 1,000 watched outputs hashes only the spending transactions', async () => {
    const dir = await tempDir('chain-watch-big');
    dirs.push(dir);
    const kv = await openKvStore({ backend: 'embedded', dir: join(dir, 'store') }, { log: () => undefined });
    try {
      const w = await ChainWatch.open(kv);
      const watched = Array.from({ length: 1000 }, () => ({ txid: randomBytes(32).toString('hex'), vout: 1 }));
      await w.watchOutpoints(watched, 'bench');
      const spenders = new Map<number, Outpoint>([[17, watched[5]!], [2500, watched[999]!], [3999, watched[0]!]]);
      // Unwatched neighbours: the same txids at another index, and other outputs altogether.
      const txs = Array.from({ length: 3999 }, (_, i) => tx([spenders.get(i + 1) ?? { txid: watched[i % 1000]!.txid, vout: 0 }, { txid: randomBytes(32).toString('hex'), vout: 1 }]));
      const getId = vi.spyOn(Transaction.prototype, 'getId');
      const e = connected(500, txs);
      getId.mockClear();
      await w.onChainEvent(e);
      expect(getId).toHaveBeenCalledTimes(3);
      getId.mockRestore();
      for (const [index, o] of spenders) expect(w.spend(o)).toMatchObject({ index, height: 500, txid: txs[index - 1]!.getId() });
      expect(watched.filter((o) => w.spend(o)).length).toBe(3);
    } finally {
      await kv.close();
    }
  });
});
