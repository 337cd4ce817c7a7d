/**
 * The node's chain monitors (BOLT 5): one pure monitor per channel (core/monitor/monitor.ts), and the
 * shell that feeds it and carries out what it decides. This is where a monitor's actions meet I/O:
 *
 * - inputs: the channel's monitor updates as their records are written (ChannelStore.monitors), every
 *   block connected or disconnected with what the chain watch matched in it (a monitor needs every
 *   height for its timelocks; the chain watch tells only blocks that matched), and force closes;
 * - actions, in order: `store` (the monitor's chain record, durable before anything it decided leaves),
 *   `watch` (registered with the chain watch, then the same block matched again for those outputs: a
 *   spend can share a block with the output it spends), `broadcast` (a transaction with wallet inputs,
 *   such as the CPFP child through our anchor, is recorded in the wallet with the unconfirmed parent it
 *   depends on, so the wallet can tell when a conflict makes it dead), HTLC outcomes to the switch, the
 *   channel's phase to the channel manager. Which fee each claim pays, and when it is raised, the
 *   monitor decides (core/monitor/bump.ts) from the node's estimates for 2, 6 and 144 blocks.
 *
 * Monitors are processed one event at a time, in the order events come (a block is seen by every
 * monitor before the next block). An error in one monitor is logged and leaves the others running.
 */
import { Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import type { ChainEvent } from '../chain/types.ts';
import type { Broadcaster } from '../chain/types.ts';
import type { BlockMatches, ChainWatch, OutpointSpend } from '../chain/chain-watch.ts';
import type { KvStore } from '../store/kv/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Wallet } from '../wallet/wallet.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { step as monitorStep, newMonitor } from '../monitor/monitor.ts';
import type { MonitorAction, MonitorEnv, MonitorInput, MonitorState } from '../monitor/monitor.ts';
import type { MonitorUpdate } from '../monitor/state.ts';
import type { FeeEstimates } from '../monitor/bump.ts';
import type { WalletCoin } from '../monitor/types.ts';
import { loadMonitorState, monitorChainOps } from './monitor-records.ts';
import type { ChannelManager } from './channels.ts';

/** What an HTLC's end on chain means upstream (the switch): settle with the preimage, or fail. */
export type OnChainHtlcOutcome = { type: 'claimed'; channel: string; id: bigint; preimage: Uint8Array } | { type: 'failed'; channel: string; id: bigint; reason: string };

export interface ChainMonitorsOptions {
  kv: KvStore;
  chainWatch: ChainWatch;
  channels: ChannelManager;
  wallet: Wallet;
  broadcaster: Broadcaster;
  feeratePerKw: () => number;
  /** The estimates for 2, 6 and 144 blocks that claims' fees follow; `feeratePerKw` for all when absent. */
  feerates?: () => FeeEstimates;
  tipHeight: () => number;
  log: Logger;
  onHtlc: (o: OnChainHtlcOutcome) => Promise<void>;
}

interface Live {
  state: MonitorState;
  secrets: ChannelSecrets;
  /** Where this monitor's sweeps go: a fresh wallet address, taken when the first is needed. */
  sweepScript?: Uint8Array;
  closed: boolean;
}

export class ChainMonitors {
  private readonly live = new Map<string, Live>();
  private queue: Promise<unknown> = Promise.resolve();
  /** What the chain watch matched in the blocks being delivered, by `<type>:<hash>`. */
  private readonly matches = new Map<string, BlockMatches>();
  private readonly unsubscribe: (() => void)[] = [];
  /**
   * Wallet coins signed into a transaction in this process and not yet recorded by the wallet as spent
   * (kept only while a claim holds them: a version built and not kept gives its coins back).
   */
  private readonly usedCoins = new Set<string>();
  /** Channels whose monitor is being started (its first updates are in its records already). */
  private readonly starting = new Set<string>();

  private constructor(private readonly o: ChainMonitorsOptions) {}

  /** Loads the monitor of every channel not closed yet, and starts taking its updates. */
  static async open(o: ChainMonitorsOptions): Promise<ChainMonitors> {
    const m = new ChainMonitors(o);
    for (const c of o.channels.list()) {
      if (c.state.phase === 'CLOSED') continue;
      try {
        const state = await loadMonitorState(o.kv, c.key);
        if (!state) continue;
        await m.add(c.key, state, c.state.secrets);
        // HTLC outcomes told before the stop may not have reached the switch: told again.
        await m.run(c.key, { type: 'restart' }, { nearTip: false });
      } catch (e) {
        o.log.error(`the chain monitor of channel ${c.key} could not be loaded; the others run`, { error: errText(e) });
      }
    }
    m.unsubscribe.push(o.chainWatch.subscribe((x) => void m.matches.set(`${x.type}:${x.block.hash}`, x)));
    m.unsubscribe.push(o.channels.monitorRecords.subscribe((channel, updates) => m.onUpdates(channel, updates)));
    o.channels.setMonitorHook({ forceClose: (key) => m.forceClose(key), refusal: (key) => m.refusal(key) });
    return m;
  }

  private async add(key: string, state: MonitorState, secrets: ChannelSecrets): Promise<void> {
    const l: Live = { state, secrets, closed: false };
    this.live.set(key, l);
    // Registered again: a stop between the chain record's write and the watch's would leave a gap.
    const watched = state.chain.watched.map((k) => ({ txid: k.slice(0, 64), vout: Number(k.slice(65)) }));
    const f = state.data.params.funding;
    await this.o.chainWatch.watchOutpoints([{ txid: f.txid, vout: f.vout }, ...watched], key);
    // Spends the chain watch recorded that this monitor has not seen (a channel from before monitors).
    const spent: OutpointSpend[] = [];
    for (const o of [{ txid: f.txid, vout: f.vout }, ...watched]) {
      const sp = this.o.chainWatch.spend(o);
      const k = `${o.txid}:${o.vout}`;
      const seen = o.txid === f.txid && o.vout === f.vout ? state.chain.fundingSpend?.txid === sp?.txid : state.chain.spends[k]?.txid === sp?.txid;
      if (sp && !seen) spent.push(sp);
    }
    if (spent.length) await this.run(key, { type: 'block_connected', height: Math.max(this.o.tipHeight(), state.chain.height), spent }, { nearTip: true });
  }

  /** Stops taking events; what is under way finishes. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.queue.catch(() => undefined);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A channel's updates, as their records are written (called in write order, synchronously): a new
   * channel's monitor starts from its records as they stand now, which hold these updates already.
   */
  private onUpdates(channel: string, updates: readonly MonitorUpdate[]): void {
    if (!this.live.has(channel) && !this.starting.has(channel)) {
      const data = this.o.channels.monitorRecords.data(channel);
      const c = this.o.channels.get(channel);
      if (!data || !c) return;
      this.starting.add(channel);
      const state = newMonitor(channel, data);
      void this.enqueue(async () => {
        this.starting.delete(channel);
        await this.add(channel, state, c.state.secrets);
      }).catch((e: unknown) => this.o.log.error(`the chain monitor of channel ${channel} could not start; the others run`, { error: errText(e) }));
      return;
    }
    void this.enqueue(async () => {
      for (const u of updates) await this.run(channel, { type: 'update', update: u }, { nearTip: true });
    }).catch((e: unknown) => this.o.log.error(`the chain monitor of channel ${channel} failed on an update; the others run`, { error: errText(e) }));
  }

  /**
   * A block connected or disconnected, after the chain watch has matched it: every live monitor sees
   * it, with the spends of what it watches. Resolves once every `store` it caused is durable.
   */
  onChainEvent(e: ChainEvent, nearTip: boolean): Promise<void> {
    return this.enqueue(async () => {
      const m = this.matches.get(`${e.type}:${e.hash}`);
      this.matches.delete(`${e.type}:${e.hash}`);
      for (const key of [...this.live.keys()]) {
        const l = this.live.get(key)!;
        if (l.closed) continue;
        if (e.type === 'disconnected') {
          await this.run(key, { type: 'block_disconnected', height: e.height }, { nearTip });
          continue;
        }
        const spent = (m?.spent ?? []).filter((s) => this.o.chainWatch.ownersOf(s.outpoint).includes(key));
        await this.run(key, { type: 'block_connected', height: e.height, spent: spent.map(spendOf) }, { nearTip, block: e.block.transactions ?? [] });
      }
    });
  }

  /** Why our commitment cannot go out now; undefined when it can. */
  refusal(key: string): string | undefined {
    const l = this.live.get(key);
    if (!l) return 'this channel has no chain monitor (it has no commitment both sides signed)';
    if (l.state.data.stale) return 'the peer proved our channel data out of date: publishing our commitment could publish a revoked one and lose the channel; wait for the peer to close it';
    if (l.state.chain.fundingSpend) return 'the channel is closed on chain already';
    return undefined;
  }

  /** Publishes our commitment (and its CPFP child); resolves with its txid, or why not. */
  forceClose(key: string): Promise<{ txid: string } | { refused: string }> {
    return this.enqueue(async () => {
      const l = this.live.get(key);
      if (!l) return { refused: 'this channel has no chain monitor (it has no commitment both sides signed)' };
      const actions = await this.run(key, { type: 'force_close' }, { nearTip: true });
      const refused = actions.find((a) => a.type === 'refused');
      if (refused?.type === 'refused') return { refused: refused.reason };
      const b = actions.find((a) => a.type === 'broadcast' && a.label.startsWith('our commitment'));
      const txid = b?.type === 'broadcast' ? b.txid : Object.values(l.state.chain.claims).find((c) => c.id.startsWith('commitment:'))?.txid;
      return txid ? { txid } : { refused: 'our commitment could not be built' };
    });
  }

  /** The monitors' states, for the views (pendingchannels, closedchannels). */
  stateOf(key: string): MonitorState | undefined {
    return this.live.get(key)?.state;
  }

  /** Steps one monitor and carries out its actions; an error is logged and stops only this monitor's event. */
  private async run(key: string, input: MonitorInput, ctx: { nearTip: boolean; block?: readonly Transaction[] }): Promise<MonitorAction[]> {
    const l = this.live.get(key);
    if (!l) return [];
    try {
      const r = monitorStep(l.state, input, await this.env(l, input));
      l.state = r.state;
      this.releaseUnheld();
      const more = await this.execute(key, l, r.actions, ctx, input);
      return [...r.actions, ...more];
    } catch (e) {
      this.o.log.error(`the chain monitor of channel ${key} failed on ${input.type}; the other channels' monitors go on`, { error: errText(e) });
      return [];
    }
  }

  private async env(l: Live, input: MonitorInput): Promise<MonitorEnv> {
    // A fresh wallet address for sweeps, taken once the funding output is spent (nothing is swept before).
    const spending = !!l.state.chain.fundingSpend || (input.type === 'block_connected' && input.spent.length > 0);
    if (spending && !l.sweepScript) l.sweepScript = this.o.wallet.scriptFor(await this.o.wallet.newAddress());
    const wallet = this.o.wallet;
    const used = this.usedCoins;
    const tip = this.o.tipHeight();
    let change: Uint8Array | undefined;
    return {
      secrets: l.secrets,
      sweepScript: l.sweepScript ?? new Uint8Array(0),
      feeratePerKw: this.o.feeratePerKw(),
      ...(this.o.feerates ? { feerates: this.o.feerates() } : {}),
      wallet: {
        // Read only when a transaction needs fee inputs; a coin given to one is not offered to the next.
        get coins(): WalletCoin[] {
          return wallet
            .feeCoins(tip)
            .filter((c) => !used.has(`${c.txid}:${c.vout}`))
            .map((c) => ({ outpoint: { txid: c.txid, vout: c.vout }, valueSat: c.value, script: c.script }));
        },
        // A change address of the wallet's own: never a script of the channel's, never an empty one
        // (the fee coins may all be spent by the version this one replaces).
        get changeScript(): Uint8Array {
          change ??= wallet.nextChangeScript();
          return change;
        },
        signer: (tx, index, coin) => {
          used.add(`${coin.outpoint.txid}:${coin.outpoint.vout}`);
          return wallet.witnessFor(tx, index, { txid: coin.outpoint.txid, vout: coin.outpoint.vout, value: coin.valueSat });
        },
      },
    };
  }

  private async execute(key: string, l: Live, actions: readonly MonitorAction[], ctx: { nearTip: boolean; block?: readonly Transaction[] }, input: MonitorInput): Promise<MonitorAction[]> {
    const more: MonitorAction[] = [];
    /** A spend in this block was found after this plan was made, and planned for by a run of its own. */
    let replanned = false;
    for (const a of actions) {
      switch (a.type) {
        case 'store':
          await this.o.kv.write(monitorChainOps(key, l.state.chain));
          break;
        case 'watch': {
          await this.o.chainWatch.watchOutpoints(a.outpoints, a.owner);
          // The block that made these outputs known may also spend them.
          if (ctx.block && input.type === 'block_connected') {
            const wanted = new Set(a.outpoints.map((o) => `${o.txid}:${o.vout}`));
            const spent: { outpoint: { txid: string; vout: number }; txid: string; rawTx: string; height: number }[] = [];
            for (const tx of ctx.block) {
              for (const i of tx.ins) {
                const o = { txid: hex.encode(Uint8Array.from(i.hash).reverse()), vout: i.index };
                if (wanted.has(`${o.txid}:${o.vout}`)) spent.push({ outpoint: o, txid: tx.getId(), rawTx: tx.toHex(), height: input.height });
              }
            }
            if (spent.length) {
              more.push(...(await this.run(key, { type: 'block_connected', height: input.height, spent }, ctx)));
              replanned = true;
            }
          }
          break;
        }
        case 'broadcast':
          // Planned before a spend in the same block was found (after a `watch` above): the run that
          // saw the spend sent every claim as it stands now, and this version may be one it replaced
          // (a justice with an HTLC output the peer's HTLC transaction took in that block), which
          // could only be refused.
          if (ctx.nearTip && !replanned) await this.broadcast(key, l, a);
          break;
        case 'funding_spent': {
          const height = l.state.chain.fundingSpend?.height ?? this.o.tipHeight();
          void this.o.channels.onChainInput(key, { type: 'funding_spent', txid: a.txid, spentBy: a.spentBy, height }).catch((e: unknown) => this.o.log.error('recording a funding spend failed', { channel: key, error: errText(e) }));
          break;
        }
        case 'claimed':
          if (!a.htlc.incoming) await this.o.onHtlc({ type: 'claimed', channel: key, id: a.htlc.id, preimage: a.preimage }).catch((e: unknown) => this.o.log.error('settling an HTLC upstream with a preimage found on chain failed', { channel: key, error: errText(e) }));
          break;
        case 'resolved':
          if (a.outcome === 'failed' && !a.htlc.incoming) {
            await this.o.onHtlc({ type: 'failed', channel: key, id: a.htlc.id, reason: `the HTLC ended on chain without its preimage (${a.txid})` }).catch((e: unknown) => this.o.log.error('failing an HTLC upstream after it timed out on chain failed', { channel: key, error: errText(e) }));
          }
          break;
        case 'closed':
          l.closed = true;
          void this.o.channels.onChainInput(key, { type: 'onchain_closed', txid: a.txid }).catch((e: unknown) => this.o.log.error('recording a closed channel failed', { channel: key, error: errText(e) }));
          break;
        case 'not_built':
          this.o.log.warn(`channel ${key.slice(0, 16)}…: the ${a.label} transaction was not built (${a.reason}): ${a.message}`, { channel: key });
          break;
        case 'refused':
          this.o.log.warn(`channel ${key.slice(0, 16)}…: our commitment is not published: ${a.reason}`, { channel: key });
          break;
        case 'deadline':
          // Not awaited: a channel step may wait on this queue (a force close asks its monitor).
          this.o.log.warn(`channel ${key.slice(0, 16)}…: ${a.reason}`, { channel: key });
          void this.o.channels.failForDeadline(key, a.reason).catch((e: unknown) => this.o.log.error('failing a channel whose HTLC deadline passed failed', { channel: key, error: errText(e) }));
          break;
      }
    }
    // A funding spend that left the chain in a reorg: the channel forgets it too.
    if (input.type === 'block_disconnected' && !l.state.chain.fundingSpend) {
      const c = this.o.channels.get(key);
      if (c?.state.forceClose?.txid) void this.o.channels.onChainInput(key, { type: 'funding_unspent' }).catch(() => undefined);
    }
    return more;
  }

  /**
   * Sends a transaction the monitor decided on; a refusal is logged and tried again next block (the
   * monitor broadcasts every live claim each block, a new version of one as soon as it is built). A
   * transaction that spends wallet coins is recorded in the wallet once the node took it, so nothing
   * else spends them, with the unconfirmed claims it spends from (our commitment, for the CPFP child):
   * if a conflict of either confirms, the wallet gives its coins back.
   */
  private async broadcast(key: string, l: Live, a: Extract<MonitorAction, { type: 'broadcast' }>): Promise<void> {
    try {
      await this.o.broadcaster.broadcast(a.txHex);
    } catch (e) {
      this.o.log.debug(`channel ${key.slice(0, 16)}…: ${a.label} not accepted yet: ${errText(e)}`, { channel: key });
      return;
    }
    const tx = Transaction.fromHex(a.txHex);
    const ins = tx.ins.map((i) => ({ txid: hex.encode(Uint8Array.from(i.hash).reverse()), vout: i.index }));
    if (!ins.some((o) => this.o.wallet.coinValue(o.txid, o.vout) !== undefined)) return;
    const parents = Object.values(l.state.chain.claims).filter((c) => ins.some((o) => o.txid === c.txid)).map((c) => c.txHex);
    await this.o.wallet.recordOwn(a.txHex, `channel ${key.slice(0, 16)}…: ${a.label}`, { parents });
    for (const o of ins) this.usedCoins.delete(`${o.txid}:${o.vout}`);
  }

  /** Coins signed into a version no claim kept (a replacement tried at a lower fee) are offered again. */
  private releaseUnheld(): void {
    if (!this.usedCoins.size) return;
    const held = new Set<string>();
    for (const l of this.live.values()) for (const c of Object.values(l.state.chain.claims)) for (const w of c.coins ?? []) held.add(`${w.outpoint.txid}:${w.outpoint.vout}`);
    for (const k of [...this.usedCoins]) if (!held.has(k)) this.usedCoins.delete(k);
  }
}

const spendOf = (s: OutpointSpend) => ({ outpoint: s.outpoint, txid: s.txid, rawTx: s.rawTx, height: s.height });

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
