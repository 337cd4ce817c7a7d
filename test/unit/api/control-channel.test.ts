/**
 * The control channel between the CLI and a daemon: the daemon proves itself before anything secret
 * leaves the CLI, leftovers of a dead daemon are cleaned at start, oversized requests get an answer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { spawn } from 'node:child_process';
import { lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CONTROL_FILE, controlSocketPath, startControlServer } from '../../../core/api/control-server.ts';
import { callDaemon } from '../../../core/api/control-client.ts';
import { ApiError } from '../../../core/api/contract.ts';
import { createLogger } from '../../../core/log/logger.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';

const log = createLogger([], 'error');
const echo = async (method: string, params: unknown): Promise<{ ok: true; result: unknown }> => ({ ok: true, result: { method, params } });
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'a'.repeat(64);

/** Something listening where the daemon should be: it records everything it is sent and says yes to all. */
async function fakeDaemon(where: { socket: string } | { port: 0 }): Promise<{ server: Server; seen: () => string; info: Record<string, unknown> }> {
  let seen = '';
  const server = createServer((req, res) => {
    seen += `${req.method} ${req.url} ${JSON.stringify(req.headers)}\n`;
    req.on('data', (c: Buffer) => (seen += c.toString('utf8')));
    req.on('end', () => {
      // Shaped like every answer the real daemon gives, with a made-up proof.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: {}, nonce: 'b'.repeat(64), proof: 'c'.repeat(64) }));
    });
  });
  await new Promise<void>((r) => ('socket' in where ? server.listen(where.socket, r) : server.listen(0, '127.0.0.1', r)));
  const info = 'socket' in where ? { socket: where.socket } : { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  return { server, seen: () => seen, info: { ...info, token: TOKEN, pid: process.pid } };
}

function rawPost(socketPath: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

describe('the control channel', () => {
  let dir: string;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    dir = await tempDir('control');
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await removeDir(dir);
  });

  for (const kind of ['tcp', 'socket'] as const) {
    it(`sends no password and no token to a program listening at the advertised ${kind} address that cannot prove it is the daemon`, async () => {
      const fake = await fakeDaemon(kind === 'socket' ? { socket: controlSocketPath(dir) } : { port: 0 });
      closers.push(() => new Promise((r) => fake.server.close(() => r())));
      await writeFile(join(dir, CONTROL_FILE), JSON.stringify(fake.info), { mode: 0o600 });
      const e = await rejection(callDaemon(dir, 'unlock', { password: PASSWORD }));
      expect(e.code).toBe('unauthenticated');
      expect(e.message).toMatch(/^The program at .* could not prove it is the Coulomb daemon of .*, so nothing was sent to it; /);
      const e2 = await rejection(callDaemon(dir, 'create', { password: PASSWORD, words: 'abandon '.repeat(23) + 'art' }));
      expect(e2.code).toBe('unauthenticated');
      expect(fake.seen()).toContain('/hello');
      expect(fake.seen()).not.toContain(PASSWORD);
      expect(fake.seen()).not.toContain('abandon');
      expect(fake.seen()).not.toContain(TOKEN);
    });
  }

  it('answers over the socket in the data directory, readable only by its owner, and removes its files when closed', async () => {
    const server = await startControlServer({ datadir: dir, dispatch: echo, log });
    expect(server.url).toBe(controlSocketPath(dir));
    const info = JSON.parse(await readFile(join(dir, CONTROL_FILE), 'utf8')) as { socket: string; url?: string };
    expect(info.socket).toBe(controlSocketPath(dir));
    expect(info.url).toBeUndefined();
    expect((await lstat(info.socket)).isSocket()).toBe(true);
    expect((await stat(info.socket)).mode & 0o077).toBe(0);
    expect((await stat(join(dir, CONTROL_FILE))).mode & 0o077).toBe(0);
    expect(await callDaemon(dir, 'unlock', { password: PASSWORD })).toEqual({ method: 'unlock', params: { password: PASSWORD } });
    await server.close();
    await expect(lstat(info.socket)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(join(dir, CONTROL_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('answers over TCP on loopback with the same proofs, and refuses a non-loopback address unless allowed', async () => {
    await expect(startControlServer({ datadir: dir, listen: { host: '0.0.0.0', port: 0 }, dispatch: echo, log })).rejects.toThrow(/^The control channel would listen on 0\.0\.0\.0, reachable from other computers; .*--allow-remote/);
    await expect(lstat(join(dir, CONTROL_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    const server = await startControlServer({ datadir: dir, listen: { host: '127.0.0.1', port: 0 }, dispatch: echo, log });
    closers.push(() => server.close());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await callDaemon(dir, 'getinfo', {})).toEqual({ method: 'getinfo', params: {} });
  });

  it('refuses a call without a fresh proof: no proof, a made-up one, or a nonce used before', async () => {
    const server = await startControlServer({ datadir: dir, dispatch: echo, log });
    closers.push(() => server.close());
    const sock = controlSocketPath(dir);
    expect((await rawPost(sock, '/v1/getinfo', Buffer.from('{}'))).status).toBe(401);
    expect((await rawPost(sock, '/v1/getinfo', Buffer.from('{}'), { authorization: `Coulomb ${'d'.repeat(64)}.${'e'.repeat(64)}` })).status).toBe(401);
    // A genuine greeting, then the right proof for it used twice: only the first is answered.
    const { info, clientProof } = await import('../../../core/api/control-auth.ts').then(async (m) => ({ info: JSON.parse(await readFile(join(dir, CONTROL_FILE), 'utf8')) as { token: string }, clientProof: m.clientProof }));
    const hello = JSON.parse((await rawPost(sock, '/hello', Buffer.from(JSON.stringify({ nonce: 'f'.repeat(64) })))).body) as { nonce: string };
    const auth = { authorization: `Coulomb ${hello.nonce}.${clientProof(info.token, hello.nonce, 'getinfo')}` };
    expect((await rawPost(sock, '/v1/getinfo', Buffer.from('{}'), auth)).status).toBe(200);
    expect((await rawPost(sock, '/v1/getinfo', Buffer.from('{}'), auth)).status).toBe(401);
  });

  it('removes a control.json and a socket left by a daemon that died, and starts', async () => {
    const sock = controlSocketPath(dir);
    await writeFile(join(dir, CONTROL_FILE), JSON.stringify({ url: 'http://127.0.0.1:1', token: 'stale', pid: 999_999 }), { mode: 0o600 });
    // A real socket whose process was killed before it could remove it.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    expect((await lstat(sock)).isSocket()).toBe(true);
    const server = await startControlServer({ datadir: dir, dispatch: echo, log });
    closers.push(() => server.close());
    const info = JSON.parse(await readFile(join(dir, CONTROL_FILE), 'utf8')) as { token: string; pid: number };
    expect(info.token).not.toBe('stale');
    expect(info.pid).toBe(process.pid);
    expect(await callDaemon(dir, 'getinfo', {})).toEqual({ method: 'getinfo', params: {} });
  });

  it('tells the CLI that a control.json left by a daemon that is gone names no running daemon', async () => {
    await writeFile(join(dir, CONTROL_FILE), JSON.stringify({ socket: controlSocketPath(dir), token: TOKEN, pid: 999_999 }), { mode: 0o600 });
    const e = await rejection(callDaemon(dir, 'getinfo', {}));
    expect(e.message).toMatch(/^The Coulomb daemon of data directory .* \(pid 999999\) is not running any more\. Start it with: coulomb daemon --datadir /);
  });

  it('answers an oversized request with 413 and a sentence, not a reset connection', async () => {
    const server = await startControlServer({ datadir: dir, dispatch: echo, log });
    closers.push(() => server.close());
    const e = await rejection(callDaemon(dir, 'sendcoins', { addr: 'x'.repeat(2 << 20), amt: 1 }));
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(/^The sendcoins request is larger than the control channel accepts \(1048576 bytes\); send less at once\.$/);
    // Without a length announced up front (chunked), the same answer.
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: controlSocketPath(dir), path: '/hello', method: 'POST' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(Buffer.alloc(4096, 0x20));
    });
    expect(big.status).toBe(413);
    expect((JSON.parse(big.body) as { error: { message: string } }).error.message).toMatch(/^The greeting is larger than the control channel accepts/);
  });

  it('still answers after a client sent garbage', async () => {
    const server = await startControlServer({ datadir: dir, dispatch: echo, log });
    closers.push(() => server.close());
    const { createConnection } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const s = createConnection(controlSocketPath(dir));
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('close', () => resolve(text));
      s.on('error', () => resolve(text));
      s.end('NOT HTTP AT ALL\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await waitFor('the daemon to answer again', async () => (await callDaemon(dir, 'getinfo', {})) as unknown);
  });
});
