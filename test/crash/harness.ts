/**
 * Coulomb daemons that can be SIGKILLed and started again cheaply, on a playground chain served from
 * the test process (so killing a daemon never takes the chain with it).
 *
 * What a restart costs, and how this harness keeps it small:
 * - a CLI process per call (Node start-up and the TypeScript loader, over a second each on a busy
 *   machine): the test talks to the control channel itself, with the CLI's own client;
 * - unlocking the vault (scrypt at the default cost, the slowest step of a start): the test writes the
 *   vault beforehand with a small scrypt cost, as the playground's counterparty does;
 * - loading the TypeScript sources through the on-the-fly loader at every start (about as long
 *   as the rest of the start together): the daemon is bundled once per test run with esbuild into
 *   one JavaScript file under node_modules/.cache (so its packages resolve as usual), and started
 *   from that;
 * - a new listening port at every start, which the other side would have to be told: each daemon
 *   keeps the port it was first given.
 *
 * A daemon keeps its store in its data directory (the embedded backend), or in a PostgreSQL database
 * given at create (`pgDsn`, passed in a DSN file as a server's owner would).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { ChildProcess } from 'node:child_process';
import { callDaemon } from '../../core/api/control-client.ts';
import type { MethodInput, MethodName, MethodOutput } from '../../core/api/contract.ts';
import { startPlayground } from '../../core/chain/playground/index.ts';
import type { Playground } from '../../core/chain/playground/index.ts';
import { writeVaultFile } from '../../core/node/vault-file.ts';
import { createMnemonic } from '../../core/wallet/mnemonic.ts';
import { sealVault } from '../../core/wallet/vault.ts';
import { REPO, removeDir, tempDir, waitFor } from '../helpers/daemon.ts';
import { freePort } from '../helpers/ports.ts';
import { seededRandom } from '../helpers/random.ts';

const PASSWORD = 'crash test password';
/** Small, for tests only: the vault's protection is not what these tests are about. */
const TEST_SCRYPT = { N: 1 << 12, r: 8, p: 1 };

/** A seeded pseudo-random generator (mulberry32): the same seed replays the same kill points. */
export const rng = seededRandom;

let bundled: Promise<string> | undefined;
const bundleDir = join(REPO, 'node_modules', '.cache', `coulomb-crash-${process.pid}`);

/** The `coulomb` command as one JavaScript file, built once per process; resolves with its path. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = bundleDir;
    await mkdir(dir, { recursive: true });
    await build({ entryPoints: [join(REPO, 'core', 'cli', 'main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: join(dir, 'main.mjs'), logLevel: 'warning' });
    const bin = join(dir, 'coulomb.mjs');
    await writeFile(bin, "import { run } from './main.mjs';\nawait run(process.argv.slice(2));\n");
    return bin;
  })();
  return bundled;
}

export type Chain = Playground & { cookieFile: string; dir: string };

/** Removes what the harness made: the bundle (built again if a later test of the file starts a daemon), and the chain's and daemons' directories. */
export async function cleanUp(dirs: string[]): Promise<void> {
  bundled = undefined;
  for (const d of [bundleDir, ...dirs]) await removeDir(d);
}

/** A playground chain served over bitcoind's JSON-RPC from this process, and its cookie file. */
export async function startChain(): Promise<Chain> {
  const chain = await startPlayground({ host: '127.0.0.1', port: 0 });
  const dir = await tempDir('crash-chain');
  const cookieFile = join(dir, '.cookie');
  await writeFile(cookieFile, `${chain.rpcuser}:${chain.rpcpassword}`, { mode: 0o600 });
  return Object.assign(chain, { cookieFile, dir });
}

export class CrashDaemon {
  child: ChildProcess | undefined;
  nodeId = '';
  private out = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  /** Milliseconds each start took, from spawn to an unlocked node. */
  readonly startTimes: number[] = [];

  private constructor(
    readonly name: string,
    readonly datadir: string,
    readonly port: number,
    private readonly chain: Chain,
    /** Daemon flags naming the node's store (none: the embedded one in the data directory). */
    private readonly storeFlags: string[],
  ) {}

  static async create(name: string, chain: Chain, opts: { pgDsn?: string } = {}): Promise<CrashDaemon> {
    const dir = await tempDir(name);
    const vault = await sealVault({ mnemonic: createMnemonic(), passphrase: '' }, PASSWORD, TEST_SCRYPT);
    await writeVaultFile(dir, { vault, birthday: chain.chain.height });
    const storeFlags: string[] = [];
    if (opts.pgDsn) {
      const dsnFile = join(dir, 'postgres.dsn');
      await writeFile(dsnFile, `${opts.pgDsn}\n`, { mode: 0o600 });
      storeFlags.push('--db.backend', 'postgres', '--db.postgres.dsn_file', dsnFile);
    }
    const d = new CrashDaemon(name, dir, await freePort(), chain, storeFlags);
    await d.start();
    return d;
  }

  get uri(): string {
    return `${this.nodeId}@127.0.0.1:${this.port}`;
  }

  /** The last lines the daemon printed, for a failure's message. */
  tail(lines = 40): string {
    return this.out.split('\n').slice(-lines).join('\n');
  }

  call<M extends MethodName>(method: M, params: MethodInput<M>, timeoutMs = 120_000): Promise<MethodOutput<M>> {
    return callDaemon(this.datadir, method, params, timeoutMs);
  }

  alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    const url = new URL(this.chain.url);
    const child = spawn(
      process.execPath,
      [await bundle(), 'daemon', '--datadir', this.datadir, '--network', 'regtest', '--bitcoind.rpchost', url.host, '--bitcoind.rpccookie', this.chain.cookieFile, '--listen', `127.0.0.1:${this.port}`, '--rpclisten', '127.0.0.1:0', '--debuglevel', 'info', ...this.storeFlags],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    this.exit = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const keep = (d: Buffer): void => {
      this.out = (this.out + d.toString()).slice(-200_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const info = await waitFor(`${this.name} to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.tail()}`);
      return this.call('getinfo', {}, 10_000).catch(() => undefined);
    }, 120_000, 50);
    if (info.wallet_state === 'LOCKED') {
      // A database session of the daemon killed just before may hold the store's writer lock until
      // the server notices its connection is gone: the unlock is refused until then.
      for (const deadline = Date.now() + 30_000; ; ) {
        const refused = await this.call('unlock', { password: PASSWORD }).then(() => undefined, (e: unknown) => e);
        if (refused === undefined) break;
        if (!/another Coulomb uses the PostgreSQL database/.test(String(refused)) || Date.now() > deadline) throw new Error(`${this.name} could not unlock: ${String(refused)}\n${this.tail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.nodeId = (await this.call('getinfo', {})).identity_pubkey;
    this.startTimes.push(Date.now() - t0);
  }

  /** Resolves once the daemon's process has ended on its own (a node whose store failed stops itself). */
  async exited(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs / 1000} s:\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exit!, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: no handler runs, nothing is flushed; what is on disk is all that survives. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}
