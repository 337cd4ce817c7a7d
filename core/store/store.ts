/**
 * Versioned, crash-safe stores: one JSON file per concern (`<dir>/<name>.json`) holding
 * `{ schema_version, data }`, kept in memory by lowdb and written through the durable adapter.
 *
 * - Opening migrates an older file, keeps its original bytes as `<name>.v<N>.bak.json`, and writes the
 *   migrated record back durably before anyone uses it.
 * - Files that are damaged, foreign or from a newer version are refused and never overwritten.
 * - One writer per file: a lock file across processes, a registry within this one.
 * - update() resolves only once the change is durable; a change that throws is rolled back; after a
 *   failed disk write the store takes no more changes (what reached the disk is then unknown).
 */
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonAdapter } from './durable-adapter.ts';
import { isTempFileOf, readFileIfExists, writeFileDurable } from './durable-file.ts';
import { checkSchemaSpec, upgradeEnvelope } from './envelope.ts';
import type { Envelope, SchemaSpec } from './envelope.ts';
import { StoreError } from './errors.ts';
import { acquireLock, pidAlive } from './lock.ts';
import type { FileLock } from './lock.ts';

export type { Migration } from './envelope.ts';

export interface StoreOptions<T> extends SchemaSpec {
  dir: string;
  /** The file's base name: letters, digits, `_`, `-`, `.`; the store lives in `<dir>/<name>.json`. */
  name: string;
  /** The data of a store that does not exist yet. */
  defaults: () => T;
  /** How long a change made with updateLazy() may stay only in memory (default 1000 ms). */
  lazyWriteMs?: number;
}

export interface Store<T> {
  readonly file: string;
  /** The current state, read-only to the type checker: change it only through update() or updateLazy(). */
  readonly data: DeepReadonly<T>;
  /** Counts the changes applied since the store was opened: whoever watches the state compares this. */
  readonly revision: number;
  /**
   * Applies `fn` (synchronous) to the state and resolves once the result is durable on disk.
   * Updates apply in call order; concurrent ones may share one disk write.
   */
  update(fn: (draft: T) => void): Promise<void>;
  /**
   * Applies `fn` now but does not wait for the disk: the change is written with the next update(),
   * flush() or close(), or on its own within `lazyWriteMs`. For state a crash may lose harmlessly
   * (it is recomputed), such as a scan position.
   */
  updateLazy(fn: (draft: T) => void): void;
  /** Resolves once every change made so far (lazy ones included) is durable. */
  flush(): Promise<void>;
  /** Writes lazy changes, waits for writes in flight, then releases the file. */
  close(): Promise<void>;
}

/** A view that the type checker keeps from being changed outside update(). */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown ? T : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Store files open in this process: a second open would make two writers of one file. */
const openFiles = new Set<string>();

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export async function openStore<T>(opts: StoreOptions<T>): Promise<Store<T>> {
  checkSchemaSpec(opts);
  if (!NAME.test(opts.name)) throw new RangeError(`store name ${JSON.stringify(opts.name)} must be letters, digits, _ - . only`);
  const file = resolve(opts.dir, `${opts.name}.json`);
  // Claimed before the first await, so two opens racing in this process cannot both get past here.
  if (openFiles.has(file)) throw new StoreError('locked', file, `${file} is already open in this process`);
  openFiles.add(file);
  let lock: FileLock | undefined;
  try {
    lock = await acquireLock(resolve(opts.dir, `${opts.name}.lock`), file, opts.dir);
    await removeLeftovers(opts.dir, opts.name);
    const adapter = new DurableJsonAdapter<Envelope<T>>(file);
    const db = new Low<Envelope<T>>(adapter, { schema_version: opts.version, data: opts.defaults() });
    const raw = await adapter.read();
    if (raw === null) {
      await db.write();
    } else {
      const { data, from } = upgradeEnvelope<T>(raw, opts, file);
      db.data = { schema_version: opts.version, data };
      if (from !== opts.version) {
        // Keep what the older Coulomb wrote (a downgrade or a bad migration can go back to it), then
        // make the migrated record the truth before it is used.
        const original = await readFileIfExists(file);
        if (original) await writeFileDurable(join(opts.dir, `${opts.name}.v${from}.bak.json`), original);
        await db.write();
      }
    }
    return new DurableStore(file, db, adapter, lock, opts.lazyWriteMs ?? 1000);
  } catch (e) {
    openFiles.delete(file);
    await lock?.release();
    throw e;
  }
}

class DurableStore<T> implements Store<T> {
  revision = 0;
  private closed = false;
  private failure: unknown;
  /** Lazy changes not yet handed to the disk. */
  private dirty = false;
  private lazyTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly db: Low<Envelope<T>>,
    private readonly adapter: DurableJsonAdapter<Envelope<T>>,
    private readonly lock: FileLock,
    private readonly lazyWriteMs: number,
  ) {}

  get data(): DeepReadonly<T> {
    return this.db.data.data as DeepReadonly<T>;
  }

  async update(fn: (draft: T) => void): Promise<void> {
    this.apply(fn);
    await this.write();
  }

  updateLazy(fn: (draft: T) => void): void {
    this.apply(fn);
    this.dirty = true;
    // The timer is unref'd: a pending lazy write alone does not keep the process alive; close() writes it.
    this.lazyTimer ??= setTimeout(() => {
      this.lazyTimer = undefined;
      // Nobody awaits this write; a failure is kept and reported by the next call.
      if (this.dirty) this.write().catch(() => undefined);
    }, this.lazyWriteMs).unref();
  }

  async flush(): Promise<void> {
    if (this.dirty) await this.write();
    await this.adapter.idle();
    if (this.failure !== undefined) throw this.writeFailed(this.failure);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.dirty && this.failure === undefined) await this.write();
    } finally {
      this.closed = true;
      await this.adapter.idle();
      openFiles.delete(this.file);
      await this.lock.release();
    }
  }

  /** Runs a change on the live state; a change that throws (or is async) is undone. */
  private apply(fn: (draft: T) => void): void {
    if (this.closed) throw new StoreError('closed', this.file, `${this.file} is closed`);
    if (this.failure !== undefined) throw this.writeFailed(this.failure);
    try {
      const result: unknown = fn(this.db.data.data);
      // Changes made after an await would silently miss the write.
      if (typeof (result as { then?: unknown } | undefined)?.then === 'function') {
        throw new TypeError(`changes to ${this.file} must be made by a synchronous function`);
      }
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.revision++;
  }

  /** Hands the whole current state to the disk; resolves once it (or newer) is durable. */
  private async write(): Promise<void> {
    this.dirty = false;
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    try {
      await this.db.write();
    } catch (e) {
      if (e instanceof StoreError && e.code === 'unserializable') {
        this.rollback();
        throw e;
      }
      this.failure ??= e;
      throw this.writeFailed(e);
    }
  }

  /** Memory goes back to the newest state handed to the disk (unsaved changes are dropped). */
  private rollback(): void {
    const latest = this.adapter.latestData();
    if (latest) this.db.data = latest;
    this.dirty = false;
  }

  private writeFailed(cause: unknown): StoreError {
    return new StoreError(
      'write_failed',
      this.file,
      `could not save ${this.file} (${String(cause)}); it takes no more changes: fix the disk, then restart Coulomb`,
      { cause },
    );
  }
}

/**
 * Temp files a crash left behind are never the truth (their rename did not happen), and lock
 * candidates of dead processes are litter: remove both. Runs while holding the lock.
 */
async function removeLeftovers(dir: string, name: string): Promise<void> {
  const lockLitter = new RegExp(`^${name.replace(/\./g, '\\.')}\\.lock\\.([0-9]+)\\.[0-9a-f]+\\.new$`);
  for (const entry of await readdir(dir)) {
    const m = lockLitter.exec(entry);
    if (isTempFileOf(entry, `${name}.json`) || (m && !pidAlive(Number(m[1])))) await rm(join(dir, entry), { force: true });
  }
}
