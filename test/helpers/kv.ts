/** Storage helpers for tests: a KvStore that shows what went through it, and the backends every store test runs on. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import type { KvBackendConfig, KvOp, KvRange, KvRecord, KvStore } from '../../core/store/kv/types.ts';
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

export type KvBackendName = 'memory' | 'embedded' | 'postgres';

export interface KvBackend {
  name: KvBackendName;
  /** The store for `dir`: the same records each time it is opened again for the same `dir` (memory: a new, empty one). */
  open: (dir: string) => Promise<KvStore>;
  /** Whether opening `dir` again gives back what was written, as after a restart (not in memory). */
  persistent: boolean;
  /** How a node is configured to use the store of `dir` (NodeConfig.db, `--db.*`); none in memory. */
  config?: (dir: string) => Promise<KvBackendConfig>;
  /** Why this backend cannot be tested on this machine. */
  skip?: string;
  /** Readies what the backend needs (a server), before its first open. */
  prepare?: () => Promise<void>;
}

const postgres = findPostgres();
/**
 * One private PostgreSQL server per test file, started on first use (test/helpers/postgres.ts), with
 * one database, and a schema of it per `dir` (Coulomb keeps its tables in the DSN's search_path):
 * a schema is made in milliseconds, a database in half a second.
 */
let cluster: Promise<{ pg: PgCluster; dsn: string }> | undefined;
const schemas = new Map<string, string>();

function pgCluster(): Promise<{ pg: PgCluster; dsn: string }> {
  if ('reason' in postgres) throw new Error(postgres.reason);
  cluster ??= (async () => {
    const pg = await startPostgres(postgres.bindir);
    return { pg, dsn: await pg.createDatabase(`kv${process.pid}`) };
  })();
  return cluster;
}

/** The file's PostgreSQL server (started on first use), for a test that needs the server itself (to stop it, or a database of its own). */
export async function kvPostgres(): Promise<PgCluster> {
  return (await pgCluster()).pg;
}

/** The DSN of the PostgreSQL store for `dir`: the same for the same `dir`, a new empty schema otherwise. */
async function pgDsn(dir: string): Promise<string> {
  const { pg, dsn } = await pgCluster();
  let schema = schemas.get(dir);
  if (!schema) {
    schema = `s${schemas.size}`;
    await pg.sql(`CREATE SCHEMA ${schema}`, [], dsn.slice(dsn.lastIndexOf('/') + 1));
    schemas.set(dir, schema);
  }
  return `${dsn}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** Stops the PostgreSQL server the backends started, if any (describeEachKvBackend does it after the file). */
export async function stopKvBackends(): Promise<void> {
  const c = cluster;
  cluster = undefined;
  schemas.clear();
  if (c) await (await c).pg.destroy();
}

const quiet = { log: () => undefined };

/**
 * The backends a store's records are tested on: in memory, the embedded one under `dir`, and a schema
 * of a private PostgreSQL server's database (skipped, with the reason, where PostgreSQL is missing).
 */
export const kvBackends: KvBackend[] = [
  { name: 'memory', persistent: false, open: async () => MemoryKvStore.open() },
  {
    name: 'embedded',
    persistent: true,
    config: (dir) => Promise.resolve({ backend: 'embedded', dir: join(dir, 'store') }),
    open: (dir) => openKvStore({ backend: 'embedded', dir: join(dir, 'store') }, quiet),
  },
  {
    name: 'postgres',
    persistent: true,
    ...('reason' in postgres ? { skip: `${postgres.reason}; install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR` } : {}),
    prepare: async () => void (await pgCluster()),
    config: async (dir) => ({ backend: 'postgres', dsn: await pgDsn(dir) }),
    open: async (dir) => openKvStore({ backend: 'postgres', dsn: await pgDsn(dir) }, quiet),
  },
];

/**
 * One suite per backend of kvBackends (or of `opts.backends`), `$name` in the title standing for the
 * backend's name. A backend that cannot run here is skipped with the reason in the suite's title; a
 * PostgreSQL server started for the suites is stopped after the file.
 */
export function describeEachKvBackend(title: string, fn: (backend: KvBackend) => void, opts: { backends?: readonly KvBackendName[] } = {}): void {
  afterAll(stopKvBackends);
  for (const b of kvBackends) {
    if (opts.backends && !opts.backends.includes(b.name)) continue;
    const name = title.replaceAll('$name', b.name);
    if (b.skip) console.log(`Skipping "${name}": ${b.skip}.`);
    describe.skipIf(b.skip !== undefined)(b.skip === undefined ? name : `${name} (skipped: ${b.skip})`, () => {
      if (b.prepare) beforeAll(b.prepare, 120_000);
      fn(b);
    });
  }
}
