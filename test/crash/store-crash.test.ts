/**
 * The proof of crash safety: a writer is killed with SIGKILL at random moments, many times; every
 * reopen finds the last state it reported durable (or the one write in flight after it), never a torn,
 * empty or mixed file, and whatever the crash left (temp files, a stale lock) never blocks the next open.
 *
 * The writer is bundled to plain JavaScript once, so each of the many spawns is a bare `node` start
 * rather than a TypeScript transpile: the test's cost is the kills, whatever else the machine is doing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openStore, parseLockOwner } from '../../core/store/index.ts';
import { tempDir, removeDir } from '../helpers/daemon.ts';
import { payloadSize } from './payload.ts';

const WRITER_SOURCE = fileURLToPath(new URL('./writer.ts', import.meta.url));
const KILLS = 60;
/**
 * A guard against a hang, not a speed check: each kill needs a process start and a few writes, well
 * under a second on a loaded machine; a writer that never starts would otherwise wait forever.
 */
const PER_KILL_BUDGET_MS = 10_000;

let writer = '';
let bundleDir = '';

beforeAll(async () => {
  bundleDir = await tempDir('crash-writer');
  writer = join(bundleDir, 'writer.mjs');
  await build({ entryPoints: [WRITER_SOURCE], outfile: writer, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
});
afterAll(async () => {
  if (bundleDir) await removeDir(bundleDir);
});

interface Run {
  pid: number;
  signal: NodeJS.Signals | null;
  /** The last counter the writer reported durable; -1 if none. */
  reported: number;
}

function runAndKill(dir: string, delayMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Start the clock at the first durable write, so the kill lands while writing, not while loading.
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      // Only whole lines count: a number cut off by the kill was never fully reported.
      const lines = out.split('\n').slice(0, -1).filter(Boolean);
      resolve({ pid: child.pid!, signal, reported: lines.length ? Number(lines[lines.length - 1]) : -1 });
    });
  });
}

describe('store crash safety', () => {
  it(`survives ${KILLS} SIGKILLs at random moments`, { timeout: KILLS * PER_KILL_BUDGET_MS }, async () => {
    const dir = await tempDir('crash');
    const file = join(dir, 'crash.json');
    try {
      let lastDurable = 0;
      let inFlightLanded = 0;
      for (let i = 0; i < KILLS; i++) {
        const run = await runAndKill(dir, 5 + Math.floor(Math.random() * 146));
        expect(run.signal).toBe('SIGKILL'); // killed, not failed on its own
        expect(run.reported).toBeGreaterThan(lastDurable);
        lastDurable = run.reported;
        // The dead writer's lock is still there; the next open must see it is stale.
        expect(parseLockOwner(await readFile(join(dir, 'crash.lock'), 'utf8'))).toBe(run.pid);

        // Checked first without the store code: the file alone is a whole, parseable record.
        const raw = JSON.parse(await readFile(file, 'utf8')) as { schema_version: number; data: { counter: number; payload: string } };
        expect(raw.schema_version).toBe(1);

        const s = await openStore({ dir, name: 'crash', version: 1, migrations: [], defaults: () => ({ counter: 0, payload: '' }) });
        const { counter, payload } = s.data;
        expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
        await s.close();
        expect(raw.data.counter).toBe(counter);
        // Never older than what the writer was told is durable; at most the one write in flight beyond it.
        expect(counter).toBeGreaterThanOrEqual(lastDurable);
        expect(counter).toBeLessThanOrEqual(lastDurable + 1);
        // Never mixed: the payload is the one written with this counter.
        expect(payload).toBe('x'.repeat(payloadSize(counter)));
        if (counter === lastDurable + 1) inFlightLanded++;
        lastDurable = counter;
      }
      expect(await readdir(dir)).toEqual(['crash.json']);
      process.stdout.write(`crash test: ${KILLS} kills, last counter ${lastDurable}, ${inFlightLanded} times the write in flight had landed\n`);
    } finally {
      await removeDir(dir);
    }
  });
});
