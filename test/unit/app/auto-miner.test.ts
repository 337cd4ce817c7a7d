/**
 * The playground's auto-miner in the app host: a block soon after a transaction arrives, more blocks
 * while a channel waits for depth, none while nothing waits, and none at all when turned off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AppHost } from '../../../core/app/host.ts';
import type { AppHostOptions } from '../../../core/app/host.ts';
import type { AnyMethod, AnyOutput } from '../../../core/app/contract.ts';
import { createMnemonic } from '../../../core/wallet/mnemonic.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';
import { TEST_SCRYPT } from '../../helpers/node.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the playground auto-miner', () => {
  let dir: string | undefined;
  let host: AppHost | undefined;
  afterEach(async () => {
    await host?.stop();
    if (dir) await removeDir(dir);
    host = undefined;
    dir = undefined;
  });

  async function call<M extends AnyMethod>(method: M, params: Record<string, unknown> = {}): Promise<AnyOutput<M>> {
    const r = await host!.call(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
    return r.result as AnyOutput<M>;
  }

  const height = (): Promise<number> => host!.node!.chain.rpc.call<number>('getblockcount');
  const mempool = (): Promise<string[]> => host!.node!.chain.rpc.call<string[]>('getrawmempool');

  /** An app on the playground with a funded wallet, once the counterparty is up and connected. */
  async function startHost(opts: Partial<AppHostOptions>): Promise<void> {
    dir = await tempDir('auto-miner');
    host = new AppHost({ appDir: join(dir, 'app'), scryptCost: TEST_SCRYPT, ...opts });
    await host.start();
    await call('app_choose_network', { kind: 'playground' });
    await call('create', { password: 'a test password', words: createMnemonic(), new_wallet: true });
    await waitFor('the counterparty to connect', () => (host!.counterparty?.ready && host!.node!.peers.get(host!.counterparty.node.nodeId)?.state === 'ready') || undefined, 30_000);
    // The shop opens too, its channel mined by the same auto-miner: let that settle before measuring.
    if (opts.playgroundBlockIntervalMs !== 0) {
      await waitFor('the shop to open', () => host!.status().playground?.shop_url || undefined, 60_000);
      await waitFor('the shop channel to be deep enough', async () => ((await mempool()).length === 0 && !(await host!.shop!.channelWaits()) ? true : undefined), 60_000);
    }
    const { address } = await call('newaddress');
    await call('playground_faucet', { addr: address, amt: 2_000_000 });
  }


  it('mines a block once a transaction has waited about one interval, and no more once nothing waits', { timeout: 60_000 }, async () => {
    await startHost({ playgroundBlockIntervalMs: 400 });
    const h0 = await height();
    const { address } = await call('app_counterparty_address');
    const { txid } = await call('sendcoins', { addr: address, amt: 100_000 });
    expect(await mempool()).toContain(txid);
    await waitFor('the send to confirm by itself', async () => ((await mempool()).length === 0 ? true : undefined), 10_000);
    await waitFor('the wallet to see it confirmed', async () => (await call('listchaintxns')).transactions.find((t) => t.tx_hash === txid && t.num_confirmations === 1), 5_000);
    expect(await height()).toBe(h0 + 1);
    await sleep(1200);
    expect(await height()).toBe(h0 + 1);
  });

  it('keeps mining while a channel waits for its depth, so it opens by itself, then stops', { timeout: 60_000 }, async () => {
    await startHost({ playgroundBlockIntervalMs: 300 });
    const cp = host!.counterparty!.node.nodeId;
    const h0 = await height();
    await call('openchannel', { node_key: cp, local_amt: 500_000 });
    const ch = await waitFor('the channel to open', async () => (await call('listchannels')).channels.find((c) => c.active), 20_000);
    expect(ch.remote_pubkey).toBe(cp);
    // Three blocks for the funding's minimum depth (a stray one at most, while the last depth check ran).
    const h1 = await height();
    expect(h1 - h0).toBeGreaterThanOrEqual(3);
    expect(h1 - h0).toBeLessThanOrEqual(4);
    await sleep(1000);
    expect(await height()).toBe(h1);
  });

  it('mines nothing when turned off', { timeout: 60_000 }, async () => {
    await startHost({ playgroundBlockIntervalMs: 0 });
    const h0 = await height();
    const { address } = await call('app_counterparty_address');
    const { txid } = await call('sendcoins', { addr: address, amt: 100_000 });
    await sleep(1500);
    expect(await mempool()).toContain(txid);
    expect(await height()).toBe(h0);
  });
});
