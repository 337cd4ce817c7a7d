/**
 * Versioned, crash-safe stores: one JSON file per concern (`<dir>/<name>.json`), each holding
 * `{ schema_version, data }`. Older files are migrated on open (and the result written back before
 * use); files from a newer version are refused; one writer per file, guarded by a lock file.
 */
import { open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonAdapter } from './durable-adapter.ts';
import { StoreError } from './errors.ts';

export type Migration = (data: unknown) => unknown;

export interface StoreOptions<T> {
  dir: string;
  name: string;
  /** The schema version this code writes. Starts at 1. */
  version: number;
  /** migrations[i] turns version i+1 into version i+2. */
  migrations: Migration[];
  defaults: () => T;
  /** Checks the shape after reading and migrating; return a sentence when it is wrong. */
  validate?: (data: unknown) => string | undefined;
}

interface Envelope<T> {
  schema_version: number;
  data: T;
}

export interface Store<T> {
  readonly file: string;
  /** The current state. Change it only through update(). */
  readonly data: Readonly<T>;
  /** Applies a change and resolves once it is durable on disk. */
  update(fn: (draft: T) => void): Promise<void>;
  close(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(lockPath: string, file: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && pidAlive(owner)) {
        throw new StoreError('locked', file, `${file} is in use by another Coulomb process (pid ${owner}); stop it first`);
      }
      // The owner is gone (a crash): the lock is stale.
      await unlink(lockPath).catch(() => undefined);
    }
  }
  throw new StoreError('locked', file, `could not lock ${file}`);
}

/** Temp files a crash left behind are never the truth (the rename did not happen): remove them. */
async function removeStaleTemps(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.json.`;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f.startsWith(prefix) && f.endsWith('.tmp')) await rm(join(dir, f), { force: true });
  }
}

/** Files this process has open: a second open would make two writers of one file. */
const openFiles = new Set<string>();

export async function openStore<T>(opts: StoreOptions<T>): Promise<Store<T>> {
  const file = join(opts.dir, `${opts.name}.json`);
  const lockPath = join(opts.dir, `${opts.name}.lock`);
  if (openFiles.has(file)) throw new StoreError('locked', file, `${file} is already open in this process`);
  await takeLock(lockPath, file);
  openFiles.add(file);
  try {
    await removeStaleTemps(opts.dir, opts.name);
    const adapter = new DurableJsonAdapter<Envelope<T>>(file);
    const db = new Low<Envelope<T>>(adapter, { schema_version: opts.version, data: opts.defaults() });
    const raw = await adapter.read();
    if (raw === null) {
      await db.write();
    } else {
      if (typeof raw !== 'object' || typeof raw.schema_version !== 'number' || !('data' in raw)) {
        throw new StoreError('invalid', file, `${file} is not a Coulomb store file; Coulomb will not overwrite it`);
      }
      if (raw.schema_version > opts.version) {
        throw new StoreError('newer_version', file, `${file} was written by a newer Coulomb (schema ${raw.schema_version}, this one knows ${opts.version}); upgrade Coulomb`);
      }
      let data: unknown = raw.data;
      for (let v = raw.schema_version; v < opts.version; v++) {
        const m = opts.migrations[v - 1];
        if (!m) throw new StoreError('invalid', file, `no migration from schema ${v} of ${file}`);
        data = m(data);
      }
      const problem = opts.validate?.(data);
      if (problem) throw new StoreError('invalid', file, `${file}: ${problem}`);
      db.data = { schema_version: opts.version, data: data as T };
      if (raw.schema_version !== opts.version) await db.write();
    }
    let closed = false;
    return {
      file,
      get data() {
        return db.data.data;
      },
      async update(fn) {
        if (closed) throw new StoreError('invalid', file, `${file} is closed`);
        fn(db.data.data);
        try {
          await db.write();
        } catch (e) {
          // Memory must never run ahead of disk: go back to what is durable, then report.
          const back = await adapter.read();
          if (back) db.data = back;
          throw e;
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        openFiles.delete(file);
        await rm(lockPath, { force: true });
      },
    };
  } catch (e) {
    openFiles.delete(file);
    await rm(lockPath, { force: true });
    throw e;
  }
}
