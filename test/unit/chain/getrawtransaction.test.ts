/**
 * The playground answers getrawtransaction as Bitcoin Core does without -txindex (its default, and
 * what Coulomb must work with): mempool transactions, or confirmed ones only in the block named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlayground } from '../../../core/chain/playground/index.ts';
import type { Playground } from '../../../core/chain/playground/index.ts';
import { BitcoindRpc } from '../../../core/chain/index.ts';
import { newKey } from '../../helpers/txbuilder.ts';

const NOT_IN_MEMPOOL = 'No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.';

describe('playground getrawtransaction, as Bitcoin Core without -txindex', () => {
  let pg: Playground;
  let rpc: BitcoindRpc;
  beforeAll(async () => {
    pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
    rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
  });
  afterAll(() => pg.stop());

  it('finds a mempool transaction, but a confirmed one only in the block named', async () => {
    const txid = await pg.faucet.send(newKey().address, 100_000n);
    const inMempool = await rpc.call<{ txid: string; confirmations?: number }>('getrawtransaction', txid, true);
    expect(inMempool.txid).toBe(txid);
    expect(inMempool.confirmations).toBeUndefined();

    const [blockhash] = await rpc.call<string[]>('generatetoaddress', 1, pg.faucet.address);
    await expect(rpc.call('getrawtransaction', txid, true)).rejects.toMatchObject({ kind: 'not_found', code: -5, message: `getrawtransaction: ${NOT_IN_MEMPOOL}` });
    await expect(rpc.call('getrawtransaction', txid, 0)).rejects.toMatchObject({ code: -5 });

    const found = await rpc.call<{ txid: string; confirmations: number; blockhash: string; in_active_chain: boolean }>('getrawtransaction', txid, 1, blockhash);
    expect(found).toMatchObject({ txid, blockhash, confirmations: 1, in_active_chain: true });
    expect(typeof (await rpc.call('getrawtransaction', txid, false, blockhash))).toBe('string');
    await rpc.call('generatetoaddress', 2, pg.faucet.address);
    expect((await rpc.call<{ confirmations: number }>('getrawtransaction', txid, 1, blockhash)).confirmations).toBe(3);
  });

  it('answers with Core\'s errors for another block, an unknown block and the genesis coinbase', async () => {
    const txid = await pg.faucet.send(newKey().address, 100_000n);
    const [blockhash] = await rpc.call<string[]>('generatetoaddress', 1, pg.faucet.address);
    const other = await rpc.call<string>('getblockhash', 1);
    expect(other).not.toBe(blockhash);
    await expect(rpc.call('getrawtransaction', txid, true, other)).rejects.toMatchObject({ code: -5, message: 'getrawtransaction: No such transaction found in the provided block. Use gettransaction for wallet transactions.' });
    await expect(rpc.call('getrawtransaction', txid, true, 'ab'.repeat(32))).rejects.toMatchObject({ code: -5, message: 'getrawtransaction: Block hash not found' });
    const genesis = await rpc.call<{ merkleroot: string }>('getblockheader', await rpc.call<string>('getblockhash', 0));
    await expect(rpc.call('getrawtransaction', genesis.merkleroot, true, await rpc.call<string>('getblockhash', 0))).rejects.toMatchObject({
      code: -5,
      message: 'getrawtransaction: The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved',
    });
  });
});
