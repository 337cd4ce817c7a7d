/**
 * A private PostgreSQL cluster for a test file: initdb into a temporary directory, the server on a
 * free port on 127.0.0.1 (its socket in that directory too), fsync on, stopped and removed after.
 * Found with `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin, else the
 * directory named by PG_BINDIR. Run as root, initdb and the server run as the `postgres` user (the
 * server refuses root), the directory handed to it.
 *
 * Logins: the superuser `coulomb_test` with a password over TCP (scram-sha-256), so the tests go
 * through a password as a server's user would; trust on the private socket.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { removeDir, tempDir, waitFor } from './daemon.ts';
import { freePort } from './ports.ts';

export const PG_USER = 'coulomb_test';
export const PG_PASSWORD = 'test-secret-5b1f9c';

/** Where PostgreSQL's server programs are, or why the PostgreSQL tests cannot run. */
export function findPostgres(): { bindir: string } | { reason: string } {
  const usable = (dir: string): boolean => {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'postgres'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on PATH
  }
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  const found = candidates.find(usable);
  if (found) return { bindir: found };
  return { reason: 'PostgreSQL server programs (initdb, postgres) were not found via pg_config --bindir, /usr/lib/postgresql/*/bin or PG_BINDIR' };
}


export interface PgCluster {
  port: number;
  /** `postgres://coulomb_test:<password>@127.0.0.1:<port>/<db>`. */
  dsn(db: string, opts?: { password?: string | null }): string;
  /** Runs SQL as the superuser in `db` (default `postgres`). */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[], db?: string): Promise<T[]>;
  /** Creates a database and returns its DSN. */
  createDatabase(name: string): Promise<string>;
  /** SIGKILLs the server and every process of it at once, as a crash would. */
  kill(): Promise<void>;
  /** SIGSTOPs the server and every process of it: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONTs what pause() stopped. */
  resume(): void;
  /** Starts the server again on the same data (crash recovery runs if it was killed). */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
  /** The server's log so far, for a failing test's message. */
  log(): Promise<string>;
  version: string;
}

const asRoot = process.getuid?.() === 0;

function command(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = command(bin, args);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

/** The postmaster's pid and all its children's, from /proc. */
function serverPids(dataDir: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const pids = [postmaster];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export async function startPostgres(bindir: string): Promise<PgCluster> {
  const dir = await tempDir('postgres');
  const dataDir = join(dir, 'data');
  const pwFile = join(dir, 'pw');
  const port = await freePort();
  await writeFile(pwFile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  if (asRoot) {
    await chown(dir, uid('postgres'), gid('postgres'));
    await chown(pwFile, uid('postgres'), gid('postgres'));
  }
  const version = execFileSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  let child: ChildProcess | undefined;
  let serverLog = '';
  let exited: Promise<void> = Promise.resolve();

  const sql = async <T,>(text: string, values: unknown[] = [], db = 'postgres'): Promise<T[]> => {
    const c = new pg.Client({ host: dir, port, user: PG_USER, database: db });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  };

  const start = async (): Promise<void> => {
    const [cmd, argv] = command(join(bindir, 'postgres'), [
      '-D', dataDir,
      '-p', String(port),
      '-k', dir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=60',
      '-c', 'shared_buffers=16MB',
      '-c', `log_destination=stderr`,
    ]);
    const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      serverLog += d.toString();
    });
    exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    child = p;
    await waitFor(
      'the PostgreSQL test server to accept connections',
      async () => {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`postgres exited (${p.exitCode ?? p.signalCode}) while starting: ${stderr}`);
        await sql('SELECT 1');
        return true;
      },
      60_000,
      100,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${stderr}`);
    });
  };

  const stop = async (): Promise<void> => {
    const p = child;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    // Immediate shutdown (SIGQUIT to the postmaster; as root the child is runuser, so signal the server
    // itself): the data is removed next, so the checkpoint of a fast shutdown (seconds of fsync on a
    // busy machine) would be wasted.
    // A server a test paused and left so is let go on first, or it never sees the signal.
    const pids = serverPids(dataDir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
    p.kill('SIGCONT');
    if (pids[0]) process.kill(pids[0], 'SIGQUIT');
    else p.kill('SIGQUIT');
    const t = setTimeout(() => {
      for (const pid of serverPids(dataDir)) process.kill(pid, 'SIGKILL');
    }, 30_000);
    await exited;
    clearTimeout(t);
  };

  // --no-sync: initdb's own files need not reach the disk for a server that lives as long as a test
  // file (the server's commits are still fsynced).
  await run(join(bindir, 'initdb'), ['--no-sync', '-D', dataDir, '-U', PG_USER, `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C']);
  // In the configuration file rather than on the command line, so a test can change them with ALTER SYSTEM.
  await appendFile(join(dataDir, 'postgresql.conf'), '\n# Durable commits, as Coulomb needs (test/helpers/postgres.ts)\nfsync = on\nsynchronous_commit = on\nfull_page_writes = on\n');
  try {
    await start();
  } catch (e) {
    await removeDir(dir);
    throw e;
  }
  return {
    port,
    version,
    dsn: (db, opts = {}) => {
      const password = opts.password === undefined ? PG_PASSWORD : opts.password;
      return `postgres://${PG_USER}${password === null ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${db}`;
    },
    sql,
    async createDatabase(name) {
      await sql(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async kill() {
      const pids = serverPids(dataDir);
      if (!pids.length) throw new Error('the PostgreSQL test server is not running');
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
      // The postmaster's children may outlive it by a moment; wait until none is left.
      await waitFor('every PostgreSQL process to end', () => pids.every((pid) => !alive(pid)), 30_000, 20);
    },
    pause() {
      const pids = serverPids(dataDir);
      if (!pids.length) throw new Error('the PostgreSQL test server is not running');
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
    },
    resume() {
      for (const pid of serverPids(dataDir)) process.kill(pid, 'SIGCONT');
      // As root, runuser stops itself when the server it watches is stopped: it must go on too, or it
      // never sees the server exit.
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
    },
    start,
    async destroy() {
      await stop();
      await removeDir(dir);
    },
    log: () => Promise.resolve(serverLog.split('\n').slice(-40).join('\n')),
  };
}

function alive(pid: number): boolean {
  try {
    // A zombie still answers kill(0); read its state instead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
