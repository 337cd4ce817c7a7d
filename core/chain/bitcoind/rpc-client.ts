/**
 * A JSON-RPC client for bitcoind (and the playground, which speaks the same): user/password or cookie
 * authentication, batches, a timeout per call, and retries with backoff for transport failures only
 * (an RPC error is an answer, never retried). Never uses bitcoind's wallet.
 */
import { RpcError, fromRpcError } from './errors.ts';
import { CookieFileError, checkCookieUse, readCookieFile } from './cookie-file.ts';

export interface RpcAuth {
  user?: string;
  password?: string;
  /** Path of bitcoind's `.cookie` file; re-read when bitcoind refuses it (it rewrites it on restart). */
  cookieFile?: string;
}

export interface RpcClientOptions extends RpcAuth {
  /** `http://host:port` */
  url: string;
  timeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
}

interface RpcReply {
  result?: unknown;
  error?: { code: number; message: string } | null;
  id?: unknown;
}

export class BitcoindRpc {
  private cookie: string | undefined;
  private nextId = 1;

  constructor(private readonly opts: RpcClientOptions) {}

  private async authHeader(reload = false): Promise<string> {
    let cred: string;
    if (this.opts.cookieFile) {
      if (!this.cookie || reload) {
        try {
          // Only bitcoind's own cookie, and only to a bitcoind on this computer.
          checkCookieUse(this.opts.cookieFile, this.opts.url);
          this.cookie = await readCookieFile(this.opts.cookieFile);
        } catch (e) {
          if (e instanceof CookieFileError) throw new RpcError('unauthorized', e.message);
          throw new RpcError('unauthorized', `cannot read bitcoind's cookie file ${this.opts.cookieFile}; is bitcoind running, and is this the right data directory?`);
        }
      }
      cred = this.cookie;
    } else {
      cred = `${this.opts.user ?? ''}:${this.opts.password ?? ''}`;
    }
    return `Basic ${Buffer.from(cred).toString('base64')}`;
  }

  private async post(body: unknown, label: string): Promise<unknown> {
    const retries = this.opts.retries ?? 2;
    let delay = this.opts.retryDelayMs ?? 250;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.postOnce(body, label, attempt > 0);
      } catch (e) {
        if (!(e instanceof RpcError) || (e.kind !== 'unreachable' && e.kind !== 'timeout') || attempt >= retries) throw e;
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private async postOnce(body: unknown, label: string, reloadCookie: boolean, authRetried = false): Promise<unknown> {
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    // Outside the try below: a credential that cannot be read or sent is not an unreachable bitcoind.
    const authorization = await this.authHeader(reloadCookie);
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError') throw new RpcError('timeout', `bitcoind did not answer ${label} within ${timeoutMs / 1000}s`);
      throw new RpcError('unreachable', `cannot reach bitcoind at ${this.opts.url} (${err.cause?.code ?? err.message}); is it running with -server and the right -rpcport?`);
    }
    if (res.status === 401 || res.status === 403) {
      // A restarted bitcoind writes a new cookie: read it again once before giving up.
      if (this.opts.cookieFile && !authRetried) return this.postOnce(body, label, true, true);
      throw new RpcError('unauthorized', 'bitcoind rejected the RPC user or password (check --bitcoind.rpcuser/--bitcoind.rpcpass or --bitcoind.rpccookie)');
    }
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new RpcError('bad_response', `bitcoind answered ${label} with HTTP ${res.status} and no JSON`);
    }
  }

  /** Calls one method; throws RpcError. */
  async call<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    const reply = (await this.post({ jsonrpc: '1.0', id: this.nextId++, method, params }, method)) as RpcReply;
    if (reply.error) throw fromRpcError(method, reply.error);
    return reply.result as T;
  }

  /** Calls many methods in one HTTP request; each result is a value or an RpcError, in order. */
  async batch(calls: { method: string; params?: unknown[] }[]): Promise<(unknown | RpcError)[]> {
    if (!calls.length) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const body = calls.map((c, i) => ({ jsonrpc: '1.0', id: first + i, method: c.method, params: c.params ?? [] }));
    const replies = await this.post(body, `a batch of ${calls.length} calls`);
    if (!Array.isArray(replies)) throw new RpcError('bad_response', 'bitcoind answered a batch with something that is not a list');
    const byId = new Map((replies as RpcReply[]).map((r) => [r.id, r]));
    return calls.map((c, i) => {
      const r = byId.get(first + i);
      if (!r) return new RpcError('bad_response', `no answer for ${c.method} in the batch`);
      return r.error ? fromRpcError(c.method, r.error) : r.result;
    });
  }
}
