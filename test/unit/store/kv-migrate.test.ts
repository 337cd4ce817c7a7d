/**
 * The one-time move of a JSON store into the KvStore (core/store/kv/migrate.ts): moved once with a
 * backup, a crash between the write and the rename finished at the next start, and a file restored
 * by hand after the move left alone beside the backup (never taken in twice, never overwriting it).
 * On every backend (test/helpers/kv.ts): the marker and the records must go in as one write on each.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { checkMovedInto, migrateJsonStore } from '../../../core/store/kv/migrate.ts';
import type { JsonMigration } from '../../../core/store/kv/migrate.ts';
import { StoreError } from '../../../core/store/errors.ts';
import type { KvOp, KvStore } from '../../../core/store/kv/types.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';

interface Notes {
  notes: Record<string, string>;
}

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const fileOf = (notes: Record<string, string>): string => JSON.stringify({ schema_version: 1, data: { notes } });

describeEachKvBackend('moving a JSON store into the $name KvStore', ({ open }) => {
  const dirs: string[] = [];
  const stores: KvStore[] = [];
  afterEach(async () => {
    for (const kv of stores.splice(0)) await kv.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  /** A new, empty store, kept apart from the data directory whose files the tests list. */
  const freshStore = async (): Promise<KvStore> => {
    const where = await mkdtemp(join(tmpdir(), 'coulomb-migrate-store-'));
    dirs.push(where);
    const kv = await open(where);
    stores.push(kv);
    return kv;
  };
  const setup = async (): Promise<{ dir: string; kv: KvStore; spec: (warn?: (m: string) => void) => JsonMigration<Notes> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'coulomb-migrate-'));
    dirs.push(dir);
    const kv = await freshStore();
    const spec = (warn?: (m: string) => void): JsonMigration<Notes> => ({
      dir,
      name: 'notes',
      version: 1,
      migrations: [],
      toOps: (d) => Object.entries(d.notes).map(([key, v]) => ({ type: 'put' as const, ns: 'notes', key, value: new TextEncoder().encode(v) })),
      ...(warn ? { warn } : {}),
    });
    return { dir, kv, spec };
  };

  it('moves the records once, with the marker in the same durable write, and keeps the file as a backup', async () => {
    const { dir, kv: inner, spec } = await setup();
    const kv = new WatchedKvStore(inner);
    await writeFile(join(dir, 'notes.json'), fileOf({ a: 'one', b: 'two' }));
    expect(await migrateJsonStore(kv, spec())).toBe('migrated');
    const described = (ops: readonly KvOp[]): string[] => ops.map((o) => `${o.type} ${o.ns}/${o.key}`).sort();
    expect(kv.writes.map((w) => [described(w.ops), w.durable])).toEqual([[['put meta/migrated:notes', 'put notes/a', 'put notes/b'], true]]);
    expect(text(await kv.get('notes', 'a'))).toBe('one');
    expect(text(await kv.get('notes', 'b'))).toBe('two');
    expect(await readdir(dir)).toEqual(['notes.json.migrated']);
    expect(await migrateJsonStore(kv, spec())).toBe('already');
    expect(await migrateJsonStore(await freshStore(), spec())).toBe('none');
  });

  it('finishes a move a crash stopped between the write and the rename', async () => {
    const { dir, kv, spec } = await setup();
    await writeFile(join(dir, 'notes.json'), fileOf({ a: 'one' }));
    await kv.write([{ type: 'put', ns: 'meta', key: 'migrated:notes', value: new TextEncoder().encode('x') }]);
    expect(await migrateJsonStore(kv, spec())).toBe('already');
    expect(await readdir(dir)).toEqual(['notes.json.migrated']);
    expect(await kv.get('notes', 'a')).toBeUndefined(); // the marker says the records went in with it
  });

  it('leaves a file restored after the move alone, keeps the backup, and says so', async () => {
    const { dir, kv, spec } = await setup();
    await writeFile(join(dir, 'notes.json'), fileOf({ a: 'one' }));
    await migrateJsonStore(kv, spec());
    await kv.write([{ type: 'put', ns: 'notes', key: 'a', value: new TextEncoder().encode('changed since') }]);
    await writeFile(join(dir, 'notes.json'), fileOf({ a: 'restored' }));
    const warnings: string[] = [];
    expect(await migrateJsonStore(kv, spec((m) => warnings.push(m)))).toBe('ignored');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(dir, 'notes.json'));
    expect(JSON.parse(await readFile(join(dir, 'notes.json.migrated'), 'utf8'))).toEqual({ schema_version: 1, data: { notes: { a: 'one' } } });
    expect(JSON.parse(await readFile(join(dir, 'notes.json'), 'utf8'))).toEqual({ schema_version: 1, data: { notes: { a: 'restored' } } });
    expect(text(await kv.get('notes', 'a'))).toBe('changed since');
  });

  it('refuses a store the data directory did not move into, naming the backups, and accepts the one it did', async () => {
    const { dir, kv, spec } = await setup();
    await checkMovedInto(kv, dir); // nothing moved yet: any store will do
    await writeFile(join(dir, 'notes.json'), fileOf({ a: 'one' }));
    await migrateJsonStore(kv, spec());
    await checkMovedInto(kv, dir);
    // Another store (a new database, the other backend): the move's backup is there, its marker is not.
    const other = await freshStore();
    const err = await checkMovedInto(other, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('invalid');
    expect((err as StoreError).message).toContain(`${other.location} is not the store this data directory's records moved into: ${dir} holds notes.json.migrated`);
    expect((err as StoreError).message).toMatch(/start it with the store it used before/);
    expect(await readdir(dir)).toEqual(['notes.json.migrated']);
  });

  it('refuses a damaged file, naming it, and moves nothing', async () => {
    const { dir, kv, spec } = await setup();
    await writeFile(join(dir, 'notes.json'), '{"schema_version":1,"data":');
    const err = await migrateJsonStore(kv, spec()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('corrupt');
    expect((err as StoreError).message).toContain(join(dir, 'notes.json'));
    expect(await readdir(dir)).toEqual(['notes.json']);
    expect(await kv.get('meta', 'migrated:notes')).toBeUndefined();
  });
});
