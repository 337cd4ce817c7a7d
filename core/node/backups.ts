/**
 * The node's channel backups: the static backup of every channel (core/backup/scb.ts) kept in the
 * node's store and exported to `<datadir>/channel.backup`, and peer storage (BOLT 1,
 * core/backup/peer-storage.ts): our backup given to channel peers that offer storage, and their blobs
 * kept for them.
 *
 * The store is where the backup lives (namespace `backups`); the file is its export, rewritten from
 * the store after each change (atomically: temp, fsync, rename). A backup changes when a channel is
 * opened or closed, not with payments: a fingerprint of what the backup holds decides.
 */
import { join } from 'node:path';
import { hex } from '@scure/base';
import type { KvStore } from '../store/kv/types.ts';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import type { PeerManager } from '../peer/manager.ts';
import type { Peer } from '../peer/peer.ts';
import type { Logger } from '../log/logger.ts';
import type { Network } from '../keys/node-key.ts';
import type { ChannelState } from '../channel/types.ts';
import { sha256 } from '../crypto/hash.ts';
import { backupFingerprint, backupKey, decryptBackup, encryptBackup, BackupError, SCB_VERSION } from '../backup/scb.ts';
import type { BackupSet, ChannelBackup } from '../backup/scb.ts';
import { DEFAULT_PEER_STORAGE_POLICY, judgeIncoming, judgeOutgoing } from '../backup/peer-storage.ts';
import type { PeerStoragePolicy } from '../backup/peer-storage.ts';
import { formatScid } from './channels.ts';

export const BACKUP_FILE = 'channel.backup';
export const BACKUPS_NS = 'backups';
export const PEER_STORAGE_NS = 'peer-storage';
const BLOB_KEY = 'channel-backup';
const FINGERPRINT_KEY = 'channel-backup-fingerprint';

/** What the backups read of the channels (ChannelManager). */
export interface BackupChannels {
  list(): { key: string; peer: string; state: ChannelState }[];
  keyIndex(key: string): number | undefined;
  /** Changes with every stored change to any channel. */
  readonly revision: number;
}

export interface BackupOptions {
  kv: KvStore;
  datadir: string;
  seed: Uint8Array;
  network: Network;
  nodeId: string;
  channels: BackupChannels;
  peers: PeerManager;
  /** The addresses we dialled a peer at, most recent first (the peer book). */
  addressesOf: (pubkey: string) => { host: string; port: number }[];
  log: Logger;
  policy?: Partial<PeerStoragePolicy>;
  /** Channel points this node knows besides its channels (those recovering from a backup). */
  alsoKnown?: () => Iterable<string>;
  /** How often the channels' revision is looked at for a change (default 1 s). */
  checkEveryMs?: number;
  now?: () => number;
}

/** A backup of ours that a peer handed back (peer_storage_retrieval), decrypted. */
export type RetrievedListener = (peer: string, set: BackupSet) => void;

/** Channels in these phases hold no funds in a 2-of-2 any more, or never did. */
function backedUp(st: ChannelState): boolean {
  return !!st.funding && !!st.channelId && !!st.remote && st.phase !== 'CLOSED';
}

export class ChannelBackups {
  private readonly key: Uint8Array;
  private readonly policy: PeerStoragePolicy;
  private readonly now: () => number;
  private blob: Uint8Array | undefined;
  private set: BackupSet | undefined;
  private fingerprint = '';
  private lastRevision = -1;
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  /** Peers' blobs we keep, by peer id: the latest stored, and one waiting for its write. */
  private readonly held = new Map<string, { blob: Uint8Array; storedAtMs?: number; pending?: Uint8Array; waiting?: NodeJS.Timeout }>();
  /** Per connection: when our blob last went out, and a send waiting for its interval. */
  private readonly sent = new WeakMap<Peer, { atMs: number; waiting?: NodeJS.Timeout }>();
  private readonly retrievedListeners: RetrievedListener[] = [];
  private closed = false;

  private constructor(private readonly o: BackupOptions) {
    this.key = backupKey(o.seed);
    this.policy = { ...DEFAULT_PEER_STORAGE_POLICY, ...o.policy };
    this.now = o.now ?? Date.now;
    this.timer = setInterval(() => void this.refresh().catch((e: unknown) => o.log.error('writing the channel backup failed', { error: String(e) })), o.checkEveryMs ?? 1000);
    this.timer.unref();
    o.peers.on('peer_ready', (peer) => this.onPeerReady(peer));
    o.peers.onMessage('peer_storage', (peer, msg) => {
      if (msg.type === 'peer_storage') void this.onPeerStorage(peer, msg.blob).catch((e: unknown) => o.log.warn('keeping a peer\'s storage blob failed', { peer: peer.pubkey, error: String(e) }));
    });
    o.peers.onMessage('peer_storage_retrieval', (peer, msg) => {
      if (msg.type === 'peer_storage_retrieval') this.onRetrieval(peer, msg.blob);
    });
  }

  /** Loads what the store holds, brings the backup up to date with the channels, and the file with the store. */
  static async open(o: BackupOptions): Promise<ChannelBackups> {
    const b = new ChannelBackups(o);
    const [blob, fp] = await Promise.all([o.kv.get(BACKUPS_NS, BLOB_KEY), o.kv.get(BACKUPS_NS, FINGERPRINT_KEY)]);
    if (blob) {
      try {
        b.set = decryptBackup(blob, b.key);
        b.blob = blob;
        b.fingerprint = fp ? new TextDecoder().decode(fp) : '';
      } catch (e) {
        o.log.warn(`the channel backup in the store does not open (${(e as Error).message}); a new one is written`);
      }
    }
    for (const { key, value } of await o.kv.range(PEER_STORAGE_NS)) b.held.set(key, { blob: value });
    await b.refresh();
    if (b.blob) await b.exportFile();
    return b;
  }

  /** Our current backup: the encrypted bytes (as in channel.backup) and what they hold. */
  current(): { blob: Uint8Array; set: BackupSet } | undefined {
    return this.blob && this.set ? { blob: this.blob, set: this.set } : undefined;
  }

  get path(): string {
    return join(this.o.datadir, BACKUP_FILE);
  }

  /** Encrypts a backup of some channels only (exportchanbackup --chan_point). */
  exportSome(chanPoints: readonly string[]): { blob: Uint8Array; set: BackupSet } {
    const all = this.backups();
    const channels = all.filter((c) => chanPoints.includes(c.chanPoint));
    const set: BackupSet = { version: SCB_VERSION, network: this.o.network, nodeId: this.o.nodeId, createdAtMs: this.now(), channels };
    return { blob: encryptBackup(set, this.key), set };
  }

  /** Opens a backup with this node's seed (verifychanbackup, restorechanbackup); throws BackupError. */
  open(blob: Uint8Array): BackupSet {
    return decryptBackup(blob, this.key, { network: this.o.network, nodeId: this.o.nodeId });
  }

  /** Called with every backup of ours a peer hands back that opens with our seed. */
  onRetrieved(fn: RetrievedListener): void {
    this.retrievedListeners.push(fn);
  }

  /** Every channel's backup entry, as the channels stand now. */
  private backups(): ChannelBackup[] {
    const out: ChannelBackup[] = [];
    for (const c of this.o.channels.list()) {
      const st = c.state;
      const index = this.o.channels.keyIndex(c.key);
      if (!backedUp(st) || index === undefined) continue;
      const r = st.remote!.basepoints;
      out.push({
        chanPoint: `${st.funding!.txid}:${st.funding!.vout}`,
        channelId: hex.encode(st.channelId!),
        peer: c.peer,
        addresses: this.o.addressesOf(c.peer).slice(0, 4),
        keyIndex: index,
        channelType: st.channelType === 'anchors' ? 'anchors' : 'static_remotekey',
        funder: st.funder,
        capacitySat: st.capacitySat,
        localToSelfDelay: st.remote!.toSelfDelay,
        remoteToSelfDelay: st.local.toSelfDelay,
        ...(st.shortChannelId !== undefined ? { shortChannelId: formatScid(st.shortChannelId) } : {}),
        remote: {
          fundingPubkey: hex.encode(r.fundingPubkey),
          paymentBasepoint: hex.encode(r.paymentBasepoint),
          delayedPaymentBasepoint: hex.encode(r.delayedPaymentBasepoint),
          revocationBasepoint: hex.encode(r.revocationBasepoint),
          htlcBasepoint: hex.encode(r.htlcBasepoint),
        },
      });
    }
    return out;
  }

  /**
   * Writes a new backup when what it holds changed (a channel opened, confirmed or closed; a peer's
   * address): to the store first, then the file, then to the peers that keep it. Writes one at a time.
   */
  refresh(): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closed) return;
      const revision = this.o.channels.revision;
      if (revision === this.lastRevision && this.blob) return;
      this.lastRevision = revision;
      const channels = this.backups();
      const fp = hex.encode(sha256(new TextEncoder().encode(backupFingerprint(channels))));
      if (fp === this.fingerprint && this.blob) return;
      const set: BackupSet = { version: SCB_VERSION, network: this.o.network, nodeId: this.o.nodeId, createdAtMs: this.now(), channels };
      const blob = encryptBackup(set, this.key);
      await this.o.kv.write([
        { type: 'put', ns: BACKUPS_NS, key: BLOB_KEY, value: blob },
        { type: 'put', ns: BACKUPS_NS, key: FINGERPRINT_KEY, value: new TextEncoder().encode(fp) },
      ]);
      this.blob = blob;
      this.set = set;
      this.fingerprint = fp;
      await this.exportFile();
      this.o.log.info(`channel backup written: ${channels.length} channel(s) in ${this.path}`, { channels: channels.length });
      for (const p of this.o.peers.list()) if (p.state === 'ready') this.sendOurs(p);
    };
    this.writing = this.writing.then(run, run);
    return this.writing;
  }

  /** Rewrites channel.backup from the store when it differs (missing, older, or changed by hand). */
  private async exportFile(): Promise<void> {
    const blob = this.blob!;
    const onDisk = await readFileIfExists(this.path);
    if (onDisk && Buffer.compare(onDisk, blob) === 0) return;
    await writeFileDurable(this.path, blob, 0o600);
  }

  private hasChannelWith(peer: string): boolean {
    return this.o.channels.list().some((c) => c.peer === peer && c.state.phase !== 'CLOSED' && !!c.state.channelId);
  }

  private onPeerReady(peer: Peer): void {
    // BOLT 1: right after init, before any other message (our channel_reestablish comes after).
    const held = this.held.get(peer.pubkey);
    // The latest the peer sent, even one still waiting for its write.
    if (held) peer.send({ type: 'peer_storage_retrieval', blob: held.pending ?? held.blob });
    this.sendOurs(peer);
  }

  /** Gives a peer our backup, if it keeps one and the interval since the last allows. */
  private sendOurs(peer: Peer): void {
    if (!this.blob || peer.state !== 'ready') return;
    const last = this.sent.get(peer);
    if (last?.waiting) return; // the waiting send takes the latest blob when it goes
    const v = judgeOutgoing({
      size: this.blob.length,
      peerOffersStorage: !!peer.features?.supports('option_provide_storage'),
      hasChannel: this.hasChannelWith(peer.pubkey),
      lastSentAtMs: last?.atMs,
      nowMs: this.now(),
      policy: this.policy,
    });
    if (v.action === 'skip') return;
    if (v.action === 'send') {
      peer.send({ type: 'peer_storage', blob: this.blob });
      this.sent.set(peer, { atMs: this.now() });
      return;
    }
    const waiting = setTimeout(() => {
      this.sent.set(peer, { atMs: last!.atMs });
      this.sendOurs(peer);
    }, v.atMs - this.now());
    waiting.unref();
    this.sent.set(peer, { atMs: last!.atMs, waiting });
  }

  private async onPeerStorage(peer: Peer, blob: Uint8Array): Promise<void> {
    const held = this.held.get(peer.pubkey);
    const v = judgeIncoming({ size: blob.length, hasChannel: this.hasChannelWith(peer.pubkey), lastStoredAtMs: held?.storedAtMs, nowMs: this.now(), policy: this.policy });
    if (v.action === 'refuse') {
      this.o.log.info(`not keeping the storage blob of ${peer.pubkey}: ${v.reason}`, { peer: peer.pubkey, bytes: blob.length });
      return;
    }
    if (v.action === 'store') return this.storeHeld(peer.pubkey, blob);
    // Too soon after the last write: the latest waits in memory and is written when the interval ends.
    if (held?.waiting) {
      held.pending = blob;
      return;
    }
    const waiting = setTimeout(() => void this.storePending(peer.pubkey), v.atMs - this.now());
    waiting.unref();
    this.held.set(peer.pubkey, { ...(held ?? { blob }), pending: blob, waiting });
  }

  private async storePending(peer: string): Promise<void> {
    const h = this.held.get(peer);
    if (!h?.pending) return;
    if (h.waiting) clearTimeout(h.waiting);
    await this.storeHeld(peer, h.pending).catch((e: unknown) => this.o.log.warn("keeping a peer's storage blob failed", { peer, error: String(e) }));
  }

  private async storeHeld(peer: string, blob: Uint8Array): Promise<void> {
    if (this.closed) return;
    const storedAtMs = this.now();
    this.held.set(peer, { blob, storedAtMs });
    await this.o.kv.write([{ type: 'put', ns: PEER_STORAGE_NS, key: peer, value: blob }]);
    this.o.log.debug('kept a peer\'s storage blob', { peer, bytes: blob.length });
  }

  /** A peer handed back what we gave it: ours if it opens with our seed; newer than ours means we lost data. */
  private onRetrieval(peer: Peer, blob: Uint8Array): void {
    if (blob.length === 0) return;
    let set: BackupSet;
    try {
      set = decryptBackup(blob, this.key, { network: this.o.network, nodeId: this.o.nodeId });
    } catch (e) {
      // Another node's blob, a damaged one, or a lie: nothing to act on (BOLT 1 allows a warning).
      this.o.log.warn(`peer ${peer.pubkey} returned a storage blob that is not a backup of this node; ignored`, { peer: peer.pubkey, reason: e instanceof BackupError ? e.code : String(e) });
      return;
    }
    const ours = new Set(this.o.channels.list().flatMap((c) => (c.state.funding ? [`${c.state.funding.txid}:${c.state.funding.vout}`] : [])));
    for (const p of this.o.alsoKnown?.() ?? []) ours.add(p);
    const unknown = set.channels.filter((c) => !ours.has(c.chanPoint));
    if (unknown.length || (this.set && set.createdAtMs > this.set.createdAtMs)) {
      this.o.log.warn(
        `peer ${peer.pubkey} returned a channel backup newer than ours${unknown.length ? `, with ${unknown.length} channel(s) this node does not have (${unknown.map((c) => c.chanPoint).join(', ')})` : ''}: this node may have lost data. Do not open new channels with it before restoring (coulomb restorechanbackup).`,
        { peer: peer.pubkey, created_at_ms: set.createdAtMs, unknown: unknown.length },
      );
    } else {
      this.o.log.info(`peer ${peer.pubkey} returned our channel backup (${set.channels.length} channel(s)), no newer than ours`, { peer: peer.pubkey });
    }
    for (const fn of this.retrievedListeners) fn(peer.pubkey, set);
  }

  /** The blob we keep for a peer, if any (tests, views). */
  heldFor(peer: string): Uint8Array | undefined {
    return this.held.get(peer)?.blob;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // A blob waiting for its interval is written now rather than lost.
    await Promise.all([...this.held.keys()].map((peer) => this.storePending(peer)));
    this.closed = true;
    await this.writing.catch(() => undefined);
  }
}
