/**
 * The storage contract (core/store/kv/types.ts), run against every backend: each backend's test file
 * calls `kvConformance` with a way to open its stores. Not a test file itself.
 */
import { describe, expect, it, afterEach } from 'vitest';
import { StoreError } from '../../../core/store/errors.ts';
import { kvIndexKey, kvJson } from '../../../core/store/kv/types.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';

export interface KvBackendUnderTest {
  /** Opens the store named `name` (the same name opens the same data again, where the backend keeps it). */
  open(name: string): Promise<KvStore>;
  /** Whether data survives a close and reopen. */
  persistent: boolean;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const put = (ns: string, key: string, value: string) => ({ type: 'put' as const, ns, key, value: bytes(value) });
const del = (ns: string, key: string) => ({ type: 'delete' as const, ns, key });

export function kvConformance(label: string, b: KvBackendUnderTest): void {
  describe(`storage contract: ${label}`, () => {
    const opened: KvStore[] = [];
    let n = 0;
    const fresh = async (): Promise<{ store: KvStore; name: string }> => {
      const name = `kv${process.pid}x${n++}x${Math.random().toString(36).slice(2, 8)}`;
      const store = await b.open(name);
      opened.push(store);
      return { store, name };
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    it('puts, gets, overwrites and deletes records; namespaces are apart', async () => {
      const { store } = await fresh();
      expect(await store.get('payments', 'a')).toBeUndefined();
      await store.write([put('payments', 'a', 'one'), put('invoices', 'a', 'other')]);
      expect(text(await store.get('payments', 'a'))).toBe('one');
      expect(text(await store.get('invoices', 'a'))).toBe('other');
      await store.write([put('payments', 'a', 'two')]);
      expect(text(await store.get('payments', 'a'))).toBe('two');
      await store.write([del('payments', 'a'), del('payments', 'never-there')]);
      expect(await store.get('payments', 'a')).toBeUndefined();
      expect(text(await store.get('invoices', 'a'))).toBe('other');
    });

    it('keeps every byte value, an empty value and a large one, and copies what it is given', async () => {
      const { store } = await fresh();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff);
      const given = Uint8Array.from([1, 2, 3]);
      await store.write([
        { type: 'put', ns: 'wallet', key: 'all', value: all },
        { type: 'put', ns: 'wallet', key: 'empty', value: new Uint8Array(0) },
        { type: 'put', ns: 'wallet', key: 'large', value: large },
        { type: 'put', ns: 'wallet', key: 'given', value: given },
      ]);
      given[0] = 9;
      expect(await store.get('wallet', 'all')).toEqual(all);
      expect(await store.get('wallet', 'empty')).toEqual(new Uint8Array(0));
      // Compared as buffers: an element-wise toEqual of a megabyte takes many seconds.
      const gotLarge = await store.get('wallet', 'large');
      expect(gotLarge).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(Buffer.from(gotLarge!), Buffer.from(large))).toBe(0);
      const got = (await store.get('wallet', 'given'))!;
      expect(got).toEqual(Uint8Array.from([1, 2, 3]));
      got[1] = 9;
      expect(await store.get('wallet', 'given')).toEqual(Uint8Array.from([1, 2, 3]));
    });

    it('refuses a bad namespace, key or value, applying nothing of that write', async () => {
      const { store } = await fresh();
      await expect(store.write([put('payments', 'ok', 'x'), put('payments', 'bad key', 'y')])).rejects.toThrow(RangeError);
      await expect(store.write([put('Payments', 'ok', 'x')])).rejects.toThrow(RangeError);
      await expect(store.write([put('payments', 'é', 'x')])).rejects.toThrow(RangeError);
      await expect(store.write([put('payments', 'k'.repeat(513), 'x')])).rejects.toThrow(RangeError);
      expect(await store.get('payments', 'ok')).toBeUndefined();
      // The store still works.
      await store.write([put('payments', 'ok', 'x')]);
      expect(text(await store.get('payments', 'ok'))).toBe('x');
    });

    it('reads ranges in byte order, within bounds and prefixes, forwards and backwards, a page at a time', async () => {
      const { store } = await fresh();
      const keys = ['b', 'a', 'B', '~', 'a0', 'a1', 'a10', 'a2', 'ab', '0'];
      await store.write(keys.map((k) => put('invoices', k, `v${k}`)));
      const sorted = [...keys].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
      const ks = async (r?: Parameters<KvStore['range']>[1]) => (await store.range('invoices', r)).map((x) => x.key);
      expect(await ks()).toEqual(sorted);
      expect((await store.range('invoices')).map((x) => text(x.value))).toEqual(sorted.map((k) => `v${k}`));
      expect(await ks({ reverse: true })).toEqual([...sorted].reverse());
      expect(await ks({ prefix: 'a' })).toEqual(['a', 'a0', 'a1', 'a10', 'a2', 'ab']);
      expect(await ks({ prefix: 'a', reverse: true, limit: 2 })).toEqual(['ab', 'a2']);
      expect(await ks({ gte: 'a1', lt: 'a2' })).toEqual(['a1', 'a10']);
      expect(await ks({ gt: 'a1', lte: 'ab' })).toEqual(['a10', 'a2', 'ab']);
      expect(await ks({ gt: 'a1', limit: 1 })).toEqual(['a10']);
      expect(await ks({ limit: 0 })).toEqual([]);
      expect(await ks({ gte: 'zz' })).toEqual(['~']);
      expect(await store.count('invoices')).toBe(keys.length);
      expect(await store.count('invoices', { prefix: 'a' })).toBe(6);
      expect(await store.count('nothing-here')).toBe(0);
      expect(await store.range('nothing-here')).toEqual([]);
    });

    it('pages numbered records in number order with fixed-width keys', async () => {
      const { store } = await fresh();
      await store.write(Array.from({ length: 250 }, (_, i) => ({ type: 'put' as const, ns: 'payments', key: kvIndexKey(i + 1), value: kvJson.encode({ i: i + 1, amt: BigInt(i) * 1000n }) })));
      const newest = await store.range('payments', { reverse: true, limit: 100 });
      expect(newest.map((r) => kvJson.decode<{ i: number }>(r.value).i)).toEqual(Array.from({ length: 100 }, (_, i) => 250 - i));
      const next = await store.range('payments', { reverse: true, limit: 100, lt: newest.at(-1)!.key });
      expect(kvJson.decode<{ i: number; amt: bigint }>(next[0]!.value)).toEqual({ i: 150, amt: 149_000n });
    });

    it('shows a write to reads made after it was called, before it resolved', async () => {
      const { store } = await fresh();
      const w = store.write([put('channels', 'c', 'new')]);
      expect(text(await store.get('channels', 'c'))).toBe('new');
      await w;
    });

    it('applies writes in call order, and commits many at once with fewer syncs than writes', async () => {
      const { store } = await fresh();
      const before = store.syncs;
      await Promise.all(Array.from({ length: 64 }, (_, i) => store.write([put('channels', 'c', String(i)), put('payments', kvIndexKey(i), String(i))])));
      expect(text(await store.get('channels', 'c'))).toBe('63');
      expect(await store.count('payments')).toBe(64);
      const syncs = store.syncs - before;
      expect(syncs).toBeGreaterThan(0);
      if (store.backend !== 'memory') expect(syncs).toBeLessThan(64);
    });

    it('refuses a second open of a store while it is open, and reopens once closed', async () => {
      const { store, name } = await fresh();
      await store.write([put('meta', 'k', 'v')]);
      await expect(b.open(name)).rejects.toMatchObject({ code: 'locked' });
      await store.close();
      const again = await b.open(name);
      opened.push(again);
      if (b.persistent) expect(text(await again.get('meta', 'k'))).toBe('v');
    });

    it('refuses calls once closed', async () => {
      const { store } = await fresh();
      await store.close();
      await expect(store.get('meta', 'k')).rejects.toBeInstanceOf(StoreError);
      await expect(store.write([put('meta', 'k', 'v')])).rejects.toMatchObject({ code: 'closed' });
      await store.close();
    });

    if (b.persistent) {
      it('keeps every write across a close and reopen, lazy ones included, and deletes stay deleted', async () => {
        const { store, name } = await fresh();
        await store.write([put('channels', 'a', '1'), put('channels', 'b', '2'), put('payments', kvIndexKey(1), 'p')]);
        await store.write([del('channels', 'b'), put('channels', 'a', '3')]);
        await store.write([put('wallet', 'scan-height', '812')], { durable: false });
        await store.close();
        const again = await b.open(name);
        opened.push(again);
        expect(text(await again.get('channels', 'a'))).toBe('3');
        expect(await again.get('channels', 'b')).toBeUndefined();
        expect(text(await again.get('wallet', 'scan-height'))).toBe('812');
        expect((await again.range('channels')).map((r) => r.key)).toEqual(['a']);
        expect(await again.count('payments')).toBe(1);
      });

      it('keeps many small updates to the same records across reopen (what compaction must not lose)', async () => {
        const { store, name } = await fresh();
        for (let round = 0; round < 50; round++) {
          await store.write(Array.from({ length: 20 }, (_, i) => put('channels', `ch${i}`, `round ${round} of ${i} `.repeat(40))));
          if (round % 7 === 0) await store.write([del('channels', `ch${round % 20}`)]);
        }
        const expected = new Map((await store.range('channels')).map((r) => [r.key, text(r.value)]));
        await store.close();
        const again = await b.open(name);
        opened.push(again);
        expect(new Map((await again.range('channels')).map((r) => [r.key, text(r.value)]))).toEqual(expected);
        // Round 49, the last, deletes ch9 after writing it.
        expect(expected.size).toBe(19);
      });
    }
  });
}
