/**
 * Follows bitcoind's best chain by polling and delivers blocks in order, walking back to the fork
 * point on a reorg. Problems (bitcoind down, still starting, in IBD) show in status() and are retried;
 * nothing here crashes the node.
 */
import { Block, Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import type { BitcoindRpc } from './rpc-client.ts';
import { RpcError } from './errors.ts';
import type { ChainListener, ChainPoint, ChainSource, ChainStatus, MempoolListener } from '../types.ts';
import type { Network } from '../../keys/node-key.ts';

/** bitcoind's chain names (getblockchaininfo's `chain`) → ours. */
export const CHAIN_NAMES: Record<string, Network> = { main: 'mainnet', test: 'testnet', testnet4: 'testnet4', signet: 'signet', regtest: 'regtest' };

export class ChainMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainMismatchError';
  }
}

export interface ChainSourceOptions {
  network: Network;
  pollMs?: number;
  /** How many recent headers to remember for finding fork points. */
  window?: number;
  log?: (msg: string) => void;
}

export class BitcoindChainSource implements ChainSource {
  private listener: ChainListener | undefined;
  private mempoolListener: MempoolListener | undefined;
  /** txids seen in bitcoind's mempool at the last poll. */
  private mempoolSeen = new Set<string>();
  /** Recent headers we delivered, oldest first. */
  private headers: ChainPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private st: ChainStatus = { synced: false, height: -1, hash: '', bestHeight: -1, initialBlockDownload: false };
  private statusListener: ((s: ChainStatus) => void) | undefined;
  private statusTold = '';

  constructor(
    private readonly rpc: BitcoindRpc,
    private readonly opts: ChainSourceOptions,
  ) {}

  status(): ChainStatus {
    return { ...this.st };
  }

  onStatus(fn: (s: ChainStatus) => void): void {
    this.statusListener = fn;
  }

  /** Tells the status listener of a change since it last heard. */
  private tellStatus(): void {
    const s = this.status();
    const now = JSON.stringify([s.synced, s.height, s.bestHeight, s.error ?? '']);
    if (now === this.statusTold) return;
    this.statusTold = now;
    this.statusListener?.(s);
  }

  /** Checks that bitcoind is on our network; throws ChainMismatchError (not worth retrying) if not. */
  async checkNetwork(): Promise<void> {
    const info = await this.rpc.call<{ chain: string }>('getblockchaininfo');
    const theirs = CHAIN_NAMES[info.chain] ?? info.chain;
    if (theirs !== this.opts.network) {
      throw new ChainMismatchError(`bitcoind is on ${theirs} but this wallet is for ${this.opts.network}; point Coulomb at a ${this.opts.network} bitcoind or use --network ${theirs}`);
    }
  }

  async start(listener: ChainListener, from?: ChainPoint, mempool?: MempoolListener): Promise<void> {
    this.listener = listener;
    this.mempoolListener = mempool;
    await this.checkNetwork();
    if (from) {
      this.headers = [from];
    } else {
      const hash = await this.rpc.call<string>('getbestblockhash');
      const header = await this.rpc.call<{ height: number }>('getblockheader', hash, true);
      this.headers = [{ hash, height: header.height }];
    }
    this.st.height = this.tip.height;
    this.st.hash = this.tip.hash;
    await this.poke();
    this.schedule();
  }

  private get tip(): ChainPoint {
    return this.headers[this.headers.length - 1]!;
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.opts.pollMs ?? (this.opts.network === 'regtest' ? 2000 : 10_000);
    this.timer = setTimeout(() => {
      void this.poke().finally(() => this.schedule());
    }, ms);
    this.timer.unref();
  }

  poke(): Promise<void> {
    // One poll at a time; a second caller waits for the one under way and then runs its own.
    const run = async (): Promise<void> => {
      try {
        await this.poll();
        this.st.error = undefined;
      } catch (e) {
        this.st.error = e instanceof Error ? e.message : String(e);
        this.st.synced = false;
        this.opts.log?.(`chain poll failed: ${this.st.error}`);
      }
      this.tellStatus();
    };
    const prev = this.running ?? Promise.resolve();
    const next = prev.then(run);
    this.running = next;
    return next;
  }

  private async poll(): Promise<void> {
    await this.pollBlocks();
    if (this.mempoolListener && this.st.synced) await this.pollMempool();
  }

  /** Hands over what entered and left the mempool since the last poll (at most 1,000 new ones a poll). */
  private async pollMempool(): Promise<void> {
    const now = new Set(await this.rpc.call<string[]>('getrawmempool'));
    const removed = [...this.mempoolSeen].filter((t) => !now.has(t));
    const fresh = [...now].filter((t) => !this.mempoolSeen.has(t)).slice(0, 1000);
    const raws = fresh.length ? await this.rpc.batch(fresh.map((t) => ({ method: 'getrawtransaction', params: [t, false] }))) : [];
    const added: { txid: string; tx: Transaction }[] = [];
    fresh.forEach((txid, i) => {
      const r = raws[i];
      // Gone between the two calls, or not parseable: skip it now, it is retried next poll if still there.
      if (typeof r !== 'string') return;
      try {
        added.push({ txid, tx: Transaction.fromHex(r) });
      } catch {
        return;
      }
    });
    for (const t of removed) this.mempoolSeen.delete(t);
    for (const a of added) this.mempoolSeen.add(a.txid);
    if (added.length || removed.length) await this.mempoolListener!(added, removed);
  }

  private async pollBlocks(): Promise<void> {
    if (this.stopped || !this.listener) return;
    const info = await this.rpc.call<{ blocks: number; bestblockhash: string; initialblockdownload: boolean }>('getblockchaininfo');
    this.st.bestHeight = info.blocks;
    this.st.initialBlockDownload = info.initialblockdownload;
    if (info.bestblockhash === this.tip.hash) {
      this.st.synced = !info.initialblockdownload;
      return;
    }
    await this.rewindToFork();
    // Connect forward, a batch of hashes at a time.
    while (!this.stopped && this.tip.height < info.blocks) {
      const heights = Array.from({ length: Math.min(50, info.blocks - this.tip.height) }, (_, i) => this.tip.height + 1 + i);
      const hashes = await this.rpc.batch(heights.map((h) => ({ method: 'getblockhash', params: [h] })));
      for (let i = 0; i < heights.length; i++) {
        const hash = hashes[i];
        if (hash instanceof RpcError) throw hash;
        const rawHex = await this.rpc.call<string>('getblock', hash, 0);
        const block = Block.fromHex(rawHex);
        if (hex.encode(Uint8Array.from(block.prevHash!).reverse()) !== this.tip.hash) {
          // The chain moved under us (a reorg mid-sync): start over from the fork on the next poll.
          return;
        }
        const point = { hash: hash as string, height: heights[i]! };
        await this.listener({ type: 'connected', ...point, block, raw: hex.decode(rawHex) });
        this.headers.push(point);
        if (this.headers.length > (this.opts.window ?? 288)) this.headers.shift();
        this.st.height = point.height;
        this.st.hash = point.hash;
      }
    }
    this.st.synced = !info.initialblockdownload && this.tip.height >= info.blocks;
  }

  /** Disconnects our blocks, newest first, until our tip is on bitcoind's best chain. */
  private async rewindToFork(): Promise<void> {
    for (;;) {
      const tip = this.tip;
      let theirs: string | undefined;
      try {
        theirs = await this.rpc.call<string>('getblockhash', tip.height);
      } catch (e) {
        if (!(e instanceof RpcError) || e.kind !== 'invalid_params') throw e; // height beyond their tip
      }
      if (theirs === tip.hash) return;
      if (this.headers.length <= 1) {
        throw new Error(`the chain reorganized deeper than the ${this.opts.window ?? 288} blocks Coulomb remembers; a rescan is needed`);
      }
      this.headers.pop();
      await this.listener!({ type: 'disconnected', hash: tip.hash, height: tip.height });
      this.st.height = this.tip.height;
      this.st.hash = this.tip.hash;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
