import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DurableJsonAdapter, StoreError } from '../../../core/store/index.ts';
import { withTempDir } from '../../helpers/daemon.ts';

const withDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTempDir('adapter', fn);

describe('durable lowdb adapter', () => {
  it('works under lowdb: missing file reads as null, writes round-trip', () =>
    withDir(async (dir) => {
      const path = join(dir, 'db.json');
      const db = new Low(new DurableJsonAdapter<{ posts: string[] }>(path), { posts: [] });
      await db.read();
      expect(db.data).toEqual({ posts: [] });
      db.data.posts.push('hello');
      await db.write();
      const again = new Low(new DurableJsonAdapter<{ posts: string[] }>(path), { posts: [] });
      await again.read();
      expect(again.data).toEqual({ posts: ['hello'] });
    }));

  it('a burst of writes: each promise resolves only once data at least that new is on disk', () =>
    withDir(async (dir) => {
      const path = join(dir, 'c.json');
      const adapter = new DurableJsonAdapter<{ n: number; pad: string }>(path);
      const seenOnResolve: [number, number][] = [];
      const data = { n: 0, pad: '' };
      const writes = Array.from({ length: 40 }, (_, i) => {
        data.n = i;
        data.pad = 'p'.repeat((i * 7919) % 50_000);
        // The same object, changed right after each call: the adapter must have taken a snapshot.
        return adapter.write(data).then(async () => {
          const onDisk = JSON.parse(await readFile(path, 'utf8')) as { n: number; pad: string };
          expect(onDisk.pad.length).toBe((onDisk.n * 7919) % 50_000);
          seenOnResolve.push([i, onDisk.n]);
        });
      });
      await Promise.all(writes);
      for (const [i, n] of seenOnResolve) expect(n).toBeGreaterThanOrEqual(i);
      expect((JSON.parse(await readFile(path, 'utf8')) as { n: number }).n).toBe(39);
      // Serialized and coalesced: far fewer disk writes than calls, but at least the first and last.
      expect(adapter.durableWrites).toBeGreaterThanOrEqual(2);
      expect(adapter.durableWrites).toBeLessThan(40);
      await adapter.idle();
    }));

  it('refuses damaged files with a StoreError naming them, and never writes over them', () =>
    withDir(async (dir) => {
      const path = join(dir, 'bad.json');
      const damaged = [Buffer.from('{"a":1'), Buffer.from(''), Buffer.from('null'), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])];
      for (const bytes of damaged) {
        await writeFile(path, bytes);
        const db = new Low(new DurableJsonAdapter<{ a: number }>(path), { a: 0 });
        const err = await db.read().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code: 'corrupt', file: path });
        expect((err as Error).message).toMatch(/backup/);
        expect(await readFile(path)).toEqual(bytes);
      }
    }));

  it('rejects data JSON cannot hold without touching the file; a failed disk write rejects its callers', () =>
    withDir(async (dir) => {
      const path = join(dir, 'x.json');
      const adapter = new DurableJsonAdapter<unknown>(path);
      await adapter.write({ ok: 1 });
      await expect(adapter.write({ big: 1n })).rejects.toMatchObject({ code: 'unserializable', file: path });
      expect(await readFile(path, 'utf8')).toBe('{"ok":1}');
      expect(adapter.latestData()).toEqual({ ok: 1 });
      const blocked = new DurableJsonAdapter<unknown>(join(dir, 'x.json', 'inside.json')); // parent is a file
      await expect(blocked.write({ a: 1 })).rejects.toThrow();
    }));
});
