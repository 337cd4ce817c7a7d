/**
 * The playground runs a watchtower for its counterparty: our node's (issue 13, item 4). On the
 * playground our node's tower listens on loopback; once our node is unlocked the counterparty takes it
 * as its tower, and every state the counterparty revokes in its channel with us is backed up to it: our
 * `towerinfo` counts one session and one update per backup the counterparty's client reports. When the
 * app starts again the tower listens on a new port, and the counterparty's tower record follows it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AppHost } from '../../../core/app/host.ts';
import type { AnyMethod, AnyOutput } from '../../../core/app/contract.ts';
import { createMnemonic } from '../../../core/wallet/mnemonic.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';
import { TEST_SCRYPT } from '../../helpers/node.ts';

describe('the playground watchtower', () => {
  let dir: string | undefined;
  let host: AppHost | undefined;

  afterAll(async () => {
    await host?.stop();
    if (dir) await removeDir(dir);
  });

  async function call<M extends AnyMethod>(method: M, params: Record<string, unknown> = {}): Promise<AnyOutput<M>> {
    const r = await host!.call(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
    return r.result as AnyOutput<M>;
  }
  const counterparty = () => host!.counterparty!.node.handlers();
  /** The counterparty's record of our tower, once it lists it at `uri`'s address first. */
  const ourTowerAt = (uri: string) =>
    waitFor('the counterparty to take our tower at its address', async () => {
      const [pubkey, addr] = uri.split('@') as [string, string];
      const t = (await counterparty().wtclient_towers({})).towers.find((x) => x.pubkey === pubkey);
      return t?.addresses[0] === addr ? t : undefined;
    }, 30_000);

  it('our node watches for the counterparty: each state it revokes is backed up to our tower, across a restart', { timeout: 90_000 }, async () => {
    dir = await tempDir('playground-tower');
    const appDir = join(dir, 'app');
    host = new AppHost({ appDir, scryptCost: TEST_SCRYPT, playgroundBlockIntervalMs: 300 });
    await host.start();
    await call('app_choose_network', { kind: 'playground' });
    await call('create', { password: 'a test password', words: createMnemonic(), new_wallet: true });
    const info = await call('towerinfo');
    expect(info.active).toBe(true);
    expect(info.uris).toHaveLength(1);
    expect(info.uris[0]).toMatch(/^[0-9a-f]{66}@127\.0\.0\.1:\d+$/);
    await ourTowerAt(info.uris[0]!);

    // A channel from the counterparty, and payments both ways: each revokes a state on its side.
    await waitFor('the counterparty to connect', () => (host!.node!.peers.get(host!.counterparty!.node.nodeId)?.state === 'ready') || undefined, 30_000);
    await call('app_counterparty_open_channel', { amt: 400_000 });
    await waitFor('the channel to open', async () => (await call('listchannels')).channels.some((c) => c.active) || undefined, 40_000);
    const inv = await call('addinvoice', { value: 30_000, private: true });
    expect((await call('app_counterparty_pay', { pay_req: inv.payment_request })).status).toBe('SUCCEEDED');
    const theirs = await call('app_counterparty_invoice', { amt: 5_000 });
    expect((await call('sendpayment', { pay_req: theirs.payment_request })).status).toBe('SUCCEEDED');

    // Every backup the counterparty made reached our tower, none left pending.
    const backedUp = await waitFor('the counterparty\'s backups to reach our tower', async () => {
      const s = await counterparty().wtclient_stats({});
      const t = await call('towerinfo');
      return s.num_backups > 0 && s.num_pending_backups === 0 && t.num_updates === s.num_backups ? s.num_backups : undefined;
    }, 30_000);
    expect((await call('towerinfo')).num_sessions).toBe(1);

    // The app starts again: our tower has a new port, the counterparty follows it, and backs up again.
    await host.stop();
    host = new AppHost({ appDir, scryptCost: TEST_SCRYPT, playgroundBlockIntervalMs: 300 });
    await host.start();
    await call('unlock', { password: 'a test password' });
    const again = await call('towerinfo');
    expect(again.pubkey).toBe(info.pubkey);
    expect(again.num_updates).toBe(backedUp);
    await ourTowerAt(again.uris[0]!);
    await waitFor('the channel to be active again', async () => (await call('listchannels')).channels.some((c) => c.active) || undefined, 30_000);
    const more = await call('addinvoice', { value: 1_000, private: true });
    expect((await call('app_counterparty_pay', { pay_req: more.payment_request })).status).toBe('SUCCEEDED');
    await waitFor('the new backups to reach our tower', async () => {
      const s = await counterparty().wtclient_stats({});
      return s.num_backups > backedUp && s.num_pending_backups === 0 && (await call('towerinfo')).num_updates === s.num_backups ? true : undefined;
    }, 30_000);
  });
});
