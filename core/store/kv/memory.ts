/**
 * The storage interface in memory, for tests: the contract's semantics (atomic writes, ordered reads,
 * one open per name) without a disk. A crash loses everything, so nothing real runs on it.
 */
import { StoreError } from '../errors.ts';
import { FailureNotice, checkNs, checkOp, inRange } from './types.ts';
import type { KvOp, KvRange, KvRecord, KvStore } from './types.ts';

const open = new Set<string>();

export class MemoryKvStore implements KvStore {
  readonly backend = 'memory' as const;
  private readonly data = new Map<string, Map<string, Uint8Array>>();
  private closed = false;
  private failure: StoreError | undefined;
  private readonly failed = new FailureNotice();
  /** Counts commits, as the disk backends count syncs. */
  syncs = 0;

  private constructor(readonly location: string) {}

  /** `name` distinguishes stores; a second open of a name still open is refused, as on disk. */
  static open(name = `memory-${Math.random().toString(36).slice(2)}`): MemoryKvStore {
    if (open.has(name)) throw new StoreError('locked', name, `${name} is already open`);
    open.add(name);
    return new MemoryKvStore(name);
  }

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    await Promise.resolve();
    this.check();
    checkNs(ns);
    const v = this.data.get(ns)?.get(key);
    return v && Uint8Array.from(v);
  }

  async range(ns: string, r?: KvRange): Promise<KvRecord[]> {
    await Promise.resolve();
    this.check();
    checkNs(ns);
    const keys = [...(this.data.get(ns)?.keys() ?? [])].filter((k) => inRange(k, r)).sort();
    if (r?.reverse) keys.reverse();
    const picked = r?.limit !== undefined ? keys.slice(0, r.limit) : keys;
    return picked.map((key) => ({ key, value: Uint8Array.from(this.data.get(ns)!.get(key)!) }));
  }

  async count(ns: string, r?: KvRange): Promise<number> {
    return (await this.range(ns, r ? { ...r, limit: undefined } : undefined)).length;
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    this.check();
    for (const op of ops) checkOp(op);
    if (this.failure) throw this.failure;
    this.syncs++;
    for (const op of ops) {
      let m = this.data.get(op.ns);
      if (!m) this.data.set(op.ns, (m = new Map()));
      if (op.type === 'put') m.set(op.key, Uint8Array.from(op.value));
      else m.delete(op.key);
    }
  }

  async flush(): Promise<void> {
    await Promise.resolve();
    this.check();
    if (this.failure) throw this.failure;
  }

  onFailure(fn: (e: StoreError) => void): void {
    this.failed.listen(fn);
  }

  /** For tests: from now on every write fails, as a disk or a database connection lost would make it. */
  failWrites(why: string): void {
    this.failure ??= new StoreError('write_failed', this.location, `${this.location} takes no more writes (${why})`);
    this.failed.fire(this.failure);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      open.delete(this.location);
    }
    return Promise.resolve();
  }

  private check(): void {
    if (this.closed) throw new StoreError('closed', this.location, `${this.location} is closed`);
  }
}
