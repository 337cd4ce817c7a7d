/**
 * Test helpers that run real `coulomb` processes: a daemon in the foreground and CLI calls against it.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'coulomb.js');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `coulomb-${prefix}-`));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(datadir: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--datadir', datadir, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function cliJson<T = Record<string, unknown>>(datadir: string, ...args: string[]): Promise<T> {
  const r = await cli(datadir, ...args);
  if (r.code !== 0) throw new Error(`coulomb ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface DaemonProcess {
  datadir: string;
  child: ChildProcess;
  output: () => string;
  nodeId: string;
  uri: string;
  stop(): Promise<void>;
}

/** Starts `coulomb daemon` on loopback with free ports (its control channel on the data directory's socket) and waits until it answers getinfo. */
export async function startDaemonProcess(name: string, extra: string[] = [], datadir?: string, opts: { wallet?: boolean } = {}): Promise<DaemonProcess> {
  const dir = datadir ?? (await tempDir(name));
  const child = spawn(process.execPath, [BIN, 'daemon', '--datadir', dir, '--listen', '127.0.0.1:0', '--debuglevel', 'debug', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  let info: { identity_pubkey: string; uris: string[]; wallet_state: string } | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`daemon exited early:\n${out}`);
    const control = await readFile(join(dir, 'control.json'), 'utf8').catch(() => undefined);
    if (control) {
      const r = await cli(dir, 'getinfo');
      if (r.code === 0) {
        info = JSON.parse(r.stdout) as typeof info;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!info) {
    child.kill('SIGKILL');
    throw new Error(`daemon did not become ready:\n${out}`);
  }
  if (opts.wallet !== false && info.wallet_state !== 'READY') {
    // Scripts create or unlock the wallet with a password file; so do the tests.
    const pw = join(dir, 'test-password');
    await writeFile(pw, 'test password\n');
    const r = await cli(dir, info.wallet_state === 'LOCKED' ? 'unlock' : 'create', '--password_file', pw);
    if (r.code !== 0) throw new Error(`wallet set-up failed: ${r.stderr}\n${out}`);
    info = JSON.parse((await cli(dir, 'getinfo')).stdout) as typeof info;
  }
  return {
    datadir: dir,
    child,
    output: () => out,
    nodeId: info!.identity_pubkey,
    uri: info!.uris[0] ?? '',
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeDir(dir);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
