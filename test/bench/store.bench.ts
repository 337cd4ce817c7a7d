/**
 * The cost of one durable store write (serialize, temp file, fsync, rename, fsync directory) with a store
 * of 1 entry and of 100,000 history-like entries (~200 bytes each), against a raw fsync of a tiny file
 * measured in the same run on the same disk. Also: what a burst of concurrent updates costs per update
 * once coalesced, and how much of the large write is JSON serialization alone.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, writeFileDurable } from '../../core/store/index.ts';
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
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
