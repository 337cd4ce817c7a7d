/**
 * The playground shop end to end, in process: the app chooses the playground, the counterparty and the
 * shop come up, the shop's channel confirms by itself, we open a channel to the counterparty, buy a
 * pixel over Lightning through the counterparty (two hops), and the pixel appears on the shop's canvas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { AppHost } from '../../../core/app/host.ts';
import { createMnemonic } from '../../../core/wallet/mnemonic.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';
import { TEST_SCRYPT } from '../../helpers/node.ts';

/** A request with headers fetch would not send (Host, a forged Origin). */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: Number(u.port), path, method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function ok<T>(p: Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error!.message);
  return r.result as T;
}

describe('the playground shop', () => {
  let dir: string;
  let host: AppHost;
  beforeAll(async () => {
    dir = await tempDir('shop');
    host = new AppHost({ appDir: dir, scryptCost: TEST_SCRYPT, playgroundBlockIntervalMs: 300 });
    await host.start();
    await ok(host.call('app_choose_network', { kind: 'playground' }));
    await ok(host.call('create', { password: 'shop test password', words: createMnemonic(), new_wallet: true }));
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    if (dir) await removeDir(dir);
  });

  it('sells a pixel for an invoice paid through the counterparty', { timeout: 120_000 }, async () => {
    const status = await waitFor('the shop to open', async () => {
      const s = await ok<{ playground?: { shop_url?: string; counterparty_pubkey: string } }>(host.call('app_status', {}));
      return s.playground?.shop_url ? s.playground : undefined;
    }, 60_000);
    const { address } = await ok<{ address: string }>(host.call('newaddress', {}));
    await ok(host.call('playground_faucet', { addr: address, amt: 2_000_000 }));
    await waitFor('the counterparty to be connected', async () => ((await ok<{ peers: { pub_key: string }[] }>(host.call('listpeers', {}))).peers.some((p) => p.pub_key === status.counterparty_pubkey) ? true : undefined), 30_000);
    await ok(host.call('openchannel', { node_key: status.counterparty_pubkey, local_amt: 500_000, private: true }));
    await waitFor('our channel to be active', async () => ((await ok<{ channels: { active: boolean }[] }>(host.call('listchannels', {}))).channels.some((c) => c.active) ? true : undefined), 60_000);

    const page = await (await fetch(status.shop_url!)).text();
    expect(page).toContain('Pixel Shop');
    // Like the app's own server: only the shop's own page, by its own name, with JSON.
    const origin = new URL(status.shop_url!).origin;
    const json = { 'content-type': 'application/json', origin };
    const order1 = JSON.stringify({ x: 3, y: 4, color: '#e63946' });
    expect((await raw(status.shop_url!, 'GET', '/', { host: 'evil.example' })).status).toBe(421);
    expect((await raw(status.shop_url!, 'POST', '/api/order', { ...json, host: 'evil.example' }, order1)).status).toBe(421);
    expect((await raw(status.shop_url!, 'POST', '/api/order', { ...json, origin: 'http://evil.example' }, order1)).status).toBe(403);
    expect((await raw(status.shop_url!, 'POST', '/api/order', { 'content-type': 'application/json' }, order1)).status).toBe(403);
    expect((await raw(status.shop_url!, 'POST', '/api/order', { ...json, 'content-type': 'text/plain' }, order1)).status).toBe(415);
    expect((await raw(status.shop_url!, 'POST', '/api/order', json, JSON.stringify({ x: 1, y: 1, color: '#000000', pad: 'x'.repeat(5000) }))).status).toBe(413);
    const order = (await (await fetch(new URL('/api/order', status.shop_url), { method: 'POST', headers: json, body: order1 })).json()) as { payment_request: string; r_hash: string; qr: string };
    expect(order.payment_request).toMatch(/^lnbcrt1/);
    expect(order.qr).toMatch(/^data:image\/svg\+xml/);
    const bad = await fetch(new URL('/api/order', status.shop_url), { method: 'POST', headers: json, body: JSON.stringify({ x: 99, y: 0, color: 'red' }) });
    expect(bad.status).toBe(400);

    // The shop's channel must be usable too before the payment can go through.
    const paid = await waitFor('the pixel to be paid', async () => {
      const r = await host.call('sendpayment', { pay_req: order.payment_request });
      return r.ok ? (r.result as { status: string; fee_msat: string; htlcs: { route: { hops: unknown[] } }[] }) : undefined;
    }, 60_000);
    expect(paid.status).toBe('SUCCEEDED');
    expect(paid.htlcs.at(-1)!.route.hops).toHaveLength(2);
    const state = await waitFor('the shop to see it paid', async () => {
      const s = (await (await fetch(new URL(`/api/order/${order.r_hash}`, status.shop_url))).json()) as { state: string };
      return s.state === 'SETTLED' ? s : undefined;
    });
    expect(state.state).toBe('SETTLED');
    const canvas = (await (await fetch(new URL('/api/canvas', status.shop_url))).json()) as { pixels: Record<string, string> };
    expect(canvas.pixels['3,4']).toBe('#e63946');
  });
});
