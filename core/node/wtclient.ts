/**
 * The watchtower client: every time a channel peer revokes a commitment, each tower the user added
 * gets a backup of it (core/tower/client-kit.ts), so a breach while this node is offline is still
 * punished. The revocation is told by the channel store as its records are written
 * (MonitorRecords.subscribe); the backlog entry for each tower is written right there, so it is in
 * the same commit order as the channel's own write (durable no later than it).
 *
 * Per tower, one drain at a time: it dials the tower with the current session's key (a fresh key per
 * session, m/1017'/coin'/8'/0/index, lnd's session key family), asks for the session (a repeat of a
 * session the tower has is fine: it says where it stands), sends again whatever it did not acknowledge
 * (same number, same bytes), then takes the backlog in order. Each backup is built with the session's
 * feerate and stored with its number before it leaves; it leaves the store once acknowledged. A tower
 * that is down or refuses loses nothing: its backlog waits and the drain is tried again with a growing
 * pause. The node's own chain monitor punishes a breach whenever the node is online, tower or not.
 *
 * Records (KvStore, JSON):
 * - `wtclient-towers/<pubkey>`: `{ v, pubkey, addresses, addedAtMs }`;
 * - `wtclient-sessions/<tower>:<keyIndex, 10 digits>`: ClientSession;
 * - `wtclient-backlog/<tower>:<n, 20 digits>`: `{ v, channel, commitment }` (the revoked commitment as
 *   the monitor knew it: public data only; the secret is read from the channel's monitor records);
 * - `wtclient-sent/<tower>:<keyIndex>:<seq, 5 digits>`: `{ v, seq, hint, blob, task }`, sent, not acked;
 * - `wtclient-sweep/<channel>`: the wallet script this channel's justice transactions pay;
 * - `wtclient-meta/next-key`: the next session key index.
 */
import { randomBytes } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import { hex } from '@scure/base';
import type { KvOp, KvStore } from '../store/kv/types.ts';
import { kvIndexKey, kvJson } from '../store/kv/types.ts';
import type { Logger } from '../log/logger.ts';
import { coinType } from '../keys/node-key.ts';
import type { Network } from '../keys/node-key.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { formatHostPort, parseHostPort } from '../peer/address.ts';
import { revealedSecret } from '../monitor/state.ts';
import type { MonitorData, MonitorUpdate, RemoteCommitmentInfo } from '../monitor/state.ts';
import { backupFor } from '../tower/client-kit.ts';
import { CLIENT_RECORD_VERSION, nextSeq, onCreateReply, onUpdateReply } from '../tower/client-queue.ts';
import type { ClientSession } from '../tower/client-queue.ts';
import { BLOB_TYPE_TO_LOCAL_V0, MAX_SWEEP_FEERATE, MIN_SWEEP_FEERATE } from '../tower/sessions.ts';
import { CODE } from '../tower/wire.ts';
import { dialTower } from './tower-link.ts';
import type { TowerLink } from './tower-link.ts';
import { DEFAULT_TOWER_PORT } from './config.ts';

export const WT_TOWERS_NS = 'wtclient-towers';
export const WT_SESSIONS_NS = 'wtclient-sessions';
export const WT_BACKLOG_NS = 'wtclient-backlog';
export const WT_SENT_NS = 'wtclient-sent';
export const WT_SWEEP_NS = 'wtclient-sweep';
export const WT_META_NS = 'wtclient-meta';
const SESSION_KEY_FAMILY = 8;
/** lnd's default session size. */
export const DEFAULT_MAX_UPDATES = 1024;

interface TowerRecord {
  v: number;
  pubkey: string;
  addresses: { host: string; port: number }[];
  addedAtMs: number;
}

interface Task {
  channel: string;
  commitment: RemoteCommitmentInfo;
}

interface SentRecord {
  v: number;
  seq: number;
  hint: Uint8Array;
  blob: Uint8Array;
  task: Task;
}

/** What the client reads of the channels. */
export interface WtChannels {
  list(): { key: string }[];
  get(key: string): { state: { secrets: ChannelSecrets } } | undefined;
  readonly monitorRecords: {
    subscribe(fn: (channel: string, updates: readonly MonitorUpdate[]) => void): () => void;
    data(channel: string): MonitorData | undefined;
  };
}

export interface WtClientOptions {
  kv: KvStore;
  seed: Uint8Array;
  network: Network;
  chainHash: Uint8Array;
  channels: WtChannels;
  /** A fresh wallet script (where a channel's justice transactions pay). */
  sweepScript: () => Promise<Uint8Array>;
  /** The feerate (sat/kw) new sessions ask for. */
  feeratePerKw: () => number;
  log: Logger;
  /** Pause after a failed drain: starts at `initialMs`, doubles up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  maxUpdates?: number;
  timeoutMs?: number;
}

export class TowerAddError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TowerAddError';
  }
}

/** `<pubkey>@<host>[:<port>]`, port 9911 when absent. */
export function parseTowerUri(s: string): { pubkey: string; host: string; port: number } {
  const at = s.indexOf('@');
  const pubkey = s.slice(0, at < 0 ? s.length : at).toLowerCase();
  if (!/^(02|03)[0-9a-f]{64}$/.test(pubkey)) throw new TowerAddError('That is not a tower address: it starts with the tower\'s public key (66 hex characters), as <pubkey>@<host>:<port> (coulomb tower info on the tower shows it).');
  if (at < 0) throw new TowerAddError('That tower address has no host: give it as <pubkey>@<host>:<port>.');
  try {
    return { pubkey, ...parseHostPort(s.slice(at + 1), DEFAULT_TOWER_PORT) };
  } catch (e) {
    throw new TowerAddError((e as Error).message);
  }
}

export class WtClient {
  private readonly towers = new Map<string, TowerRecord>();
  /** Per channel: the peer's current commitment and the next one signed, to know what a revocation revoked. */
  private readonly remotes = new Map<string, { remote?: RemoteCommitmentInfo; remoteNext?: RemoteCommitmentInfo }>();
  private readonly drains = new Map<string, { running: boolean; again: boolean; timer?: NodeJS.Timeout; pauseMs: number; lastError?: string }>();
  private backlogSeq = 0n;
  private failed = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly retry: { initialMs: number; maxMs: number };

  private constructor(private readonly o: WtClientOptions) {
    this.retry = o.retry ?? { initialMs: 1000, maxMs: 60_000 };
    for (const c of o.channels.list()) {
      const d = o.channels.monitorRecords.data(c.key);
      if (d) this.remotes.set(c.key, { remote: d.remote, ...(d.remoteNext ? { remoteNext: d.remoteNext } : {}) });
    }
    this.unsubscribe = o.channels.monitorRecords.subscribe((channel, updates) => this.onUpdates(channel, updates));
  }

  static async open(o: WtClientOptions): Promise<WtClient> {
    const c = new WtClient(o);
    for (const { key, value } of await o.kv.range(WT_TOWERS_NS)) c.towers.set(key, kvJson.decode<TowerRecord>(value, `${WT_TOWERS_NS}/${key}`));
    // Keys sort by tower first: the counter is the largest over every tower.
    for (const { key } of await o.kv.range(WT_BACKLOG_NS)) {
      const n = BigInt(key.slice(key.indexOf(':') + 1));
      if (n >= c.backlogSeq) c.backlogSeq = n + 1n;
    }
    for (const pk of c.towers.keys()) c.kick(pk);
    return c;
  }

  // -- revocations ---------------------------------------------------------------------------------

  /** Called in write order as the channel records are made: a revocation queues a backup for every tower. */
  private onUpdates(channel: string, updates: readonly MonitorUpdate[]): void {
    let r = this.remotes.get(channel) ?? {};
    const ops: KvOp[] = [];
    for (const u of updates) {
      if (u.type === 'open') r = { remote: u.remote, ...(u.remoteNext ? { remoteNext: u.remoteNext } : {}) };
      else if (u.type === 'remote_commitment') r = { ...r, remoteNext: u.commitment };
      else if (u.type === 'revocation') {
        const revoked = r.remote;
        r = r.remoteNext ? { remote: r.remoteNext } : {};
        if (!revoked || revoked.number !== u.number) continue;
        for (const tower of this.towers.keys()) ops.push({ type: 'put', ns: WT_BACKLOG_NS, key: `${tower}:${kvIndexKey(this.backlogSeq++)}`, value: kvJson.encode({ v: CLIENT_RECORD_VERSION, channel, commitment: revoked }) });
      }
    }
    this.remotes.set(channel, r);
    if (!ops.length) return;
    // Called now, before the channel's own write: committed with it or before it.
    void this.o.kv.write(ops).then(
      () => {
        for (const tower of this.towers.keys()) this.kick(tower);
      },
      (e: unknown) => this.o.log.error('storing a watchtower backup failed', { channel, error: String(e) }),
    );
  }

  // -- the API -------------------------------------------------------------------------------------

  async add(uri: string): Promise<void> {
    const t = parseTowerUri(uri);
    const known = this.towers.get(t.pubkey);
    const addr = { host: t.host, port: t.port };
    const addresses = [addr, ...(known?.addresses ?? []).filter((a) => a.host !== t.host || a.port !== t.port)];
    const rec: TowerRecord = { v: CLIENT_RECORD_VERSION, pubkey: t.pubkey, addresses, addedAtMs: known?.addedAtMs ?? Date.now() };
    await this.o.kv.write([{ type: 'put', ns: WT_TOWERS_NS, key: t.pubkey, value: kvJson.encode(rec) }]);
    this.towers.set(t.pubkey, rec);
    this.o.log.info('watchtower added: backups of every revoked state from now on go to it', { tower: t.pubkey, address: formatHostPort(t.host, t.port) });
    this.kick(t.pubkey);
  }

  /** lncli wtclient towers. */
  async towersView(): Promise<{ towers: { pubkey: string; addresses: string[]; active_session_candidate: boolean; num_sessions: number; sessions: { num_backups: number; num_pending_backups: number; max_backups: number; sweep_sat_per_vbyte: number }[]; num_backlog: number; last_error?: string }[] }> {
    const towers = [];
    for (const t of this.towers.values()) {
      const sessions = await this.sessionsOf(t.pubkey);
      const views = [];
      for (const s of sessions) views.push({ num_backups: s.lastApplied, num_pending_backups: await this.o.kv.count(WT_SENT_NS, { prefix: `${t.pubkey}:${kvIndexKey(s.keyIndex)}:` }), max_backups: s.maxUpdates, sweep_sat_per_vbyte: s.sweepFeeRate / 250 });
      const d = this.drains.get(t.pubkey);
      towers.push({
        pubkey: t.pubkey,
        addresses: t.addresses.map((a) => formatHostPort(a.host, a.port)),
        active_session_candidate: sessions.some((s) => nextSeq(s) !== undefined),
        num_sessions: sessions.length,
        sessions: views,
        num_backlog: await this.o.kv.count(WT_BACKLOG_NS, { prefix: `${t.pubkey}:` }),
        ...(d?.lastError ? { last_error: d.lastError } : {}),
      });
    }
    return { towers };
  }

  /** lncli wtclient stats. */
  async stats(): Promise<{ num_backups: number; num_pending_backups: number; num_failed_backups: number; num_sessions_acquired: number; num_sessions_exhausted: number }> {
    const sessions = (await this.o.kv.range(WT_SESSIONS_NS)).map((r) => kvJson.decode<ClientSession>(r.value, WT_SESSIONS_NS));
    return {
      num_backups: sessions.reduce((a, s) => a + s.lastApplied, 0),
      num_pending_backups: (await this.o.kv.count(WT_BACKLOG_NS)) + (await this.o.kv.count(WT_SENT_NS)),
      num_failed_backups: this.failed,
      num_sessions_acquired: sessions.length,
      num_sessions_exhausted: sessions.filter((s) => nextSeq(s) === undefined).length,
    };
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const d of this.drains.values()) if (d.timer) clearTimeout(d.timer);
  }

  // -- draining to a tower -------------------------------------------------------------------------

  /** Starts a drain of this tower's backlog now (or right after the one under way). */
  private kick(tower: string): void {
    if (this.closed) return;
    let d = this.drains.get(tower);
    if (!d) this.drains.set(tower, (d = { running: false, again: false, pauseMs: this.retry.initialMs }));
    if (d.running) {
      d.again = true;
      return;
    }
    if (d.timer) {
      clearTimeout(d.timer);
      d.timer = undefined;
    }
    d.running = true;
    void this.drain(tower).then(
      () => {
        d.running = false;
        d.pauseMs = this.retry.initialMs;
        d.lastError = undefined;
        if (d.again) {
          d.again = false;
          this.kick(tower);
        }
      },
      (e: unknown) => {
        d.running = false;
        d.again = false;
        const first = d.lastError === undefined;
        d.lastError = (e as Error).message;
        if (this.closed) return;
        // Said once as a warning while the tower stays out of reach (each revocation tries it again).
        (first ? this.o.log.warn : this.o.log.debug).call(this.o.log, `watchtower ${tower.slice(0, 16)}… is out of reach; its backups wait and are sent again in ${Math.round(d.pauseMs / 1000)} s or at the next revoked state`, { tower, error: d.lastError });
        d.timer = setTimeout(() => {
          d.timer = undefined;
          this.kick(tower);
        }, d.pauseMs);
        d.timer.unref();
        d.pauseMs = Math.min(this.retry.maxMs, d.pauseMs * 2);
      },
    );
  }

  private async sessionsOf(tower: string): Promise<ClientSession[]> {
    return (await this.o.kv.range(WT_SESSIONS_NS, { prefix: `${tower}:` })).map((r) => kvJson.decode<ClientSession>(r.value, `${WT_SESSIONS_NS}/${r.key}`));
  }

  private sessionSecret(index: number): Uint8Array {
    const k = HDKey.fromMasterSeed(this.o.seed).derive(`m/1017'/${coinType(this.o.network)}'/${SESSION_KEY_FAMILY}'/0/${index}`);
    if (!k.privateKey) throw new Error('session key derivation produced no key');
    return k.privateKey;
  }

  private sessionKey = (s: ClientSession): string => `${s.tower}:${kvIndexKey(s.keyIndex)}`;

  /** A new session for `tower`, stored before it is asked for. */
  private async newSession(tower: string): Promise<ClientSession> {
    const raw = await this.o.kv.get(WT_META_NS, 'next-key');
    const keyIndex = raw ? kvJson.decode<number>(raw, `${WT_META_NS}/next-key`) : 0;
    const rate = Math.min(MAX_SWEEP_FEERATE, Math.max(MIN_SWEEP_FEERATE, Math.ceil(this.o.feeratePerKw())));
    const s: ClientSession = { v: CLIENT_RECORD_VERSION, tower, keyIndex, blobType: BLOB_TYPE_TO_LOCAL_V0, maxUpdates: this.o.maxUpdates ?? DEFAULT_MAX_UPDATES, sweepFeeRate: rate, seqNum: 0, lastApplied: 0, retired: false };
    await this.o.kv.write([
      { type: 'put', ns: WT_META_NS, key: 'next-key', value: kvJson.encode(keyIndex + 1) },
      { type: 'put', ns: WT_SESSIONS_NS, key: this.sessionKey(s), value: kvJson.encode(s) },
    ]);
    return s;
  }

  /** Sends everything waiting for `tower`; throws when the tower cannot be reached or answers wrongly. */
  private async drain(tower: string): Promise<void> {
    const rec = this.towers.get(tower);
    if (!rec) return;
    for (;;) {
      if (this.closed) return;
      const sessions = await this.sessionsOf(tower);
      const unacked = await this.o.kv.range(WT_SENT_NS, { prefix: `${tower}:`, limit: 1 });
      const backlog = await this.o.kv.range(WT_BACKLOG_NS, { prefix: `${tower}:`, limit: 1 });
      if (!unacked.length && !backlog.length) return;
      // The session whose unacknowledged backups must go first, or the one taking new ones, or a new one.
      const first = unacked[0] ? sessions.find((s) => unacked[0]!.key.startsWith(`${this.sessionKey(s)}:`)) : undefined;
      const session = first ?? sessions.find((s) => nextSeq(s) !== undefined) ?? (await this.newSession(tower));
      const done = await this.withSession(rec, session);
      if (!done) return;
    }
  }

  /** One connection with one session: resend, then new backups. True when the session is used up (go on with another). */
  private async withSession(rec: TowerRecord, start: ClientSession): Promise<boolean> {
    const timeoutMs = this.o.timeoutMs ?? 15_000;
    let link: TowerLink | undefined;
    let lastErr: Error | undefined;
    for (const a of rec.addresses) {
      try {
        link = await dialTower({ ...a, towerPubkey: hex.decode(rec.pubkey), localSecret: this.sessionSecret(start.keyIndex), timeoutMs });
        break;
      } catch (e) {
        lastErr = e as Error;
      }
    }
    if (!link) throw lastErr ?? new Error('the tower has no address');
    try {
      const init = await link.request({ type: 'init', features: new Uint8Array(0), chainHash: this.o.chainHash }, timeoutMs);
      if (init.type !== 'init') throw new Error(init.type === 'error' ? `the tower refused us: ${new TextDecoder().decode(init.data)}` : `the tower answered init with ${init.type}`);
      const cr = await link.request({ type: 'create_session', blobType: start.blobType, maxUpdates: start.maxUpdates, rewardBase: 0, rewardRate: 0, sweepFeeRate: BigInt(start.sweepFeeRate) }, timeoutMs);
      if (cr.type !== 'create_session_reply') throw new Error(`the tower answered create_session with ${cr.type}`);
      const created = onCreateReply(start, cr);
      let s = start;
      if (!created.ok) {
        if (cr.code === CODE.temporaryFailure) throw new Error(created.reason);
        // This tower will not take sessions of this kind: nothing sent is lost, the backlog waits.
        throw new Error(created.reason);
      }
      if (created.session !== s) {
        s = created.session;
        await this.saveSession(s);
      }
      // What was sent and not acknowledged goes again, as it was.
      for (const r of await this.o.kv.range(WT_SENT_NS, { prefix: `${this.sessionKey(s)}:` })) {
        const sent = kvJson.decode<SentRecord>(r.value, `${WT_SENT_NS}/${r.key}`);
        const next = await this.push(link, s, r.key, sent, timeoutMs);
        if (!next) return true;
        s = next;
      }
      for (;;) {
        const seq = nextSeq(s);
        if (seq === undefined) return true;
        const [entry] = await this.o.kv.range(WT_BACKLOG_NS, { prefix: `${s.tower}:`, limit: 1 });
        if (!entry) return false;
        const task = kvJson.decode<Task & { v: number }>(entry.value, `${WT_BACKLOG_NS}/${entry.key}`);
        const built = await this.build(task, s);
        if (!built) {
          await this.o.kv.write([{ type: 'delete', ns: WT_BACKLOG_NS, key: entry.key }]);
          continue;
        }
        s = { ...s, seqNum: seq };
        const sentKey = `${this.sessionKey(s)}:${String(seq).padStart(5, '0')}`;
        const sent: SentRecord = { v: CLIENT_RECORD_VERSION, seq, hint: built.hint, blob: built.blob, task: { channel: task.channel, commitment: task.commitment } };
        // Stored with its number before it leaves; the backlog entry goes in the same write.
        await this.o.kv.write([
          { type: 'put', ns: WT_SENT_NS, key: sentKey, value: kvJson.encode(sent) },
          { type: 'put', ns: WT_SESSIONS_NS, key: this.sessionKey(s), value: kvJson.encode(s) },
          { type: 'delete', ns: WT_BACKLOG_NS, key: entry.key },
        ]);
        const next = await this.push(link, s, sentKey, sent, timeoutMs);
        if (!next) return true;
        s = next;
      }
    } finally {
      link.close('done');
    }
  }

  /** Sends one stored backup and acts on the reply; the session after it, or undefined when it is used up. */
  private async push(link: TowerLink, s: ClientSession, key: string, sent: SentRecord, timeoutMs: number): Promise<ClientSession | undefined> {
    const reply = await link.request({ type: 'state_update', seqNum: sent.seq, lastApplied: s.lastApplied, isComplete: 0, hint: sent.hint, blob: sent.blob }, timeoutMs);
    if (reply.type !== 'state_update_reply') throw new Error(`the tower answered state_update with ${reply.type}`);
    const { session, outcome } = onUpdateReply(s, sent.seq, reply);
    switch (outcome) {
      case 'acked':
        await this.o.kv.write([{ type: 'delete', ns: WT_SENT_NS, key }, { type: 'put', ns: WT_SESSIONS_NS, key: this.sessionKey(session), value: kvJson.encode(session) }]);
        return session;
      case 'later':
        throw new Error(`the tower is busy (code ${reply.code}); trying again later`);
      case 'resend':
        await this.saveSession(session);
        throw new Error(`the tower is at backup ${reply.lastApplied} of this session, not ${sent.seq}; sending again from there`);
      case 'refused':
      case 'reassign':
        // A refused backup goes to a new session rather than be lost; it counts as failed once.
        if (outcome === 'refused') this.failed++;
        await this.o.kv.write([
          { type: 'delete', ns: WT_SENT_NS, key },
          { type: 'put', ns: WT_BACKLOG_NS, key: `${s.tower}:${kvIndexKey(this.backlogSeq++)}`, value: kvJson.encode({ v: CLIENT_RECORD_VERSION, ...sent.task }) },
          { type: 'put', ns: WT_SESSIONS_NS, key: this.sessionKey(session), value: kvJson.encode(session) },
        ]);
        this.o.log.warn('a watchtower session can take no more backups; the rest go to a new session', { tower: s.tower, code: reply.code });
        return undefined;
    }
  }

  private async saveSession(s: ClientSession): Promise<void> {
    await this.o.kv.write([{ type: 'put', ns: WT_SESSIONS_NS, key: this.sessionKey(s), value: kvJson.encode(s) }]);
  }

  /** The backup of a task for session `s`, or undefined (said once) when there is nothing to back up. */
  private async build(task: Task, s: ClientSession): Promise<{ hint: Uint8Array; blob: Uint8Array } | undefined> {
    const data = this.o.channels.monitorRecords.data(task.channel);
    const ch = this.o.channels.get(task.channel);
    const secret = data && revealedSecret(data, task.commitment.number);
    if (!data || !ch || !secret) {
      this.failed++;
      this.o.log.warn('a watchtower backup cannot be built: the channel or the peer\'s secret for that state is gone', { channel: task.channel, number: task.commitment.number.toString() });
      return undefined;
    }
    let sweep = await this.o.kv.get(WT_SWEEP_NS, task.channel);
    if (!sweep) {
      sweep = await this.o.sweepScript();
      await this.o.kv.write([{ type: 'put', ns: WT_SWEEP_NS, key: task.channel, value: sweep }]);
    }
    const b = backupFor({ params: data.params, commitment: task.commitment, perCommitmentSecret: secret, secrets: ch.state.secrets, sweepScript: sweep, feeratePerKw: s.sweepFeeRate, nonce: new Uint8Array(randomBytes(24)) });
    if (!b.ok) {
      this.o.log.debug('nothing to back up for this revoked state', { channel: task.channel, number: task.commitment.number.toString(), reason: b.message });
      return undefined;
    }
    return { hint: b.hint, blob: b.blob };
  }
}
