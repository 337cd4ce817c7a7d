import { describe, expect, it } from 'vitest';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore, StoreError } from '../../../core/store/index.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';

interface V2 {
  items: { id: number; label: string }[];
}

const opts = (dir: string) => ({
  dir,
  name: 'things',
  version: 2,
  // v1 stored plain ids; v2 gives each a label.
  migrations: [(d: unknown) => ({ items: (d as { ids: number[] }).ids.map((id) => ({ id, label: `#${id}` })) })],
  defaults: (): V2 => ({ items: [] }),
  validate: (d: unknown) => (Array.isArray((d as V2).items) ? undefined : 'items is missing'),
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('store');
  try {
    await fn(dir);
  } finally {
    await removeDir(dir);
  }
}

describe('versioned durable stores', () => {
  it('creates, updates durably, reopens', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      await s.update((d) => void d.items.push({ id: 1, label: 'one' }));
      await s.close();
      expect(JSON.parse(await readFile(join(dir, 'things.json'), 'utf8'))).toEqual({ schema_version: 2, data: { items: [{ id: 1, label: 'one' }] } });
      const again = await openStore(opts(dir));
      expect(again.data.items).toEqual([{ id: 1, label: 'one' }]);
      await again.close();
    }));

  it('migrates a golden v1 file and writes the result back', () =>
    withDir(async (dir) => {
      await writeFile(join(dir, 'things.json'), '{"schema_version":1,"data":{"ids":[3,4]}}');
      const s = await openStore(opts(dir));
      expect(s.data.items).toEqual([{ id: 3, label: '#3' }, { id: 4, label: '#4' }]);
      await s.close();
      expect(JSON.parse(await readFile(join(dir, 'things.json'), 'utf8')).schema_version).toBe(2);
    }));

  it('refuses a newer, a corrupt or a foreign file and leaves it byte for byte', () =>
    withDir(async (dir) => {
      const path = join(dir, 'things.json');
      for (const [text, code] of [
        ['{"schema_version":3,"data":{}}', 'newer_version'],
        ['{"schema_version":2,"da', 'corrupt'],
        ['[1,2,3]', 'invalid'],
        ['{"schema_version":2,"data":{"nope":1}}', 'invalid'],
      ] as const) {
        await writeFile(path, text);
        await expect(openStore(opts(dir))).rejects.toMatchObject({ code, file: path });
        expect(await readFile(path, 'utf8')).toBe(text);
      }
      await expect(openStore(opts(dir))).rejects.toThrow(StoreError);
    }));

  it('concurrent updates all land, in order', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.update((d) => void d.items.push({ id: i, label: String(i) }))));
      await s.close();
      const again = await openStore(opts(dir));
      expect(again.data.items.map((x) => x.id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      await again.close();
    }));

  it('one writer at a time; a stale lock from a dead process is taken over; no temp files linger', () =>
    withDir(async (dir) => {
      const s = await openStore(opts(dir));
      await expect(openStore(opts(dir))).rejects.toThrow(/already open in this process/);
      await s.close();
      await writeFile(join(dir, 'things.lock'), '1'); // pid 1 is alive (init) and not us
      await expect(openStore(opts(dir))).rejects.toMatchObject({ code: 'locked' });
      await writeFile(join(dir, 'things.lock'), '999999999'); // no such process
      await writeFile(join(dir, '.things.json.123.456.tmp'), 'half-written');
      const t = await openStore(opts(dir));
      await t.close();
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }));
});
