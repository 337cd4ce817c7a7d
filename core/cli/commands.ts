/**
 * The `coulomb` commands: one table row each, lncli's names and flags where lnd users would look for them.
 */
import type { CommandSpec, ParsedFlags } from './args.ts';
import { UsageError } from './args.ts';
import type { MethodName } from '../api/contract.ts';

export interface ClientCommand extends CommandSpec {
  method: MethodName;
  /** Turns parsed flags into the API method's input. */
  toParams(flags: ParsedFlags, positionals: string[]): Record<string, unknown>;
}

function str(flags: ParsedFlags, name: string, what: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || !v) throw new UsageError(`missing ${what}`);
  return v;
}

export const DAEMON_COMMAND: CommandSpec = {
  name: 'daemon',
  usage: 'daemon [--datadir D] [--network regtest] [--listen 127.0.0.1:9735] [--rpclisten 127.0.0.1:10009]',
  summary: 'Runs the Coulomb node in the foreground. Logs go to <datadir>/coulomb.log and to stderr.',
  flags: [
    { name: 'datadir', type: 'string', help: 'data directory (default ~/.coulomb)' },
    { name: 'network', type: 'string', help: 'mainnet | testnet | testnet4 | signet | regtest (default regtest)' },
    { name: 'listen', type: 'list', help: 'host:port to accept peers on (repeatable; default 0.0.0.0:9735)' },
    { name: 'nolisten', type: 'boolean', help: 'accept no inbound peer connections' },
    { name: 'rpclisten', type: 'string', help: 'host:port of the control channel (default 127.0.0.1:10009; port 0 picks one)' },
    { name: 'externalip', type: 'list', help: 'host[:port] to advertise to others (repeatable)' },
    { name: 'alias', type: 'string', help: 'a name for this node' },
    { name: 'debuglevel', type: 'string', help: 'debug | info | warn | error (default info)' },
    { name: 'quiet', type: 'boolean', help: 'do not copy log lines to stderr' },
  ],
};

export const CLIENT_COMMANDS: ClientCommand[] = [
  {
    name: 'getinfo',
    usage: 'getinfo',
    summary: "Shows this node's identity, addresses, network and peer count.",
    flags: [],
    method: 'getinfo',
    toParams: () => ({}),
  },
  {
    name: 'connect',
    usage: 'connect <pubkey>@<host>[:<port>] [--perm] [--timeout <seconds>]',
    summary: 'Connects to a Lightning node.',
    flags: [
      { name: 'addr', type: 'string', help: 'the node to connect to, <pubkey>@<host>[:<port>]', positional: 0 },
      { name: 'perm', type: 'boolean', help: 'keep reconnecting to this peer if the connection drops' },
      { name: 'timeout', type: 'string', help: 'seconds to wait for the connection (default 30)' },
    ],
    method: 'connect',
    toParams: (f) => {
      const params: Record<string, unknown> = { addr: str(f, 'addr', 'the peer address: coulomb connect <pubkey>@<host>:<port>') };
      if (f.perm) params.perm = true;
      if (f.timeout !== undefined) {
        const s = Number(f.timeout);
        if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${String(f.timeout)}"`);
        params.timeout_ms = Math.round(s * 1000);
      }
      return params;
    },
  },
  {
    name: 'disconnect',
    usage: 'disconnect <pubkey>',
    summary: 'Disconnects from a peer and stops reconnecting to it.',
    flags: [{ name: 'node_key', type: 'string', help: 'public key of the peer', positional: 0 }],
    method: 'disconnect',
    toParams: (f) => ({ pub_key: str(f, 'node_key', 'the peer public key: coulomb disconnect <pubkey>') }),
  },
  {
    name: 'listpeers',
    usage: 'listpeers',
    summary: 'Lists the connected peers.',
    flags: [],
    method: 'listpeers',
    toParams: () => ({}),
  },
  {
    name: 'stop',
    usage: 'stop',
    summary: 'Stops the daemon gracefully.',
    flags: [],
    method: 'stop',
    toParams: () => ({}),
  },
];
