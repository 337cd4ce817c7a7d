/**
 * The daemon's local control channel: HTTP over a Unix domain socket in the data directory (a named
 * pipe on Windows) by default, or over TCP where `--rpclisten` asks for it. The CLI finds it through
 * `<datadir>/control.json` (mode 0600, like bitcoind's cookie), which also holds the secret both sides
 * prove they know (control-auth.ts) before any request is answered or sent.
 *
 *   POST /hello         {"nonce"}   →  {"nonce","proof"}                       no credentials needed
 *   POST /v1/<method>   Authorization: Coulomb <nonce>.<proof>   body: JSON params   →   ApiResult as JSON
 *
 * The caller holds the data directory's lock (core/store/lock.ts), so a control.json or socket found
 * at start is a leftover of a daemon that is gone, and is removed.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from './dispatch.ts';
import type { Logger } from '../log/logger.ts';
import { writeFileDurable } from '../store/durable-file.ts';
import { AUTH_SCHEME, NONCE, clientProof, newNonce, sameHex, serverProof } from './control-auth.ts';
import { isLoopbackHost } from '../util/loopback.ts';

export const CONTROL_FILE = 'control.json';
export const CONTROL_SOCKET = 'control.sock';
/** The largest request body a method call may have. */
export const MAX_BODY = 1 << 20;
const MAX_HELLO = 1024;
/** How long a daemon nonce stays usable, and how many may wait at once. */
const NONCE_TTL_MS = 60_000;
const MAX_NONCES = 1024;
/** Unix socket paths are limited to about 107 bytes. */
const MAX_SOCKET_PATH = 100;

export interface ControlInfo {
  /** Path of the Unix socket or Windows named pipe; absent when the channel is TCP. */
  socket?: string;
  /** `http://127.0.0.1:<port>` when the channel is TCP. */
  url?: string;
  /** The secret of control-auth.ts; it never crosses the channel. */
  token: string;
  pid: number;
}

export interface ControlServer {
  /** Where the channel is, for people: the socket's path or the TCP address. */
  readonly url: string;
  /** Stops listening and removes control.json and the socket. */
  close(): Promise<void>;
}

/** The control socket of a data directory: a file in it on Unix, a named pipe derived from its path on Windows. */
export function controlSocketPath(datadir: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\coulomb-control-${createHash('sha256').update(resolve(datadir).toLowerCase()).digest('hex').slice(0, 32)}`;
  return join(resolve(datadir), CONTROL_SOCKET);
}

/** Reads a body up to `max` bytes; beyond that it keeps draining, so the client still reads our answer. */
function readBody(req: IncomingMessage, max: number): Promise<string | 'too_large'> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () => resolveBody(size > max ? 'too_large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown, close = false): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(close ? { connection: 'close' } : {}) });
  res.end(data);
}

function tooLarge(what: string, max: number): unknown {
  return { ok: false, error: { code: 'invalid_argument', message: `The ${what} is larger than the control channel accepts (${max} bytes); send less at once.` } };
}

async function removeStaleSocket(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new Error(`${path} is in the way of the control socket and is not a socket; move it away and start again.`);
  await rm(path, { force: true });
}

export async function startControlServer(opts: {
  datadir: string;
  /** TCP instead of the socket; a non-loopback host also needs `allowRemote`. */
  listen?: { host: string; port: number };
  allowRemote?: boolean;
  dispatch: Dispatcher;
  log: Logger;
}): Promise<ControlServer> {
  const token = randomBytes(32).toString('hex');
  const infoPath = join(opts.datadir, CONTROL_FILE);
  const socketPath = opts.listen ? undefined : controlSocketPath(opts.datadir);
  if (opts.listen && !isLoopbackHost(opts.listen.host) && !opts.allowRemote) {
    throw new Error(`The control channel would listen on ${opts.listen.host}, reachable from other computers; use a loopback address, or add --allow-remote if that is what you want.`);
  }
  if (socketPath && process.platform !== 'win32' && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`The data directory's path is too long for the control socket ${socketPath}; use a shorter --datadir, or --rpclisten 127.0.0.1:10009.`);
  }
  // Leftovers of a daemon that is gone: we hold the data directory's lock.
  await rm(infoPath, { force: true });
  if (socketPath) await removeStaleSocket(socketPath);

  /** Daemon nonces handed out and not yet used, with when they lapse. */
  const nonces = new Map<string, number>();
  const issue = (): string => {
    const now = Date.now();
    for (const [n, until] of nonces) if (until < now || nonces.size >= MAX_NONCES) nonces.delete(n);
    const n = newNonce();
    nonces.set(n, now + NONCE_TTL_MS);
    return n;
  };
  const redeem = (n: string): boolean => {
    const until = nonces.get(n);
    nonces.delete(n);
    return until !== undefined && until >= Date.now();
  };

  const hello = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_HELLO) return reply(res, 413, tooLarge('greeting', MAX_HELLO), true);
    const body = await readBody(req, MAX_HELLO);
    if (body === 'too_large') return reply(res, 413, tooLarge('greeting', MAX_HELLO), true);
    let clientNonce: unknown;
    try {
      clientNonce = (JSON.parse(body) as { nonce?: unknown }).nonce;
    } catch {
      clientNonce = undefined;
    }
    if (typeof clientNonce !== 'string' || !NONCE.test(clientNonce)) {
      return reply(res, 400, { ok: false, error: { code: 'invalid_argument', message: 'A greeting is {"nonce":"<64 hex digits>"}.' } });
    }
    const nonce = issue();
    reply(res, 200, { nonce, proof: serverProof(token, clientNonce, nonce) });
  };

  const call = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    const m = new RegExp(`^${AUTH_SCHEME} ([0-9a-f]{64})\\.([0-9a-f]{64})$`).exec(req.headers.authorization ?? '');
    if (!m || !redeem(m[1]!) || !sameHex(m[2]!, clientProof(token, m[1]!, method))) {
      return reply(res, 401, { ok: false, error: { code: 'unauthenticated', message: 'The control request did not prove it knows the token in control.json; use the coulomb command of this data directory.' } }, true);
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
      req.resume();
      return reply(res, 413, tooLarge(`${method} request`, MAX_BODY), true);
    }
    const body = await readBody(req, MAX_BODY);
    if (body === 'too_large') return reply(res, 413, tooLarge(`${method} request`, MAX_BODY), true);
    let params: unknown;
    try {
      params = body.trim() ? JSON.parse(body) : {};
    } catch (e) {
      return reply(res, 400, { ok: false, error: { code: 'invalid_argument', message: `request body is not valid JSON: ${(e as Error).message}` } });
    }
    reply(res, 200, await opts.dispatch(method, params));
  };

  const server: Server = createServer((req, res) => {
    const route = req.method === 'POST' ? /^\/(?:(hello)|v1\/([a-z_]+))$/.exec(req.url ?? '') : null;
    const handled = !route
      ? Promise.resolve(reply(res, 404, { ok: false, error: { code: 'not_found', message: 'use POST /v1/<method>' } }, true))
      : route[1]
        ? hello(req, res)
        : call(req, res, route[2]!);
    handled.catch((e: unknown) => {
      opts.log.error('control request failed', { error: String(e) });
      if (!res.headersSent) reply(res, 500, { ok: false, error: { code: 'internal', message: 'internal error' } }, true);
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((done, reject) => {
    server.once('error', reject);
    const listening = (): void => {
      server.off('error', reject);
      done();
    };
    if (socketPath) server.listen(socketPath, listening);
    else server.listen(opts.listen!.port, opts.listen!.host, listening);
  });
  let url: string;
  let info: ControlInfo;
  if (socketPath) {
    if (process.platform !== 'win32') await chmod(socketPath, 0o600);
    url = socketPath;
    info = { socket: socketPath, token, pid: process.pid };
  } else {
    const addr = server.address() as AddressInfo;
    url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    info = { url, token, pid: process.pid };
  }
  await writeFileDurable(infoPath, JSON.stringify(info, null, 2) + '\n', 0o600);
  opts.log.info('control channel listening', { url });
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
        await rm(infoPath, { force: true });
        if (socketPath && process.platform !== 'win32') await rm(socketPath, { force: true });
      })()),
  };
}
