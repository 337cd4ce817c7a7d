/**
 * A real Bitcoin Core for tests: `bitcoind` (found on PATH, or named by the BITCOIND environment
 * variable) started on regtest in a temporary directory, on free loopback ports, without -txindex and
 * without its wallet (Coulomb never uses it), stopped and removed afterwards. Its RPC answers -28 while
 * it warms up; `startBitcoind` waits until it answers for real.
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { BitcoindRpc, RpcError } from '../../core/chain/index.ts';
import { tempDir, removeDir } from './daemon.ts';
import { freePort } from './ports.ts';

/** Where bitcoind is, or why the suite cannot run. */
export function findBitcoind(): { path: string } | { reason: string } {
  const given = process.env.BITCOIND;
  if (given) {
    try {
      accessSync(given, constants.X_OK);
      return { path: given };
    } catch {
      return { reason: `BITCOIND is set to ${given}, which is not an executable file` };
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'bitcoind');
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate };
    } catch {
      // not in this directory
    }
  }
  return { reason: 'bitcoind is not on PATH' };
}

/** The bitcoind's version line (e.g. "Bitcoin Core daemon version v29.0.0"), for the test report. */
export function bitcoindVersion(path: string): string {
  try {
    return execFileSync(path, ['-version'], { encoding: 'utf8', timeout: 30_000 }).split('\n')[0]!.trim();
  } catch {
    return 'unknown version';
  }
}


export type BitcoindAuth = { kind: 'cookie' } | { kind: 'password'; user: string; password: string };

export interface Bitcoind {
  datadir: string;
  rpcPort: number;
  /** `127.0.0.1:<port>`, as `--bitcoind.rpchost` takes it. */
  rpcHost: string;
  /** The `.cookie` bitcoind writes (with cookie authentication), rewritten at every start. */
  cookieFile: string;
  auth: BitcoindAuth;
  /** A client with the same credentials Coulomb gets (the cookie is re-read after a restart). */
  rpc: BitcoindRpc;
  /** Coulomb's flags for this bitcoind. */
  coulombFlags(): string[];
  /** Mines `n` blocks paying `address`; returns their hashes. */
  mine(n: number, address: string): Promise<string[]>;
  /** The block at `height`, raw. */
  rawBlock(height: number): Promise<Uint8Array>;
  /** Stops bitcoind (SIGTERM, as a user's shutdown) and waits for it to exit; the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port; resolves once its RPC answers. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
  /** bitcoind's debug.log so far, for a failing test's message. */
  log(): Promise<string>;
}

/** Starts a regtest bitcoind; resolves once its RPC answers (after the -28 warm-up). */
export async function startBitcoind(path: string, auth: BitcoindAuth = { kind: 'cookie' }): Promise<Bitcoind> {
  const datadir = await tempDir('bitcoind');
  const rpcPort = await freePort();
  const cookieFile = join(datadir, 'regtest', '.cookie');
  const args = [
    '-regtest',
    `-datadir=${datadir}`,
    '-server=1',
    // No peers: nothing listens, nothing is dialled.
    '-listen=0',
    '-connect=0',
    '-dnsseed=0',
    '-fixedseeds=0',
    '-discover=0',
    `-rpcbind=127.0.0.1:${rpcPort}`,
    '-rpcallowip=127.0.0.1',
    `-rpcport=${rpcPort}`,
    // What users run by default, and all Coulomb needs: no transaction index, no bitcoind wallet.
    '-txindex=0',
    '-disablewallet=1',
    '-printtoconsole=0',
    ...(auth.kind === 'password' ? [`-rpcuser=${auth.user}`, `-rpcpassword=${auth.password}`] : []),
  ];
  const rpc = new BitcoindRpc(auth.kind === 'cookie' ? { url: `http://127.0.0.1:${rpcPort}`, cookieFile, retries: 0 } : { url: `http://127.0.0.1:${rpcPort}`, user: auth.user, password: auth.password, retries: 0 });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';

  const log = async (): Promise<string> => (await readFile(join(datadir, 'regtest', 'debug.log'), 'utf8').catch(() => '')).split('\n').slice(-40).join('\n');

  const start = async (): Promise<void> => {
    stderr = '';
    const p = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    child = p;
    // Ready once the RPC answers: no cookie yet, connection refused and -28 (warming up) all mean "not yet".
    const deadline = Date.now() + 90_000;
    let last = '';
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`bitcoind exited (${p.exitCode ?? p.signalCode}) while starting: ${stderr}\n${await log()}`);
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`bitcoind did not answer RPC within 90 s (${last}): ${stderr}\n${await log()}`);
      }
      if (auth.kind === 'password' || existsSync(cookieFile)) {
        try {
          await rpc.call('getblockchaininfo');
          return;
        } catch (e) {
          if (!(e instanceof RpcError) || !(e.transient || e.kind === 'unauthorized')) {
            p.kill('SIGKILL');
            throw e;
          }
          last = e.message;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (): Promise<void> => {
    const p = child;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
  };

  try {
    await start();
  } catch (e) {
    await removeDir(datadir);
    throw e;
  }
  return {
    datadir,
    rpcPort,
    rpcHost: `127.0.0.1:${rpcPort}`,
    cookieFile,
    auth,
    rpc,
    coulombFlags: () => [
      '--network',
      'regtest',
      '--bitcoind.rpchost',
      `127.0.0.1:${rpcPort}`,
      ...(auth.kind === 'cookie' ? ['--bitcoind.rpccookie', cookieFile] : ['--bitcoind.rpcuser', auth.user, '--bitcoind.rpcpass', auth.password]),
    ],
    mine: (n, address) => rpc.call<string[]>('generatetoaddress', n, address),
    rawBlock: async (height) => Buffer.from(await rpc.call<string>('getblock', await rpc.call<string>('getblockhash', height), 0), 'hex'),
    stop,
    start,
    async destroy() {
      await stop();
      await removeDir(datadir);
    },
    log,
  };
}
