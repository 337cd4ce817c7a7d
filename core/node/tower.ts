/**
 * The watchtower built into the node (`--watchtower.active`): it listens on its own address with its
 * own BOLT 8 identity (m/1017'/coin'/9'/0/0, lnd's tower key family), keeps its clients' sessions and
 * encrypted updates in the node's store, and at every block hashes each transaction's id into a hint:
 * a hint it holds an update for is opened with that txid, and the justice transaction it stands for is
 * checked (the client's signature under the revocation key) and published. The rules of a session are
 * core/tower/sessions.ts; this is the shell around them.
 *
 * Records (KvStore, JSON with a version `v` unless said):
 * - `tower-sessions/<session key hex>`: TowerSession;
 * - `tower-updates/<session key hex>:<seq, 5 digits>`: hint (16 bytes) then the blob, raw;
 * - `tower-justice/<commitment txid>`: `{ v, justiceTxid, height }`, each breach acted on.
 * A client that sends what does not parse, or asks what its session does not allow, is refused (or
 * disconnected); nothing it sends is stored but accepted updates of its own session.
 */
import { HDKey } from '@scure/bip32';
import type { Server } from 'node:net';
import type { Block } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import type { KvStore } from '../store/kv/types.ts';
import { kvJson } from '../store/kv/types.ts';
import type { Logger } from '../log/logger.ts';
import { coinType } from '../keys/node-key.ts';
import type { Network } from '../keys/node-key.ts';
import { secp } from '../crypto/secp256k1.ts';
import { sha256 } from '../crypto/hash.ts';
import { formatHostPort } from '../peer/address.ts';
import { BlobError, HINT_SIZE, openKit } from '../tower/blob.ts';
import { assembleJustice, JusticeError } from '../tower/justice.ts';
import { createSession, DEFAULT_TOWER_LIMITS, stateUpdate, takeToken, TOWER_RECORD_VERSION } from '../tower/sessions.ts';
import type { RateBucket, TowerLimits, TowerSession } from '../tower/sessions.ts';
import { CODE } from '../tower/wire.ts';
import type { TowerMessage } from '../tower/wire.ts';
import { listenTower } from './tower-link.ts';
import type { TowerLink } from './tower-link.ts';
import { bytesEqual } from '../util/bytes.ts';
import { DEFAULT_TOWER_PORT } from './config.ts';

export const TOWER_SESSIONS_NS = 'tower-sessions';
export const TOWER_UPDATES_NS = 'tower-updates';
export const TOWER_JUSTICE_NS = 'tower-justice';
/** lnd's key family of the tower's identity. */
const TOWER_KEY_FAMILY = 9;
const IDLE_MS = 60_000;

export interface TowerConfig {
  active: boolean;
  /** host:port pairs to accept clients on (lnd's --watchtower.listen); default 0.0.0.0:9911. */
  listen?: { host: string; port: number }[];
  /** Addresses to advertise in the tower's URIs (lnd's --watchtower.externalip). */
  externalIps?: { host: string; port: number }[];
}

export interface TowerOptions {
  kv: KvStore;
  seed: Uint8Array;
  network: Network;
  chainHash: Uint8Array;
  config: TowerConfig;
  broadcast: (txHex: string) => Promise<string>;
  log: Logger;
  limits?: Partial<TowerLimits>;
  now?: () => number;
}

/** The tower's identity key from the node's seed. */
export function towerSecret(seed: Uint8Array, network: Network): Uint8Array {
  const k = HDKey.fromMasterSeed(seed).derive(`m/1017'/${coinType(network)}'/${TOWER_KEY_FAMILY}'/0/0`);
  if (!k.privateKey) throw new Error('tower key derivation produced no key');
  return k.privateKey;
}

const updateKey = (session: string, seq: number): string => `${session}:${String(seq).padStart(5, '0')}`;

export class WatchTower {
  readonly pubkey: string;
  private readonly secret: Uint8Array;
  private readonly limits: TowerLimits;
  private readonly now: () => number;
  private readonly sessions = new Map<string, TowerSession>();
  /** Updates by hint (hex): the keys of their records. */
  private readonly byHint = new Map<string, string[]>();
  private readonly buckets = new Map<string, RateBucket>();
  private readonly servers: Server[] = [];
  private readonly links = new Set<TowerLink>();
  readonly listeners: { host: string; port: number }[] = [];
  private published = 0;

  private constructor(private readonly o: TowerOptions) {
    this.secret = towerSecret(o.seed, o.network);
    this.pubkey = hex.encode(secp.getPublicKey(this.secret));
    this.limits = { ...DEFAULT_TOWER_LIMITS, ...o.limits };
    this.now = o.now ?? Date.now;
  }

  /** Loads the sessions and the hints of every update, then listens. */
  static async open(o: TowerOptions): Promise<WatchTower> {
    const t = new WatchTower(o);
    for (const { key, value } of await o.kv.range(TOWER_SESSIONS_NS)) t.sessions.set(key, kvJson.decode<TowerSession>(value, `${TOWER_SESSIONS_NS}/${key}`));
    for (const { key, value } of await o.kv.range(TOWER_UPDATES_NS)) t.index(hex.encode(value.subarray(0, HINT_SIZE)), key);
    t.published = await o.kv.count(TOWER_JUSTICE_NS);
    for (const l of o.config.listen?.length ? o.config.listen : [{ host: '0.0.0.0', port: DEFAULT_TOWER_PORT }]) {
      const { server, address } = await listenTower({ ...l, secret: t.secret, maxConnections: 256, onLink: (link) => t.serve(link), onError: (e) => o.log.warn('the watchtower listener failed', { error: e.message }) });
      t.servers.push(server);
      t.listeners.push(address);
    }
    o.log.info('watchtower is active', { pubkey: t.pubkey, listen: t.listeners.map((a) => formatHostPort(a.host, a.port)).join(',') });
    return t;
  }

  private index(hint: string, key: string): void {
    const keys = this.byHint.get(hint);
    if (keys) keys.push(key);
    else this.byHint.set(hint, [key]);
  }

  /** `pubkey@host:port` for each address clients can dial (not a wildcard one). */
  uris(): string[] {
    const addrs = this.o.config.externalIps?.length ? this.o.config.externalIps : this.listeners;
    return addrs.filter((a) => a.host !== '0.0.0.0' && a.host !== '::').map((a) => `${this.pubkey}@${formatHostPort(a.host, a.port)}`);
  }

  stats(): { sessions: number; updates: number; justice_published: number } {
    let updates = 0;
    for (const keys of this.byHint.values()) updates += keys.length;
    return { sessions: this.sessions.size, updates, justice_published: this.published };
  }

  // -- clients -------------------------------------------------------------------------------------

  private serve(link: TowerLink): void {
    this.links.add(link);
    const id = hex.encode(link.remotePubkey);
    void (async () => {
      try {
        const init = await link.next(IDLE_MS);
        if (init.type !== 'init') throw new Error(`expected init, got ${init.type}`);
        if (!bytesEqual(init.chainHash, this.o.chainHash)) {
          link.send({ type: 'error', code: CODE.permanentFailure, data: new TextEncoder().encode('this tower watches another chain') });
          throw new Error('a client of another chain');
        }
        link.send({ type: 'init', features: new Uint8Array(0), chainHash: this.o.chainHash });
        for (;;) {
          const m = await link.next(IDLE_MS);
          const reply = await this.handle(id, m);
          if (!reply) throw new Error(`unexpected ${m.type}`);
          link.send(reply);
          if (m.type === 'state_update' && m.isComplete) break;
        }
      } catch (e) {
        this.o.log.debug('watchtower client gone', { session: id.slice(0, 16), reason: (e as Error).message });
      } finally {
        link.close('done');
        this.links.delete(link);
      }
    })();
  }

  /** One request of session `id`: its reply, after whatever it changes is durable. */
  private async handle(id: string, m: TowerMessage): Promise<TowerMessage | undefined> {
    switch (m.type) {
      case 'create_session': {
        const r = createSession({ id, msg: m, existing: this.sessions.get(id), sessions: this.sessions.size, limits: this.limits, nowMs: this.now() });
        if (r.session) {
          await this.o.kv.write([{ type: 'put', ns: TOWER_SESSIONS_NS, key: id, value: kvJson.encode(r.session) }]);
          this.sessions.set(id, r.session);
        }
        return r.reply;
      }
      case 'state_update': {
        const rate = takeToken(this.buckets.get(id), this.limits, this.now());
        this.buckets.set(id, rate.bucket);
        const r = stateUpdate({ session: this.sessions.get(id), msg: m, rateOk: rate.ok });
        if (r.accepted && r.session) {
          const key = updateKey(id, r.accepted.seq);
          const value = new Uint8Array(HINT_SIZE + r.accepted.blob.length);
          value.set(r.accepted.hint, 0);
          value.set(r.accepted.blob, HINT_SIZE);
          await this.o.kv.write([
            { type: 'put', ns: TOWER_UPDATES_NS, key, value },
            { type: 'put', ns: TOWER_SESSIONS_NS, key: id, value: kvJson.encode(r.session) },
          ]);
          this.sessions.set(id, r.session);
          this.index(hex.encode(r.accepted.hint), key);
        }
        return r.reply;
      }
      case 'delete_session': {
        if (!this.sessions.has(id)) return { type: 'delete_session_reply', code: CODE.sessionNotFound };
        const updates = await this.o.kv.range(TOWER_UPDATES_NS, { prefix: `${id}:` });
        await this.o.kv.write([{ type: 'delete', ns: TOWER_SESSIONS_NS, key: id }, ...updates.map((u) => ({ type: 'delete' as const, ns: TOWER_UPDATES_NS, key: u.key }))]);
        this.sessions.delete(id);
        for (const u of updates) {
          const h = hex.encode(u.value.subarray(0, HINT_SIZE));
          const rest = (this.byHint.get(h) ?? []).filter((k) => k !== u.key);
          if (rest.length) this.byHint.set(h, rest);
          else this.byHint.delete(h);
        }
        return { type: 'delete_session_reply', code: CODE.ok };
      }
      default:
        return undefined;
    }
  }

  // -- the chain -----------------------------------------------------------------------------------

  /**
   * A block connected: each transaction whose hint the tower holds is tried against those updates;
   * a kit that opens and checks out gives the justice transaction, recorded and published (the
   * broadcaster sends it again each block until it confirms). Errors are logged, never thrown.
   */
  async onBlock(block: Block, height: number): Promise<void> {
    if (!this.byHint.size) return;
    for (const tx of block.transactions ?? []) {
      // The hint is SHA256 of the txid in chain byte order: the transaction's hash as bitcoinjs keeps it.
      const hint = hex.encode(sha256(tx.getHash()).subarray(0, HINT_SIZE));
      const keys = this.byHint.get(hint);
      if (!keys) continue;
      const txid = tx.getId();
      if (await this.o.kv.get(TOWER_JUSTICE_NS, txid)) continue;
      for (const key of keys) {
        const value = await this.o.kv.get(TOWER_UPDATES_NS, key);
        const session = this.sessions.get(key.slice(0, key.indexOf(':')));
        if (!value || !session) continue;
        try {
          const kit = openKit(value.subarray(HINT_SIZE), txid);
          const j = assembleJustice(kit, tx, session.sweepFeeRate);
          const justiceTxid = j.tx.getId();
          await this.o.kv.write([{ type: 'put', ns: TOWER_JUSTICE_NS, key: txid, value: kvJson.encode({ v: TOWER_RECORD_VERSION, justiceTxid, height }) }]);
          this.published++;
          this.o.log.info('a revoked commitment is on chain: the watchtower publishes its justice transaction', { commitment: txid, justice: justiceTxid, height, swept_sat: j.valueSat.toString() });
          await this.o.broadcast(j.tx.toHex()).catch((e: unknown) => this.o.log.warn('publishing a justice transaction failed; it is sent again each block', { justice: justiceTxid, error: String(e) }));
          break;
        } catch (e) {
          if (!(e instanceof BlobError) && !(e instanceof JusticeError)) throw e;
          // A hint collision, or an update that is not what its client said: nothing to do with it.
          this.o.log.debug('a watchtower update matched a hint but gives no justice', { commitment: txid, reason: e.message });
        }
      }
    }
  }

  async close(): Promise<void> {
    for (const l of this.links) l.close('the tower stops');
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
