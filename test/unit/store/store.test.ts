import { describe, expect, it } from 'vitest';
import { readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, StoreError } from '../../../core/store/index.ts';
import type { Store, StoreOptions } from '../../../core/store/index.ts';
import { withTempDir } from '../../helpers/daemon.ts';

/** Schema history of a test store: v1 { ids }, v2 { items: {id}[] }, v3 { items: {id, label}[], note }. */
interface V3 {
  items: { id: number; label: string }[];
  note: string;
}

const opts = (dir: string, extra: Partial<StoreOptions<V3>> = {}): StoreOptions<V3> => ({
  dir,
  name: 'things',
  version: 3,
  migrations: [
    (d) => ({ items: (d as { ids: number[] }).ids.map((id) => ({ id })) }),
    (d) => ({ items: (d as { items: { id: number }[] }).items.map((x) => ({ ...x, label: `#${x.id}` })), note: 'migrated' }),
  ],
  defaults: () => ({ items: [], note: '' }),
  validate: (d) => (Array.isArray((d as V3).items) ? undefined : 'items is missing'),
  ...extra,
});

const withDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTempDir('store', fn);

/** Never called: `tsc` fails unless the view is read-only all the way down. */
function _viewIsReadOnly(s: Store<V3>): void {
  // @ts-expect-error nested arrays are readonly
  s.data.items.push({ id: 2, label: 'two' });
  // @ts-expect-error nested fields are readonly
  s.data.items[0]!.label = 'changed';
  // @ts-expect-error top-level fields are readonly
  s.data.note = 'changed';
}

const onDisk = async (dir: string): Promise<unknown> => JSON.parse(await readFile(join(dir, 'things.json'), 'utf8'));

describe('versioned durable stores', () => {
  it('creates the file at once, updates durably, reopens to the same state', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      expect(await onDisk(dir)).toEqual({ schema_version: 3, data: { items: [], note: '' } });
      await s.update((d) => void d.items.push({ id: 1, label: 'one' }));
      // Durable when update resolves: the file already holds it, before close.
      expect(await onDisk(dir)).toEqual({ schema_version: 3, data: { items: [{ id: 1, label: 'one' }], note: '' } });
      await s.update((d) => void (d.note = 'ünïcode ⚡ "quoted"'));
      await s.close();
      const again = await openStore(opts(dir));
      expect(again.data).toEqual({ items: [{ id: 1, label: 'one' }], note: 'ünïcode ⚡ "quoted"' });
      await again.close();
      expect((await readdir(dir)).sort()).toEqual(['things.json']);
    }));

  it('migrates golden files of versions 1 and 2, writes the result back before use, keeps the original', async () => {
    const golden: [number, string, V3][] = [
      [1, '{"schema_version":1,"data":{"ids":[3,4]}}', { items: [{ id: 3, label: '#3' }, { id: 4, label: '#4' }], note: 'migrated' }],
      [2, '{"schema_version":2,"data":{"items":[{"id":5}]}}', { items: [{ id: 5, label: '#5' }], note: 'migrated' }],
    ];
    for (const [version, text, expected] of golden) {
      await withDir(async (dir) => {
        await writeFile(join(dir, 'things.json'), text);
        const s = await openStore(opts(dir));
        expect(s.data).toEqual(expected);
        // Written back at open, not at the first update.
        expect(await onDisk(dir)).toEqual({ schema_version: 3, data: expected });
        expect(await readFile(join(dir, `things.v${version}.bak.json`), 'utf8')).toBe(text);
        await s.close();
      });
    }
  });

  it('refuses newer, corrupt, foreign and unmigratable files, leaving them byte for byte', () =>
    withDir(async (dir) => {
      const path = join(dir, 'things.json');
      const cases: [Buffer, string][] = [
        [Buffer.from('{"schema_version":4,"data":{}}'), 'newer_version'],
        [Buffer.from('{"schema_version":3,"da'), 'corrupt'],
        [Buffer.from(''), 'corrupt'],
        [Buffer.from('null'), 'corrupt'],
        [Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80]), 'corrupt'],
        [Buffer.from('[1,2,3]'), 'invalid'],
        [Buffer.from('{"schema_version":3,"data":{"nope":1}}'), 'invalid'],
        [Buffer.from('{"schema_version":1,"data":{"notIds":1}}'), 'migration_failed'],
      ];
      for (const [bytes, code] of cases) {
        await writeFile(path, bytes);
        const err = await openStore(opts(dir)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code, file: path });
        expect(await readFile(path)).toEqual(bytes);
        // A refused open releases the file: nothing but the refused file remains.
        expect(await readdir(dir)).toEqual(['things.json']);
      }
    }));

  it('tells the user what to do', () =>
    withDir(async (dir) => {
      await writeFile(join(dir, 'things.json'), '{"schema_version":9,"data":{}}');
      await expect(openStore(opts(dir))).rejects.toThrow(/written by a newer Coulomb.*upgrade/);
      await writeFile(join(dir, 'things.json'), '{oops');
      await expect(openStore(opts(dir))).rejects.toThrow(/things\.json.*restore it from a backup/);
    }));

  it('concurrent updates all land, in call order, each durable when it resolves', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      const n = 60;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          s.update((d) => void d.items.push({ id: i, label: String(i) })).then(async () => {
            const ids = ((await onDisk(dir)) as { data: V3 }).data.items.map((x) => x.id);
            expect(ids.length).toBeGreaterThan(i);
          }),
        ),
      );
      await s.close();
      const again = await openStore(opts(dir));
      expect(again.data.items.map((x) => x.id)).toEqual(Array.from({ length: n }, (_, i) => i));
      await again.close();
    }));

  it('a change that throws, is async, or cannot be saved is rolled back; the store stays usable', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      await s.update((d) => void (d.note = 'kept'));
      await expect(
        s.update((d) => {
          d.note = 'half';
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(s.data.note).toBe('kept');
      await expect(s.update((async (d: V3) => void (d.note = 'async')) as unknown as (d: V3) => void)).rejects.toThrow(TypeError);
      expect(s.data.note).toBe('kept');
      await expect(s.update((d) => void ((d as unknown as { big: bigint }).big = 1n))).rejects.toMatchObject({ code: 'unserializable' });
      expect(s.data).toEqual({ items: [], note: 'kept' });
      await s.update((d) => void (d.note = 'after'));
      expect(await onDisk(dir)).toEqual({ schema_version: 3, data: { items: [], note: 'after' } });
      await s.close();
      await expect(s.update((d) => void (d.note = 'closed'))).rejects.toMatchObject({ code: 'closed' });
    }));

  it('after a failed disk write it takes no more changes, and close still releases', () =>
    withDir(async (dir) => {
      const sub = join(dir, 'sub');
      const s = await openStore(opts(sub));
      // The directory turns into a file: every later write fails.
      await rm(sub, { recursive: true });
      await writeFile(sub, 'not a directory');
      await expect(s.update((d) => void (d.note = 'lost'))).rejects.toMatchObject({ code: 'write_failed', file: join(sub, 'things.json') });
      await expect(s.update((d) => void (d.note = 'again'))).rejects.toMatchObject({ code: 'write_failed' });
      await expect(s.flush()).rejects.toMatchObject({ code: 'write_failed' });
      await s.close();
    }));

  it('lazy changes wait for the next durable write, flush, close or their timer', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir, { lazyWriteMs: 60_000 }));
      s.updateLazy((d) => void (d.note = 'lazy 1'));
      expect(s.data.note).toBe('lazy 1');
      expect(((await onDisk(dir)) as { data: V3 }).data.note).toBe('');
      await s.flush();
      expect(((await onDisk(dir)) as { data: V3 }).data.note).toBe('lazy 1');
      s.updateLazy((d) => void (d.note = 'lazy 2'));
      await s.update((d) => void d.items.push({ id: 1, label: 'x' }));
      expect(((await onDisk(dir)) as { data: V3 }).data).toEqual({ items: [{ id: 1, label: 'x' }], note: 'lazy 2' });
      s.updateLazy((d) => void (d.note = 'lazy 3'));
      await s.close();
      expect(((await onDisk(dir)) as { data: V3 }).data.note).toBe('lazy 3');

      const t = await openStore(opts(dir, { lazyWriteMs: 20 }));
      t.updateLazy((d) => void (d.note = 'by timer'));
      for (let i = 0; i < 100 && ((await onDisk(dir)) as { data: V3 }).data.note !== 'by timer'; i++) await sleep(10);
      expect(((await onDisk(dir)) as { data: V3 }).data.note).toBe('by timer');
      await t.close();
    }));

  it('cleans up temp files and lock litter a crash left behind', () =>
    withDir(async (dir) => {
      await writeFile(join(dir, 'things.json'), '{"schema_version":3,"data":{"items":[],"note":"ok"}}');
      await writeFile(join(dir, '.things.json.123.abcdef.tmp'), '{"schema_version":3,"data":{"ite');
      await writeFile(join(dir, 'things.lock.999999999.abcdef.new'), '999999999\n');
      await writeFile(join(dir, 'things.lock'), '999999999\n');
      await writeFile(join(dir, '.other.json.1.2.tmp'), 'not ours');
      const s = await openStore(opts(dir));
      expect(s.data.note).toBe('ok');
      await s.close();
      expect((await readdir(dir)).sort()).toEqual(['.other.json.1.2.tmp', 'things.json']);
    }));

  it('rejects a bad name or a migration list that does not match the version', async () => {
    await expect(openStore(opts('/nonexistent', { name: '../escape' }))).rejects.toThrow(RangeError);
    await expect(openStore(opts('/nonexistent', { migrations: [] }))).rejects.toThrow(RangeError);
  });
});
