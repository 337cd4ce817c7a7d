/**
 * The node's configuration as the daemon and the app pass it in. Defaults live here, once.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Network } from '../keys/node-key.ts';
import type { ChannelConfig, ChannelLimits } from '../channel/config.ts';
import type { KvBackendConfig } from '../store/kv/types.ts';
import type { TowerConfig } from './tower.ts';

export const NETWORKS: readonly Network[] = ['mainnet', 'testnet', 'testnet4', 'signet', 'regtest'];

/** bitcoind's default RPC ports. */
export const DEFAULT_BITCOIND_RPC_PORT: Record<Network, number> = { mainnet: 8332, testnet: 18332, testnet4: 48332, signet: 38332, regtest: 18443 };

export type ChainBackendConfig =
  /** The embedded regtest chain, started by the node itself (its JSON-RPC on `rpcListen`). */
  | { kind: 'playground'; rpcListen: { host: string; port: number } }
  | {
      kind: 'bitcoind';
      /** host:port of bitcoind's RPC. */
      rpcHost: string;
      rpcUser?: string;
      rpcPass?: string;
      /** Path of bitcoind's .cookie file (instead of user and password). */
      rpcCookie?: string;
      zmqPubRawBlock?: string;
      zmqPubRawTx?: string;
    };

export interface NodeConfig {
  datadir: string;
  network: Network;
  chain: ChainBackendConfig;
  alias: string;
  /** host:port pairs to accept peers on; empty means no inbound connections. */
  listen: { host: string; port: number }[];
  /** host:port of the control channel (the CLI's way in) over TCP; without it, a Unix socket in the data directory (a named pipe on Windows). */
  rpcListen?: { host: string; port: number };
  /** Addresses to advertise in `uris`, when the listen address is not what others should dial. */
  externalIps: { host: string; port: number }[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Also write log lines to stderr. */
  logToStderr: boolean;
  /** How often to ask the chain for new blocks (default: 1 s on the playground, 2 s regtest, 10 s otherwise). */
  pollMs?: number;
  /** Channel policy: what we ask of channels, and what we accept from peers (defaults: core/channel/config.ts). */
  channel?: { config?: Partial<ChannelConfig>; limits?: Partial<ChannelLimits> };
  /** Where the node keeps its records (core/store/kv); default: the embedded store in `<datadir>/store`. */
  db?: KvBackendConfig;
  /** The watchtower built into the node (core/node/tower.ts): off unless `active`. */
  watchtower?: TowerConfig;
}

export function defaultDatadir(): string {
  if (process.env.COULOMB_DATADIR) return process.env.COULOMB_DATADIR;
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return join(process.env.LOCALAPPDATA, 'Coulomb');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Coulomb');
  return join(homedir(), '.coulomb');
}

export const DEFAULT_PEER_PORT = 9735;
export const DEFAULT_RPC_PORT = 10009;
/** lnd's default watchtower port. */
export const DEFAULT_TOWER_PORT = 9911;
