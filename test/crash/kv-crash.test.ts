/**
 * The embedded store's crash safety: a writer with several writes in flight is SIGKILLed again and
 * again — at random moments, and at chosen steps of a compaction (the new log written but not yet in
 * place; renamed into place but the old one not yet removed). After every kill the store opens with
 * every write it acknowledged, and each write whole or not at all: three records per write, checked
 * against each other, and nothing of a later write without all of the earlier ones.
 *
 * KV_CRASH_KILLS sets the number of kills (default 30). The writer is bundled once, so each spawn is
 * a plain `node` start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EmbeddedKvStore } from '../../core/store/kv/embedded.ts';
import { kvIndexKey } from '../../core/store/kv/types.ts';
import { removeDir, tempDir } from '../helpers/daemon.ts';
import { rng } from './harness.ts';
import { KV_CHANNELS, kvChannelValue } from './kv-payload.ts';

const WRITER_SOURCE = fileURLToPath(new URL('./kv-writer.ts', import.meta.url));
const KILLS = Number(process.env.KV_CRASH_KILLS ?? 30);
const IN_FLIGHT = 8;
/** A guard against a hang, not a speed check. */
const PER_KILL_BUDGET_MS = 25_000;

let writer = '';
let bundleDir = '';

beforeAll(async () => {
  bundleDir = await tempDir('kv-crash-writer');
  writer = join(bundleDir, 'kv-writer.mjs');
  await build({ entryPoints: [WRITER_SOURCE], outfile: writer, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
});
afterAll(async () => {
  if (bundleDir) await removeDir(bundleDir);
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last write the writer reported resolved; -1 if none. */
  reported: number;
  /** Compaction steps reported, in order. */
  steps: string[];
  stderr: string;
}

/** Runs the writer; kills it `delayMs` after its first acknowledgement, unless it kills itself first (crashAt). */
function runWriter(dir: string, opts: { delayMs?: number; crashAt?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, KV_CRASH_AT: opts.crashAt ?? '' };
    const child = spawn(process.execPath, [writer, dir, String(IN_FLIGHT)], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    // A writer meant to kill itself at a compaction step is stopped anyway if it never gets there.
    const guard = setTimeout(() => child.kill('SIGKILL'), PER_KILL_BUDGET_MS - 2000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (opts.delayMs !== undefined) timer ??= setTimeout(() => child.kill('SIGKILL'), opts.delayMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      // Only whole lines count: a line cut off by the kill was never fully reported.
      const lines = out.split('\n').slice(0, -1).filter(Boolean);
      const numbers = lines.filter((l) => !l.startsWith('#')).map(Number);
      resolve({ code, signal, reported: numbers.length ? numbers[numbers.length - 1]! : -1, steps: lines.filter((l) => l.startsWith('#')).map((l) => l.slice(1)), stderr });
    });
  });
}

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Opens the store and checks it holds exactly writes 1..last, each whole; returns last. */
async function check(dir: string): Promise<number> {
  const store = await EmbeddedKvStore.open(dir, { log: () => undefined });
  try {
    const last = Number(text(await store.get('meta', 'last')) ?? '0');
    // Writes land in call order: all of 1..last, none after.
    expect(await store.count('log')).toBe(last);
    if (last > 0) {
      const [first] = await store.range('log', { limit: 1 });
      const [newest] = await store.range('log', { reverse: true, limit: 1 });
      expect(first!.key).toBe(kvIndexKey(1));
      expect(newest!.key).toBe(kvIndexKey(last));
      expect(text(newest!.value)).toBe(String(last));
    }
    // Each channel record is the one the newest write touching it left.
    const chans = new Map((await store.range('chan')).map((r) => [r.key, text(r.value)]));
    for (let j = 0; j < KV_CHANNELS; j++) {
      let c = last;
      while (c > 0 && c % KV_CHANNELS !== j) c--;
      expect(chans.get(`ch${j}`)).toBe(c > 0 ? kvChannelValue(c) : undefined);
    }
    return last;
  } finally {
    await store.close();
  }
}

describe('embedded store crash safety', () => {
  it('refuses a second process while the store is open, before it writes anything', async () => {
    const dir = await tempDir('kv-crash-lock');
    try {
      const store = await EmbeddedKvStore.open(dir, { log: () => undefined });
      const run = await runWriter(dir, {});
      await store.close();
      expect(run.code).not.toBe(0);
      expect(run.reported).toBe(-1);
      expect(run.stderr).toMatch(/is in use by another Coulomb process/);
      expect((await readdir(dir)).sort()).toEqual(['kv-00000001.log']);
    } finally {
      await removeDir(dir);
    }
  });

  it(`keeps every acknowledged write, whole, through ${KILLS} SIGKILLs, compactions included`, { timeout: KILLS * PER_KILL_BUDGET_MS }, async () => {
    const dir = await tempDir('kv-crash');
    const random = rng(Number(process.env.KV_CRASH_SEED ?? Date.now() % 1_000_000));
    try {
      let acknowledged = 0;
      let duringCompaction = 0;
      let inFlightLanded = 0;
      for (let i = 0; i < KILLS; i++) {
        // Every fifth run dies just after a compaction renamed its new log into place, every fifth
        // just before; the others at a random moment.
        const crashAt = i % 5 === 1 ? 'renamed' : i % 5 === 3 ? 'copied' : undefined;
        const run = await runWriter(dir, crashAt ? { crashAt } : { delayMs: 5 + Math.floor(random() * 200) });
        expect(run.stderr).toBe('');
        expect(run.signal).toBe('SIGKILL');
        if (crashAt) expect(run.steps.at(-1)).toBe(crashAt);
        else if (run.steps.length && run.steps.at(-1) !== 'done') duringCompaction++;
        expect(run.reported).toBeGreaterThan(acknowledged);
        acknowledged = run.reported;

        const last = await check(dir);
        // Never less than acknowledged; beyond it at most the writes that were in flight.
        expect(last).toBeGreaterThanOrEqual(acknowledged);
        expect(last).toBeLessThanOrEqual(acknowledged + IN_FLIGHT);
        if (last > acknowledged) inFlightLanded++;
        acknowledged = last;
        // Whatever the crash left (an unfinished new log, a superseded old one) is gone after an open.
        const files = (await readdir(dir)).filter((f) => !f.includes('.torn-'));
        expect(files.filter((f) => f.endsWith('.log'))).toHaveLength(1);
        expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      }
      process.stdout.write(
        `kv crash test: ${KILLS} kills, ${acknowledged} writes, ${duringCompaction} random kills during a compaction, ` +
          `${inFlightLanded} times writes in flight had landed, torn tails cut: ${(await readdir(dir)).filter((f) => f.includes('.torn-')).length}\n`,
      );
    } finally {
      await removeDir(dir);
    }
  });
});
