/**
 * Browser mode's server: static files only from the renderer folder, with a strict CSP; the API only
 * for a page of our own origin that knows the token; every malformed frame answered, never a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { AppHost } from '../../../core/app/host.ts';
import { startWebServer } from '../../../core/app/web-server.ts';
import type { WebServer } from '../../../core/app/web-server.ts';
import { silentLogger } from '../../../core/log/logger.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the API socket and returns what the server says after each frame we send. */
function session(port: number, origin = `http://127.0.0.1:${port}`): Promise<{ send(frame: unknown): Promise<unknown>; raw(data: string | Buffer): Promise<unknown>; ws: WebSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { headers: { origin } });
    const inbox: unknown[] = [];
    const waiters: ((m: unknown) => void)[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type?: string };
      if (m.type === 'event') return;
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    const next = (): Promise<unknown> => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        closed,
        send: (frame) => {
          ws.send(JSON.stringify(frame));
          return next();
        },
        raw: (data) => {
          ws.send(data);
          return next();
        },
      }),
    );
  });
}

describe('browser-mode server', () => {
  let dir: string;
  let host: AppHost;
  let web: WebServer;
  beforeAll(async () => {
    dir = await tempDir('web');
    await mkdir(join(dir, 'renderer'));
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(dir, 'secret.txt'), 'not for the web');
    host = new AppHost({ appDir: join(dir, 'app') });
    await host.start();
    web = await startWebServer({ host, rendererDir: join(dir, 'renderer'), log: silentLogger });
  });
  afterAll(async () => {
    await web.close();
    await host.stop();
    await removeDir(dir);
  });

  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const r = await get(web.port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>t</title>');
    expect(String(r.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses other Host names (DNS rebinding) and paths outside the renderer', async () => {
    expect((await get(web.port, '/', 'evil.example:80')).status).toBe(421);
    expect((await get(web.port, '/../secret.txt')).status).toBe(404);
    expect((await get(web.port, '/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get(web.port, '/nope.js')).status).toBe(404);
  });

  it('answers a malformed address with 400, not a server error', async () => {
    expect((await get(web.port, '/%E0%A4%A')).status).toBe(400);
    expect((await get(web.port, '/%')).status).toBe(400);
    expect((await get(web.port, '/')).status).toBe(200);
  });

  it('listens where other computers reach only when asked to', async () => {
    await expect(startWebServer({ host, rendererDir: join(dir, 'renderer'), listenHost: '0.0.0.0', log: silentLogger })).rejects.toThrow(
      /^Browser mode would listen on 0\.0\.0\.0, reachable from other computers; use 127\.0\.0\.1, or add --allow-remote/,
    );
    const open = await startWebServer({ host, rendererDir: join(dir, 'renderer'), listenHost: '0.0.0.0', log: silentLogger, allowRemote: true });
    await open.close();
  });

  it('refuses a WebSocket from another origin', async () => {
    await expect(session(web.port, 'http://evil.example')).rejects.toThrow(/403/);
  });

  it('closes a socket with a wrong token, or with frames that are not JSON', async () => {
    const a = await session(web.port);
    a.ws.send(JSON.stringify({ type: 'auth', token: 'guess' }));
    expect(await a.closed).toBe(4001);
    const b = await session(web.port);
    b.ws.send('not json');
    expect(await b.closed).toBe(4002);
    const c = await session(web.port);
    c.ws.send(JSON.stringify({ id: 1, method: 'getinfo' }));
    expect(await c.closed).toBe(4001);
  });

  it('answers every request, malformed ones with a reason', async () => {
    const s = await session(web.port);
    expect(await s.send({ type: 'auth', token: web.token })).toEqual({ type: 'ready' });
    expect(await s.send({ id: 1, method: 'app_status' })).toMatchObject({ id: 1, ok: true, result: { configured: false, node_running: false } });
    expect(await s.send({ id: 2, method: 'app_choose_network', params: { kind: 'moon' } })).toMatchObject({ id: 2, ok: false, error: { code: 'invalid_argument' } });
    expect(await s.send({ id: 3, method: 'getinfo', params: {} })).toMatchObject({ id: 3, ok: false, error: { code: 'unavailable', message: expect.stringContaining('choose a network') } });
    expect(await s.send({ id: 4, method: 'no_such_method' })).toMatchObject({ id: 4, ok: false });
    expect(await s.send({ id: 5, method: 'app_status', params: {}, extra: true })).toMatchObject({ id: 5, ok: false, error: { code: 'invalid_argument' } });
    expect(await s.send({ method: 'app_status' })).toMatchObject({ id: -1, ok: false });
    expect(await s.send([1, 2, 3])).toMatchObject({ id: -1, ok: false });
    expect(await s.send({ id: 6, method: 'app_test_bitcoind', params: { network: 'signet', host: '127.0.0.1:1' } })).toMatchObject({ id: 6, ok: false, error: { message: expect.stringContaining('cookie') } });
    expect(await s.send({ id: 7, method: 'app_test_bitcoind', params: { network: 'signet', host: '127.0.0.1:1', user: 'u', pass: 'p' } })).toMatchObject({ id: 7, ok: false, error: { code: 'unavailable' } });
    s.ws.close();
  });
});
