/**
 * A regtest chain that the nodes and the test reach only through bitcoind's standard JSON-RPC: a real
 * Bitcoin Core (test/helpers/bitcoind.ts), or the playground serving that RPC and nothing more of it
 * used (no faucet, no in-process calls), set to answer as a fresh Core does where it is kinder
 * (no fee estimate, initial block download until the first block). One flow runs on either.
 */
import { randomBytes } from 'node:crypto';
import { startPlayground } from '../../core/chain/playground/index.ts';
import { BitcoindRpc } from '../../core/chain/index.ts';
import type { NodeConfig } from '../../core/node/config.ts';
import { bitcoindVersion, startBitcoind } from './bitcoind.ts';

export interface RpcChain {
  /** Who answers, for the test report: e.g. "Bitcoin Core daemon version v29.0.0". */
  name: string;
  /** What a Coulomb node is given to follow the chain. */
  follow: Extract<NodeConfig['chain'], { kind: 'bitcoind' }>;
  /** The test's own client, with the same credentials. */
  rpc: BitcoindRpc;
  /** Stops the chain and removes its data (once; calling again does nothing). */
  stop(): Promise<void>;
}

function once(f: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= f());
}

/** The playground over RPC only, answering as a fresh Bitcoin Core would. */
export async function playgroundRpcChain(): Promise<RpcChain> {
  const password = randomBytes(16).toString('hex');
  const pg = await startPlayground({ rpcuser: 'coulomb', rpcpassword: password, likeBitcoinCore: true });
  return {
    name: 'the playground over RPC (as Bitcoin Core: no fee estimate, initial block download at first)',
    follow: { kind: 'bitcoind', rpcHost: pg.url.replace('http://', ''), rpcUser: 'coulomb', rpcPass: password },
    rpc: new BitcoindRpc({ url: pg.url, user: 'coulomb', password, retries: 0 }),
    stop: once(() => pg.stop()),
  };
}

/** Bitcoin Core at `path`: regtest, no -txindex, no wallet (startBitcoind). */
export async function bitcoindRpcChain(path: string): Promise<RpcChain> {
  const password = randomBytes(16).toString('hex');
  const btc = await startBitcoind(path, { kind: 'password', user: 'coulomb', password });
  return {
    name: `${bitcoindVersion(path)} at ${path}`,
    follow: { kind: 'bitcoind', rpcHost: btc.rpcHost, rpcUser: 'coulomb', rpcPass: password },
    rpc: btc.rpc,
    stop: once(() => btc.destroy()),
  };
}
