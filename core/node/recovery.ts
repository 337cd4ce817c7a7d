/**
 * Restoring channels from a static backup (restorechanbackup, or a backup a peer handed back to a
 * node with no channels): each channel becomes a "recovering" record in the store (namespace
 * `recovery`), its peer is dialled and kept connected, and on every connection the peer hears a
 * channel_reestablish that asks it to force-close (core/backup/recover.ts). Nothing of ours is ever
 * published: we hold no commitment we could safely publish.
 *
 * Steps of a record: `connecting` (no connection yet) → `asked_to_close` (the reestablish went out)
 * → `closed_by_peer` (a block holds the transaction that spent the funding output; `toRemote` is our
 * output in it, when there is one) → `swept` (our sweep of `toRemote` is ANTI_REORG_DELAY deep).
 *
 * The sweep: `toRemote` is a P2WPKH of our payment basepoint (key family 3 at the channel's key index)
 * under option_static_remotekey, a P2WSH spendable one block after the commitment confirmed under
 * option_anchors; neither is an address the wallet scans, so it is swept to a fresh wallet address.
 * The sweep is stored in the record before it is published, published again at start and after each
 * block until a block holds it, and forgotten with that block in a reorg.
 */
import type { KvStore } from '../store/kv/types.ts';
import { kvJson } from '../store/kv/types.ts';
import type { PeerManager } from '../peer/manager.ts';
import type { Peer } from '../peer/peer.ts';
import type { ChainWatch, BlockMatches } from '../chain/chain-watch.ts';
import { parseOutpoint } from '../chain/chain-watch.ts';
import type { Logger } from '../log/logger.ts';
import type { Network } from '../keys/node-key.ts';
import type { BackupSet, ChannelBackup } from '../backup/scb.ts';
import { recoveryReestablish, sweepRecovered, toRemoteOf } from '../backup/recover.ts';
import type { ToRemoteOutput } from '../backup/recover.ts';
import { hex } from '@scure/base';
import { Block } from 'bitcoinjs-lib';

export const RECOVERY_NS = 'recovery';
const RECORD_VERSION = 1;

export type RecoveryStep = 'connecting' | 'asked_to_close' | 'closed_by_peer' | 'swept';

/** Depth at which the sweep is final (the monitor's ANTI_REORG_DELAY). */
const FINAL_DEPTH = 6;

export interface RecoveryRecord {
  v: typeof RECORD_VERSION;
  channel: ChannelBackup;
  step: RecoveryStep;
  startedAtMs: number;
  /** The transaction that spent the funding output (the peer's commitment), and its block. */
  closingTxid?: string;
  closingHeight?: number;
  /** Our output in it. */
  toRemote?: ToRemoteOutput;
  /** The transaction that takes `toRemote` into the wallet, and the block that holds it once one does. */
  sweep?: { txid: string; txHex: string; height?: number };
}

/**
 * What the chain says of a funding output now, for a channel restored after its peer may have closed
 * it already: whether it is unspent, and else the block and transaction that spent it (found by
 * reading the blocks from the funding's own on, which bitcoind serves without -txindex).
 */
export interface RecoveryChainLookup {
  isUnspent(o: { txid: string; vout: number }): Promise<boolean>;
  findSpend(o: { txid: string; vout: number }, fromHeight: number): Promise<{ txid: string; rawTx: string; height: number } | undefined>;
}

/** What sweeping needs of the node: a wallet address, the chain's feerate and tip, a broadcaster. */
export interface RecoverySweeper {
  sweepScript(): Promise<Uint8Array>;
  feeratePerKw(): number;
  tipHeight(): number;
  broadcast(txHex: string): Promise<unknown>;
}

/** What recovery needs of the channels: which exist, and a key index no new channel may take again. */
export interface RecoveryChannels {
  list(): { state: { funding?: { txid: string; vout: number } } }[];
  /** New channels take key indexes from `next` on (the recovered channels' keys are never reused). */
  reserveKeyIndexes(next: number): Promise<void>;
}

export interface RecoveryOptions {
  kv: KvStore;
  seed: Uint8Array;
  network: Network;
  peers: PeerManager;
  channels: RecoveryChannels;
  chainWatch: ChainWatch;
  log: Logger;
  /** The hook for the chain monitor: the peer's commitment spent a recovering channel's funding output. */
  onClosedByPeer?: (r: RecoveryRecord) => void;
  /** Without it, a recovered output is found and shown but not swept. */
  sweeper?: RecoverySweeper;
  /** Without it, a channel closed before its restore waits for a spend that already happened. */
  lookup?: RecoveryChainLookup;
  now?: () => number;
}

const ownerOf = (chanPoint: string): string => `recovery:${chanPoint}`;

export class ChannelRecovery {
  private readonly records = new Map<string, RecoveryRecord>();
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  private constructor(private readonly o: RecoveryOptions) {
    this.now = o.now ?? Date.now;
    o.peers.on('peer_ready', (peer) => void this.onPeerReady(peer).catch((e: unknown) => o.log.error('asking a peer to close a recovered channel failed', { peer: peer.pubkey, error: String(e) })));
    for (const type of ['channel_reestablish', 'error'] as const) {
      o.peers.onMessage(type, (peer, msg) => {
        if (!('channel_id' in msg)) return;
        const id = hex.encode(msg.channel_id);
        const r = [...this.records.values()].find((x) => x.channel.peer === peer.pubkey && x.channel.channelId === id);
        if (r) o.log.info(`peer ${peer.pubkey} answered about recovering channel ${r.channel.chanPoint} with ${type}`, { peer: peer.pubkey });
      });
    }
    this.unsubscribe = o.chainWatch.subscribe((m) => this.onMatches(m));
  }

  static async open(o: RecoveryOptions): Promise<ChannelRecovery> {
    const r = new ChannelRecovery(o);
    for (const { key, value } of await o.kv.range(RECOVERY_NS)) {
      const rec = kvJson.decode<RecoveryRecord>(value, `recovery record ${key}`);
      if (rec.v !== RECORD_VERSION) throw new Error(`recovery record ${key} has version ${String(rec.v)}, which this Coulomb does not read; update Coulomb`);
      r.records.set(key, rec);
    }
    return r;
  }

  list(): RecoveryRecord[] {
    return [...this.records.values()];
  }

  /** Whether the node should stay connected to this peer (a channel of ours with it is recovering). */
  isRecovering(peer: string): boolean {
    return [...this.records.values()].some((r) => r.channel.peer === peer && (r.step === 'connecting' || r.step === 'asked_to_close'));
  }

  /**
   * Starts recovering every channel of the backup the node does not have already (as a channel or as a
   * recovering record). Resolves once the records are durable and the funding outputs watched; the
   * peers are dialled in the background.
   */
  async restore(set: BackupSet): Promise<{ restored: string[]; known: string[] }> {
    const have = new Set(this.o.channels.list().flatMap((c) => (c.state.funding ? [`${c.state.funding.txid}:${c.state.funding.vout}`] : [])));
    const fresh = set.channels.filter((c) => !have.has(c.chanPoint) && !this.records.has(c.chanPoint));
    const known = set.channels.filter((c) => !fresh.includes(c)).map((c) => c.chanPoint);
    if (!fresh.length) return { restored: [], known };
    // Before anything else: a new channel must never take a recovered channel's keys.
    await this.o.channels.reserveKeyIndexes(Math.max(...set.channels.map((c) => c.keyIndex)) + 1);
    const recs = fresh.map((channel): RecoveryRecord => ({ v: RECORD_VERSION, channel, step: 'connecting', startedAtMs: this.now() }));
    await this.o.kv.write(recs.map((r) => ({ type: 'put' as const, ns: RECOVERY_NS, key: r.channel.chanPoint, value: kvJson.encode(r) })));
    for (const r of recs) this.records.set(r.channel.chanPoint, r);
    for (const r of recs) await this.o.chainWatch.watchOutpoints([parseOutpoint(r.channel.chanPoint)], ownerOf(r.channel.chanPoint));
    this.o.log.info(`recovering ${recs.length} channel(s) from a backup: each peer is asked to close its channel with its own commitment`, { channels: recs.length });
    void this.start(recs.map((r) => r.channel.chanPoint));
    return { restored: recs.map((r) => r.channel.chanPoint), known };
  }

  /**
   * In the background: a channel the peer closed while this node was gone has its close in a block
   * passed already (read from the chain); the peers of the others are dialled.
   */
  private async start(chanPoints: string[]): Promise<void> {
    for (const c of chanPoints) await this.closedBefore(c).catch((e: unknown) => this.o.log.warn(`could not check whether recovering channel ${c} is closed already: ${(e as Error).message}; it is watched from now on`));
    const open = chanPoints.map((c) => this.records.get(c)).filter((r) => r && r.step === 'connecting');
    for (const peer of new Set(open.map((r) => r!.channel.peer))) void this.reach(peer);
  }

  /** Finds the spend of a restored channel's funding output in the blocks already passed, if spent. */
  private async closedBefore(chanPoint: string): Promise<void> {
    const lookup = this.o.lookup;
    const r = this.records.get(chanPoint);
    if (!lookup || !r) return;
    const o = parseOutpoint(chanPoint);
    if (await lookup.isUnspent(o)) return;
    // The funding's block is in the short channel id; without one, its spend can only be waited for.
    const from = r.channel.shortChannelId ? Number(r.channel.shortChannelId.split('x')[0]) : undefined;
    if (from === undefined || !Number.isFinite(from)) {
      this.o.log.warn(`recovering channel ${chanPoint} is spent already, and its backup has no block height to look for the spend from`);
      return;
    }
    const spend = await lookup.findSpend(o, from);
    if (!spend) return;
    this.o.log.info(`recovering channel ${chanPoint} was closed before this restore, in block ${spend.height}`, { txid: spend.txid });
    await this.closedByPeer(r, { ...spend, outpoint: o });
  }

  /** Dials a peer at the addresses the backup names, or asks the channel now if it is connected. */
  private async reach(pubkey: string): Promise<void> {
    const up = this.o.peers.get(pubkey);
    if (up?.state === 'ready') return this.onPeerReady(up);
    const addresses = [...this.records.values()].find((r) => r.channel.peer === pubkey)?.channel.addresses ?? [];
    if (!addresses.length) {
      this.o.log.warn(`no address is known for peer ${pubkey}: its channels recover once it connects to this node (or connect to it: coulomb connect ${pubkey}@<host>:<port>)`, { peer: pubkey });
      return;
    }
    for (const a of addresses) {
      try {
        // Dialled addresses go into the peer book, so the node redials while the peer is wanted.
        await this.o.peers.connect(pubkey, a.host, a.port, { timeoutMs: 30_000 });
        return;
      } catch (e) {
        this.o.log.info(`could not reach peer ${pubkey} at ${a.host}:${a.port} to recover a channel: ${(e as Error).message}`, { peer: pubkey });
      }
    }
  }

  private async onPeerReady(peer: Peer): Promise<void> {
    const mine = [...this.records.values()].filter((r) => r.channel.peer === peer.pubkey && (r.step === 'connecting' || r.step === 'asked_to_close'));
    for (const r of mine) {
      if (peer.state !== 'ready') return;
      peer.send(recoveryReestablish(r.channel, this.o.seed, this.o.network));
      if (r.step === 'connecting') await this.save({ ...r, step: 'asked_to_close' });
      this.o.log.info(`asked peer ${peer.pubkey} to close recovering channel ${r.channel.chanPoint} with its commitment`, { peer: peer.pubkey });
    }
  }

  private async save(r: RecoveryRecord): Promise<void> {
    this.records.set(r.channel.chanPoint, r);
    await this.o.kv.write([{ type: 'put', ns: RECOVERY_NS, key: r.channel.chanPoint, value: kvJson.encode(r) }]);
  }

  /**
   * Every block near the tip: a sweep not yet in a block is published again, and one deep enough is
   * final (the channel's recovery is done). Also called once at start.
   */
  async onBlock(height: number): Promise<void> {
    for (const r of [...this.records.values()]) {
      if (r.step !== 'closed_by_peer' || !r.toRemote) continue;
      if (r.sweep?.height !== undefined) {
        if (height - r.sweep.height + 1 >= FINAL_DEPTH) {
          await this.save({ ...r, step: 'swept' });
          this.o.log.info(`recovered channel ${r.channel.chanPoint}: ${r.toRemote.valueSat} sat swept to the wallet in ${r.sweep.txid}`, { txid: r.sweep.txid });
        }
        continue;
      }
      await this.sweep(r);
    }
  }

  /** Builds (once, stored before it leaves) and publishes the sweep of a recovered output. */
  private async sweep(r: RecoveryRecord, height = 0): Promise<void> {
    const sw = this.o.sweeper;
    const out = r.toRemote;
    if (!sw || !out || r.closingHeight === undefined) return;
    // With anchors the output waits one block after the commitment: the next block can hold the sweep.
    if (Math.max(sw.tipHeight(), height) < r.closingHeight) return;
    let sweep = r.sweep;
    if (!sweep) {
      const built = sweepRecovered(r.channel, this.o.seed, this.o.network, out, await sw.sweepScript(), sw.feeratePerKw());
      if (!built.ok) {
        this.o.log.warn(`recovered channel ${r.channel.chanPoint}: our ${out.valueSat} sat cannot be swept (${built.message})`, { reason: built.reason });
        return;
      }
      sweep = { txid: built.txid, txHex: built.tx.toHex() };
      await this.save({ ...r, sweep });
      this.o.log.info(`recovered channel ${r.channel.chanPoint}: sweeping our ${out.valueSat} sat to the wallet in ${sweep.txid}`, { txid: sweep.txid });
    }
    try {
      await sw.broadcast(sweep.txHex);
    } catch (e) {
      this.o.log.info(`recovered channel ${r.channel.chanPoint}: the sweep ${sweep.txid} was not taken yet (${(e as Error).message}); trying again next block`, { txid: sweep.txid });
    }
  }

  private async onMatches(m: BlockMatches): Promise<void> {
    for (const s of m.spent) {
      const op = `${s.outpoint.txid}:${s.outpoint.vout}`;
      const swept = [...this.records.values()].find((x) => x.toRemote?.outpoint === op && x.sweep);
      if (swept && this.o.chainWatch.ownersOf(s.outpoint).includes(ownerOf(swept.channel.chanPoint))) {
        const sweep = swept.sweep!;
        if (m.type === 'connected') await this.save({ ...swept, sweep: { ...sweep, txid: s.txid, height: s.height } });
        else if (sweep.height !== undefined && swept.step === 'closed_by_peer') await this.save({ ...swept, sweep: { txid: sweep.txid, txHex: sweep.txHex } });
        continue;
      }
      const chanPoint = op;
      const r = this.records.get(chanPoint);
      if (!r || !this.o.chainWatch.ownersOf(s.outpoint).includes(ownerOf(chanPoint))) continue;
      if (m.type === 'disconnected') {
        if (r.closingTxid === s.txid && r.step !== 'swept') {
          const { closingTxid: _t, closingHeight: _h, toRemote: _o, sweep: _s, ...rest } = r;
          await this.save({ ...rest, step: 'asked_to_close' });
          this.o.log.warn(`the close of recovering channel ${chanPoint} left the chain in a reorg; waiting for it again`);
        }
        continue;
      }
      if (r.step === 'connecting' || r.step === 'asked_to_close') await this.closedByPeer(r, s);
    }
  }

  /** The funding output of a recovering channel was spent in `s`: our output in it is found and swept. */
  private async closedByPeer(r: RecoveryRecord, s: { outpoint: { txid: string; vout: number }; txid: string; rawTx: string; height: number }): Promise<void> {
    const chanPoint = r.channel.chanPoint;
    const toRemote = toRemoteOf(r.channel, this.o.seed, this.o.network, s.rawTx);
    const next: RecoveryRecord = { ...r, step: 'closed_by_peer', closingTxid: s.txid, closingHeight: s.height, ...(toRemote ? { toRemote } : {}) };
    await this.save(next);
    this.o.log.info(
      toRemote
        ? `recovering channel ${chanPoint} was closed by the peer in ${s.txid} (block ${s.height}): ${toRemote.valueSat} sat of ours at ${toRemote.outpoint}`
        : `recovering channel ${chanPoint} was closed in ${s.txid} (block ${s.height}) with no output of ours (our balance was below the dust limit, or nothing)`,
      { txid: s.txid },
    );
    this.o.onClosedByPeer?.(next);
    if (!toRemote) return;
    const [txid, vout] = toRemote.outpoint.split(':') as [string, string];
    await this.o.chainWatch.watchOutpoints([{ txid, vout: Number(vout) }], ownerOf(chanPoint));
    // Spent already (a restore long after the close, swept before by a node with the same seed)?
    if (this.o.lookup && !(await this.o.lookup.isUnspent({ txid, vout: Number(vout) }).catch(() => true))) {
      const sp = await this.o.lookup.findSpend({ txid, vout: Number(vout) }, s.height).catch(() => undefined);
      if (sp) {
        await this.save({ ...next, sweep: { txid: sp.txid, txHex: sp.rawTx, height: sp.height } });
        return;
      }
    }
    await this.sweep(next, s.height);
  }

  close(): void {
    this.unsubscribe();
  }
}

/** What recovery asks of bitcoind's JSON-RPC (no -txindex needed): the UTXO set, and blocks by height. */
export interface RecoveryRpc {
  call<T>(method: string, ...params: unknown[]): Promise<T>;
}

export function rpcLookup(rpc: RecoveryRpc): RecoveryChainLookup {
  return {
    isUnspent: async (o) => (await rpc.call<unknown>('gettxout', o.txid, o.vout, false)) != null,
    async findSpend(o, fromHeight) {
      const tip = await rpc.call<number>('getblockcount');
      for (let h = fromHeight; h <= tip; h++) {
        const block = Block.fromHex(await rpc.call<string>('getblock', await rpc.call<string>('getblockhash', h), 0));
        for (const tx of block.transactions ?? []) {
          if (tx.ins.some((i) => i.index === o.vout && hex.encode(Uint8Array.from(i.hash).reverse()) === o.txid)) return { txid: tx.getId(), rawTx: tx.toHex(), height: h };
        }
      }
      return undefined;
    },
  };
}
