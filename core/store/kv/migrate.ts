/**
 * Moving a JSON store (core/store/store.ts, `<dir>/<name>.json`) into the storage interface, once, on
 * the first start of a Coulomb that keeps that state in a KvStore:
 *
 * 1. the JSON file is read and brought to its newest schema as before (refused if damaged or newer);
 * 2. its records, and a marker `meta/migrated:<name>`, go into the KvStore in one atomic, durable write;
 * 3. the file is renamed to `<name>.json.migrated` (a backup of what was there; nothing reads it again).
 *
 * A crash between 2 and 3 leaves the marker: the next start only renames. The marker also stops a
 * JSON file restored by hand later from being taken in twice (it is left alone and reported).
 */
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileIfExists, fsyncDir } from '../durable-file.ts';
import { upgradeEnvelope } from '../envelope.ts';
import type { SchemaSpec } from '../envelope.ts';
import { StoreError } from '../errors.ts';
import type { KvOp, KvStore } from './types.ts';

export interface JsonMigration<T> extends SchemaSpec {
  dir: string;
  /** The JSON store's name: `<dir>/<name>.json`. */
  name: string;
  /** The records that hold the same state in the KvStore. */
  toOps(data: T): KvOp[];
  /** Told when a JSON file is found after its move, beside the backup the move left (see below). */
  warn?: (message: string) => void;
}

/**
 * - none: nothing to move; migrated: moved now; already: moved before (a crash between the write and the
 *   rename is finished by renaming now);
 * - ignored: moved before, and a `<name>.json` is there again beside the backup (restored by hand): it
 *   is left where it is, untouched, and the backup too; the KvStore's records are what count.
 */
export type MigrationOutcome = 'none' | 'migrated' | 'already' | 'ignored';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function migrateJsonStore<T>(kv: KvStore, m: JsonMigration<T>): Promise<MigrationOutcome> {
  const file = join(m.dir, `${m.name}.json`);
  const marker = `migrated:${m.name}`;
  const raw = await readFileIfExists(file);
  const done = (await kv.get('meta', marker)) !== undefined;
  if (raw === undefined) return done ? 'already' : 'none';
  if (done) {
    if ((await readFileIfExists(`${file}.migrated`)) !== undefined) {
      m.warn?.(`${file} is ignored: its contents moved into the node's store before (the backup of what was moved is ${file}.migrated). Coulomb reads the store, not this file; move the file away to silence this message.`);
      return 'ignored';
    }
    await moveAside(file, m.dir);
    return 'already';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(raw));
  } catch (e) {
    throw new StoreError('corrupt', file, `${file} is damaged (not readable JSON). Coulomb will not start on it and will not overwrite it: restore it from a backup, or move it aside to start that part afresh.`, { cause: e });
  }
  const { data } = upgradeEnvelope<T>(parsed, m, file);
  await kv.write([...m.toOps(data), { type: 'put', ns: 'meta', key: marker, value: new TextEncoder().encode(new Date().toISOString()) }]);
  await moveAside(file, m.dir);
  return 'migrated';
}

const BACKUP_SUFFIX = '.json.migrated';

/**
 * Refuses a store that is not the one the data directory `dir` moved its JSON stores into: each
 * `<name>.json.migrated` there says a move was made, into a store that then holds the marker
 * `meta/migrated:<name>` (written with the records, before the rename). Without this check a node
 * started on another store (a new PostgreSQL database, a mistyped DSN, the embedded store after
 * running on PostgreSQL or the reverse, a `store/` directory moved away) finds nothing left to move and
 * starts empty: without its channels, payments and wallet history.
 */
export async function checkMovedInto(kv: KvStore, dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const missing: string[] = [];
  for (const n of names.filter((f) => f.endsWith(BACKUP_SUFFIX)).sort()) {
    if ((await kv.get('meta', `migrated:${n.slice(0, -BACKUP_SUFFIX.length)}`)) === undefined) missing.push(n);
  }
  if (!missing.length) return;
  throw new StoreError(
    'invalid',
    kv.location,
    `${kv.location} is not the store this data directory's records moved into: ${dir} holds ${missing.join(', ')}, the backup left when the records moved into the node's store, and this store has no record of that move. Coulomb does not start on it, as it would run without its channels: start it with the store it used before (the same --db.backend and database), or restore that store from a backup.`,
  );
}

async function moveAside(file: string, dir: string): Promise<void> {
  await rename(file, `${file}.migrated`);
  await fsyncDir(dir);
}
