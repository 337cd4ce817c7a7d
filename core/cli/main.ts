/**
 * `coulomb`: the daemon and its command-line client in one program.
 *
 *   coulomb daemon [flags]            run a node in the foreground
 *   coulomb [--datadir D] <command>   ask the running node something (JSON on stdout)
 *
 * Errors are one sentence on stderr and a non-zero exit code, never a stack trace.
 */
import { resolve } from 'node:path';
import { parseFlags, helpText, UsageError } from './args.ts';
import { CLIENT_COMMANDS, DAEMON_COMMAND } from './commands.ts';
import { callDaemon } from '../api/control-client.ts';
import { ApiError } from '../api/contract.ts';
import type { MethodInput, MethodName } from '../api/contract.ts';
import { defaultDatadir, DEFAULT_BITCOIND_RPC_PORT, DEFAULT_PEER_PORT, DEFAULT_RPC_PORT, DEFAULT_TOWER_PORT, NETWORKS } from '../node/config.ts';
import { runCreate, runUnlock } from './wallet-flow.ts';
import { runExportHistory } from './export-history.ts';
import type { NodeConfig } from '../node/config.ts';
import type { KvBackendConfig } from '../store/kv/types.ts';
import { formatHostPort, parseHostPort } from '../peer/address.ts';
import { isLoopbackHost } from '../util/loopback.ts';
import { checkCookieUse } from '../chain/bitcoind/cookie-file.ts';
import { readFileSync } from 'node:fs';
import type { Caller } from './wallet-flow.ts';
import { VERSION } from '../version.ts';
import type { Network } from '../keys/node-key.ts';

const GLOBAL_HELP = `coulomb ${VERSION}: a Lightning Network node and wallet

Usage:
  coulomb daemon [flags]               run a node in the foreground (see: coulomb daemon --help)
  coulomb app [--browser]              open the desktop app (see: coulomb app --help)
  coulomb [--datadir D] <command>      talk to a running node

Commands:
${CLIENT_COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

Global flags:
  --datadir D     the node's data directory (default ${defaultDatadir()}; or COULOMB_DATADIR)
  --help          help for coulomb or for one command
  --version       print the version`;

/** The channel policy flags (lnd's names where lnd has one), each checked for a sane range. */
function channelPolicy(flags: Record<string, unknown>): NonNullable<NodeConfig['channel']> {
  const num = (name: string, min: number, max: number): number | undefined => {
    const v = flags[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, not "${String(v)}"`);
    return n;
  };
  const config: NonNullable<NonNullable<NodeConfig['channel']>['config']> = {};
  const limits: NonNullable<NonNullable<NodeConfig['channel']>['limits']> = {};
  const big = (n: number | undefined): bigint | undefined => (n === undefined ? undefined : BigInt(Math.floor(n)));
  const set = <T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set(limits, 'minFundingSat', big(num('minchansize', 20_000, 16_777_215)));
  set(limits, 'maxFundingSat', big(num('maxchansize', 20_000, 2_100_000_000_000_000)));
  set(limits, 'maxToSelfDelay', num('maxlocalcsvdelay', 144, 10_000));
  set(config, 'toSelfDelay', num('bitcoin.defaultremotedelay', 144, 2016));
  set(config, 'minimumDepth', num('bitcoin.defaultchanconfs', 1, 144));
  set(config, 'htlcMinimumMsat', big(num('bitcoin.minhtlc', 1, 1e12)));
  set(config, 'maxAcceptedHtlcs', num('default-remote-max-htlcs', 1, 483));
  set(config, 'dustLimitSat', big(num('chan.dust_limit', 354, 20_000)));
  const pct = num('chan.reserve_pct', 1, 20);
  set(config, 'reserveRatio', pct === undefined ? undefined : pct / 100);
  set(config, 'maxHtlcValueInFlightMsat', big(num('chan.max_in_flight_msat', 1000, 2.1e18)));
  return { config, limits };
}

export function daemonConfig(flags: Record<string, unknown>): NodeConfig {
  const networkFlag = (flags.network as string | undefined) ?? 'playground';
  const playground = networkFlag === 'playground';
  const network = (playground ? 'regtest' : networkFlag) as Network;
  if (!NETWORKS.includes(network)) throw new UsageError(`unknown network "${networkFlag}"; choose one of ${[...NETWORKS, 'playground'].join(', ')}`);
  const listenFlags = (flags.listen as string[] | undefined) ?? ['0.0.0.0:9735'];
  const level = (flags.debuglevel as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--debuglevel must be debug, info, warn or error, not "${level}"`);
  const s = (name: string): string | undefined => flags[name] as string | undefined;
  const chain: NodeConfig['chain'] = playground
    ? { kind: 'playground', rpcListen: parseHostPort(s('playground.rpclisten') ?? '127.0.0.1:0', 0, true) }
    : {
        kind: 'bitcoind',
        rpcHost: ((hp) => `${hp.host}:${hp.port}`)(parseHostPort(s('bitcoind.rpchost') ?? '127.0.0.1', DEFAULT_BITCOIND_RPC_PORT[network])),
        ...(s('bitcoind.rpcuser') ? { rpcUser: s('bitcoind.rpcuser') } : {}),
        ...(rpcPassword(s) !== undefined ? { rpcPass: rpcPassword(s) } : {}),
        ...(s('bitcoind.rpccookie') ? { rpcCookie: resolve(s('bitcoind.rpccookie')!) } : {}),
        ...(s('bitcoind.zmqpubrawblock') ? { zmqPubRawBlock: s('bitcoind.zmqpubrawblock') } : {}),
        ...(s('bitcoind.zmqpubrawtx') ? { zmqPubRawTx: s('bitcoind.zmqpubrawtx') } : {}),
      };
  if (chain.kind === 'bitcoind' && !chain.rpcCookie && !chain.rpcUser) {
    throw new UsageError('tell Coulomb how to log in to bitcoind: --bitcoind.rpcuser and --bitcoind.rpcpass_file, or --bitcoind.rpccookie <datadir>/.cookie');
  }
  if (chain.kind === 'bitcoind' && chain.rpcCookie) {
    try {
      checkCookieUse(chain.rpcCookie, chain.rpcHost);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const rpcListen = flags.rpclisten === undefined ? undefined : parseHostPort(flags.rpclisten as string, DEFAULT_RPC_PORT, true);
  if (rpcListen && !isLoopbackHost(rpcListen.host) && !flags['allow-remote']) {
    throw new UsageError(
      `--rpclisten ${formatHostPort(rpcListen.host, rpcListen.port)} would let other computers reach the control channel; use 127.0.0.1, or add --allow-remote if that is what you want.`,
    );
  }
  const db = storeBackend(s);
  return {
    datadir: resolve((flags.datadir as string | undefined) ?? defaultDatadir()),
    network,
    chain,
    alias: (flags.alias as string | undefined) ?? '',
    listen: flags.nolisten ? [] : listenFlags.map((l) => parseHostPort(l, DEFAULT_PEER_PORT, true)),
    ...(rpcListen ? { rpcListen } : {}),
    externalIps: ((flags.externalip as string[] | undefined) ?? []).map((l) => parseHostPort(l, DEFAULT_PEER_PORT)),
    logLevel: level as NodeConfig['logLevel'],
    logToStderr: !flags.quiet,
    channel: channelPolicy(flags),
    ...(flags['watchtower.active'] ? { watchtower: { active: true, listen: ((flags['watchtower.listen'] as string[] | undefined) ?? []).map((l) => parseHostPort(l, DEFAULT_TOWER_PORT, true)), externalIps: ((flags['watchtower.externalip'] as string[] | undefined) ?? []).map((l) => parseHostPort(l, DEFAULT_TOWER_PORT)) } } : {}),
    ...(db ? { db } : {}),
  };
}

/**
 * Where the node keeps its records. The embedded store is the node's default (left unset here);
 * PostgreSQL's DSN comes from --db.postgres.dsn_file (first line), so its password stays off the
 * command line, or from --db.postgres.dsn. The DSN is never repeated in a message: it may hold a password.
 */
function storeBackend(s: (name: string) => string | undefined): KvBackendConfig | undefined {
  const backend = s('db.backend') ?? 'embedded';
  const given = s('db.postgres.dsn');
  const file = s('db.postgres.dsn_file');
  const timeout = s('db.postgres.timeout');
  if (backend === 'embedded') {
    if (given !== undefined || file !== undefined || timeout !== undefined) throw new UsageError('--db.postgres.dsn, --db.postgres.dsn_file and --db.postgres.timeout need --db.backend postgres');
    return undefined;
  }
  if (backend !== 'postgres') throw new UsageError(`--db.backend must be embedded or postgres, not "${backend}"`);
  if (given !== undefined && file !== undefined) throw new UsageError('give the PostgreSQL database once: --db.postgres.dsn_file or --db.postgres.dsn, not both');
  let dsn: string;
  if (file !== undefined) {
    try {
      dsn = readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
    } catch {
      throw new UsageError(`cannot read the PostgreSQL DSN file ${file}`);
    }
  } else if (given) {
    dsn = given;
  } else {
    throw new UsageError('--db.backend postgres needs the database: --db.postgres.dsn_file F (a file whose first line is postgres://user:password@host:5432/database)');
  }
  const where = file !== undefined ? `the first line of ${file}` : '--db.postgres.dsn';
  let url: URL | undefined;
  try {
    url = new URL(dsn);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw new UsageError(`${where} must be a PostgreSQL URL: postgres://user:password@host:5432/database`);
  }
  return { backend: 'postgres', dsn, ...(timeout !== undefined ? { queryTimeoutMs: queryTimeout(timeout) } : {}) };
}

/** --db.postgres.timeout: a duration as lnd writes it (500ms, 30s, 2m) or plain seconds; never zero (a hang with no end is what it prevents). */
function queryTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm'] : NaN;
  if (!Number.isFinite(ms) || ms < 100) throw new UsageError(`--db.postgres.timeout must be a duration of at least 100ms, such as 30s or 2m, not "${text}"`);
  return Math.round(ms);
}

/** Whether a PostgreSQL DSN carries a password (in its user part or its query). */
function dsnHasPassword(dsn: string): boolean {
  try {
    const url = new URL(dsn);
    return url.password !== '' || url.searchParams.has('password');
  } catch {
    return false;
  }
}

/** bitcoind's RPC password: from --bitcoind.rpcpass_file (first line), or the flag itself (which others can see). */
function rpcPassword(s: (name: string) => string | undefined): string | undefined {
  const file = s('bitcoind.rpcpass_file');
  if (file === undefined) return s('bitcoind.rpcpass');
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
  } catch {
    throw new UsageError(`cannot read the bitcoind password file ${file}`);
  }
}

/** What a person should know before the daemon starts: secrets others can read, listeners others can reach. */
export function daemonWarnings(flags: Record<string, unknown>, config: NodeConfig): string[] {
  const w: string[] = [];
  if (flags['bitcoind.rpcpass'] !== undefined && flags['bitcoind.rpcpass_file'] === undefined) {
    w.push("--bitcoind.rpcpass shows bitcoind's password to every program on this computer (ps) and keeps it in your shell history; use --bitcoind.rpcpass_file F instead.");
  }
  const dsn = flags['db.postgres.dsn'];
  if (typeof dsn === 'string' && dsnHasPassword(dsn)) {
    w.push("--db.postgres.dsn shows the database's password to every program on this computer (ps) and keeps it in your shell history; put the DSN in a file readable only by you and use --db.postgres.dsn_file F instead.");
  }
  if (config.rpcListen && !isLoopbackHost(config.rpcListen.host)) {
    w.push(
      `the control channel listens on ${formatHostPort(config.rpcListen.host, config.rpcListen.port)}, reachable from other computers: ` +
        'anyone there who also holds the token in control.json can spend this wallet, and a password or recovery words sent with create or unlock cross the network unencrypted.',
    );
  }
  return w;
}

async function runDaemon(argv: string[]): Promise<number> {
  const { flags } = parseFlags(DAEMON_COMMAND, argv);
  const config = daemonConfig(flags);
  for (const w of daemonWarnings(flags, config)) process.stderr.write(`Warning: ${w}\n`);
  // Loaded only here: the client commands start fast without the node's whole import graph.
  const { startDaemon } = await import('../daemon/daemon.ts');
  const d = await startDaemon(config, { allowRemote: flags['allow-remote'] === true });
  const shutdown = (): void => void d.stop();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  const next = d.node.state === 'LOCKED' ? 'unlock' : 'create';
  process.stdout.write(
    `Coulomb ${VERSION} is running on ${config.chain.kind === 'playground' ? 'the playground (regtest)' : config.network}, using the ${d.node.chain.describe}.\n` +
      `Data directory ${config.datadir}. Next: coulomb --datadir ${config.datadir} ${next}\n`,
  );
  await d.stopped;
  if (d.node.failure) {
    // A service manager restarts on a non-zero exit; the log holds the same words.
    process.stderr.write(`[coulomb] stopped: the node's store failed. ${d.node.failure.message}\n`);
    return 1;
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  // Global flags come before the command.
  let datadir: string | undefined;
  const rest = [...argv];
  while (rest.length && rest[0]!.startsWith('-')) {
    const a = rest.shift()!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(GLOBAL_HELP + '\n');
      return 0;
    }
    if (a === '--version' || a === '-v') {
      process.stdout.write(`coulomb version ${VERSION}\n`);
      return 0;
    }
    const m = /^--datadir(?:=(.*))?$/.exec(a);
    if (m) {
      datadir = m[1] ?? rest.shift();
      if (!datadir) throw new UsageError('--datadir needs a directory');
      continue;
    }
    throw new UsageError(`unknown global flag ${a} (see: coulomb --help)`);
  }
  const name = rest.shift();
  if (!name) {
    process.stdout.write(GLOBAL_HELP + '\n');
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const spec = name === 'daemon' ? DAEMON_COMMAND : name === 'app' ? (await import('../../electron/launch.ts')).APP_COMMAND : CLIENT_COMMANDS.find((c) => c.name === name);
    if (!spec) throw new UsageError(`unknown command "${name}" (see: coulomb --help)`);
    process.stdout.write(helpText(spec) + '\n');
    return 0;
  }
  if (name === 'app') return (await import('../../electron/launch.ts')).runApp(rest);
  if (name === 'daemon') return runDaemon(datadir ? ['--datadir', datadir, ...rest] : rest);
  const cmd = CLIENT_COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command "${name}" (see: coulomb --help)`);
  const { flags, positionals } = parseFlags(cmd, rest);
  const dir = resolve(datadir ?? defaultDatadir());
  const call: Caller = (method, params) => callDaemon(dir, method, params);
  let result: unknown;
  if (cmd.name === 'create') result = await runCreate(flags, call);
  else if (cmd.name === 'unlock') result = await runUnlock(flags, call);
  else if (cmd.name === 'exporthistory') {
    result = await runExportHistory(flags, call, (csv) => process.stdout.write(csv));
    if (result === undefined) return 0;
  }
  else {
    const params = cmd.toParams(flags, positionals);
    const method: MethodName = cmd.methodFor?.(positionals) ?? (cmd.name === 'playground' && positionals[0] === 'faucet' ? 'playground_faucet' : cmd.method);
    result = await callDaemon(dir, method, params as MethodInput<MethodName>);
    if (cmd.afterCall) result = await cmd.afterCall(result, flags);
  }
  process.stdout.write(JSON.stringify(result, null, 4) + '\n');
  return 0;
}

export function describeError(e: unknown): string {
  if (e instanceof UsageError || e instanceof ApiError) return e.message;
  if (e instanceof Error && e.name === 'DataFileError') return e.message;
  if (e instanceof Error && 'code' in e && (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return `${e.message}: another program (perhaps another Coulomb daemon) is using that port; choose another with --listen or --rpclisten`;
  }
  return e instanceof Error ? e.message : String(e);
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    process.stderr.write(`[coulomb] ${describeError(e)}\n`);
    process.exitCode = 1;
  }
}
