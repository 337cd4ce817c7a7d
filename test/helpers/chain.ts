/**
 * A playground chain with the real client stack in front of it, for wallet and node tests.
 */
import { startPlayground } from '../../core/chain/playground/index.ts';
import type { Playground } from '../../core/chain/playground/index.ts';
import { BitcoindRpc, BitcoindChainSource, BitcoindBroadcaster } from '../../core/chain/index.ts';

export interface TestChain {
  pg: Playground;
  rpc: BitcoindRpc;
  broadcaster: BitcoindBroadcaster;
  source(): BitcoindChainSource;
  mine(n: number, address?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startTestChain(): Promise<TestChain> {
  const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
  const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
  return {
    pg,
    rpc,
    broadcaster: new BitcoindBroadcaster(rpc),
    source: () => new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 60_000 }),
    mine: (n, address = pg.faucet.address) => rpc.call<string[]>('generatetoaddress', n, address),
    stop: () => pg.stop(),
  };
}
