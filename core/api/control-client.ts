/**
 * The CLI side of the control channel: finds the daemon through `<datadir>/control.json`, makes it
 * prove it knows the token there (control-auth.ts) and only then sends the call. Failures come back as
 * an ApiError with a sentence a person can act on.
 */
import { request } from 'node:http';
import type { RequestOptions } from 'node:http';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from './contract.ts';
import type { ApiResult, MethodInput, MethodName, MethodOutput } from './contract.ts';
import { CONTROL_FILE } from './control-server.ts';
import type { ControlInfo } from './control-server.ts';
import { AUTH_SCHEME, NONCE, clientProof, newNonce, sameHex, serverProof } from './control-auth.ts';
import { pidAlive } from '../store/lock.ts';

/** The most a greeting's answer may be; a program that sends more is not the daemon. */
const MAX_HELLO_ANSWER = 4096;
const MAX_ANSWER = 512 * 1024 * 1024;

function startHint(datadir: string): string {
  return `Start it with: coulomb daemon --datadir ${datadir}`;
}

export async function readControlInfo(datadir: string): Promise<ControlInfo> {
  const path = join(datadir, CONTROL_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch {
    throw new ApiError('unavailable', `No Coulomb daemon found for data directory ${datadir} (${path} is missing). ${startHint(datadir)}`);
  }
  let info: ControlInfo;
  try {
    info = JSON.parse(raw) as ControlInfo;
    if (typeof info.token !== 'string' || !info.token || (typeof info.socket !== 'string' && typeof info.url !== 'string')) throw new Error('bad shape');
  } catch {
    throw new ApiError('unavailable', `${path} is not readable; restart the daemon to recreate it.`);
  }
  if (typeof info.url === 'string' && !/^http:\/\/[^/]+$/.test(info.url)) throw new ApiError('unavailable', `${path} names ${info.url}, which is not a control address; restart the daemon to recreate it.`);
  if (Number.isSafeInteger(info.pid) && info.pid > 0 && !pidAlive(info.pid)) {
    throw new ApiError('unavailable', `The Coulomb daemon of data directory ${datadir} (pid ${info.pid}) is not running any more. ${startHint(datadir)}`);
  }
  return info;
}

/** On Unix, a socket someone else made is not our daemon's. */
async function checkSocketOwner(path: string): Promise<void> {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return;
  const st = await lstat(path).catch(() => undefined);
  if (!st) return; // the connection attempt says it is not running
  if (!st.isSocket() || st.uid !== process.getuid()) {
    throw new ApiError('unauthenticated', `${path} is not a control socket made by you, so nothing was sent to it; stop whatever made it, remove it, and restart the daemon.`);
  }
}

interface Answer {
  status: number;
  body: string;
}

class TooLong extends Error {}

function post(info: ControlInfo, path: string, headers: Record<string, string>, body: string, timeoutMs: number, maxAnswer: number): Promise<Answer> {
  const where: RequestOptions = info.socket !== undefined ? { socketPath: info.socket } : (() => {
    const u = new URL(info.url!);
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 80) };
  })();
  return new Promise((done, fail) => {
    const req = request({ ...where, path, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxAnswer) {
          res.destroy(new TooLong());
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

export async function callDaemon<M extends MethodName>(datadir: string, method: M, params: MethodInput<M>, timeoutMs = 120_000): Promise<MethodOutput<M>> {
  const info = await readControlInfo(datadir);
  const where = info.socket ?? info.url!;
  if (info.socket !== undefined) await checkSocketOwner(info.socket);
  const unreachable = (e: unknown): ApiError => {
    const why = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError' ? 'it did not answer in time' : 'it is not running or not reachable';
    return new ApiError('unavailable', `Could not reach the Coulomb daemon at ${where}: ${why}. ${startHint(datadir)}`);
  };
  const impostor = (): ApiError =>
    new ApiError(
      'unauthenticated',
      `The program at ${where} could not prove it is the Coulomb daemon of ${datadir}, so nothing was sent to it; stop whatever listens there and restart the daemon.`,
    );

  // 1. The daemon proves it knows the token before anything of ours leaves.
  const ours = newNonce();
  let hello: Answer;
  try {
    hello = await post(info, '/hello', {}, JSON.stringify({ nonce: ours }), Math.min(timeoutMs, 30_000), MAX_HELLO_ANSWER);
  } catch (e) {
    if (e instanceof TooLong) throw impostor();
    throw unreachable(e);
  }
  let theirs: { nonce?: unknown; proof?: unknown };
  try {
    theirs = JSON.parse(hello.body) as typeof theirs;
  } catch {
    throw impostor();
  }
  if (hello.status !== 200 || typeof theirs.nonce !== 'string' || !NONCE.test(theirs.nonce) || typeof theirs.proof !== 'string' || !sameHex(theirs.proof, serverProof(info.token, ours, theirs.nonce))) {
    throw impostor();
  }

  // 2. The call, with our proof on the daemon's nonce.
  let res: Answer;
  try {
    res = await post(info, `/v1/${method}`, { authorization: `${AUTH_SCHEME} ${theirs.nonce}.${clientProof(info.token, theirs.nonce, method)}` }, JSON.stringify(params), timeoutMs, MAX_ANSWER);
  } catch (e) {
    throw unreachable(e);
  }
  let body: ApiResult<MethodOutput<M>>;
  try {
    body = JSON.parse(res.body) as ApiResult<MethodOutput<M>>;
  } catch {
    throw new ApiError('internal', `The daemon answered ${method} with something that is not JSON (HTTP ${res.status}).`);
  }
  if (!body.ok) throw new ApiError(body.error.code, body.error.message);
  return body.result;
}
