/**
 * Connects the node to its chain: the user's bitcoind, or the embedded playground (started here, in
 * this process). Either way the node talks JSON-RPC through the same client.
 */
import { join } from 'node:path';
import { BitcoindRpc, BitcoindChainSource, BitcoindFeeEstimator, BitcoindBroadcaster } from '../chain/index.ts';
import { startPlayground } from '../chain/playground/index.ts';
import type { Playground } from '../chain/playground/index.ts';
import type { NodeConfig } from './config.ts';
import type { Logger } from '../log/logger.ts';
import { writeFileDurable } from '../store/durable-file.ts';
import { subscribeRawBlocks } from '../chain/bitcoind/zmq.ts';
import type { RawBlockSubscription } from '../chain/bitcoind/zmq.ts';

export interface ChainBackend {
  rpc: BitcoindRpc;
  source: BitcoindChainSource;
  fees: BitcoindFeeEstimator;
  broadcaster: BitcoindBroadcaster;
  playground?: Playground;
  /** Where the chain's JSON-RPC is, for people and other nodes (the playground's is ours to share). */
  describe: string;
  stop(): Promise<void>;
}

export const PLAYGROUND_DIR = 'playground';
export const PLAYGROUND_RPC_FILE = 'rpc.json';

export async function openChainBackend(config: NodeConfig, log: Logger): Promise<ChainBackend> {
  let rpc: BitcoindRpc;
  let playground: Playground | undefined;
  let describe: string;
  const c = config.chain;
  if (c.kind === 'playground') {
    const dir = join(config.datadir, PLAYGROUND_DIR);
    playground = await startPlayground({ datadir: dir, host: c.rpcListen.host, port: c.rpcListen.port });
    rpc = new BitcoindRpc({ url: playground.url, user: playground.rpcuser, password: playground.rpcpassword });
    // Another node (a second wallet, the shop) can use this chain: it finds the address and cookie here.
    await writeFileDurable(join(dir, PLAYGROUND_RPC_FILE), JSON.stringify({ url: playground.url, cookie: join(dir, '.cookie') }, null, 2) + '\n', 0o600);
    describe = `playground chain at ${playground.url}`;
    log.info('playground chain started', { url: playground.url, height: playground.chain.height });
  } else {
    if (c.zmqPubRawTx) log.info('--bitcoind.zmqpubrawtx is not used: Coulomb reads the mempool by polling');
    const url = `http://${c.rpcHost}`;
    rpc = c.rpcCookie ? new BitcoindRpc({ url, cookieFile: c.rpcCookie }) : new BitcoindRpc({ url, user: c.rpcUser ?? '', password: c.rpcPass ?? '' });
    describe = `bitcoind at ${url}`;
  }
  const pollMs = config.pollMs ?? (c.kind === 'playground' ? 1000 : undefined);
  const source = new BitcoindChainSource(rpc, { network: config.network, ...(pollMs ? { pollMs } : {}), log: (m) => log.warn(m) });
  // New blocks announced over ZMQ are fetched at once; the timer's polling stays as the fallback.
  let zmq: RawBlockSubscription | undefined;
  if (c.kind === 'bitcoind' && c.zmqPubRawBlock) zmq = await subscribeRawBlocks(c.zmqPubRawBlock, { poke: () => source.poke(), info: (m) => log.info(m), warn: (m) => log.warn(m) });
  return {
    rpc,
    source,
    fees: new BitcoindFeeEstimator(rpc, config.network === 'regtest' ? 1000 : 2500),
    broadcaster: new BitcoindBroadcaster(rpc),
    ...(playground ? { playground } : {}),
    describe,
    async stop() {
      await zmq?.stop();
      await source.stop();
      await playground?.stop();
    },
  };
}
