/**
 * The cost of one durable store write (serialize, temp file, fsync, rename, fsync directory) with a store
 * of 1 entry and of 100,000 history-like entries (~200 bytes each), against a raw fsync of a tiny file
 * measured in the same run on the same disk. Also: what a burst of concurrent updates costs per update
 * once coalesced, and how much of the large write is JSON serialization alone. Then the embedded
 * KvStore (core/store/kv/embedded.ts) against a raw append + fdatasync.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, writeFileDurable } from '../../core/store/index.ts';
import { EmbeddedKvStore } from '../../core/store/kv/embedded.ts';
import { kvIndexKey } from '../../core/store/kv/types.ts';
import { table, timeAsync } from './harness.ts';

interface HistoryEntry {
  txid: string;
  amount_msat: string;
  fee_msat: string;
  time: number;
  height: number;
  label: string;
}
interface History {
  entries: HistoryEntry[];
}

function entry(i: number): HistoryEntry {
  return {
    txid: i.toString(16).padStart(64, '0'),
    amount_msat: String(1_000_000 + i * 1000),
    fee_msat: String(i % 5000),
    time: 1_700_000_000 + i,
    height: 800_000 + (i >> 4),
    label: `payment #${i} for something nice`.padEnd(40, '.'),
  };
}

/** Mean milliseconds per call over `n` sequential calls, after one warm-up call. */
async function msPer(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  await fn(-1);
  return (await timeAsync(async () => {
    for (let i = 0; i < n; i++) await fn(i);
  })) / n;
}

/**
 * The embedded KvStore against its reference, a raw loop appending 200 bytes to a file and
 * fdatasyncing it (the least a durable append can cost on this disk): writes one at a time and from 32
 * writers at once (group commit), reads of single records, and listing the newest 100 of 100,000.
 */
async function kvBench(dir: string): Promise<void> {
  const record = (i: number): Uint8Array => Buffer.from(JSON.stringify(entry(i)));
  const fh = await open(join(dir, 'raw.log'), 'a');
  const kv = await EmbeddedKvStore.open(join(dir, 'kv'), { log: () => undefined });
  // Alternating rounds, so a disk that speeds up or slows down (other work on the machine) weighs on both.
  let rawAppend = 0;
  let one = 0;
  for (let round = 0; round < 4; round++) {
    rawAppend += await msPer(50, async (i) => {
      await fh.write(record(i));
      await fh.datasync();
    });
    one += await msPer(50, (i) => kv.write([{ type: 'put', ns: 'payments', key: kvIndexKey(round * 100 + i + 1), value: record(i) }]));
  }
  rawAppend /= 4;
  one /= 4;
  await fh.close();

  const WRITERS = 32;
  const PER_WRITER = 40;
  const syncsBefore = kv.syncs;
  const concurrent =
    (await timeAsync(async () => {
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < PER_WRITER; i++) await kv.write([{ type: 'put', ns: 'channels', key: `ch${w}`, value: record(i) }, { type: 'put', ns: 'payments', key: kvIndexKey(10_000 + w * PER_WRITER + i), value: record(i) }]);
        }),
      );
    })) /
    (WRITERS * PER_WRITER);
  const syncsPerWrite = (kv.syncs - syncsBefore) / (WRITERS * PER_WRITER);

  // 100,000 history records, written in batches (the state a long-lived merchant node reaches).
  for (let i = 0; i < 100_000; i += 1000) await kv.write(Array.from({ length: 1000 }, (_, j) => ({ type: 'put' as const, ns: 'history', key: kvIndexKey(i + j), value: record(i + j) })));
  let x = 12345;
  const get = await msPer(2000, async () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    if (!(await kv.get('history', kvIndexKey(x % 100_000)))) throw new Error('missing record');
  });
  const newest = await msPer(200, async () => {
    if ((await kv.range('history', { reverse: true, limit: 100 })).length !== 100) throw new Error('short page');
  });
  const page = await msPer(200, async (i) => {
    const lt = kvIndexKey(1000 + (((i + 1) * 7919) % 99_000));
    if ((await kv.range('history', { reverse: true, limit: 100, lt })).length !== 100) throw new Error('short page');
  });
  await kv.close();
  const reopen = await timeAsync(async () => {
    await (await EmbeddedKvStore.open(join(dir, 'kv'), { log: () => undefined })).close();
  });

  table('Embedded KvStore (ms per operation; ratio to a raw append + fdatasync in this run)', [
    ['what', 'ms', 'x raw append'],
    ['raw append 200 B + fdatasync', rawAppend, 1],
    ['write, one at a time', one, one / rawAppend],
    [`write, ${WRITERS} writers at once (per write; ${syncsPerWrite.toFixed(2)} syncs per write)`, concurrent, concurrent / rawAppend],
    ['get, random record of 100,000', get, get / rawAppend],
    ['list newest 100 of 100,000', newest, newest / rawAppend],
    ['list a page of 100 further back', page, page / rawAppend],
    ['reopen with 100,000+ records', reopen, reopen / rawAppend],
  ]);
  process.stdout.write(
    `kv vs raw append+fdatasync: one at a time ${(rawAppend / one).toFixed(2)}x, ${WRITERS} writers ${(rawAppend / concurrent).toFixed(2)}x the rate; ` +
      `newest 100 of 100,000 in ${newest.toFixed(2)} ms\n`,
  );
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coulomb-bench-store-'));
  try {
    // Reference: overwrite 16 bytes of an open tiny file and fsync it.
    const fh = await open(join(dir, 'tiny'), 'w');
    const rawFsync = await msPer(100, async (i) => {
      await fh.write(String(i).padStart(16, '0'), 0);
      await fh.sync();
    });
    await fh.close();
    const tinyDurable = await msPer(100, (i) => writeFileDurable(join(dir, 'tiny.json'), String(i)));

    const small = await openStore<History>({ dir, name: 'small', version: 1, migrations: [], defaults: () => ({ entries: [entry(0)] }) });
    const one = await msPer(100, (i) => small.update((d) => void (d.entries[0]!.time = i)));
    const burst = (await timeAsync(async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => small.update((d) => void (d.entries[0]!.height = i))));
    })) / 100;
    await small.close();

    const big = await openStore<History>({ dir, name: 'big', version: 1, migrations: [], defaults: () => ({ entries: [] }) });
    await big.update((d) => {
      for (let i = 0; i < 100_000; i++) d.entries.push(entry(i));
    });
    const bytes = JSON.stringify({ schema_version: 1, data: big.data }).length;
    const stringify = await msPer(5, async () => void JSON.stringify({ schema_version: 1, data: big.data }));
    const many = await msPer(10, (i) => big.update((d) => void (d.entries[i & 1023]!.label = `relabelled ${i}`)));
    await big.close();

    table('Durable writes (ms per write; ratio to a raw fsync of a tiny file in this run)', [
      ['what', 'ms', 'x raw fsync'],
      ['raw fsync, 16 B file', rawFsync, 1],
      ['writeFileDurable, tiny file', tinyDurable, tinyDurable / rawFsync],
      ['store update, 1 entry', one, one / rawFsync],
      ['store update, 1 entry, burst of 100 (per update)', burst, burst / rawFsync],
      [`store update, 100,000 entries (${(bytes / 1e6).toFixed(1)} MB)`, many, many / rawFsync],
      ['  of which JSON.stringify', stringify, stringify / rawFsync],
    ]);
    await kvBench(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
