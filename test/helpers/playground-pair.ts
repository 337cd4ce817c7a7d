/**
 * Two in-process Coulomb nodes on one playground chain, as the API tests want them: Alice hosts the
 * playground, Bob follows it over its RPC, and Alice has dialed Bob. Both keep the node's default
 * channel settings (confirmations, delays), so what the tests read is what a person gets; for a pair
 * with short delays and one-block funding, for on-chain tests, see coulomb-pair.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from './node.ts';
import type { TestNode } from './node.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { NodeConfig } from '../../core/node/config.ts';

/** The chain setting of a node that follows `host`'s playground over its RPC, as bitcoind. */
export async function followPlayground(host: TestNode): Promise<NodeConfig['chain']> {
  const rpc = JSON.parse(await readFile(join(host.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  return { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie };
}

export interface PlaygroundPair {
  alice: TestNode;
  bob: TestNode;
  a: ApiHandlers;
  b: ApiHandlers;
  /** Mines `n` blocks and lets both nodes see them (test nodes poll the chain rarely). */
  mine(n: number): Promise<void>;
  close(): Promise<void>;
}

/** `opts.bobChannel`: Bob's channel settings (e.g. limits he holds Alice's offers to). */
export async function startPlaygroundPair(prefix: string, opts: { bobChannel?: NodeConfig['channel'] } = {}): Promise<PlaygroundPair> {
  const alice = await startTestNode(`${prefix}-alice`);
  let bob: TestNode;
  try {
    bob = await startTestNode(`${prefix}-bob`, undefined, await followPlayground(alice), opts.bobChannel);
  } catch (e) {
    await alice.close();
    throw e;
  }
  const p: PlaygroundPair = {
    alice,
    bob,
    a: alice.node.handlers(),
    b: bob.node.handlers(),
    async mine(n) {
      await p.a.playground_mine({ blocks: n });
      await alice.node.chain.source.poke();
      await bob.node.chain.source.poke();
    },
    async close() {
      await bob.close();
      await alice.close();
    },
  };
  try {
    await p.a.connect({ addr: bob.uri });
  } catch (e) {
    await p.close();
    throw e;
  }
  return p;
}
