/** Storage helpers for tests: a KvStore that shows what went through it, and the backends a move is tested on. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import type { KvOp, KvRange, KvRecord, KvStore } from '../../core/store/kv/types.ts';
import { findPostgres, startPostgres } from './postgres.ts';
import type { PgCluster } from './postgres.ts';

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

export interface KvBackend {
  name: string;
  /** The store for `dir`: the same records each time it is opened again for the same `dir` (memory: a new, empty one). */
  open: (dir: string) => Promise<KvStore>;
  /** Why this backend cannot be tested on this machine. */
  skip?: string;
  /** Readies what the backend needs (a server), before its first open. */
  prepare?: () => Promise<void>;
}

const postgres = findPostgres();
/** One private PostgreSQL server per test file, started on first use (test/helpers/postgres.ts), and a database per `dir`. */
let cluster: Promise<PgCluster> | undefined;
const databases = new Map<string, string>();

function pgCluster(): Promise<PgCluster> {
  if ('reason' in postgres) throw new Error(postgres.reason);
  cluster ??= startPostgres(postgres.bindir);
  return cluster;
}

/** Stops the PostgreSQL server the backends started, if any (describeEachKvBackend does it after the file). */
export async function stopKvBackends(): Promise<void> {
  const c = cluster;
  cluster = undefined;
  databases.clear();
  if (c) await (await c).destroy();
}

/**
 * The backends a store's move and records are tested on: in memory, the embedded one under `dir`, and
 * a database of a private PostgreSQL server (skipped, with the reason, where PostgreSQL is missing).
 */
export const kvBackends: KvBackend[] = [
  { name: 'memory', open: async () => MemoryKvStore.open() },
  { name: 'embedded', open: (dir) => openKvStore({ backend: 'embedded', dir: join(dir, 'store') }, { log: () => undefined }) },
  {
    name: 'postgres',
    ...('reason' in postgres ? { skip: `${postgres.reason}; install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR` } : {}),
    prepare: async () => void (await pgCluster()),
    async open(dir) {
      const pg = await pgCluster();
      let dsn = databases.get(dir);
      if (!dsn) {
        dsn = await pg.createDatabase(`kv${process.pid}x${databases.size}`);
        databases.set(dir, dsn);
      }
      return openKvStore({ backend: 'postgres', dsn }, { log: () => undefined });
    },
  },
];

/**
 * One suite per backend of kvBackends, `$name` in the title standing for the backend's name. A backend
 * that cannot run here is skipped with the reason in the suite's title; a PostgreSQL server started
 * for the suites is stopped after the file.
 */
export function describeEachKvBackend(title: string, fn: (backend: KvBackend) => void): void {
  afterAll(stopKvBackends);
  for (const b of kvBackends) {
    const name = title.replaceAll('$name', b.name);
    if (b.skip) console.log(`Skipping "${name}": ${b.skip}.`);
    describe.skipIf(b.skip !== undefined)(b.skip === undefined ? name : `${name} (skipped: ${b.skip})`, () => {
      if (b.prepare) beforeAll(b.prepare, 120_000);
      fn(b);
    });
  }
}
