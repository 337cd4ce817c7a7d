/**
 * The chain watch (core/chain/chain-watch.ts) matching a block of 4,000 transactions (8,000 inputs)
 * against 1,000 watched outpoints, against a raw reference measured in the same run: the same loop
 * over the inputs with a bare Set lookup. Rows:
 * - a block that spends none of them (most blocks): the scan alone;
 * - a block that spends 10 of them: the scan, the spends recorded (in-memory store, so the disk is
 *   not what is measured) and forgotten again by a disconnect, so every round matches anew;
 * - the same block with 100 watched txids still unconfirmed: then every transaction is hashed for its
 *   id, and the reference hashes every transaction too.
 * The reference makes a string key of every input's outpoint; the watch first looks up a number (the
 * first four bytes of the txid spent) and makes the string only on a hit, so it can beat the
 * reference. Ratios are time over the reference's time: below 1 is faster.
 * The last line is for scripts: `chainwatch vs raw: <ratio>x` (the first row).
 */
import { randomBytes } from 'node:crypto';
import { Block, Transaction } from 'bitcoinjs-lib';
import { ChainWatch } from '../../core/chain/chain-watch.ts';
import type { Outpoint } from '../../core/chain/chain-watch.ts';
import type { ChainEvent } from '../../core/chain/types.ts';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { table } from './harness.ts';

const TXS = 4000;
const WATCHED = 1000;

function tx(spends: Outpoint[]): Transaction {
  const t = new Transaction();
  t.version = 2;
  for (const o of spends) t.addInput(Uint8Array.from(Buffer.from(o.txid, 'hex').reverse()), o.vout);
  t.addOutput(Uint8Array.from([0x00, 0x14, ...randomBytes(20)]), 10_000n);
  return t;
}

function block(spending: Outpoint[]): Extract<ChainEvent, { type: 'connected' }> {
  const coinbase = new Transaction();
  coinbase.addInput(new Uint8Array(32), 0xffffffff);
  coinbase.addOutput(Uint8Array.from([0x51]), 1n);
  const txs = Array.from({ length: TXS - 1 }, (_, i) => tx([spending[i] ?? { txid: randomBytes(32).toString('hex'), vout: 0 }, { txid: randomBytes(32).toString('hex'), vout: 1 }]));
  const b = new Block();
  b.prevHash = new Uint8Array(32);
  b.transactions = [coinbase, ...txs];
  b.merkleRoot = Block.calculateMerkleRoot(b.transactions);
  return { type: 'connected', hash: b.getId(), height: 800_000, block: b, raw: new Uint8Array() };
}

/** Mean ms per call of `fn`, over at least `minMs` after a warm-up. */
async function msPer(fn: () => Promise<void> | void, minMs = 500): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    await fn();
    n++;
  }
  return (performance.now() - start) / n;
}

/**
 * Both sides measured in turns (7 rounds, the one that goes first alternating), each side's median
 * taken: on a shared machine, two measurements one after the other differ more than the two sides do.
 */
async function compare(a: () => Promise<void> | void, b: () => Promise<void> | void): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let round = 0; round < 7; round++) {
    if (round % 2 === 0) {
      as.push(await msPer(a, 150));
      bs.push(await msPer(b, 150));
    } else {
      bs.push(await msPer(b, 150));
      as.push(await msPer(a, 150));
    }
  }
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[xs.length >> 1]!;
  return [median(as), median(bs)];
}

function rawScan(e: Extract<ChainEvent, { type: 'connected' }>, set: Set<string>, hashAll: boolean): number {
  let hits = 0;
  const txs = e.block.transactions!;
  for (let i = 1; i < txs.length; i++) {
    const t = txs[i]!;
    if (hashAll) t.getId();
    for (const input of t.ins) if (set.has(Buffer.from(input.hash.buffer, input.hash.byteOffset, 32).toString('latin1') + input.index)) hits++;
  }
  return hits;
}

export async function run(): Promise<void> {
  const watched = Array.from({ length: WATCHED }, () => ({ txid: randomBytes(32).toString('hex'), vout: 0 }));
  const rawSet = new Set(watched.map((o) => Buffer.from(o.txid, 'hex').reverse().toString('latin1') + o.vout));
  const none = block([]);
  const ten = block(Array.from({ length: TXS - 1 }, (_, i) => (i % 400 === 7 ? watched[i % WATCHED]! : undefined)) as Outpoint[]);
  const kv = MemoryKvStore.open();
  const w = await ChainWatch.open(kv);
  await w.watchOutpoints(watched, 'bench');

  let hits = 0;
  const rows: (string | number)[][] = [['block of 4,000 txs, 1,000 watched outpoints', 'chain watch ms', 'raw Set ms', 'ratio']];
  const [noneMs, noneRaw] = await compare(() => w.onChainEvent(none), () => void (hits += rawScan(none, rawSet, false)));
  rows.push(['spends none of them', noneMs, noneRaw, noneMs / noneRaw]);
  const [tenMs, tenRaw] = await compare(
    async () => {
      await w.onChainEvent(ten);
      await w.onChainEvent({ type: 'disconnected', hash: ten.hash, height: ten.height });
    },
    () => void (hits += rawScan(ten, rawSet, false)),
  );
  if (!w.watched().outpoints.length || w.spend(watched[7]!)) throw new Error('the bench block was not matched as expected');
  rows.push(['spends 10 (recorded, then disconnected)', tenMs, tenRaw, tenMs / tenRaw]);
  await w.watchTxids(Array.from({ length: 100 }, () => randomBytes(32).toString('hex')), 'bench');
  const [txidMs, txidRaw] = await compare(() => w.onChainEvent(none), () => void (hits += rawScan(none, rawSet, true)));
  rows.push(['spends none, 100 txids unconfirmed (all hashed)', txidMs, txidRaw, txidMs / txidRaw]);
  await kv.close();
  if (hits === 0) throw new Error('the raw reference found none of the spends');
  table('Chain watch: matching a block (the raw reference loops over the same inputs with a bare Set)', rows);
  process.stdout.write(`chainwatch vs raw: ${(noneMs / noneRaw).toFixed(2)}x\n`);
}
