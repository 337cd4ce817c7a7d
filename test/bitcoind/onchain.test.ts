/**
 * The core on-chain flows (open, force close with its sweeps and an HTLC timed out on chain, breach
 * and justice) between two Coulomb nodes on a chain reached only through bitcoind's standard JSON-RPC
 * (test/helpers/onchain-flows.ts), run twice:
 * - on the playground serving that RPC and answering as a fresh Bitcoin Core does: always, so the flows
 *   and their RPC-only helpers are proven wherever the tests run;
 * - on a real Bitcoin Core (regtest, no -txindex, no wallet) when `bitcoind` is on PATH or named by
 *   BITCOIND; without one that run is skipped and says so.
 * Each flow gets a fresh chain of its own.
 */
import { describe, it } from 'vitest';
import { findBitcoind } from '../helpers/bitcoind.ts';
import { bitcoindRpcChain, playgroundRpcChain } from '../helpers/rpc-chain.ts';
import type { RpcChain } from '../helpers/rpc-chain.ts';
import { breachFlow, forceCloseFlow } from '../helpers/onchain-flows.ts';

const found = findBitcoind();
const skipReason = 'reason' in found ? found.reason : undefined;
if (skipReason) {
  console.log(`Skipping the on-chain flows on Bitcoin Core (test/bitcoind/onchain.test.ts): ${skipReason}. They ran on the playground over RPC only; to run them on Core, put Bitcoin Core's bitcoind on PATH or set BITCOIND=/path/to/bitcoind.`);
}

const runs: { name: string; skip: boolean; start: () => Promise<RpcChain> }[] = [
  { name: 'the playground, over bitcoind\'s RPC only', skip: false, start: playgroundRpcChain },
  { name: 'Bitcoin Core (regtest, no -txindex, no wallet)', skip: skipReason !== undefined, start: () => bitcoindRpcChain((found as { path: string }).path) },
];

for (const run of runs) {
  describe.skipIf(run.skip)(`on-chain flows on ${run.name}`, () => {
    const onFresh = (flow: (c: RpcChain) => Promise<void>) => async (): Promise<void> => {
      const chain = await run.start();
      console.log(`on-chain flow on ${chain.name}`);
      try {
        await flow(chain);
      } finally {
        await chain.stop();
      }
    };
    it('open, force close: to_remote at once, the HTLC timed out past its expiry, to_local and the second stage after the delay, to the satoshi', { timeout: 180_000 }, onFresh(forceCloseFlow));
    it('breach: a node restored from an old copy publishes a revoked commitment; the justice takes everything before the delay', { timeout: 180_000 }, onFresh(breachFlow));
  });
}
