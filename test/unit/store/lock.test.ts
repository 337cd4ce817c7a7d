import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock, openStore, parseLockOwner, StoreError } from '../../../core/store/index.ts';
import { withTempDir } from '../../helpers/daemon.ts';

const HOLDER = fileURLToPath(new URL('./fixtures/hold-store.ts', import.meta.url));
const DEAD_PID = 999_999_999; // above any pid_max

const withDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTempDir('lock', fn);

const opts = (dir: string) => ({ dir, name: 'held', version: 1, migrations: [], defaults: () => ({ n: 0 }) });

describe('one writer per store file', () => {
  it('parses only plain pids from a lock file', () => {
    expect(parseLockOwner('1234\n')).toBe(1234);
    for (const t of ['', '\n', '0', '-5', '12ab', '1e3', '99999999999']) expect(parseLockOwner(t)).toBeUndefined();
  });

  it('refuses a second process while the first lives, and takes over once it was killed', { timeout: 20_000 }, () =>
    withDir(async (dir) => {
      const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, 'held'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
        });
        expect(parseLockOwner(await readFile(join(dir, 'held.lock'), 'utf8'))).toBe(child.pid);
        const err = await openStore(opts(dir)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code: 'locked', file: join(dir, 'held.json') });
        expect((err as Error).message).toContain(`pid ${child.pid}`);
      } finally {
        const exited = new Promise((r) => child.on('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      // The lock file is still there, naming a dead process: stale, so it is taken over.
      expect(parseLockOwner(await readFile(join(dir, 'held.lock'), 'utf8'))).toBe(child.pid);
      const s = await openStore(opts(dir));
      expect(s.data.n).toBe(child.pid);
      expect(parseLockOwner(await readFile(join(dir, 'held.lock'), 'utf8'))).toBe(process.pid);
      await s.close();
      expect(await readdir(dir)).toEqual(['held.json']);
    }));

  it('refuses a second open in this process, even when both race', () =>
    withDir(async (dir) => {
      const results = await Promise.allSettled([openStore(opts(dir)), openStore(opts(dir))]);
      const opened = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(opened).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'locked' });
      await expect(openStore(opts(dir))).rejects.toThrow(/already open in this process/);
      await (opened[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof openStore>>>).value.close();
      const again = await openStore(opts(dir));
      await again.close();
    }));

  it('a lock held by a live pid refuses; a dead, empty or garbage one is stale', () =>
    withDir(async (dir) => {
      const lockPath = join(dir, 'x.lock');
      await writeFile(lockPath, '1\n'); // pid 1 (init) is alive and not us
      await expect(acquireLock(lockPath, 'x.json', dir)).rejects.toMatchObject({ code: 'locked', file: 'x.json' });
      expect(await readFile(lockPath, 'utf8')).toBe('1\n');
      for (const stale of [`${DEAD_PID}\n`, '', 'garbage']) {
        await writeFile(lockPath, stale);
        const lock = await acquireLock(lockPath, 'x.json', dir);
        expect(parseLockOwner(await readFile(lockPath, 'utf8'))).toBe(process.pid);
        await lock.release();
      }
      // A takeover left by a process that died in the middle of one does not block forever either.
      await writeFile(lockPath, `${DEAD_PID}\n`);
      await writeFile(`${lockPath}.takeover`, `${DEAD_PID}\n`);
      const lock = await acquireLock(lockPath, 'x.json', dir);
      await lock.release();
      expect(await readdir(dir)).toEqual([]);
    }));

  it('release leaves a lock that is no longer ours', () =>
    withDir(async (dir) => {
      const lockPath = join(dir, 'x.lock');
      const lock = await acquireLock(lockPath, 'x.json', dir);
      await writeFile(lockPath, '1\n');
      await lock.release();
      expect(await readFile(lockPath, 'utf8')).toBe('1\n');
    }));

  it('several processes racing for a stale lock: exactly one becomes the writer', { timeout: 20_000 }, () =>
    withDir(async (dir) => {
      await writeFile(join(dir, 'held.lock'), `${DEAD_PID}\n`);
      // All start their open at the same wall-clock moment, once loaded.
      const startAt = String(Date.now() + 1500);
      const children = Array.from({ length: 3 }, () => spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, 'held', startAt], { stdio: ['ignore', 'pipe', 'inherit'] }));
      try {
        const said = await Promise.all(
          children.map(
            (c) =>
              new Promise<string>((resolve) => {
                let out = '';
                c.stdout.on('data', (d: Buffer) => {
                  out += d.toString();
                  if (out.includes('\n')) resolve(out.trim());
                });
                c.on('exit', () => resolve(out.trim() || 'exited'));
              }),
          ),
        );
        expect(said.filter((s) => s === 'ready')).toHaveLength(1);
        expect(said.filter((s) => s === 'locked')).toHaveLength(2);
        const winner = children[said.indexOf('ready')]!;
        expect(parseLockOwner(await readFile(join(dir, 'held.lock'), 'utf8'))).toBe(winner.pid);
      } finally {
        await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => (c.on('exit', r), c.kill('SIGKILL'))) : undefined)));
      }
    }));
});
