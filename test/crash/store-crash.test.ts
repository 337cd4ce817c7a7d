/**
 * The proof of crash safety: a writer is killed with SIGKILL at random moments, many times; every
 * reopen finds the last state it reported durable (or the one after it), never a torn or empty file.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../core/store/index.ts';
import { tempDir, removeDir } from '../helpers/daemon.ts';
import { payloadSize } from './payload.ts';

const WRITER = fileURLToPath(new URL('./writer.ts', import.meta.url));

function runAndKill(dir: string, delayMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Start the clock at the first durable write, so the kill lands while writing, not while loading.
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      const lines = out.trim().split('\n').filter(Boolean);
      resolve(lines.length ? Number(lines[lines.length - 1]) : -1);
    });
  });
}

describe('store crash safety', () => {
  it('survives 60 SIGKILLs at random moments', { timeout: 180_000 }, async () => {
    const dir = await tempDir('crash');
    try {
      let kills = 0;
      let lastDurable = 0;
      for (let i = 0; i < 60; i++) {
        const reported = await runAndKill(dir, 5 + Math.floor(Math.random() * 145));
        kills++;
        if (reported > 0) lastDurable = reported;
        const s = await openStore({ dir, name: 'crash', version: 1, migrations: [], defaults: () => ({ counter: 0, payload: '' }) });
        const { counter, payload } = s.data;
        await s.close();
        // Never older than what the writer was told is durable; at most the one write in flight beyond it.
        expect(counter).toBeGreaterThanOrEqual(lastDurable);
        expect(counter).toBeLessThanOrEqual(lastDurable + 1);
        expect(payload.length).toBe(payloadSize(counter));
        lastDurable = counter;
      }
      expect(kills).toBe(60);
      expect(lastDurable).toBeGreaterThan(60);
    } finally {
      await removeDir(dir);
    }
  });
});
