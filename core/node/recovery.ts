/**
 * Restoring channels from a static backup (restorechanbackup, or a backup a peer handed back to a
 * node with no channels): each channel becomes a "recovering" record in the store (namespace
 * `recovery`), its peer is dialled and kept connected, and on every connection the peer hears a
 * channel_reestablish that asks it to force-close (core/backup/recover.ts). Nothing of ours is ever
 * published: we hold no commitment we could safely publish.
 *
 * Steps of a record: `connecting` (no connection yet) → `asked_to_close` (the reestablish went out)
 * → `closed_by_peer` (a block holds the transaction that spent the funding output; `toRemote` is our
 * output in it, when there is one).
 *
 * What is left to the chain monitor (core/node/monitors.ts): sweeping `toRemote` to the wallet. For
 * option_static_remotekey it is a P2WPKH of our payment basepoint (key family 3 at the channel's key
 * index); for option_anchors a P2WSH that can be spent one block after the commitment confirmed.
 * `onClosedByPeer` hands each such output over, once, in the same call that records it.
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
import { recoveryReestablish, toRemoteOf } from '../backup/recover.ts';
import type { ToRemoteOutput } from '../backup/recover.ts';
import { hex } from '@scure/base';

export const RECOVERY_NS = 'recovery';
const RECORD_VERSION = 1;

export type RecoveryStep = 'connecting' | 'asked_to_close' | 'closed_by_peer';

export interface RecoveryRecord {
  v: typeof RECORD_VERSION;
  channel: ChannelBackup;
  step: RecoveryStep;
  startedAtMs: number;
  /** The transaction that spent the funding output (the peer's commitment), and its block. */
  closingTxid?: string;
  closingHeight?: number;
  /** Our output in it, for the chain monitor to sweep. */
  toRemote?: ToRemoteOutput;
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
    return [...this.records.values()].some((r) => r.channel.peer === peer && r.step !== 'closed_by_peer');
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
    for (const peer of new Set(recs.map((r) => r.channel.peer))) void this.reach(peer);
    return { restored: recs.map((r) => r.channel.chanPoint), known };
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
    const mine = [...this.records.values()].filter((r) => r.channel.peer === peer.pubkey && r.step !== 'closed_by_peer');
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

  private async onMatches(m: BlockMatches): Promise<void> {
    for (const s of m.spent) {
      const chanPoint = `${s.outpoint.txid}:${s.outpoint.vout}`;
      const r = this.records.get(chanPoint);
      if (!r || !this.o.chainWatch.ownersOf(s.outpoint).includes(ownerOf(chanPoint))) continue;
      if (m.type === 'disconnected') {
        if (r.closingTxid === s.txid) {
          const { closingTxid: _t, closingHeight: _h, toRemote: _o, ...rest } = r;
          await this.save({ ...rest, step: 'asked_to_close' });
          this.o.log.warn(`the close of recovering channel ${chanPoint} left the chain in a reorg; waiting for it again`);
        }
        continue;
      }
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
    }
  }

  close(): void {
    this.unsubscribe();
  }
}
