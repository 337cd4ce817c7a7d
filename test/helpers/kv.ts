/** Storage helpers for tests: a KvStore that shows what went through it, and the backends a move is tested on. */
import { join } from 'node:path';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import type { KvOp, KvRange, KvRecord, KvStore } from '../../core/store/kv/types.ts';

/** A KvStore that counts the records its reads hand back and records the writes made through it. */
export class WatchedKvStore implements KvStore {
  returned = 0;
  writes: { ops: readonly KvOp[]; durable: boolean }[] = [];
  constructor(private readonly inner: KvStore) {}
  get backend() {
    return this.inner.backend;
  }
  get location() {
    return this.inner.location;
  }
  get syncs() {
    return this.inner.syncs;
  }
  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    const v = await this.inner.get(ns, key);
    if (v) this.returned++;
    return v;
  }
  async range(ns: string, r?: KvRange): Promise<KvRecord[]> {
    const recs = await this.inner.range(ns, r);
    this.returned += recs.length;
    return recs;
  }
  count(ns: string, r?: KvRange): Promise<number> {
    return this.inner.count(ns, r);
  }
  write(ops: readonly KvOp[], opts?: { durable?: boolean }): Promise<void> {
    this.writes.push({ ops, durable: opts?.durable !== false });
    return this.inner.write(ops, opts);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  onFailure(fn: Parameters<KvStore['onFailure']>[0]): void {
    this.inner.onFailure(fn);
  }
}

/** The backends a store's move and records are tested on: in memory, and the embedded one under `dir`. */
export const kvBackends: { name: string; open: (dir: string) => Promise<KvStore> }[] = [
  { name: 'memory', open: async () => MemoryKvStore.open() },
  { name: 'embedded', open: (dir) => openKvStore({ backend: 'embedded', dir: join(dir, 'store') }, { log: () => undefined }) },
];
