/**
 * The daemon's local control channel: HTTP on a loopback address, every request authenticated by a
 * random token kept in the data directory (mode 0600, like bitcoind's cookie). The CLI reads the token
 * from the data directory, so only a user who can read that directory can drive the node.
 *
 *   POST /v1/<method>   Authorization: Bearer <token>   body: JSON params   →   ApiResult as JSON
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from './dispatch.ts';
import type { Logger } from '../log/logger.ts';
import { writeFileDurable } from '../store/durable-file.ts';

export const CONTROL_FILE = 'control.json';
const MAX_BODY = 1 << 20;

export interface ControlInfo {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  pid: number;
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

export async function startControlServer(opts: { datadir: string; host: string; port: number; dispatch: Dispatcher; log: Logger }): Promise<ControlServer> {
  const token = randomBytes(32).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const auth = Buffer.from(req.headers.authorization ?? '');
      if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
        reply(res, 401, { ok: false, error: { code: 'unauthenticated', message: 'missing or wrong control token' } });
        return;
      }
      const m = /^\/v1\/([a-z_]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        reply(res, 404, { ok: false, error: { code: 'not_found', message: 'use POST /v1/<method>' } });
        return;
      }
      let params: unknown = {};
      try {
        const body = await readBody(req);
        params = body.trim() ? JSON.parse(body) : {};
      } catch (e) {
        reply(res, 400, { ok: false, error: { code: 'invalid_argument', message: `request body is not valid JSON: ${(e as Error).message}` } });
        return;
      }
      const result = await opts.dispatch(m[1]!, params);
      reply(res, 200, result);
    })().catch((e: unknown) => {
      opts.log.error('control request failed', { error: String(e) });
      if (!res.headersSent) reply(res, 500, { ok: false, error: { code: 'internal', message: 'internal error' } });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  const info: ControlInfo = { url, token, pid: process.pid };
  await writeFileDurable(join(opts.datadir, CONTROL_FILE), JSON.stringify(info, null, 2) + '\n', 0o600);
  opts.log.info('control channel listening', { url });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
