/**
 * The PostgreSQL backend (core/store/kv/postgres.ts) on a private server started for this file
 * (test/helpers/postgres.ts): the storage contract, one database per store; one writer per database;
 * what a person reads when the server is unreachable or the schema is newer; group commit; a lost
 * connection; and crashes — the server SIGKILLed mid-burst, and the writing process SIGKILLed
 * mid-burst — after which every acknowledged write is there and every write is whole or absent.
 *
 * Needs PostgreSQL's server programs (Debian: apt-get install postgresql); skipped with the reason
 * otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PostgresKvStore, PG_SCHEMA_VERSION, pgLocation } from '../../../core/store/kv/postgres.ts';
import { StoreError } from '../../../core/store/errors.ts';
import { kvIndexKey } from '../../../core/store/kv/types.ts';
import { openKvStore } from '../../../core/store/kv/open.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { VERSION } from '../../../core/version.ts';
import { findPostgres, startPostgres, PG_PASSWORD, PG_USER } from '../../helpers/postgres.ts';
import type { PgCluster } from '../../helpers/postgres.ts';
import { REPO, waitFor } from '../../helpers/daemon.ts';
import { kvConformance } from './kv-suite.ts';
import { PARTS, burstOps, burstValue } from './pg-burst.ts';

const found = findPostgres();
const skipReason = 'reason' in found ? found.reason : undefined;
if (skipReason) {
  console.log(`Skipping the PostgreSQL store tests (test/unit/store/kv-postgres.test.ts): ${skipReason}. To run them, install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR.`);
}

const WRITER = fileURLToPath(new URL('./pg-writer.ts', import.meta.url));
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const put = (ns: string, key: string, value: string) => ({ type: 'put' as const, ns, key, value: new TextEncoder().encode(value) });

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

describe.skipIf(skipReason !== undefined)('PostgreSQL store', () => {
  let pg: PgCluster;
  const databases = new Set<string>();
  let dbCount = 0;
  const freshDb = async (): Promise<string> => pg.createDatabase(`t${process.pid}x${dbCount++}`);

  beforeAll(async () => {
    pg = await startPostgres((found as { bindir: string }).bindir);
    console.log(`PostgreSQL store tests on ${pg.version}`);
  }, 120_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  kvConformance('postgres', {
    persistent: true,
    async open(name) {
      if (!databases.has(name)) {
        await pg.createDatabase(name);
        databases.add(name);
      }
      return PostgresKvStore.open(pg.dsn(name));
    },
  });

  it('creates its schema in a new database, and never shows the password where it names the database', async () => {
    const dsn = await freshDb();
    const db = dsn.slice(dsn.lastIndexOf('/') + 1);
    const store = await PostgresKvStore.open(`${dsn}?application_name=shop&sslpassword=other-secret`);
    try {
      expect(store.backend).toBe('postgres');
      expect(store.location).toBe(`postgres://${PG_USER}@127.0.0.1:${pg.port}/${db}?application_name=shop`);
      expect(store.location).not.toContain(PG_PASSWORD);
      expect(await pg.sql('SELECT version, written_by FROM coulomb_kv_schema', [], db)).toEqual([{ version: PG_SCHEMA_VERSION, written_by: VERSION }]);
      // Keys compare by their bytes in the table itself, whatever the database's collation.
      expect(await pg.sql("SELECT collation_name FROM information_schema.columns WHERE table_name = 'coulomb_kv' AND column_name = 'key'", [], db)).toEqual([{ collation_name: 'C' }]);
    } finally {
      await store.close();
    }
    expect(pgLocation(`postgres://u:p%40ss@db.example:6432/shop?password=again`)).toBe('postgres://u@db.example:6432/shop');
    expect(() => pgLocation('host=db.example password=secret')).toThrow(/postgres:\/\//);
    expect(() => pgLocation('host=db.example password=secret')).not.toThrow(/secret/);
  });

  it('opens through openKvStore as the node does, and says when the server\'s settings undo durability', async () => {
    const dsn = await freshDb();
    const notices: string[] = [];
    const store = await openKvStore({ backend: 'postgres', dsn }, { log: (m) => notices.push(m) });
    expect(store.backend).toBe('postgres');
    await store.close();
    expect(notices).toEqual([]);
    await pg.sql('ALTER SYSTEM SET full_page_writes = off');
    await pg.sql('SELECT pg_reload_conf()');
    try {
      // The reload reaches new sessions once the postmaster has read the file again.
      await waitFor('the server to run with full_page_writes off', async () => (await pg.sql<{ full_page_writes: string }>('SHOW full_page_writes'))[0]!.full_page_writes === 'off');
      const warned = await openKvStore({ backend: 'postgres', dsn }, { log: (m) => notices.push(m) });
      await warned.close();
      expect(notices).toEqual([expect.stringMatching(/^the PostgreSQL server at postgres:\/\/coulomb_test@127\.0\.0\.1:\d+\/\w+ runs with full_page_writes=off: a crash of that server or its machine can lose or damage what Coulomb was told is stored\. Set full_page_writes=on\.$/)]);
    } finally {
      await pg.sql('ALTER SYSTEM RESET full_page_writes');
      await pg.sql('SELECT pg_reload_conf()');
      await waitFor('the server to run with full_page_writes on again', async () => (await pg.sql<{ full_page_writes: string }>('SHOW full_page_writes'))[0]!.full_page_writes === 'on');
    }
  });

  it('refuses a second Coulomb on the same database, saying so, and lets two use one database through their own schemas', async () => {
    const dsn = await freshDb();
    const first = await PostgresKvStore.open(dsn);
    try {
      await first.write([put('channels', 'c', 'first')]);
      const e = await rejection(PostgresKvStore.open(dsn));
      expect(e.code).toBe('locked');
      expect(e.message).toMatch(/another Coulomb uses the PostgreSQL database at postgres:\/\/coulomb_test@127\.0\.0\.1:\d+\/\w+/);
      expect(e.message).toMatch(/Stop that node first/);
      expect(e.message).not.toContain(PG_PASSWORD);
      // The refused open changed nothing.
      expect(text(await first.get('channels', 'c'))).toBe('first');

      const db = dsn.slice(dsn.lastIndexOf('/') + 1);
      await pg.sql('CREATE SCHEMA shop_two', [], db);
      const second = await PostgresKvStore.open(`${dsn}?options=${encodeURIComponent('-c search_path=shop_two')}`);
      try {
        await second.write([put('channels', 'c', 'second')]);
        expect(text(await second.get('channels', 'c'))).toBe('second');
        expect(text(await first.get('channels', 'c'))).toBe('first');
        expect(await pg.sql('SELECT count(*)::int AS n FROM shop_two.coulomb_kv', [], db)).toEqual([{ n: 1 }]);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
    // Once the first has closed, the database is free again.
    await (await PostgresKvStore.open(dsn)).close();
  });

  it('says which server it cannot reach and what to do, without the password', async () => {
    const dsn = await freshDb();
    const db = dsn.slice(dsn.lastIndexOf('/') + 1);
    // Nothing listens on the port the server had before this one: find one by asking the OS.
    const { createServer } = await import('node:net');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const closedPort = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));

    const refused = await rejection(PostgresKvStore.open(`postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${closedPort}/${db}`));
    expect(refused.code).toBe('unreachable');
    expect(refused.file).toBe(`postgres://${PG_USER}@127.0.0.1:${closedPort}/${db}`);
    expect(refused.message).toContain(`postgres://${PG_USER}@127.0.0.1:${closedPort}/${db}`);
    expect(refused.message).toMatch(/connection refused.*check that the server is running/);

    const wrong = 'not-the-password-77';
    const login = await rejection(PostgresKvStore.open(pg.dsn(db, { password: wrong })));
    expect(login.code).toBe('unreachable');
    expect(login.message).toMatch(/refused the login.*password authentication failed.*check the user and password/);

    const none = await rejection(PostgresKvStore.open(pg.dsn(db, { password: null })));
    expect(none.code).toBe('unreachable');
    expect(none.message).toMatch(/asks for a password and none was given/);

    const missing = await rejection(PostgresKvStore.open(pg.dsn('no_such_db')));
    expect(missing.code).toBe('unreachable');
    expect(missing.message).toMatch(/database does not exist.*createdb/);

    for (const e of [refused, login, none, missing]) {
      expect(e.message).not.toContain(PG_PASSWORD);
      expect(e.message).not.toContain(wrong);
      expect(e.file).not.toContain(PG_PASSWORD);
      expect(e.file).not.toContain(wrong);
    }
  });

  it('refuses a schema newer than it knows, leaving it untouched', async () => {
    const dsn = await freshDb();
    const db = dsn.slice(dsn.lastIndexOf('/') + 1);
    const store = await PostgresKvStore.open(dsn);
    await store.write([put('payments', kvIndexKey(1), 'p1')]);
    await store.close();
    await pg.sql('UPDATE coulomb_kv_schema SET version = $1, written_by = $2', [PG_SCHEMA_VERSION + 1, '9.9.9'], db);
    const e = await rejection(PostgresKvStore.open(dsn));
    expect(e.code).toBe('newer_version');
    expect(e.message).toContain(`schema ${PG_SCHEMA_VERSION + 1} (written by Coulomb 9.9.9)`);
    expect(e.message).toContain(`this Coulomb ${VERSION} knows schemas up to ${PG_SCHEMA_VERSION}`);
    expect(e.message).toMatch(/Upgrade Coulomb/);
    expect(await pg.sql('SELECT version FROM coulomb_kv_schema', [], db)).toEqual([{ version: PG_SCHEMA_VERSION + 1 }]);
    expect(await pg.sql('SELECT count(*)::int AS n FROM coulomb_kv', [], db)).toEqual([{ n: 1 }]);
    // The refusal let go of the writer lock: an older schema again opens at once.
    await pg.sql('UPDATE coulomb_kv_schema SET version = $1', [PG_SCHEMA_VERSION], db);
    await (await PostgresKvStore.open(dsn)).close();
  });

  it('commits writes that arrive together in one transaction, and lazy writes without a sync until flushed', async () => {
    const store = await PostgresKvStore.open(await freshDb());
    try {
      const writes = 200;
      await Promise.all(Array.from({ length: writes }, (_, i) => store.write([put('payments', kvIndexKey(i), String(i)), put('channels', 'c', String(i))])));
      expect(await store.count('payments')).toBe(writes);
      expect(text(await store.get('channels', 'c'))).toBe(String(writes - 1));
      expect(store.syncs).toBeGreaterThan(0);
      expect(store.syncs).toBeLessThanOrEqual(writes / 4);

      const before = store.syncs;
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.write([put('wallet', 'scan-height', String(800 + i))], { durable: false })));
      expect(text(await store.get('wallet', 'scan-height'))).toBe('809');
      expect(store.syncs).toBe(before);
      await store.flush();
      expect(store.syncs).toBe(before + 1);
      // Nothing lazy left: another flush commits nothing.
      await store.flush();
      expect(store.syncs).toBe(before + 1);
    } finally {
      await store.close();
    }
  });

  it('fails writes once its connection is lost, never claiming them stored; reads go on, and a restart takes the lock again', async () => {
    const dsn = await freshDb();
    const db = dsn.slice(dsn.lastIndexOf('/') + 1);
    const store = await PostgresKvStore.open(dsn);
    try {
      await store.write([put('channels', 'c', 'kept')]);
      const killed = await pg.sql<{ ok: boolean }>(
        "SELECT pg_terminate_backend(l.pid) AS ok FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1",
        [db],
      );
      expect(killed).toEqual([{ ok: true }]);
      // Heard without any write under way: a node stops at once, not at its next write.
      const told = await new Promise<StoreError>((resolve) => store.onFailure(resolve));
      expect(told.code).toBe('write_failed');
      const e = await rejection(store.write([put('channels', 'c', 'lost')]));
      expect(e).toBe(told);
      expect(e.code).toBe('write_failed');
      expect(e.message).toMatch(/restart Coulomb once the server is reachable/);
      expect(e.message).not.toContain(PG_PASSWORD);
      // Every later write fails the same way, however it is asked.
      expect((await rejection(store.write([put('channels', 'd', 'x')], { durable: false }))).code).toBe('write_failed');
      expect(text(await store.get('channels', 'c'))).toBe('kept');
    } finally {
      await store.close();
    }
    const again = await PostgresKvStore.open(dsn);
    try {
      expect(text(await again.get('channels', 'c'))).toBe('kept');
      await again.write([put('channels', 'c', 'after')]);
    } finally {
      await again.close();
    }
  });

  describe('crashes mid-burst', () => {
    interface Writer {
      acked: Set<number>;
      lines: string[];
      exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
      kill(): void;
    }

    const startWriter = (dsn: string): Writer => {
      const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dsn], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      const w: Writer = {
        acked: new Set(),
        lines: [],
        exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
        kill: () => child.kill('SIGKILL'),
      };
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          w.lines.push(line);
          if (/^\d+$/.test(line)) w.acked.add(Number(line));
        }
      });
      return w;
    };

    /** Every write up to the last one applied is whole and none after it exists: the writes landed in call order, each whole or not at all. */
    const check = async (store: KvStore, acked: Set<number>): Promise<number> => {
      const last = Number(text(await store.get('burst-head', 'last')) ?? '-1');
      const records = await store.range('burst');
      expect(records.length).toBe(PARTS.length * (last + 1));
      for (let i = 0; i <= last; i++) {
        for (const [j, p] of PARTS.entries()) {
          const r = records[i * PARTS.length + j]!;
          expect(r.key).toBe(`${kvIndexKey(i)}-${p}`);
          expect(Buffer.compare(Buffer.from(r.value), Buffer.from(burstValue(i, p)))).toBe(0);
        }
      }
      for (const i of acked) expect(i).toBeLessThanOrEqual(last);
      return last;
    };

    it('loses no acknowledged write when the PostgreSQL server is SIGKILLed, and fails the writes it could not make', { timeout: 180_000 }, async () => {
      const dsn = await freshDb();
      const w = startWriter(dsn);
      await waitFor('the writer to have 300 writes acknowledged', () => w.acked.size >= 300, 60_000, 10);
      await pg.kill();
      const exit = await w.exited;
      // The writer was told its writes failed, with write_failed, and stopped: none pretended durable.
      expect(exit.code).toBe(3);
      expect(w.lines.filter((l) => l.startsWith('failed'))).toEqual(['failed write_failed']);
      await pg.start();
      const store = await PostgresKvStore.open(dsn);
      try {
        const last = await check(store, w.acked);
        const maxAcked = Math.max(...w.acked);
        console.log(`server crash: ${w.acked.size} writes acknowledged (last ${maxAcked}), ${last + 1} found after restart`);
        expect(w.acked.size).toBe(maxAcked + 1);
        // And the store goes on from there.
        await store.write(burstOps(last + 1));
        expect(await check(store, new Set([last + 1]))).toBe(last + 1);
      } finally {
        await store.close();
      }
    });

    it('loses no acknowledged write when the writing process is SIGKILLed, and the next open takes over', { timeout: 180_000 }, async () => {
      const dsn = await freshDb();
      const w = startWriter(dsn);
      await waitFor('the writer to have 300 writes acknowledged', () => w.acked.size >= 300, 60_000, 10);
      w.kill();
      expect((await w.exited).signal).toBe('SIGKILL');
      // Its lock ends when the server sees the connection close: wait for that, not a fixed time.
      const store = await waitFor(
        'the dead writer\'s lock to end',
        async () => {
          try {
            return await PostgresKvStore.open(dsn);
          } catch (e) {
            if (e instanceof StoreError && e.code === 'locked') return undefined;
            throw e;
          }
        },
        30_000,
        50,
      );
      try {
        const last = await check(store, w.acked);
        console.log(`writer crash: ${w.acked.size} writes acknowledged, ${last + 1} found after reopen`);
      } finally {
        await store.close();
      }
    });
  });
});
