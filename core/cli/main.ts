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
import { defaultDatadir, DEFAULT_PEER_PORT, DEFAULT_RPC_PORT, NETWORKS } from '../node/config.ts';
import type { NodeConfig } from '../node/config.ts';
import { parseHostPort } from '../peer/address.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { VERSION } from '../version.ts';
import type { Network } from '../keys/node-key.ts';

const GLOBAL_HELP = `coulomb ${VERSION}: a Lightning Network node and wallet

Usage:
  coulomb daemon [flags]               run a node in the foreground (see: coulomb daemon --help)
  coulomb [--datadir D] <command>      talk to a running node

Commands:
${CLIENT_COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

Global flags:
  --datadir D     the node's data directory (default ${defaultDatadir()}; or COULOMB_DATADIR)
  --help          help for coulomb or for one command
  --version       print the version`;

function daemonConfig(flags: Record<string, unknown>): NodeConfig {
  const network = (flags.network as string | undefined) ?? 'regtest';
  if (!NETWORKS.includes(network as Network)) throw new UsageError(`unknown network "${network}"; choose one of ${NETWORKS.join(', ')}`);
  const listenFlags = (flags.listen as string[] | undefined) ?? ['0.0.0.0:9735'];
  const level = (flags.debuglevel as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--debuglevel must be debug, info, warn or error, not "${level}"`);
  return {
    datadir: resolve((flags.datadir as string | undefined) ?? defaultDatadir()),
    network: network as Network,
    alias: (flags.alias as string | undefined) ?? '',
    listen: flags.nolisten ? [] : listenFlags.map((l) => parseHostPort(l, DEFAULT_PEER_PORT, true)),
    rpcListen: parseHostPort((flags.rpclisten as string | undefined) ?? `127.0.0.1:${DEFAULT_RPC_PORT}`, DEFAULT_RPC_PORT, true),
    externalIps: ((flags.externalip as string[] | undefined) ?? []).map((l) => parseHostPort(l, DEFAULT_PEER_PORT)),
    logLevel: level as NodeConfig['logLevel'],
    logToStderr: !flags.quiet,
  };
}

async function runDaemon(argv: string[]): Promise<number> {
  const { flags } = parseFlags(DAEMON_COMMAND, argv);
  const config = daemonConfig(flags);
  const d = await startDaemon(config);
  const shutdown = (): void => void d.stop();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  process.stdout.write(`Coulomb ${VERSION} is running on ${config.network}. Node id ${d.node.nodeId}\n` + `Data directory ${config.datadir}; try: coulomb --datadir ${config.datadir} getinfo\n`);
  await d.stopped;
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
    const spec = name === 'daemon' ? DAEMON_COMMAND : CLIENT_COMMANDS.find((c) => c.name === name);
    if (!spec) throw new UsageError(`unknown command "${name}" (see: coulomb --help)`);
    process.stdout.write(helpText(spec) + '\n');
    return 0;
  }
  if (name === 'daemon') return runDaemon(datadir ? ['--datadir', datadir, ...rest] : rest);
  const cmd = CLIENT_COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command "${name}" (see: coulomb --help)`);
  const { flags, positionals } = parseFlags(cmd, rest);
  const params = cmd.toParams(flags, positionals);
  const result = await callDaemon(resolve(datadir ?? defaultDatadir()), cmd.method, params as MethodInput<MethodName>);
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
