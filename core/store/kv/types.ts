/**
 * The node's storage interface: small keyed records in namespaces, atomic multi-record writes, and
 * ordered range reads — shaped by what a Lightning node writes (LDK's KVStore has the same shape).
 *
 * Backends: `embedded` (files in the data directory, the default), `postgres` (for servers), and
 * `memory` (tests). Every backend passes the same conformance suite (test/unit/store/kv-suite.ts).
 *
 * Contract
 * - Namespaces are lower-case names (`channels`, `htlc-onions`, `payments`, …): `[a-z0-9][a-z0-9-]{0,63}`.
 * - Keys are printable ASCII (0x21–0x7e), 1 to 512 characters, and sort by their bytes (as
 *   PostgreSQL's "C" collation does): callers that page by number write fixed-width keys
 *   (`kvIndexKey(42)` → `000000000042`).
 * - Values are bytes (callers encode; `kvJson` helps), up to 16 MiB each.
 * - `write(ops)` applies its operations atomically: after a crash either all of them are there or none.
 *   It resolves once they are durable. Writes are committed in call order: once a write has resolved,
 *   every write called before it is durable too. Writes called while a commit is on its way to disk
 *   are committed together with one sync (group commit), so many payments in flight do not cost one
 *   fsync each.
 * - `write(ops, { durable: false })` is for what a crash may lose harmlessly (it is recomputed): it
 *   resolves once applied, and reaches disk with the next durable write, `flush()` or `close()`, or on
 *   its own within a second.
 * - Reads see every write that was called before them (resolved or not).
 * - One writer per store: a second open of the same store (another process, or this one) is refused
 *   with `StoreError('locked')`, before it changes anything.
 * - A store that fails to write takes no more writes (`StoreError('write_failed')`): what reached the
 *   disk is unknown until it is reopened.
 */
import { StoreError } from '../errors.ts';

export type KvOp = { type: 'put'; ns: string; key: string; value: Uint8Array } | { type: 'delete'; ns: string; key: string };

export interface KvRange {
  /** Keys >= this. */
  gte?: string;
  /** Keys > this. */
  gt?: string;
  /** Keys < this. */
  lt?: string;
  /** Keys <= this. */
  lte?: string;
  /** Keys that start with this (combines with the bounds above). */
  prefix?: string;
  /** Newest (largest key) first. */
  reverse?: boolean;
  /** At most this many records. */
  limit?: number;
}

export interface KvRecord {
  key: string;
  value: Uint8Array;
}

export interface KvStore {
  /** Which backend: `embedded`, `postgres` or `memory`. */
  readonly backend: 'embedded' | 'postgres' | 'memory';
  /** Where the data lives, for messages: a file path, or a database without its password. */
  readonly location: string;
  get(ns: string, key: string): Promise<Uint8Array | undefined>;
  /** Records of a namespace in key order (or reverse), within the bounds. */
  range(ns: string, r?: KvRange): Promise<KvRecord[]>;
  /** How many records a namespace holds (within the bounds). */
  count(ns: string, r?: KvRange): Promise<number>;
  write(ops: readonly KvOp[], opts?: { durable?: boolean }): Promise<void>;
  /** How many commits reached durable storage since open (group commit makes this fewer than writes). */
  readonly syncs: number;
  /** Resolves once every write called so far is durable. */
  flush(): Promise<void>;
  /** Flushes, then releases the store; further calls fail with StoreError('closed'). */
  close(): Promise<void>;
  /**
   * Calls `fn` once, soon after the store stops taking writes (StoreError('write_failed'): a disk that
   * refused a write, a database connection lost), even when no write is under way — or at once if it
   * already has. A node stops there: its state in memory may be ahead of what is stored.
   */
  onFailure(fn: (e: StoreError) => void): void;
}

const NS = /^[a-z0-9][a-z0-9-]{0,63}$/;
const KEY = /^[\x21-\x7e]{1,512}$/;
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** Throws a RangeError (a programming error, not a storage failure) for a bad namespace, key or value. */
export function checkOp(op: KvOp): void {
  checkNsKey(op.ns, op.key);
  if (op.type === 'put') {
    if (!(op.value instanceof Uint8Array)) throw new RangeError(`value for ${op.ns}/${op.key} must be bytes`);
    if (op.value.length > MAX_VALUE_BYTES) throw new RangeError(`value for ${op.ns}/${op.key} is ${op.value.length} bytes, over ${MAX_VALUE_BYTES}`);
  } else if (op.type !== 'delete') {
    throw new RangeError(`unknown store operation ${String((op as { type: unknown }).type)}`);
  }
}

export function checkNs(ns: string): void {
  if (!NS.test(ns)) throw new RangeError(`store namespace ${JSON.stringify(ns)} must match ${NS.source}`);
}

export function checkNsKey(ns: string, key: string): void {
  checkNs(ns);
  if (!KEY.test(key)) throw new RangeError(`store key ${JSON.stringify(key)} in ${ns} must be 1-512 printable ASCII characters`);
}

/** Whether `key` lies within the range's bounds and prefix (ignores limit and order). */
export function inRange(key: string, r: KvRange | undefined): boolean {
  if (!r) return true;
  if (r.gte !== undefined && key < r.gte) return false;
  if (r.gt !== undefined && key <= r.gt) return false;
  if (r.lt !== undefined && key >= r.lt) return false;
  if (r.lte !== undefined && key > r.lte) return false;
  if (r.prefix !== undefined && !key.startsWith(r.prefix)) return false;
  return true;
}

/** A fixed-width decimal key, so numbered records sort in number order. */
export function kvIndexKey(n: number | bigint): string {
  const s = n.toString();
  if (s.startsWith('-') || s.length > 20) throw new RangeError(`index ${s} out of range`);
  return s.padStart(20, '0');
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** JSON values in a store: bigint is written as `{"$n":"123"}` and read back as bigint, Uint8Array as `{"$b":"hex"}`. */
export const kvJson = {
  encode(value: unknown): Uint8Array {
    return enc.encode(
      JSON.stringify(value, (_k, v: unknown) => {
        if (typeof v === 'bigint') return { $n: v.toString() };
        if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('hex') };
        return v;
      }),
    );
  },
  decode<T>(bytes: Uint8Array, where = 'a store record'): T {
    try {
      return JSON.parse(dec.decode(bytes), (_k, v: unknown) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const o = v as Record<string, unknown>;
          const keys = Object.keys(o);
          if (keys.length === 1 && typeof o.$n === 'string') return BigInt(o.$n);
          if (keys.length === 1 && typeof o.$b === 'string') return Uint8Array.from(Buffer.from(o.$b, 'hex'));
        }
        return v;
      }) as T;
    } catch (e) {
      throw new StoreError('corrupt', where, `${where} is damaged (not readable JSON): restore the data directory from a backup`, { cause: e });
    }
  },
};

/**
 * Which backend a node's KvStore uses: `embedded` (the default) keeps files under `dir` (the data
 * directory's `store/`); `postgres` connects to `dsn` (`--db.backend postgres --db.postgres.dsn …`).
 * `core/store/kv/open.ts` opens either.
 */
/** `queryTimeoutMs`: how long a PostgreSQL query may go unanswered before the server counts as unreachable (default 30 s). */
export type KvBackendConfig = { backend: 'embedded'; dir: string } | { backend: 'postgres'; dsn: string; queryTimeoutMs?: number };

/** A backend's side of `KvStore.onFailure`: each listener called once, outside the failing call, with the store's first failure. */
export class FailureNotice {
  private failure: StoreError | undefined;
  private readonly listeners: ((e: StoreError) => void)[] = [];

  listen(fn: (e: StoreError) => void): void {
    const failure = this.failure;
    if (failure) setImmediate(() => fn(failure));
    else this.listeners.push(fn);
  }

  fire(e: StoreError): void {
    if (this.failure) return;
    this.failure = e;
    for (const fn of this.listeners.splice(0)) setImmediate(() => fn(e));
  }
}
