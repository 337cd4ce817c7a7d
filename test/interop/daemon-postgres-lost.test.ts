/**
 * `coulomb daemon` on the PostgreSQL backend whose database server goes away: frozen (SIGSTOP: its
 * connections stay open and nothing answers) or stopped outright. Either way the daemon stops with
 * status 1, soon after `--db.postgres.timeout`, and says in its log and on stderr what went wrong and
 * what to do, rather than running on with a store it cannot write, or hanging.
 */
import { afterEach, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KvBackendConfig } from '../../core/store/kv/types.ts';
import { removeDir, startDaemonProcess, tempDir, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';
import { describeEachKvBackend, kvPostgres } from '../helpers/kv.ts';

const TIMEOUT_S = 2;

describeEachKvBackend('a daemon on $name whose server goes away', (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  /** A daemon with a wallet, its store in a database of the file's server (DSN in a file, as a person would give it). */
  const daemon = async (name: string): Promise<DaemonProcess> => {
    const dir = await tempDir(name);
    cleanup.push(() => removeDir(dir));
    const db = (await backend.config!(dir)) as Extract<KvBackendConfig, { backend: 'postgres' }>;
    const dsnFile = join(dir, 'postgres.dsn');
    await writeFile(dsnFile, `${db.dsn}\n`, { mode: 0o600 });
    const d = await startDaemonProcess(name, ['--db.backend', 'postgres', '--db.postgres.dsn_file', dsnFile, '--db.postgres.timeout', `${TIMEOUT_S}s`], dir);
    cleanup.push(() => d.stop());
    return d;
  };

  /** Waits for the daemon to end on its own, and gives its status, how long it took and its log. */
  const ended = async (d: DaemonProcess, since: number): Promise<{ code: number | null; afterMs: number; log: string }> => {
    await waitFor('the daemon to stop on its own', () => d.child.exitCode !== null || d.child.signalCode !== null || undefined, 60_000, 50);
    return { code: d.child.exitCode, afterMs: Date.now() - since, log: await readFile(join(d.datadir, 'coulomb.log'), 'utf8') };
  };

  it('whose server is frozen, stops with status 1 soon after the timeout, saying the server did not answer and what to do', { timeout: 120_000 }, async () => {
    const pg = await kvPostgres();
    const d = await daemon('pg-frozen');
    const since = Date.now();
    pg.pause();
    cleanup.push(() => Promise.resolve(pg.resume()));
    const r = await ended(d, since);
    expect(r.code, d.output()).toBe(1);
    // Idle, it finds out by its own check of the connection: at most half the timeout until the check, then the timeout itself.
    expect(r.afterMs, d.output()).toBeLessThan(2 * TIMEOUT_S * 1000 + 10_000);
    expect(r.log).toMatch(/the node's store failed, so the node stops now: .*Fix the cause, then start Coulomb again/);
    expect(r.log).toMatch(new RegExp(`the PostgreSQL server at postgres://.* did not answer within ${TIMEOUT_S} s.*check that it is running.*restart Coulomb once the server answers again`));
    expect(d.output()).toMatch(/\[coulomb\] stopped: the node's store failed\. .*did not answer within/);
  });

  it('whose server is stopped, stops with status 1 at once, saying the connection was lost and what to do', { timeout: 120_000 }, async () => {
    const pg = await kvPostgres();
    const d = await daemon('pg-stopped');
    const since = Date.now();
    await pg.kill();
    const r = await ended(d, since);
    expect(r.code, d.output()).toBe(1);
    expect(r.afterMs, d.output()).toBeLessThan(TIMEOUT_S * 1000 + 10_000);
    expect(r.log).toMatch(/the node's store failed, so the node stops now: .*Fix the cause, then start Coulomb again/);
    expect(r.log).toMatch(/lost the connection to the PostgreSQL database at postgres:\/\/.*restart Coulomb once the server is reachable/);
    expect(r.log).not.toContain('test-secret');
  });
}, { backends: ['postgres'] });
