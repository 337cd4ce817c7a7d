/**
 * The watch of transactions the node waits on: found in delivered blocks, kept across a restart,
 * forgotten when a reorg removes their block.
 */
import { describe, expect, it } from 'vitest';
import { Block } from 'bitcoinjs-lib';
import { TxWatch } from '../../../core/chain/bitcoind/tx-watch.ts';
import { startTestChain } from '../../helpers/chain.ts';
import { withTempDir } from '../../helpers/daemon.ts';
import { newKey } from '../../helpers/txbuilder.ts';
import type { ChainEvent } from '../../../core/chain/index.ts';

describe('TxWatch', () => {
  it('finds a watched transaction in a delivered block, keeps it across a restart, forgets it on a reorg', async () => {
    const chain = await startTestChain();
    try {
      await withTempDir('txwatch', async (dir) => {
        const txid = await chain.pg.faucet.send(newKey().address, 50_000n);
        const other = await chain.pg.faucet.send(newKey().address, 60_000n);
        let watch = await TxWatch.open(dir);
        await watch.watch([txid]);
        const [hash] = await chain.mine(1);
        const entry = chain.pg.chain.entryByHash(hash!)!;
        const connected: ChainEvent = { type: 'connected', hash: hash!, height: entry.height, block: Block.fromBuffer(entry.block.toBuffer()), raw: entry.block.toBuffer() };
        await watch.onChainEvent(connected);
        const index = entry.block.transactions!.findIndex((t) => t.getId() === txid);
        expect(watch.location(txid)).toEqual({ blockHash: hash, height: entry.height, index });
        expect(watch.location(other)).toBeUndefined(); // in the block, but not watched
        expect(watch.confirmations(txid, entry.height + 2)).toBe(3);

        await watch.close();
        watch = await TxWatch.open(dir);
        expect(watch.location(txid)).toEqual({ blockHash: hash, height: entry.height, index });

        await watch.onChainEvent({ type: 'disconnected', hash: hash!, height: entry.height });
        expect(watch.location(txid)).toBeUndefined();
        expect(watch.confirmations(txid, entry.height)).toBe(0);
        await watch.onChainEvent(connected);
        expect(watch.location(txid)?.blockHash).toBe(hash);
        await watch.unwatch([txid]);
        expect(watch.location(txid)).toBeUndefined();
        await watch.close();
      });
    } finally {
      await chain.stop();
    }
  });
});
