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
import { rename } from 'node:fs/promises';
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
}

export type MigrationOutcome = 'none' | 'migrated' | 'already';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function migrateJsonStore<T>(kv: KvStore, m: JsonMigration<T>): Promise<MigrationOutcome> {
  const file = join(m.dir, `${m.name}.json`);
  const marker = `migrated:${m.name}`;
  const raw = await readFileIfExists(file);
  const done = (await kv.get('meta', marker)) !== undefined;
  if (raw === undefined) return done ? 'already' : 'none';
  if (done) {
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

async function moveAside(file: string, dir: string): Promise<void> {
  await rename(file, `${file}.migrated`);
  await fsyncDir(dir);
}
