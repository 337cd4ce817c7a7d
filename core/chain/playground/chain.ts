/**
 * The playground's regtest chain: blocks with real headers and proof of work (regtest's easy target),
 * a UTXO set with undo data for reorgs, a mempool with full replace-by-fee, and blocks kept on disk
 * so a playground survives a restart. Every transaction is checked by rules.ts before it gets in.
 */
import { Block, Transaction, script as bscript, opcodes } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { writeFileDurable } from '../../store/durable-file.ts';
import { join } from 'node:path';
import { REGTEST_BITS, REGTEST_GENESIS_HEX, HALVING_INTERVAL } from './genesis.ts';
import { checkTransaction, isCoinbase, outpointKey, prevTxid, TxRejected, verifyScripts } from './rules.ts';
import type { ChainContext, Coin, CoinView } from './rules.ts';

export interface BlockEntry {
  block: Block;
  hash: string;
  height: number;
  /** Median time past at this block (BIP 113). */
  mtp: number;
  /** Coins this block spent, to put back if it is disconnected. */
  undo: [string, Coin][];
}

interface MempoolEntry {
  tx: Transaction;
  txid: string;
  fee: bigint;
  vsize: number;
  time: number;
}

export interface ChainEvents {
  onBlock?: (entry: BlockEntry) => void;
}

export function subsidy(height: number): bigint {
  const halvings = Math.floor(height / HALVING_INTERVAL);
  return halvings >= 64 ? 0n : (50n * 100_000_000n) >> BigInt(halvings);
}

/** BIP 34: the coinbase starts with the block height as a minimal script number. */
function heightPush(height: number): Uint8Array {
  return bscript.compile([bscript.number.encode(height), opcodes.OP_0]);
}

const BLOCKS_FILE = 'blocks.dat';

export class PlaygroundChain {
  readonly entries: BlockEntry[] = [];
  private readonly byHash = new Map<string, BlockEntry>();
  private readonly utxos = new Map<string, Coin>();
  /** txid → height of the block that holds it (a transaction index). */
  private readonly txIndex = new Map<string, number>();
  readonly mempool = new Map<string, MempoolEntry>();
  private readonly spentInMempool = new Map<string, string>();
  private extraNonce = 0;
  /**
   * The least feerate (sat/vB) estimatesmartfee answers, whatever the mempool holds: a playground can
   * play a busy network (setfeeestimate), to see fees raised as a deadline nears. 0 when not set.
   */
  feeEstimateFloorSatPerVb = 0;
  /**
   * Miners of a busy network: a block takes only transactions whose package (with their unconfirmed
   * ancestors) pays at least this (sat/vB), so a low-fee parent waits unless a child pays for it. 0: all.
   */
  minMiningFeeSatPerVb = 0;

  private constructor(private readonly datadir: string | undefined) {}

  /** Opens (or creates) a chain. Blocks on disk were validated when mined; they are replayed without re-running scripts. */
  static async open(datadir?: string): Promise<PlaygroundChain> {
    const chain = new PlaygroundChain(datadir);
    chain.connect(Block.fromHex(REGTEST_GENESIS_HEX), { genesis: true });
    if (datadir) {
      await mkdir(datadir, { recursive: true });
      const raw = await readFile(join(datadir, BLOCKS_FILE)).catch(() => undefined);
      let off = 0;
      while (raw && off + 4 <= raw.length) {
        const len = raw.readUInt32LE(off);
        if (off + 4 + len > raw.length) break; // a torn last record from a crash: drop it
        chain.connect(Block.fromBuffer(raw.subarray(off + 4, off + 4 + len)), { skipScripts: true });
        off += 4 + len;
      }
      if (raw && off !== raw.length) await chain.rewriteBlocksFile();
    }
    return chain;
  }

  get tip(): BlockEntry {
    return this.entries[this.entries.length - 1]!;
  }

  get height(): number {
    return this.tip.height;
  }

  entryByHash(hash: string): BlockEntry | undefined {
    return this.byHash.get(hash);
  }

  /** Where a confirmed transaction is, if it is. */
  txHeight(txid: string): number | undefined {
    return this.txIndex.get(txid);
  }

  coin(txid: string, vout: number): Coin | undefined {
    return this.utxos.get(outpointKey(txid, vout));
  }

  private mtpOf(height: number): number {
    const times = this.entries.slice(Math.max(0, height - 10), height + 1).map((e) => e.block.timestamp).sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  private context(): ChainContext {
    return { height: this.height + 1, mtp: this.tip.mtp, mtpAt: (h) => this.entries[h]?.mtp ?? 0 };
  }

  /** Connects a block on top of the tip after checking it; throws TxRejected or Error when invalid. */
  private connect(block: Block, opts: { genesis?: boolean; skipScripts?: boolean } = {}): BlockEntry {
    const height = opts.genesis ? 0 : this.height + 1;
    const hash = block.getId();
    if (!opts.genesis) {
      if (hex.encode(Uint8Array.from(block.prevHash!).reverse()) !== this.tip.hash) throw new Error('block does not build on the tip');
      if (!block.checkProofOfWork()) throw new Error('high-hash');
      if (!block.checkTxRoots()) throw new Error('bad-txnmrklroot');
      if (block.timestamp <= this.tip.mtp) throw new Error('time-too-old');
    }
    const txs = block.transactions ?? [];
    if (!txs.length || !isCoinbase(txs[0]!)) throw new Error('bad-cb-missing');
    // Check every transaction against the coins as they stand inside the block.
    const created = new Map<string, Coin>();
    const spent = new Set<string>();
    const view: CoinView = (txid, vout) => {
      const k = outpointKey(txid, vout);
      if (spent.has(k)) return undefined;
      return created.get(k) ?? this.utxos.get(k);
    };
    const ctx: ChainContext = { height, mtp: opts.genesis ? 0 : this.tip.mtp, mtpAt: (h) => this.entries[h]?.mtp ?? 0 };
    let fees = 0n;
    const undo: [string, Coin][] = [];
    txs.forEach((tx, i) => {
      const txid = tx.getId();
      if (i > 0) {
        if (isCoinbase(tx)) throw new Error('bad-cb-multiple');
        const checked = opts.skipScripts ? this.checkWithoutScripts(tx, view, ctx) : checkTransaction(tx, view, ctx, false);
        fees += checked.fee;
        for (const input of tx.ins) {
          const k = outpointKey(prevTxid(input), input.index);
          spent.add(k);
          const c = this.utxos.get(k);
          if (c) undo.push([k, c]);
          created.delete(k);
        }
      }
      tx.outs.forEach((o, vout) => {
        if (o.script[0] === opcodes.OP_RETURN) return;
        created.set(outpointKey(txid, vout), { value: o.value, script: o.script, height, coinbase: i === 0 });
      });
    });
    if (!opts.genesis) {
      const cbOut = txs[0]!.outs.reduce((a, o) => a + o.value, 0n);
      if (cbOut > subsidy(height) + fees) throw new Error('bad-cb-amount');
    }
    // Apply.
    for (const k of spent) this.utxos.delete(k);
    for (const [k, c] of created) this.utxos.set(k, c);
    for (const tx of txs) this.txIndex.set(tx.getId(), height);
    const entry: BlockEntry = { block, hash, height, mtp: 0, undo };
    this.entries.push(entry);
    entry.mtp = this.mtpOf(height);
    this.byHash.set(hash, entry);
    return entry;
  }

  private checkWithoutScripts(tx: Transaction, view: CoinView, ctx: ChainContext): { fee: bigint } {
    let inSum = 0n;
    for (const input of tx.ins) {
      const c = view(prevTxid(input), input.index);
      if (!c) throw new Error(`block spends a missing coin ${prevTxid(input)}:${input.index}`);
      inSum += c.value;
    }
    void ctx;
    return { fee: inSum - tx.outs.reduce((a, o) => a + o.value, 0n) };
  }

  private disconnectTip(): BlockEntry {
    const entry = this.entries.pop()!;
    this.byHash.delete(entry.hash);
    for (const tx of entry.block.transactions ?? []) {
      const txid = tx.getId();
      this.txIndex.delete(txid);
      tx.outs.forEach((_o, vout) => this.utxos.delete(outpointKey(txid, vout)));
    }
    for (const [k, c] of entry.undo) this.utxos.set(k, c);
    return entry;
  }

  // ---- mempool -------------------------------------------------------------------------------

  /** Mempool acceptance as sendrawtransaction does it. Returns the txid or throws TxRejected. */
  acceptToMempool(txHex: string): string {
    let tx: Transaction;
    try {
      tx = Transaction.fromHex(txHex);
    } catch {
      throw new TxRejected('TX decode failed', -22);
    }
    const txid = tx.getId();
    if (this.mempool.has(txid)) return txid;
    if (this.txIndex.has(txid)) throw new TxRejected('Transaction already in block chain', -27);
    // Unconfirmed transactions this one double-spends, and everything that depends on them.
    const direct = new Set<string>();
    for (const input of tx.ins) {
      const by = this.spentInMempool.get(outpointKey(prevTxid(input), input.index));
      if (by) direct.add(by);
    }
    const evicted = this.withDescendants(direct);
    const view: CoinView = (ptxid, vout) => {
      const k = outpointKey(ptxid, vout);
      const c = this.utxos.get(k);
      if (c) return c;
      const parent = this.mempool.get(ptxid);
      if (!parent || evicted.has(ptxid)) return undefined;
      const o = parent.tx.outs[vout];
      return o ? { value: o.value, script: o.script, height: this.height + 1, coinbase: false } : undefined;
    };
    const checked = checkTransaction(tx, view, this.context(), true);
    if (direct.size) {
      // Replace-by-fee (full RBF, as Bitcoin Core now defaults to): pay for what is evicted and more.
      let evictedFees = 0n;
      for (const id of evicted) evictedFees += this.mempool.get(id)!.fee;
      for (const id of direct) {
        const c = this.mempool.get(id)!;
        if (checked.fee * BigInt(c.vsize) <= c.fee * BigInt(checked.vsize)) {
          throw new TxRejected('insufficient fee', -26, `rejecting replacement ${txid}; new feerate not above the replaced ${id}`);
        }
      }
      if (checked.fee < evictedFees + BigInt(checked.vsize)) {
        throw new TxRejected('insufficient fee', -26, `rejecting replacement ${txid}, less fees than conflicting txs; ${checked.fee} < ${evictedFees + BigInt(checked.vsize)}`);
      }
      for (const id of evicted) this.removeFromMempool(id);
    }
    this.mempool.set(txid, { tx, txid, fee: checked.fee, vsize: checked.vsize, time: Math.floor(Date.now() / 1000) });
    for (const input of tx.ins) this.spentInMempool.set(outpointKey(prevTxid(input), input.index), txid);
    return txid;
  }

  /** Checks a transaction without adding it (testmempoolaccept). */
  testAccept(txHex: string): { txid: string; allowed: boolean; reason?: string; fee?: bigint; vsize?: number } {
    let tx: Transaction;
    try {
      tx = Transaction.fromHex(txHex);
    } catch {
      return { txid: '', allowed: false, reason: 'TX decode failed' };
    }
    const txid = tx.getId();
    try {
      const conflict = tx.ins.some((i) => this.spentInMempool.has(outpointKey(prevTxid(i), i.index)));
      if (conflict) return { txid, allowed: false, reason: 'txn-mempool-conflict' };
      const view: CoinView = (p, v) => this.utxos.get(outpointKey(p, v)) ?? ((o) => (o ? { value: o.value, script: o.script, height: this.height + 1, coinbase: false } : undefined))(this.mempool.get(p)?.tx.outs[v]);
      const c = checkTransaction(tx, view, this.context(), true);
      return { txid, allowed: true, fee: c.fee, vsize: c.vsize };
    } catch (e) {
      if (e instanceof TxRejected) return { txid, allowed: false, reason: e.message };
      throw e;
    }
  }

  /** Drops a transaction and its descendants from the mempool, as an eviction would. */
  evict(txid: string): void {
    for (const id of this.withDescendants(new Set([txid]))) this.removeFromMempool(id);
  }

  private withDescendants(ids: Set<string>): Set<string> {
    const out = new Set(ids);
    let grew = true;
    while (grew) {
      grew = false;
      for (const e of this.mempool.values()) {
        if (out.has(e.txid)) continue;
        if (e.tx.ins.some((i) => out.has(prevTxid(i)))) {
          out.add(e.txid);
          grew = true;
        }
      }
    }
    return out;
  }

  private removeFromMempool(txid: string): void {
    const e = this.mempool.get(txid);
    if (!e) return;
    this.mempool.delete(txid);
    for (const input of e.tx.ins) {
      const k = outpointKey(prevTxid(input), input.index);
      if (this.spentInMempool.get(k) === txid) this.spentInMempool.delete(k);
    }
  }

  // ---- mining --------------------------------------------------------------------------------

  /** Mines `n` blocks paying `payTo` (an output script), each with the mempool in dependency order. */
  async mine(n: number, payTo: Uint8Array, now: () => number = () => Math.floor(Date.now() / 1000)): Promise<string[]> {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const txs = this.blockTemplate();
      const height = this.height + 1;
      const fees = txs.reduce((a, t) => a + this.mempool.get(t.getId())!.fee, 0n);
      const cb = new Transaction();
      cb.version = 2;
      cb.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, Uint8Array.from([...heightPush(height), ...bscript.number.encode(this.extraNonce++)].slice(0, 100)));
      cb.setWitness(0, [new Uint8Array(32)]);
      cb.addOutput(payTo, subsidy(height) + fees);
      const block = new Block();
      block.version = 0x20000000;
      block.prevHash = Uint8Array.from(hex.decode(this.tip.hash)).reverse();
      block.timestamp = Math.max(now(), this.tip.mtp + 1, this.tip.block.timestamp);
      block.bits = REGTEST_BITS;
      block.transactions = [cb, ...txs];
      // BIP 141 witness commitment in the coinbase.
      const commit = Block.calculateMerkleRoot(block.transactions, true);
      cb.addOutput(bscript.compile([opcodes.OP_RETURN, Uint8Array.from([0xaa, 0x21, 0xa9, 0xed, ...commit])]), 0n);
      block.merkleRoot = Block.calculateMerkleRoot(block.transactions);
      block.witnessCommit = commit;
      for (block.nonce = 0; !block.checkProofOfWork(); block.nonce++);
      const entry = this.connect(block, { skipScripts: true });
      for (const t of txs) this.removeFromMempool(t.getId());
      await this.appendBlock(block);
      hashes.push(entry.hash);
    }
    return hashes;
  }

  /** Mempool transactions ordered so that parents come before children (those the miners take). */
  private blockTemplate(): Transaction[] {
    const out: Transaction[] = [];
    const placed = new Set<string>();
    const pending = [...this.mempool.values()].filter((e) => this.minable().has(e.txid));
    let progress = true;
    while (pending.length && progress) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const e = pending[i]!;
        if (e.tx.ins.every((inp) => !this.mempool.has(prevTxid(inp)) || placed.has(prevTxid(inp)))) {
          out.push(e.tx);
          placed.add(e.txid);
          pending.splice(i--, 1);
          progress = true;
        }
      }
    }
    return out;
  }

  /** What miners take at `minMiningFeeSatPerVb`: a transaction with the ancestors it pays for, CPFP counted. */
  private minable(): Set<string> {
    const all = new Set(this.mempool.keys());
    if (this.minMiningFeeSatPerVb <= 0) return all;
    const taken = new Set<string>();
    const ancestors = (id: string, acc: Set<string>): Set<string> => {
      if (acc.has(id) || taken.has(id)) return acc;
      acc.add(id);
      for (const i of this.mempool.get(id)!.tx.ins) if (this.mempool.has(prevTxid(i))) ancestors(prevTxid(i), acc);
      return acc;
    };
    for (let grew = true; grew; ) {
      grew = false;
      for (const id of all) {
        if (taken.has(id)) continue;
        const pkg = [...ancestors(id, new Set())].map((x) => this.mempool.get(x)!);
        const fee = pkg.reduce((a, e) => a + e.fee, 0n);
        const vsize = pkg.reduce((a, e) => a + e.vsize, 0);
        if (Number(fee) >= this.minMiningFeeSatPerVb * vsize) {
          for (const e of pkg) taken.add(e.txid);
          grew = true;
        }
      }
    }
    return taken;
  }

  /**
   * Disconnects `hash` and every block above it (bitcoind's invalidateblock). Their transactions go back
   * to the mempool where they are still valid.
   */
  async invalidateBlock(hash: string): Promise<void> {
    const target = this.byHash.get(hash);
    if (!target) throw new TxRejected('Block not found', -5);
    if (target.height === 0) throw new TxRejected('cannot invalidate the genesis block', -8);
    const detached: BlockEntry[] = [];
    while (this.height >= target.height) detached.unshift(this.disconnectTip());
    // Mempool entries that spent coins of the detached blocks are re-checked along with the blocks' own.
    const old = [...this.mempool.values()].map((e) => e.tx);
    this.mempool.clear();
    this.spentInMempool.clear();
    for (const tx of [...detached.flatMap((e) => (e.block.transactions ?? []).slice(1)), ...old]) {
      try {
        this.acceptToMempool(tx.toHex());
      } catch {
        // No longer valid on this chain: dropped, as bitcoind does.
      }
    }
    await this.rewriteBlocksFile();
  }

  /** Runs the interpreter over a confirmed block again (used by tests to prove mined blocks are valid). */
  reverify(height: number): void {
    const entry = this.entries[height]!;
    for (const tx of (entry.block.transactions ?? []).slice(1)) {
      const coins = tx.ins.map((i) => {
        const c = entry.undo.find(([k]) => k === outpointKey(prevTxid(i), i.index))?.[1];
        if (!c) throw new Error('coin not found in undo data');
        return c;
      });
      verifyScripts(tx, coins);
    }
  }

  // ---- disk ----------------------------------------------------------------------------------

  private async appendBlock(block: Block): Promise<void> {
    if (!this.datadir) return;
    const raw = block.toBuffer();
    const rec = Buffer.alloc(4 + raw.length);
    rec.writeUInt32LE(raw.length, 0);
    rec.set(raw, 4);
    const path = join(this.datadir, BLOCKS_FILE);
    await appendFile(path, rec);
    const fh = await open(path, 'r');
    await fh.sync();
    await fh.close();
  }

  private async rewriteBlocksFile(): Promise<void> {
    if (!this.datadir) return;
    const parts = this.entries.slice(1).map((e) => {
      const raw = e.block.toBuffer();
      const len = Buffer.alloc(4);
      len.writeUInt32LE(raw.length, 0);
      return Buffer.concat([len, raw]);
    });
    await writeFileDurable(join(this.datadir, BLOCKS_FILE), Buffer.concat(parts), 0o644);
  }

  /** The unspent outputs paying a script (for the faucet). */
  coinsFor(script: Uint8Array): { txid: string; vout: number; coin: Coin }[] {
    const want = hex.encode(script);
    const out: { txid: string; vout: number; coin: Coin }[] = [];
    for (const [k, c] of this.utxos) {
      if (hex.encode(c.script) !== want) continue;
      const [txid, vout] = k.split(':');
      out.push({ txid: txid!, vout: Number(vout), coin: c });
    }
    return out;
  }
}
