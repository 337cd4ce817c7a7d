/**
 * The storage interface on a PostgreSQL server, for merchants and servers (`coulomb daemon --db.backend
 * postgres --db.postgres.dsn postgres://…`). Replication and backups are the server's own.
 *
 * Tables (in the first schema of the DSN's search_path, `public` by default):
 * - `coulomb_kv (ns, key COLLATE "C", value bytea, PRIMARY KEY (ns, key))`: the records; the "C"
 *   collation makes key order the contract's byte order.
 * - `coulomb_kv_schema (version, written_by)`: one row; created and migrated here at open. A version
 *   newer than this Coulomb knows is refused before anything is changed.
 *
 * One writer: the store holds a session-level advisory lock (keyed by the schema's name) on its own
 * connection for as long as it is open, and every write goes through that same connection, so no write
 * is ever made without the lock. A second Coulomb on the database is refused with StoreError('locked').
 *
 * Commits: each transaction is one SQL statement (deletes and upserts of the whole batch), committed
 * with synchronous_commit on, so it resolves once the server has made it durable (and, with
 * synchronous standbys configured, once they have it too). Writes called while a commit is in flight
 * wait and go together in the next transaction (group commit).
 *
 * `durable: false`: a batch of only such writes is committed with `synchronous_commit = off` for that
 * transaction: applied and visible at once, flushed by the server's WAL writer within three
 * wal_writer_delay (600 ms by default), and by the next durable commit or `flush()`, which flush the
 * WAL up to their own commit record and so everything committed before it.
 *
 * Reads wait until every write called before them has committed, then query on a small pool of other
 * connections (so a read made while a commit is in flight resolves after it).
 *
 * Lost connections: the writer never reconnects. If its connection ends (server restart, network,
 * pg_terminate_backend), its lock ends with it, the write in flight may or may not have committed,
 * and the store fails every write from then on with StoreError('write_failed'): restart the node,
 * which opens the store again (and takes the lock again) from what the server has. Reads reconnect
 * on their own.
 *
 * A server that stops answering (stopped, its machine gone, a network path that drops packets) is
 * given `queryTimeoutMs` (30 s by default) per query: the server cancels a statement of ours that runs
 * that long (statement_timeout), and the client gives up waiting a moment later in case the server
 * cannot. A write that times out fails the store with StoreError('unreachable') (whether it committed
 * is unknown, so it takes no more writes, as after a lost connection); a read rejects with the same.
 * An idle store would never notice a server that stopped answering (a frozen server keeps its
 * connections open): while no commit is under way the writer's connection is checked with `SELECT 1`
 * every half `queryTimeoutMs`, under the same timeout, so the store fails within about one and a half
 * times the timeout whether or not anything is written, and the node stops instead of running on
 * with a store it cannot write. A failed store's connections are dropped, not ended politely: a
 * frozen server would never answer the goodbye.
 */
import { Client, Pool } from 'pg';
import type { ClientConfig, DatabaseError, QueryConfig } from 'pg';
import { StoreError } from '../errors.ts';
import { VERSION } from '../../version.ts';
import { FailureNotice, checkNs, checkOp } from './types.ts';
import type { KvOp, KvRange, KvRecord, KvStore } from './types.ts';

/** The schema this Coulomb writes; older ones are migrated at open, newer ones refused. */
export const PG_SCHEMA_VERSION = 1;

/** Each step brings the schema from version i to i+1 (index 0: from nothing to 1). */
const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE coulomb_kv (
       ns text NOT NULL,
       key text COLLATE "C" NOT NULL,
       value bytea NOT NULL,
       PRIMARY KEY (ns, key)
     )`,
  ],
];

/** The advisory lock's first key ("Coul"); the second is a hash of the schema's name. */
const LOCK_CLASS = 0x436f756c;

const COMMIT_SQL = `WITH del AS (
    DELETE FROM coulomb_kv t USING unnest($1::text[], $2::text[]) AS d(ns, key)
     WHERE t.ns = d.ns AND t.key = d.key
  ), ins AS (
    INSERT INTO coulomb_kv (ns, key, value) SELECT * FROM unnest($3::text[], $4::text[], $5::bytea[])
    ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value
  )
  SELECT txid_current()::text AS xid`;
// txid_current() gives every transaction an id, so even a batch that changes nothing writes
// a commit record and flushes the WAL (and with it any `durable: false` commits before it).

/** How much a single transaction carries at most (one write is never split). */
const MAX_BATCH_BYTES = 32 * 1024 * 1024;

export interface PostgresOpenOptions {
  /** How long to wait for the server to answer a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Told about server settings that undo durability (fsync or full_page_writes off). */
  onWarning?: (message: string) => void;
  /** Read connections (default 4). */
  readConnections?: number;
  /** How long a query may go unanswered before the server counts as unreachable (default 30 s). */
  queryTimeoutMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/** How much longer than the server's own statement_timeout the client waits for an answer. */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

interface Pending {
  ops: KvOp[];
  durable: boolean;
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class PostgresKvStore implements KvStore {
  readonly backend = 'postgres' as const;
  syncs = 0;
  private queue: Pending[] = [];
  private committing = false;
  /** Settles once every write called so far has committed or failed. */
  private last: Promise<void> = Promise.resolve();
  /** A `durable: false` transaction was committed since the last durable one. */
  private lazyUnsynced = false;
  private failure: StoreError | undefined;
  private readonly failed = new FailureNotice();
  private closing: Promise<void> | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private checking = false;
  /** The read connections the pool holds, to drop them after a failure. */
  private readonly readerClients = new Set<Client>();

  private constructor(
    readonly location: string,
    private readonly writer: Client,
    private readonly readers: Pool,
    private readonly queryTimeoutMs: number,
  ) {
    writer.on('error', (e) => this.lost(e));
    writer.on('end', () => this.lost(new Error('the connection was closed')));
    // An idle read connection that drops is replaced by the pool on the next read.
    readers.on('error', () => undefined);
    readers.on('connect', (c) => void this.readerClients.add(c));
    readers.on('remove', (c) => void this.readerClients.delete(c));
    this.heartbeat = setInterval(() => void this.check(), Math.max(100, Math.floor(queryTimeoutMs / 2)));
    this.heartbeat.unref();
  }

  /**
   * Connects, takes the writer lock, and creates or migrates the schema. Refuses with StoreError:
   * `unreachable` (no server, login refused, no such database), `locked` (another Coulomb writes
   * there), `newer_version`, `migration_failed`.
   */
  static async open(dsn: string, opts: PostgresOpenOptions = {}): Promise<PostgresKvStore> {
    const location = pgLocation(dsn);
    const queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    const config: ClientConfig = {
      connectionString: dsn,
      application_name: 'coulomb',
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      // The server's own limit, then the client's, for a server that cannot answer at all.
      statement_timeout: queryTimeoutMs,
      query_timeout: queryTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    };
    const writer = new Client(config);
    // Errors before the store owns the connection are reported by the awaited calls below.
    const early = (): void => undefined;
    writer.on('error', early);
    try {
      await writer.connect();
    } catch (e) {
      await writer.end().catch(() => undefined);
      throw unreachable(location, e, opts.connectTimeoutMs ?? 10_000);
    }
    try {
      await takeLock(writer, location);
      await prepareSchema(writer, location);
      await checkDurability(writer, location, opts.onWarning);
    } catch (e) {
      await writer.end().catch(() => undefined);
      if (e instanceof StoreError) throw e;
      throw unreachable(location, e, isTimeout(e) ? queryTimeoutMs : (opts.connectTimeoutMs ?? 10_000));
    }
    writer.off('error', early);
    const readers = new Pool({ ...config, max: opts.readConnections ?? 4, idleTimeoutMillis: 30_000 });
    return new PostgresKvStore(location, writer, readers, queryTimeoutMs);
  }

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkNs(ns);
    const rows = await this.read<{ value: Buffer }>('coulomb-kv-get', 'SELECT value FROM coulomb_kv WHERE ns = $1 AND key = $2', [ns, key]);
    return rows[0] ? new Uint8Array(rows[0].value) : undefined;
  }

  async range(ns: string, r?: KvRange): Promise<KvRecord[]> {
    this.checkOpen();
    checkNs(ns);
    if (r?.limit !== undefined && r.limit <= 0) {
      await this.settled();
      return [];
    }
    const { where, values } = rangeWhere(ns, r);
    values.push(r?.limit ?? null);
    const rows = await this.read<{ key: string; value: Buffer }>(
      undefined,
      `SELECT key, value FROM coulomb_kv WHERE ${where} ORDER BY key ${r?.reverse ? 'DESC' : 'ASC'} LIMIT $${values.length}`,
      values,
    );
    return rows.map((row) => ({ key: row.key, value: new Uint8Array(row.value) }));
  }

  async count(ns: string, r?: KvRange): Promise<number> {
    this.checkOpen();
    checkNs(ns);
    const { where, values } = rangeWhere(ns, r);
    const rows = await this.read<{ n: string }>(undefined, `SELECT count(*) AS n FROM coulomb_kv WHERE ${where}`, values);
    return Number(rows[0]!.n);
  }

  async write(ops: readonly KvOp[], opts?: { durable?: boolean }): Promise<void> {
    this.checkOpen();
    for (const op of ops) checkOp(op);
    return this.enqueue(ops, opts?.durable !== false);
  }

  private enqueue(ops: readonly KvOp[], durable: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // Copied now: the caller may reuse its buffers before the commit.
    let bytes = 0;
    const copy = ops.map((op): KvOp => {
      if (op.type === 'delete') return { type: 'delete', ns: op.ns, key: op.key };
      bytes += op.value.length;
      return { type: 'put', ns: op.ns, key: op.key, value: Uint8Array.from(op.value) };
    });
    const done = new Promise<void>((resolve, reject) => this.queue.push({ ops: copy, durable, bytes, resolve, reject }));
    this.last = done.catch(() => undefined);
    void this.pump();
    return done;
  }

  async flush(): Promise<void> {
    this.checkOpen();
    await this.flushAll();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      try {
        if (!this.failure) await this.flushAll();
      } finally {
        if (this.failure) {
          // The server may not answer at all (a polite end waits for its reply): drop the connections.
          // The server ends the session, and with it the lock, once it notices.
          dropConnection(this.writer);
          for (const c of this.readerClients) dropConnection(c);
          void this.readers.end().catch(() => undefined);
        } else {
          await this.writer.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
          await this.writer.end().catch(() => undefined);
          await this.readers.end().catch(() => undefined);
        }
      }
    })();
    return this.closing;
  }

  /** While no commit is under way: does the server still answer on the writer's connection? */
  private async check(): Promise<void> {
    if (this.committing || this.checking || this.failure || this.closing) return;
    this.checking = true;
    try {
      // Nothing for the server to cancel here, so no margin over the timeout (pg reads query_timeout
      // per query too, though its types list it for the connection only).
      const probe: QueryConfig & { query_timeout: number } = { text: 'SELECT 1', query_timeout: this.queryTimeoutMs };
      await this.writer.query(probe);
    } catch (e) {
      if (this.closing || this.failure) return;
      this.failure = isTimeout(e)
        ? new StoreError(
            'unreachable',
            this.location,
            `the PostgreSQL server at ${this.location} did not answer within ${seconds(this.queryTimeoutMs)} (a check of the connection the store writes on): check that it is running and not overloaded; this store takes no more writes: restart Coulomb once the server answers again`,
            { cause: e },
          )
        : new StoreError(
            'write_failed',
            this.location,
            `lost the connection to the PostgreSQL database at ${this.location} (${describe(e)}), and with it the writer lock: this store takes no more writes; restart Coulomb once the server is reachable`,
            { cause: e },
          );
      this.failed.fire(this.failure);
    } finally {
      this.checking = false;
    }
  }

  private async flushAll(): Promise<void> {
    await this.last;
    if (this.failure) throw this.failure;
    // The lazy commits are in the WAL; a durable commit after them flushes it that far.
    if (this.lazyUnsynced) await this.enqueue([], true);
  }

  private checkOpen(): void {
    if (this.closing) throw new StoreError('closed', this.location, `the store at ${this.location} is closed`);
  }

  private async settled(): Promise<void> {
    await this.last;
  }

  private async read<T>(name: string | undefined, text: string, values: unknown[]): Promise<T[]> {
    await this.settled();
    try {
      const res = await this.readers.query<T & Record<string, unknown>>(name ? { name, text, values } : { text, values });
      return res.rows;
    } catch (e) {
      if (isTimeout(e)) {
        throw new StoreError('unreachable', this.location, `the PostgreSQL server at ${this.location} did not answer a read within ${seconds(this.queryTimeoutMs)} (${describe(e)}): check that it is running and not overloaded`, { cause: e });
      }
      if (isConnectionError(e)) {
        throw new StoreError('unreachable', this.location, `lost the PostgreSQL server at ${this.location} while reading (${describe(e)}): check that it is running; Coulomb reconnects for reads on its own`, { cause: e });
      }
      throw e;
    }
  }

  /** Commits the queue, one transaction at a time, each taking everything queued while the last was in flight. */
  private async pump(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.queue.length) {
        let n = 0;
        let bytes = 0;
        while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= MAX_BATCH_BYTES)) bytes += this.queue[n++]!.bytes;
        const batch = this.queue.splice(0, n);
        if (this.failure) {
          for (const w of batch) w.reject(this.failure);
          continue;
        }
        try {
          await this.commit(batch);
          for (const w of batch) w.resolve();
        } catch (e) {
          // The batch is told what became of it, even if a check of the connection failed the store first.
          const failure = isTimeout(e)
            ? new StoreError(
                'unreachable',
                this.location,
                `the PostgreSQL server at ${this.location} did not answer a write within ${seconds(this.queryTimeoutMs)}; whether it committed is unknown, and this store takes no more writes: restart Coulomb once the server answers again`,
                { cause: e },
              )
            : new StoreError(
                'write_failed',
                this.location,
                `a write to the PostgreSQL database at ${this.location} failed (${describe(e)}); whether it committed is unknown, and this store takes no more writes: restart Coulomb once the server is reachable`,
                { cause: e },
              );
          this.failure ??= failure;
          this.failed.fire(this.failure);
          for (const w of batch) w.reject(failure);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    // Last operation on a key wins, in call order: one row per key, as an upsert can change a row only once.
    const last = new Map<string, KvOp>();
    for (const w of batch) for (const op of w.ops) last.set(`${op.ns}\0${op.key}`, op);
    const del: [string[], string[]] = [[], []];
    const put: [string[], string[], Buffer[]] = [[], [], []];
    for (const op of last.values()) {
      if (op.type === 'delete') {
        del[0].push(op.ns);
        del[1].push(op.key);
      } else {
        put[0].push(op.ns);
        put[1].push(op.key);
        put[2].push(Buffer.from(op.value.buffer, op.value.byteOffset, op.value.length));
      }
    }
    const durable = batch.some((w) => w.durable);
    const statement = { name: 'coulomb-kv-commit', text: COMMIT_SQL, values: [...del, ...put] };
    if (durable) {
      // One statement, one implicit transaction: atomic, and acknowledged once the server made it durable.
      await this.writer.query(statement);
      this.syncs++;
      this.lazyUnsynced = false;
    } else {
      await this.writer.query('BEGIN; SET LOCAL synchronous_commit = off');
      await this.writer.query(statement);
      await this.writer.query('COMMIT');
      this.lazyUnsynced = true;
    }
  }

  private lost(e: unknown): void {
    if (this.closing || this.failure) return;
    this.failure = new StoreError(
      'write_failed',
      this.location,
      `lost the connection to the PostgreSQL database at ${this.location} (${describe(e)}), and with it the writer lock: this store takes no more writes; restart Coulomb once the server is reachable`,
      { cause: e },
    );
    this.failed.fire(this.failure);
  }

  onFailure(fn: (e: StoreError) => void): void {
    this.failed.listen(fn);
  }
}

/** Ends a connection without waiting for the server: its socket destroyed, its queries failed. */
function dropConnection(client: Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  if (stream?.destroy) stream.destroy();
  else void client.end().catch(() => undefined);
}

/** A DSN as messages may show it: no password, in the URL or in its query. */
export function pgLocation(dsn: string): string {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new StoreError(
      'unreachable',
      '(the PostgreSQL DSN)',
      'the PostgreSQL DSN is not a postgres:// URL: write it as postgres://user@host:5432/database (the password in --db.postgres.dsn_file, PGPASSWORD or ~/.pgpass)',
    );
  }
  url.password = '';
  for (const secret of ['password', 'sslpassword']) url.searchParams.delete(secret);
  return url.toString();
}

async function takeLock(writer: Client, location: string): Promise<void> {
  const { rows } = await writer.query<{ ok: boolean; schema: string | null }>(
    'SELECT current_schema() AS schema, CASE WHEN current_schema() IS NULL THEN false ELSE pg_try_advisory_lock($1::int, hashtext(current_schema())) END AS ok',
    [LOCK_CLASS],
  );
  const row = rows[0]!;
  if (row.schema === null) {
    throw new StoreError('unreachable', location, `the PostgreSQL database at ${location} has no schema to keep Coulomb's tables in (none on its search_path exists): create one, or set search_path in the DSN (options=-c search_path=…)`);
  }
  if (!row.ok) {
    throw new StoreError(
      'locked',
      location,
      `another Coulomb uses the PostgreSQL database at ${location} (schema ${row.schema}): it holds the database's writer lock. Stop that node first, or give this one its own database or schema. A node that died holds the lock until the server notices its connection is gone.`,
    );
  }
}

async function prepareSchema(writer: Client, location: string): Promise<void> {
  const { rows } = await writer.query<{ present: boolean }>("SELECT to_regclass('coulomb_kv_schema') IS NOT NULL AS present");
  let version = 0;
  if (rows[0]!.present) {
    const v = await writer.query<{ version: number; written_by: string }>('SELECT version, written_by FROM coulomb_kv_schema');
    const row = v.rows[0];
    if (!row) throw new StoreError('invalid', location, `the PostgreSQL database at ${location} has a coulomb_kv_schema table without its row: it was changed by hand; restore it from a backup`);
    if (row.version > PG_SCHEMA_VERSION) {
      throw new StoreError(
        'newer_version',
        location,
        `the PostgreSQL database at ${location} holds Coulomb storage schema ${row.version} (written by Coulomb ${row.written_by}); this Coulomb ${VERSION} knows schemas up to ${PG_SCHEMA_VERSION}. Upgrade Coulomb to use it; it was left unchanged.`,
      );
    }
    version = row.version;
  }
  if (version === PG_SCHEMA_VERSION) return;
  try {
    await writer.query('BEGIN');
    if (version === 0) {
      await writer.query('CREATE TABLE coulomb_kv_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL, written_by text NOT NULL)');
      await writer.query('INSERT INTO coulomb_kv_schema (version, written_by) VALUES (0, $1)', [VERSION]);
    }
    for (let v = version; v < PG_SCHEMA_VERSION; v++) for (const sql of MIGRATIONS[v]!) await writer.query(sql);
    await writer.query('UPDATE coulomb_kv_schema SET version = $1, written_by = $2', [PG_SCHEMA_VERSION, VERSION]);
    await writer.query('COMMIT');
  } catch (e) {
    await writer.query('ROLLBACK').catch(() => undefined);
    if (isConnectionError(e)) throw e;
    throw new StoreError(
      'migration_failed',
      location,
      `could not bring Coulomb's tables in the PostgreSQL database at ${location} from schema ${version} to ${PG_SCHEMA_VERSION} (${describe(e)}); nothing was changed. Check that the user may create tables there.`,
      { cause: e },
    );
  }
}

/** Commits are durable only if the server makes them so; a session default of synchronous_commit=off is overridden here. */
async function checkDurability(writer: Client, location: string, warn: ((m: string) => void) | undefined): Promise<void> {
  const { rows } = await writer.query<{ name: string; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit')",
  );
  const setting = new Map(rows.map((r) => [r.name, r.setting]));
  if (setting.get('synchronous_commit') === 'off') await writer.query('SET synchronous_commit = on');
  for (const name of ['fsync', 'full_page_writes']) {
    if (setting.get(name) === 'off') warn?.(`the PostgreSQL server at ${location} runs with ${name}=off: a crash of that server or its machine can lose or damage what Coulomb was told is stored. Set ${name}=on.`);
  }
}

function rangeWhere(ns: string, r: KvRange | undefined): { where: string; values: unknown[] } {
  const values: unknown[] = [ns];
  const parts = ['ns = $1'];
  const add = (sql: string, v: string | undefined): void => {
    if (v === undefined) return;
    values.push(v);
    parts.push(sql.replace('?', `$${values.length}`));
  };
  add('key >= ?', r?.gte);
  add('key > ?', r?.gt);
  add('key < ?', r?.lt);
  add('key <= ?', r?.lte);
  if (r?.prefix) {
    add('key >= ?', r.prefix);
    add('starts_with(key, ?)', r.prefix);
  }
  return { where: parts.join(' AND '), values };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EPIPE']);

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  return e instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(e.message);
}

/** The server cancelled a statement at statement_timeout, or the client stopped waiting for its answer. */
function isTimeout(e: unknown): boolean {
  return (e as { code?: unknown } | undefined)?.code === '57014' || (e instanceof Error && /Query read timeout/.test(e.message));
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

/** Why a connection failed, in words, with what to do. */
function unreachable(location: string, e: unknown, timeoutMs: number): StoreError {
  const err = e as Partial<DatabaseError> & NodeJS.ErrnoException;
  const code = err?.code;
  let why: string;
  if (code === 'ECONNREFUSED' || code === 'ENOENT') {
    why = 'nothing accepts connections there (connection refused): check that the server is running and listens on that address and port';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    why = 'its host name does not resolve: check the host in the DSN';
  } else if (code === 'ETIMEDOUT' || /timeout/i.test(err?.message ?? '')) {
    why = `it did not answer within ${Math.round(timeoutMs / 1000)} s: check the host, the port and any firewall between`;
  } else if (code === '28P01' || code === '28000') {
    why = `it refused the login (${err.message}): check the user and password (--db.postgres.dsn_file, PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf`;
  } else if (typeof err?.message === 'string' && /SASL|password must be a string|password authentication/i.test(err.message)) {
    why = `it asks for a password and ${/must be a string/.test(err.message) ? 'none was given' : `the login failed (${err.message})`}: put the password in the DSN file (--db.postgres.dsn_file), PGPASSWORD or ~/.pgpass`;
  } else if (code === '3D000') {
    why = `the database does not exist (${err.message}): create it (createdb -O <user> <database>) or fix the DSN`;
  } else if (code === '57P03' || code === '53300') {
    why = `it is not taking connections now (${err.message}): try again when it is ready`;
  } else {
    why = describe(e);
  }
  return new StoreError('unreachable', location, `cannot use the PostgreSQL server for ${location}: ${why}.`, { cause: e });
}
