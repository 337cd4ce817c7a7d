/**
 * The embedded backend: the storage contract, plus what only a log on disk has — group commit,
 * compaction, a torn last write cut off and kept aside at open, damage refused with the file named,
 * and one open per directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { EmbeddedKvStore } from '../../../core/store/kv/embedded.ts';
import type { EmbeddedKvOptions } from '../../../core/store/kv/embedded.ts';
import { FILE_HEADER_BYTES, FRAME_HEADER_BYTES, logName } from '../../../core/store/kv/log-format.ts';
import { openKvStore } from '../../../core/store/kv/open.ts';
import { kvIndexKey } from '../../../core/store/kv/types.ts';
import type { KvOp } from '../../../core/store/kv/types.ts';
import { StoreError } from '../../../core/store/errors.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';
import { kvConformance } from './kv-suite.ts';

let root = '';
beforeAll(async () => {
  root = await tempDir('kv-embedded');
});
afterAll(async () => {
  if (root) await removeDir(root);
});

kvConformance('embedded', { open: (name) => EmbeddedKvStore.open(join(root, name), { log: () => undefined }), persistent: true });

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const put = (ns: string, key: string, value: string): KvOp => ({ type: 'put', ns, key, value: bytes(value) });

let dirs = 0;
const freshDir = (): string => join(root, `t${dirs++}`);

async function openLogged(dir: string, extra: EmbeddedKvOptions = {}): Promise<{ store: EmbeddedKvStore; logs: string[] }> {
  const logs: string[] = [];
  const store = await EmbeddedKvStore.open(dir, { log: (m) => logs.push(m), ...extra });
  return { store, logs };
}

/** Byte offsets where each frame of a log starts, read from the frame headers. */
async function frameStarts(file: string): Promise<number[]> {
  const b = await readFile(file);
  const starts: number[] = [];
  for (let p = FILE_HEADER_BYTES; p < b.length; p += FRAME_HEADER_BYTES + b.readUInt32LE(p + 4)) starts.push(p);
  return starts;
}

/** A store with `n` writes of one record each (`k0001`…), closed; returns its log file. */
async function storeWith(dir: string, n: number): Promise<string> {
  const store = await EmbeddedKvStore.open(dir, { log: () => undefined });
  for (let i = 1; i <= n; i++) await store.write([put('payments', `k${String(i).padStart(4, '0')}`, `value ${i}`)]);
  await store.close();
  return join(dir, logName(1));
}

describe('embedded store', () => {
  it('is what openKvStore opens by default', async () => {
    const dir = freshDir();
    const store = await openKvStore({ backend: 'embedded', dir }, { log: () => undefined });
    expect(store.backend).toBe('embedded');
    expect(store).toBeInstanceOf(EmbeddedKvStore);
    await store.close();
  });

  it('commits writes called together with a few syncs', async () => {
    const { store } = await openLogged(freshDir());
    const before = store.syncs;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.write([put('payments', kvIndexKey(i), `p${i}`)])));
    const syncs = store.syncs - before;
    // The first write goes alone; the others wait for its sync and go together.
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThanOrEqual(4);
    expect(await store.count('payments')).toBe(200);
    await store.close();
  });

  it('keeps durable and lazy writes across reopen, and a lazy write reaches the disk on its own', async () => {
    const dir = freshDir();
    const { store } = await openLogged(dir, { lazyFlushMs: 20 });
    await store.write([put('wallet', 'height', '1')], { durable: false });
    const syncs = store.syncs;
    // Nothing else is written: the timer alone makes it durable.
    for (let i = 0; store.syncs === syncs; i++) {
      expect(i).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 10));
    }
    await store.write([put('channels', 'c1', 'state')]);
    await store.close();
    const { store: again } = await openLogged(dir);
    expect(text(await again.get('wallet', 'height'))).toBe('1');
    expect(text(await again.get('channels', 'c1'))).toBe('state');
    await again.close();
  });

  it('compacts a log that is mostly dead, keeping every live record, and shrinks the file', async () => {
    const dir = freshDir();
    const { store, logs } = await openLogged(dir, { compaction: { minDeadBytes: 64 * 1024, deadRatio: 0.5 } });
    const big = 'x'.repeat(2000);
    const expected = new Map<string, string>();
    // Records overwritten again and again (dead bytes), some deleted, some kept from the start.
    for (let i = 0; i < 20; i++) {
      await store.write([put('history', kvIndexKey(i), `kept ${i}`)]);
      expected.set(`history/${kvIndexKey(i)}`, `kept ${i}`);
    }
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 200; round++) {
      const ops = [put('channels', `ch${round % 10}`, `${round} ${big}`)];
      if (round % 50 === 49) ops.push({ type: 'delete', ns: 'channels', key: `ch${(round + 1) % 10}` });
      // Half of them in flight together, so some land while a compaction copies.
      const w = store.write(ops);
      if (round % 2) await w;
      else writes.push(w);
    }
    await Promise.all(writes);
    // Compaction runs in the background; wait until one has switched files.
    for (let i = 0; !logs.some((l) => l.startsWith('Compacted the store log')); i++) {
      expect(i).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let round = 150; round < 200; round++) expected.set(`channels/ch${round % 10}`, `${round} ${big}`);
    expected.delete('channels/ch0');
    await store.write([{ type: 'delete', ns: 'channels', key: 'ch0' }]);
    const read = async (s: EmbeddedKvStore): Promise<Map<string, string>> => {
      const m = new Map<string, string>();
      for (const ns of ['history', 'channels']) for (const r of await s.range(ns)) m.set(`${ns}/${r.key}`, text(r.value)!);
      return m;
    };
    expect(await read(store)).toEqual(expected);
    await store.close();
    const files = (await readdir(dir)).filter((f) => f.endsWith('.log'));
    expect(files).toHaveLength(1);
    const size = (await stat(join(dir, files[0]!))).size;
    // 200 writes of 2 kB were appended; about 10 live ones remain, plus what came after the last compaction.
    expect(size).toBeLessThan(200 * 2000 * 0.5);
    const { store: again } = await openLogged(dir);
    expect(await read(again)).toEqual(expected);
    await again.close();
  });

  it('cuts off a torn last write at open, keeps its bytes aside and says so; earlier writes are all there', async () => {
    const dir = freshDir();
    const file = await storeWith(dir, 5);
    const starts = await frameStarts(file);
    const size = (await stat(file)).size;
    await truncate(file, size - 3);
    const { store, logs } = await openLogged(dir);
    expect(await store.count('payments')).toBe(4);
    expect(text(await store.get('payments', 'k0004'))).toBe('value 4');
    expect(await store.get('payments', 'k0005')).toBeUndefined();
    // Writes go on after the cut.
    await store.write([put('payments', 'k0005', 'again')]);
    await store.close();
    const torn = (await readdir(dir)).filter((f) => f.startsWith(`${logName(1)}.torn-`));
    expect(torn).toHaveLength(1);
    expect((await stat(join(dir, torn[0]!))).size).toBe(size - 3 - starts[4]!);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(file);
    expect(logs[0]).toContain(`${size - 3 - starts[4]!} bytes`);
    expect(logs[0]).toContain(torn[0]);
    expect(logs[0]).toContain('No acknowledged write was lost');
    const { store: again } = await openLogged(dir);
    expect(text(await again.get('payments', 'k0005'))).toBe('again');
    await again.close();
  });

  it('cuts off garbage after the last whole write the same way', async () => {
    const dir = freshDir();
    const file = await storeWith(dir, 3);
    const garbage = Buffer.from('a power cut left this\x00\x00\x00\x00 behind');
    await appendFile(file, garbage);
    const { store, logs } = await openLogged(dir);
    expect(await store.count('payments')).toBe(3);
    await store.close();
    expect(logs[0]).toContain(`cut off the last ${garbage.length} bytes`);
  });

  it('takes damage inside the last group commit, with whole writes of that group after it, for a torn write', async () => {
    // A power cut can keep the pages of an unsynced append in any order: a write of the last group may
    // be missing while a later one of the same group is whole. None of that group was acknowledged.
    const dir = freshDir();
    const store = await EmbeddedKvStore.open(dir, { log: () => undefined });
    await store.write([put('payments', 'a', 'synced on its own')]);
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.write([put('payments', `g${i}`, `grouped ${i}`)])));
    await store.close();
    const file = join(dir, logName(1));
    const b = await readFile(file);
    const starts = await frameStarts(file);
    // The last frame's group offset says where its group began.
    const last = starts.at(-1)!;
    const groupStart = last - b.readUInt32LE(last + 16);
    const group = starts.filter((p) => p >= groupStart);
    expect(group.length).toBeGreaterThanOrEqual(3);
    const hole = group[1]!;
    b.fill(0, hole, hole + FRAME_HEADER_BYTES + 4);
    await writeFile(file, b);
    const { store: again, logs } = await openLogged(dir);
    const kept = (await again.range('payments')).map((r) => r.key);
    await again.close();
    // Everything before the hole, nothing after it.
    expect(kept).toEqual(['a', ...Array.from({ length: starts.indexOf(hole) - 1 }, (_, i) => `g${i}`)]);
    expect(logs[0]).toContain(`cut off the last ${b.length - hole} bytes`);

    // The same damage in a group followed by a later one is refused.
    const dir2 = freshDir();
    const store2 = await EmbeddedKvStore.open(dir2, { log: () => undefined });
    await Promise.all(Array.from({ length: 8 }, (_, i) => store2.write([put('payments', `g${i}`, `grouped ${i}`)])));
    await store2.write([put('payments', 'z', 'a later group')]);
    await store2.close();
    const file2 = join(dir2, logName(1));
    const b2 = await readFile(file2);
    const starts2 = await frameStarts(file2);
    b2.fill(0, starts2[2]!, starts2[2]! + FRAME_HEADER_BYTES + 4);
    await writeFile(file2, b2);
    await expect(EmbeddedKvStore.open(dir2, { log: () => undefined })).rejects.toMatchObject({ code: 'corrupt', file: file2 });
  });

  it('refuses a log whose middle write is damaged, naming the file and leaving it untouched', async () => {
    const dir = freshDir();
    const file = await storeWith(dir, 5);
    const starts = await frameStarts(file);
    const b = await readFile(file);
    b[starts[2]! + FRAME_HEADER_BYTES + 6]! ^= 0x01;
    await writeFile(file, b);
    const err = await EmbeddedKvStore.open(dir, { log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'corrupt', file });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/backup/);
    expect(await readFile(file)).toEqual(b);
    expect((await readdir(dir)).filter((f) => f.includes('torn'))).toEqual([]);
    // Refused without keeping the directory locked.
    await expect(EmbeddedKvStore.open(dir, { log: () => undefined })).rejects.toMatchObject({ code: 'corrupt' });
  });

  it('refuses a log shorter than its header, or with a missing write', async () => {
    const dir = freshDir();
    const file = await storeWith(dir, 2);
    await truncate(file, 10);
    await expect(EmbeddedKvStore.open(dir, { log: () => undefined })).rejects.toMatchObject({ code: 'corrupt', file });
    expect((await stat(file)).size).toBe(10);

    const dir2 = freshDir();
    const file2 = await storeWith(dir2, 4);
    const starts = await frameStarts(file2);
    const b = await readFile(file2);
    // Cut out the second write: the third then follows the first.
    await writeFile(file2, Buffer.concat([b.subarray(0, starts[1]!), b.subarray(starts[2]!)]));
    const err = await EmbeddedKvStore.open(dir2, { log: () => undefined }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'corrupt', file: file2 });
    expect((err as Error).message).toMatch(/sequence number/);
  });

  it('refuses a second open of the same directory in this process', async () => {
    const dir = freshDir();
    const { store } = await openLogged(dir);
    await expect(EmbeddedKvStore.open(dir)).rejects.toMatchObject({ code: 'locked' });
    await expect(EmbeddedKvStore.open(join(dir, '.', ''))).rejects.toMatchObject({ code: 'locked' });
    await store.write([put('meta', 'k', 'v')]);
    await store.close();
    const { store: again } = await openLogged(dir);
    expect(text(await again.get('meta', 'k'))).toBe('v');
    await again.close();
  });

  it('takes no more writes once the disk refused one, and every caller hears of it', async () => {
    const dir = freshDir();
    const { store } = await openLogged(dir);
    await store.write([put('channels', 'c1', 'before')]);
    const told: unknown[] = [];
    store.onFailure((e) => told.push(e));
    // The disk goes away under the store: its file handle is closed behind its back.
    await (store as unknown as { file: { fh: FileHandle } }).file.fh.close();
    const writes = [store.write([put('channels', 'c1', 'lost')]), store.write([put('channels', 'c2', 'lost too')])];
    for (const w of writes) await expect(w).rejects.toMatchObject({ code: 'write_failed' });
    // The store's owner hears of it once (a node stops there), and so does one listening later.
    await waitFor('the failure to be told', () => told.length > 0 || undefined);
    const late = await new Promise((resolve) => store.onFailure(resolve));
    expect(told).toHaveLength(1);
    expect(late).toBe(told[0]);
    expect(told[0]).toMatchObject({ code: 'write_failed' });
    const err = await store.write([put('channels', 'c3', 'later')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'write_failed', file: join(dir, logName(1)) });
    expect((err as Error).message).toMatch(/restart/);
    await expect(store.flush()).rejects.toMatchObject({ code: 'write_failed' });
    // Closing still lets go of the directory.
    await expect(store.close()).rejects.toMatchObject({ code: 'write_failed' });
    const { store: again } = await openLogged(dir);
    expect(text(await again.get('channels', 'c1'))).toBe('before');
    await again.close();
  });

  it('lists the newest records of a large namespace by reading only those', async () => {
    const { store } = await openLogged(freshDir());
    const n = 5000;
    for (let i = 0; i < n; i += 500) await store.write(Array.from({ length: 500 }, (_, j) => put('invoices', kvIndexKey(i + j), `invoice ${i + j}`)));
    const page = await store.range('invoices', { reverse: true, limit: 100 });
    expect(page.map((r) => text(r.value))).toEqual(Array.from({ length: 100 }, (_, j) => `invoice ${n - 1 - j}`));
    expect(await store.count('invoices', { gte: kvIndexKey(4900) })).toBe(100);
    await store.close();
  });
});
