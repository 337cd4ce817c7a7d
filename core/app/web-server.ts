/**
 * Browser mode: the app's renderer served on a loopback address, with the same API as the desktop
 * shell's IPC carried over a WebSocket. A random token (printed in the terminal, as part of the address
 * to open) guards the API; the Host and Origin headers are checked so that no other web page the user
 * visits can reach it (DNS rebinding, cross-site WebSockets).
 *
 * Protocol on ws://<host>/api — JSON text frames:
 *   → {"type":"auth","token":"…"}                 first frame, within 10 s
 *   ← {"type":"ready"}
 *   → {"id":1,"method":"getinfo","params":{}}
 *   ← {"id":1,"ok":true,"result":{…}}   or   {"id":1,"ok":false,"error":{code,message}}
 *   ← {"type":"event","event":{…}}                pushed whenever something changed
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { AppHost } from './host.ts';
import type { Logger } from '../log/logger.ts';
import { isLoopbackHost } from '../util/loopback.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

const wsRequest = z.object({ id: z.number().int().nonnegative(), method: z.string().min(1).max(64), params: z.unknown().optional() }).strict();
const wsAuth = z.object({ type: z.literal('auth'), token: z.string().max(200) }).strict();

export interface WebServer {
  /** The address to open, token included (after #, so it never reaches a server log). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * The Host and Origin a page of a local server carries when the user's own browser opened it; anything
 * else is another site's page (DNS rebinding, cross-site requests) and is refused. `port()` is read at
 * each request, as a server on port 0 learns its port only once listening.
 */
export function localOrigins(listenHost: string, port: () => number): { hostOk(req: IncomingMessage): boolean; originOk(req: IncomingMessage): boolean } {
  const hosts = (): Set<string> => {
    const p = port();
    return new Set([`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`, `${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${p}`]);
  };
  return {
    hostOk: (req) => hosts().has(req.headers.host ?? ''),
    originOk: (req) => [...hosts()].some((h) => req.headers.origin === `http://${h}`),
  };
}

export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startWebServer(opts: { host: AppHost; rendererDir: string; listenHost?: string; port?: number; log: Logger; token?: string; allowRemote?: boolean }): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const listenHost = opts.listenHost ?? '127.0.0.1';
  if (!isLoopbackHost(listenHost) && !opts.allowRemote) {
    throw new Error(`Browser mode would listen on ${listenHost}, reachable from other computers; use 127.0.0.1, or add --allow-remote if that is what you want.`);
  }
  let port = 0;
  const origins = localOrigins(listenHost, () => port);

  const serveStatic = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!origins.hostOk(req)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong Host header');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed address');
      return;
    }
    const rel = path === '/' ? 'index.html' : path.slice(1);
    const file = normalize(join(opts.rendererDir, rel));
    if (!file.startsWith(normalize(opts.rendererDir) + sep)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'content-security-policy': contentSecurityPolicy(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    serveStatic(req, res).catch((e: unknown) => {
      opts.log.warn('static request failed', { error: String(e) });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/api' || !origins.hostOk(req) || !origins.originOk(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws));
  });

  const serveClient = (ws: WebSocket): void => {
    let authed = false;
    let unsubscribe: (() => void) | undefined;
    const send = (msg: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const authTimer = setTimeout(() => ws.close(4001, 'no token'), 10_000);
    ws.on('close', () => {
      clearTimeout(authTimer);
      unsubscribe?.();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        if (isBinary) throw new Error('binary');
        msg = JSON.parse(String(data));
      } catch {
        ws.close(4002, 'frames must be JSON text');
        return;
      }
      if (!authed) {
        const a = wsAuth.safeParse(msg);
        if (!a.success || !sameToken(a.data.token, token)) {
          ws.close(4001, 'wrong token: open the address printed in the terminal');
          return;
        }
        authed = true;
        clearTimeout(authTimer);
        unsubscribe = opts.host.onEvent((event) => send({ type: 'event', event }));
        send({ type: 'ready' });
        return;
      }
      const r = wsRequest.safeParse(msg);
      if (!r.success) {
        send({ id: typeof (msg as { id?: unknown })?.id === 'number' ? (msg as { id: number }).id : -1, ok: false, error: { code: 'invalid_argument', message: 'a request is {"id":<number>,"method":"<name>","params":{…}}' } });
        return;
      }
      void opts.host.call(r.data.method, r.data.params).then((result) => send({ id: r.data.id, ...result }));
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  return {
    url: `http://${shownHost}:${port}/#token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
