/**
 * The bitcoind client and chain source against the playground's JSON-RPC over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startPlayground } from '../../../core/chain/playground/index.ts';
import type { Playground } from '../../../core/chain/playground/index.ts';
import { BitcoindRpc, BitcoindChainSource, BitcoindFeeEstimator, BitcoindBroadcaster, ChainMismatchError, RpcError } from '../../../core/chain/index.ts';
import type { ChainEvent } from '../../../core/chain/index.ts';
import { newKey, spendP2wpkh } from '../../helpers/txbuilder.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';

describe('bitcoind RPC client', () => {
  let pg: Playground;
  let rpc: BitcoindRpc;
  beforeAll(async () => {
    pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
    rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
  });
  afterAll(() => pg.stop());

  it('calls and batches', async () => {
    expect(await rpc.call('getblockcount')).toBe(0);
    const [count, best, bad] = await rpc.batch([{ method: 'getblockcount' }, { method: 'getbestblockhash' }, { method: 'nosuchmethod' }]);
    expect(count).toBe(0);
    expect(best).toBe('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
    expect(bad).toBeInstanceOf(RpcError);
    expect((bad as RpcError).kind).toBe('method_not_found');
  });

  it('maps errors to kinds with sentences', async () => {
    await expect(new BitcoindRpc({ url: pg.url, user: 'u', password: 'wrong' }).call('getblockcount')).rejects.toMatchObject({ kind: 'unauthorized', message: expect.stringMatching(/rejected the RPC user or password/) });
    await expect(rpc.call('getblockhash', 99)).rejects.toMatchObject({ kind: 'invalid_params' });
    await expect(rpc.call('getblock', 'ab'.repeat(32))).rejects.toMatchObject({ kind: 'not_found' });
    await expect(rpc.call('sendrawtransaction', '00')).rejects.toBeInstanceOf(RpcError);
  });

  it('retries transport failures only, then says bitcoind is unreachable', async () => {
    const dead = new BitcoindRpc({ url: 'http://127.0.0.1:1', user: 'u', password: 'p', retries: 2, retryDelayMs: 10 });
    await expect(dead.call('getblockcount')).rejects.toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/cannot reach bitcoind/) });
  });

  it('times out a call that never gets an answer', async () => {
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    await expect(new BitcoindRpc({ url, timeoutMs: 200, retries: 0 }).call('getblockcount')).rejects.toMatchObject({ kind: 'timeout' });
    hang.closeAllConnections();
    hang.close();
  });

  it('cookie authentication, re-read after bitcoind restarts with a new cookie', async () => {
    const dir = await tempDir('cookie');
    try {
      const a = await startPlayground({ datadir: dir });
      const client = new BitcoindRpc({ url: a.url, cookieFile: join(dir, '.cookie') });
      expect(await client.call('getblockcount')).toBe(0);
      await a.stop();
      const b = await startPlayground({ datadir: dir, port: a.port });
      expect(await client.call('getblockcount')).toBe(0);
      await b.stop();
    } finally {
      await removeDir(dir);
    }
  });
});

describe('chain source', () => {
  it('delivers blocks in order, handles a reorg newest-first, and refuses the wrong network', async () => {
    const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
    try {
      const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
      await expect(new BitcoindChainSource(rpc, { network: 'testnet', pollMs: 50 }).start(() => undefined)).rejects.toBeInstanceOf(ChainMismatchError);
      const events: string[] = [];
      const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 60_000 });
      await src.start((e: ChainEvent) => void events.push(`${e.type}:${e.height}:${e.hash.slice(0, 8)}`));
      const k = newKey();
      const first = await rpc.call<string[]>('generatetoaddress', 3, k.address);
      await src.poke();
      expect(events).toEqual(first.map((h, i) => `connected:${i + 1}:${h.slice(0, 8)}`));
      expect(src.status()).toMatchObject({ synced: true, height: 3, bestHeight: 3 });
      // Replace the last two blocks with three others.
      await rpc.call('invalidateblock', first[1]);
      const second = await rpc.call<string[]>('generatetoaddress', 3, k.address);
      events.length = 0;
      await src.poke();
      expect(events).toEqual([
        `disconnected:3:${first[2]!.slice(0, 8)}`,
        `disconnected:2:${first[1]!.slice(0, 8)}`,
        ...second.map((h, i) => `connected:${i + 2}:${h.slice(0, 8)}`),
      ]);
      await src.stop();
    } finally {
      await pg.stop();
    }
  });

  it('reports an unreachable bitcoind in its status and recovers', async () => {
    const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
    const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p', retries: 0 });
    const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 60_000 });
    await src.start(() => undefined);
    await pg.stop();
    await src.poke();
    expect(src.status().error).toMatch(/cannot reach bitcoind/);
    const again = await startPlayground({ rpcuser: 'u', rpcpassword: 'p', port: pg.port });
    await src.poke();
    expect(src.status().error).toBeUndefined();
    await src.stop();
    await again.stop();
  });
});

/** A playground whose block 1 pays a test key a coin that 100 more blocks made spendable. */
async function matureCoin() {
  const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
  const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
  const k = newKey();
  await rpc.call('generatetoaddress', 1, k.address);
  await rpc.call('generatetoaddress', 100, newKey().address);
  const cb = pg.chain.entries[1]!.block.transactions![0]!;
  return { pg, rpc, k, prev: { txid: cb.getId(), vout: 0, value: cb.outs[0]!.value } };
}

describe('fees and broadcasting', () => {
  it('fee estimates have a floor and a fallback', async () => {
    const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
    const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
    const fees = new BitcoindFeeEstimator(rpc, 2500);
    expect(fees.feerateSatPerKw('normal')).toBe(2500); // nothing fetched yet: the fallback
    await fees.refresh();
    expect(fees.feerateSatPerKw('normal')).toBe(253); // 1 sat/vB from the playground, raised to the floor
    await pg.stop();
  });

  it('broadcasts, accepts a re-broadcast and an already-confirmed transaction, forgets it once confirmed', async () => {
    const { pg, rpc, k, prev } = await matureCoin();
    const tx = spendP2wpkh(k, prev, newKey().script);
    const b = new BitcoindBroadcaster(rpc);
    const txid = await b.broadcast(tx);
    expect(await b.broadcast(tx)).toBe(txid);
    await rpc.call('generatetoaddress', 1, k.address);
    await b.onBlock();
    expect(b.pending.size).toBe(0);
    expect(await b.broadcast(tx)).toBe(txid); // already in the chain: fine
    await expect(b.broadcast(spendP2wpkh(k, prev, newKey().script, 900n))).rejects.toMatchObject({ kind: 'missing_inputs' });
    await pg.stop();
  });

  it('forgets a transaction once a delivered block confirms it, without looking it up by txid', async () => {
    const { pg, rpc, k, prev } = await matureCoin();
    const b = new BitcoindBroadcaster(rpc);
    await b.broadcast(spendP2wpkh(k, prev, newKey().script));
    const [hash] = await rpc.call<string[]>('generatetoaddress', 1, k.address);
    b.confirmed(pg.chain.entryByHash(hash!)!.block);
    expect(b.pending.size).toBe(0);
    await pg.stop();
  });

  it('stops sending a transaction once a block confirms a conflict of it (a replacement, or a spend that won the race)', async () => {
    const { pg, rpc, k, prev } = await matureCoin();
    const b = new BitcoindBroadcaster(rpc);
    await b.broadcast(spendP2wpkh(k, prev, newKey().script, 500n));
    // Another spend of the same coin, paying more, replaces it and is mined.
    await rpc.call('sendrawtransaction', spendP2wpkh(k, prev, newKey().script, 5_000n));
    const [hash] = await rpc.call<string[]>('generatetoaddress', 1, k.address);
    expect(b.pending.size).toBe(1);
    b.confirmed(pg.chain.entryByHash(hash!)!.block);
    expect(b.pending.size).toBe(0);
    await pg.stop();
  });
});

describe('a bitcoind that is still starting or syncing', () => {
  it('reports warming up (-28) and initial block download in the status, without failing', async () => {
    let mode: 'warming' | 'ibd' = 'warming';
    const tip = 'ab'.repeat(32);
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { method, id } = JSON.parse(body) as { method: string; id: number };
        const reply = (result: unknown, error: unknown = null) => res.end(JSON.stringify({ result, error, id }));
        if (mode === 'warming') return reply(null, { code: -28, message: 'Loading block index…' });
        if (method === 'getblockchaininfo') return reply({ chain: 'regtest', blocks: 5, bestblockhash: tip, initialblockdownload: true });
        if (method === 'getbestblockhash') return reply(tip);
        if (method === 'getblockheader') return reply({ height: 5 });
        return reply(null, { code: -32601, message: 'Method not found' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const rpc = new BitcoindRpc({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, user: 'u', password: 'p' });
    const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 60_000 });
    await expect(src.start(() => undefined)).rejects.toMatchObject({ kind: 'warming_up', message: expect.stringMatching(/still starting.*will retry/) });
    mode = 'ibd';
    await src.start(() => undefined);
    expect(src.status()).toMatchObject({ synced: false, initialBlockDownload: true, height: 5 });
    await src.stop();
    server.close();
  });
});

describe('a playground that answers as a fresh Bitcoin Core (likeBitcoinCore)', () => {
  it('has no fee estimate, so the estimator falls back, and is in initial block download until a block is mined', async () => {
    const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p', likeBitcoinCore: true });
    const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
    expect(await rpc.call('estimatesmartfee', 6, 'CONSERVATIVE')).toEqual({ errors: ['Insufficient data or no feerate found'], blocks: 0 });
    const fees = new BitcoindFeeEstimator(rpc, 2500);
    await fees.refresh();
    expect(fees.feerateSatPerKw('normal')).toBe(2500);
    const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 60_000 });
    await src.start(() => undefined);
    expect(src.status()).toMatchObject({ synced: false, initialBlockDownload: true });
    await rpc.call('generatetoaddress', 1, newKey().address);
    await src.poke();
    expect(src.status()).toMatchObject({ synced: true, initialBlockDownload: false, height: 1 });
    // A busy network played with setfeeestimate still answers.
    await rpc.call('setfeeestimate', 5);
    await fees.refresh();
    expect(fees.feerateSatPerKw('normal')).toBe(1250);
    await src.stop();
    await pg.stop();
  });
});
