/**
 * The registry of what the node watches on chain (LDK's `chain::Filter`): transactions it waits to see
 * confirmed (channel fundings, closings) and outputs whose spend it must notice (a channel's funding
 * output), each registered with the tags of its owners (a channel's key). Every block the chain source
 * delivers is matched against them here, so following a channel never needs bitcoind's `-txindex`
 * (bitcoind finds a confirmed transaction by txid only with it, or when told its block).
 *
 * Ordering (core/chain/types.ts, ChainEvent): what a connected block matched is written durably before
 * `onChainEvent` resolves, that is before the wallet records a scan point past that block, so after a
 * restart it is still known; a disconnected block's matches are deleted durably before it resolves,
 * so the block replacing it is matched afresh (the same spend found again on the new branch, at its
 * new height). Subscribers hear of both after the write, in block order, before the next event.
 *
 * Matching costs one hash-set lookup per input of the block (no scan of the watched outpoints): of a
 * number, the first four bytes of the txid it spends, then of the whole outpoint on a hit; and a
 * transaction's id is hashed only while some watched txid is still unconfirmed, or when it spends a
 * watched output.
 *
 * Records (the node's KvStore, core/store/kv/types.ts), JSON values with a version `v`:
 * - `chain-watch/tx:<txid>`, `chain-watch/out:<txid>:<vout>`: a watched item, `{ v, owners }`.
 * - `chain-match/tx:<txid>`: where a watched transaction confirmed, `{ v, blockHash, height, index }`.
 * - `chain-match/out:<txid>:<vout>`: the spend of a watched output, `{ v, txid, input, rawTx, blockHash,
 *   height, index }` (the spending transaction whole: a monitor reads its witness, e.g. a preimage).
 *
 * A data directory of a Coulomb that kept the watched txids in `txwatch.json` moves into these records
 * on the first start (core/store/kv/migrate.ts; the file stays as `txwatch.json.migrated`).
 */
import type { Transaction } from 'bitcoinjs-lib';
import type { ChainEvent, ChainPoint } from './types.ts';
import { StoreError } from '../store/errors.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import { kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';

export const WATCH_NS = 'chain-watch';
export const MATCH_NS = 'chain-match';
const RECORD_VERSION = 1;

/** An output of a transaction (txid as shown: big-endian hex). */
export interface Outpoint {
  txid: string;
  vout: number;
}

/** Where a transaction was confirmed: its block and its position in that block. */
export interface TxLocation {
  blockHash: string;
  height: number;
  index: number;
}

/** A watched transaction found confirmed. */
export interface TxConfirmation extends TxLocation {
  txid: string;
}

/** The spend of a watched output: the spending transaction and where it confirmed. */
export interface OutpointSpend extends TxLocation {
  outpoint: Outpoint;
  /** The spending transaction's id. */
  txid: string;
  /** Which of its inputs spends the outpoint. */
  input: number;
  /** The spending transaction, serialized (hex, with its witness). */
  rawTx: string;
}

/** What one block did to the watched items, told to subscribers once it is durable. */
export type BlockMatches =
  | { type: 'connected'; block: ChainPoint; confirmed: TxConfirmation[]; spent: OutpointSpend[] }
  /** A block left the chain: what it had recorded is forgotten (found again if the new branch has it). */
  | { type: 'disconnected'; block: ChainPoint; confirmed: TxConfirmation[]; spent: OutpointSpend[] };

export type MatchListener = (m: BlockMatches) => Promise<void> | void;

export interface ChainWatchOptions {
  /** Where a data directory of an earlier Coulomb may hold `txwatch.json`, moved in once. */
  dir?: string;
  /** Told of a subscriber that failed (the others and the block's delivery go on). */
  warn?: (message: string) => void;
}

const outKey = (o: Outpoint): string => `${o.txid}:${o.vout}`;
const HEX64 = /^[0-9a-f]{64}$/;

export function parseOutpoint(s: string): Outpoint {
  const at = s.lastIndexOf(':');
  const txid = s.slice(0, at).toLowerCase();
  const vout = Number(s.slice(at + 1));
  if (at < 0 || !HEX64.test(txid) || !Number.isSafeInteger(vout) || vout < 0 || vout > 0xffffffff) throw new RangeError(`${JSON.stringify(s)} is not an outpoint (txid:vout)`);
  return { txid, vout };
}

function checkTxid(txid: string): void {
  if (!HEX64.test(txid)) throw new RangeError(`${JSON.stringify(txid)} is not a txid (64 lower-case hex digits)`);
}

function checkOutpoint(o: Outpoint): void {
  checkTxid(o.txid);
  if (!Number.isSafeInteger(o.vout) || o.vout < 0 || o.vout > 0xffffffff) throw new RangeError(`${o.vout} is not an output index`);
}

/**
 * An input's outpoint as a map key without hex-encoding it: the 32 bytes of the txid in the order a
 * transaction carries them (latin1, one character per byte, so fixed width), then the output index.
 */
function inputKey(hash: Uint8Array, index: number): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('latin1') + index;
}

function outpointInputKey(o: Outpoint): string {
  return inputKey(Buffer.from(o.txid, 'hex').reverse(), o.vout);
}

/** The first four bytes of a txid as a transaction carries it: a number, so most inputs are turned away before any string is made. */
function prefixOf(hash: Uint8Array): number {
  return (hash[0]! | (hash[1]! << 8) | (hash[2]! << 16) | (hash[3]! << 24)) >>> 0;
}

function outpointPrefix(o: Outpoint): number {
  return prefixOf(Buffer.from(o.txid.slice(56), 'hex').reverse());
}

interface WatchRecord {
  v: number;
  owners: string[];
}

/** What `txwatch.json` held (schema 1): txid → where it was found, or null. */
interface TxWatchJson {
  watched: Record<string, TxLocation | null>;
}

/** The owner tag of what was watched before owners were recorded. */
export const UNKNOWN_OWNER = 'txwatch';

export class ChainWatch {
  /** Watched txid → its owners. */
  private readonly txs = new Map<string, Set<string>>();
  /** Watched outpoint (`txid:vout`) → its owners. */
  private readonly outs = new Map<string, Set<string>>();
  /** The watched outpoints by the key an input carries (see inputKey). */
  private readonly byInput = new Map<string, Outpoint>();
  /** How many watched outpoints have each txid prefix (see prefixOf): the first, cheap lookup per input. */
  private readonly prefixes = new Map<number, number>();
  private readonly confirmedAt = new Map<string, TxLocation>();
  private readonly spends = new Map<string, OutpointSpend>();
  private readonly listeners = new Set<MatchListener>();
  /** Watched txids not (yet) found confirmed: while none, transactions are not hashed. */
  private unconfirmed = 0;

  private constructor(
    private readonly kv: KvStore,
    private readonly opts: ChainWatchOptions,
  ) {}

  /** The registry in `kv` (the node's store; its lifetime is the node's), after moving `txwatch.json` in once. */
  static async open(kv: KvStore, opts: ChainWatchOptions = {}): Promise<ChainWatch> {
    if (opts.dir) await migrateTxWatchJson(kv, opts.dir, opts.warn);
    const w = new ChainWatch(kv, opts);
    for (const { key, value } of await kv.range(WATCH_NS)) {
      const rec = decode<WatchRecord>(kv, WATCH_NS, key, value);
      if (!Array.isArray(rec.owners)) throw corrupt(kv, `${WATCH_NS}/${key}`);
      if (key.startsWith('tx:')) w.txs.set(key.slice(3), new Set(rec.owners));
      else if (key.startsWith('out:')) w.addOut(parseOutpoint(key.slice(4)), new Set(rec.owners));
      else throw corrupt(kv, `${WATCH_NS}/${key}`);
    }
    for (const { key, value } of await kv.range(MATCH_NS)) {
      if (key.startsWith('tx:')) {
        const { blockHash, height, index } = decode<TxLocation>(kv, MATCH_NS, key, value);
        w.confirmedAt.set(key.slice(3), { blockHash, height, index });
      } else if (key.startsWith('out:')) {
        const { txid, input, rawTx, blockHash, height, index } = decode<OutpointSpend>(kv, MATCH_NS, key, value);
        w.spends.set(key.slice(4), { outpoint: parseOutpoint(key.slice(4)), txid, input, rawTx, blockHash, height, index });
      } else throw corrupt(kv, `${MATCH_NS}/${key}`);
    }
    w.countUnconfirmed();
    return w;
  }

  /** Starts looking for these transactions in every block delivered from now on (durable when it resolves). */
  async watchTxids(txids: readonly string[], owner: string): Promise<void> {
    txids.forEach(checkTxid);
    const ops: KvOp[] = [];
    for (const txid of new Set(txids)) {
      const owners = this.txs.get(txid) ?? new Set<string>();
      if (owners.has(owner)) continue;
      const next = new Set(owners).add(owner);
      this.txs.set(txid, next);
      ops.push(this.watchOp(`tx:${txid}`, next));
    }
    if (!ops.length) return;
    this.countUnconfirmed();
    await this.kv.write(ops);
  }

  /** Starts looking for spends of these outputs in every block delivered from now on (durable when it resolves). */
  async watchOutpoints(outpoints: readonly Outpoint[], owner: string): Promise<void> {
    outpoints.forEach(checkOutpoint);
    const ops: KvOp[] = [];
    for (const o of outpoints) {
      const key = outKey(o);
      const owners = this.outs.get(key) ?? new Set<string>();
      if (owners.has(owner)) continue;
      const next = new Set(owners).add(owner);
      this.addOut(o, next);
      ops.push(this.watchOp(`out:${key}`, next));
    }
    if (ops.length) await this.kv.write(ops);
  }

  /**
   * Stops watching for `owner`: the given txids and outpoints, or everything it watches when neither
   * is given. An item no owner watches any more is forgotten with what was found of it.
   */
  async unwatch(owner: string, items: { txids?: readonly string[]; outpoints?: readonly Outpoint[] } = {}): Promise<void> {
    const all = items.txids === undefined && items.outpoints === undefined;
    const txids = all ? [...this.txs.keys()] : (items.txids ?? []);
    const outs = all ? [...this.outs.keys()] : (items.outpoints ?? []).map(outKey);
    const ops: KvOp[] = [];
    for (const txid of txids) {
      const owners = this.txs.get(txid);
      if (!owners?.has(owner)) continue;
      const next = new Set(owners);
      next.delete(owner);
      if (next.size) {
        this.txs.set(txid, next);
        ops.push(this.watchOp(`tx:${txid}`, next));
      } else {
        this.txs.delete(txid);
        this.confirmedAt.delete(txid);
        ops.push({ type: 'delete', ns: WATCH_NS, key: `tx:${txid}` }, { type: 'delete', ns: MATCH_NS, key: `tx:${txid}` });
      }
    }
    for (const key of outs) {
      const owners = this.outs.get(key);
      if (!owners?.has(owner)) continue;
      const next = new Set(owners);
      next.delete(owner);
      if (next.size) {
        this.outs.set(key, next);
        ops.push(this.watchOp(`out:${key}`, next));
      } else {
        this.outs.delete(key);
        this.removeOut(parseOutpoint(key));
        this.spends.delete(key);
        ops.push({ type: 'delete', ns: WATCH_NS, key: `out:${key}` }, { type: 'delete', ns: MATCH_NS, key: `out:${key}` });
      }
    }
    if (!ops.length) return;
    this.countUnconfirmed();
    await this.kv.write(ops);
  }

  /** The watched txids and outpoints, with their owners. */
  watched(): { txids: { txid: string; owners: string[] }[]; outpoints: { outpoint: Outpoint; owners: string[] }[] } {
    return {
      txids: [...this.txs].map(([txid, owners]) => ({ txid, owners: [...owners] })),
      outpoints: [...this.outs].map(([key, owners]) => ({ outpoint: parseOutpoint(key), owners: [...owners] })),
    };
  }

  /** The owners of a watched outpoint (empty when it is not watched). */
  ownersOf(o: Outpoint): string[] {
    return [...(this.outs.get(outKey(o)) ?? [])];
  }

  /** Where a watched transaction was confirmed, if it is in the chain we follow. */
  location(txid: string): TxLocation | undefined {
    const at = this.confirmedAt.get(txid);
    return at && { ...at };
  }

  /** Confirmations of a watched transaction at `tipHeight`: 0 when not found (yet). */
  confirmations(txid: string, tipHeight: number): number {
    const at = this.confirmedAt.get(txid);
    return at && tipHeight >= at.height ? tipHeight - at.height + 1 : 0;
  }

  /** The spend of a watched output, if one is in the chain we follow. */
  spend(o: Outpoint): OutpointSpend | undefined {
    const s = this.spends.get(outKey(o));
    return s && { ...s, outpoint: { ...s.outpoint } };
  }

  /**
   * Calls `fn` for every delivered block that confirmed a watched transaction or spent a watched
   * output, and for every disconnected block that had; awaited in block order, after the block's
   * matches are durable. A listener that throws is reported and the others still hear. Returns the
   * function that unsubscribes.
   */
  subscribe(fn: MatchListener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Matches a delivered block (or forgets a disconnected one's matches); resolves once that is durable. */
  async onChainEvent(e: ChainEvent): Promise<void> {
    const m = e.type === 'connected' ? this.match(e.hash, e.height, e.block.transactions ?? []) : this.forget(e.hash, e.height);
    if (!m.confirmed.length && !m.spent.length) return;
    const ops: KvOp[] = [];
    if (m.type === 'connected') {
      for (const c of m.confirmed) ops.push({ type: 'put', ns: MATCH_NS, key: `tx:${c.txid}`, value: kvJson.encode({ v: RECORD_VERSION, blockHash: c.blockHash, height: c.height, index: c.index }) });
      for (const s of m.spent) ops.push({ type: 'put', ns: MATCH_NS, key: `out:${outKey(s.outpoint)}`, value: kvJson.encode({ v: RECORD_VERSION, txid: s.txid, input: s.input, rawTx: s.rawTx, blockHash: s.blockHash, height: s.height, index: s.index }) });
    } else {
      for (const c of m.confirmed) ops.push({ type: 'delete', ns: MATCH_NS, key: `tx:${c.txid}` });
      for (const s of m.spent) ops.push({ type: 'delete', ns: MATCH_NS, key: `out:${outKey(s.outpoint)}` });
    }
    // Memory follows the store only once the write is durable (a failed write leaves both as before).
    await this.kv.write(ops);
    if (m.type === 'connected') {
      for (const c of m.confirmed) this.confirmedAt.set(c.txid, { blockHash: c.blockHash, height: c.height, index: c.index });
      for (const s of m.spent) this.spends.set(outKey(s.outpoint), s);
    } else {
      for (const c of m.confirmed) this.confirmedAt.delete(c.txid);
      for (const s of m.spent) this.spends.delete(outKey(s.outpoint));
    }
    this.countUnconfirmed();
    for (const fn of [...this.listeners]) {
      try {
        await fn(m);
      } catch (err) {
        this.opts.warn?.(`a chain watch subscriber failed on block ${m.block.height} (${m.block.hash}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** What a block confirms and spends of the watched items; changes nothing. */
  private match(hash: string, height: number, txs: readonly Transaction[]): BlockMatches {
    const confirmed: TxConfirmation[] = [];
    const spent: OutpointSpend[] = [];
    const lookForTxids = this.unconfirmed > 0;
    const lookForSpends = this.byInput.size > 0;
    for (let index = 0; index < txs.length; index++) {
      const tx = txs[index]!;
      let txid: string | undefined;
      if (lookForTxids) {
        txid = tx.getId();
        if (this.txs.has(txid) && !this.confirmedAt.has(txid)) confirmed.push({ txid, blockHash: hash, height, index });
      }
      if (!lookForSpends || index === 0) continue; // a coinbase spends nothing
      const ins = tx.ins;
      for (let input = 0; input < ins.length; input++) {
        const { hash: prev, index: vout } = ins[input]!;
        if (!this.prefixes.has(prefixOf(prev))) continue;
        const o = this.byInput.get(inputKey(prev, vout));
        if (!o || this.spends.has(outKey(o))) continue;
        txid ??= tx.getId();
        spent.push({ outpoint: { ...o }, txid, input, rawTx: tx.toHex(), blockHash: hash, height, index });
      }
    }
    return { type: 'connected', block: { hash, height }, confirmed, spent };
  }

  /** What a disconnected block had recorded; changes nothing. */
  private forget(hash: string, height: number): BlockMatches {
    const confirmed = [...this.confirmedAt].filter(([, at]) => at.blockHash === hash).map(([txid, at]) => ({ txid, ...at }));
    const spent = [...this.spends.values()].filter((s) => s.blockHash === hash);
    return { type: 'disconnected', block: { hash, height }, confirmed, spent };
  }

  private addOut(o: Outpoint, owners: Set<string>): void {
    const fresh = !this.outs.has(outKey(o));
    this.outs.set(outKey(o), owners);
    if (!fresh) return;
    this.byInput.set(outpointInputKey(o), { txid: o.txid, vout: o.vout });
    const p = outpointPrefix(o);
    this.prefixes.set(p, (this.prefixes.get(p) ?? 0) + 1);
  }

  private removeOut(o: Outpoint): void {
    this.byInput.delete(outpointInputKey(o));
    const p = outpointPrefix(o);
    const n = (this.prefixes.get(p) ?? 1) - 1;
    if (n > 0) this.prefixes.set(p, n);
    else this.prefixes.delete(p);
  }

  private countUnconfirmed(): void {
    let n = 0;
    for (const txid of this.txs.keys()) if (!this.confirmedAt.has(txid)) n++;
    this.unconfirmed = n;
  }

  private watchOp(key: string, owners: Set<string>): KvOp {
    return { type: 'put', ns: WATCH_NS, key, value: kvJson.encode({ v: RECORD_VERSION, owners: [...owners].sort() }) };
  }
}

function decode<T>(kv: KvStore, ns: string, key: string, value: Uint8Array): T & { v: number } {
  const rec = kvJson.decode<T & { v: number }>(value, `the chain watch record ${ns}/${key} in ${kv.location}`);
  if (!rec || typeof rec !== 'object') throw corrupt(kv, `${ns}/${key}`);
  if (rec.v !== RECORD_VERSION) {
    throw new StoreError('newer_version', kv.location, `the chain watch record ${ns}/${key} in ${kv.location} has version ${String(rec.v)}, which this Coulomb does not know: it was written by a newer Coulomb; run that version`);
  }
  return rec;
}

function corrupt(kv: KvStore, record: string): StoreError {
  return new StoreError('corrupt', kv.location, `the chain watch record ${record} in ${kv.location} is damaged: restore the data directory from a backup`);
}

/**
 * `txwatch.json` (the watched txids and where each was found, without owners) into the KvStore, once.
 * Its txids get the owner tag UNKNOWN_OWNER; the channels register theirs again at start.
 */
async function migrateTxWatchJson(kv: KvStore, dir: string, warn?: (message: string) => void): Promise<void> {
  await migrateJsonStore<TxWatchJson>(kv, {
    dir,
    name: 'txwatch',
    version: 1,
    migrations: [],
    validate: (d) => {
      const o = d as Partial<TxWatchJson> | null;
      if (!o || typeof o !== 'object' || !o.watched || typeof o.watched !== 'object') return 'it does not hold a list of watched transactions';
      for (const [txid, at] of Object.entries(o.watched)) {
        if (!HEX64.test(txid)) return `${JSON.stringify(txid)} in it is not a txid`;
        if (at !== null && (typeof at !== 'object' || typeof at.blockHash !== 'string' || !Number.isSafeInteger(at.height) || !Number.isSafeInteger(at.index))) return `where ${txid} was found is not a block position`;
      }
      return undefined;
    },
    toOps: (data) =>
      Object.entries(data.watched).flatMap(([txid, at]): KvOp[] => [
        { type: 'put', ns: WATCH_NS, key: `tx:${txid}`, value: kvJson.encode({ v: RECORD_VERSION, owners: [UNKNOWN_OWNER] }) },
        ...(at ? [{ type: 'put' as const, ns: MATCH_NS, key: `tx:${txid}`, value: kvJson.encode({ v: RECORD_VERSION, blockHash: at.blockHash, height: at.height, index: at.index }) }] : []),
      ]),
    ...(warn ? { warn } : {}),
  });
}
