/**
 * The renderer's one way to the node. In the desktop app the preload script provides `window.coulomb`
 * (Electron IPC); in browser mode the same calls travel over a WebSocket to the local server. Screens
 * call `api(...)` and never know which it is.
 */
import type { ApiResult } from '../core/api/contract.ts';
import type { AnyMethod, AnyOutput, AppEvent } from '../core/app/contract.ts';

export interface Transport {
  call(method: string, params?: unknown): Promise<ApiResult<unknown>>;
  onEvent(cb: (e: AppEvent) => void): () => void;
}

declare global {
  interface Window {
    coulomb?: Transport;
  }
}

/** A failed call, with the node's sentence for people and a code for the screen to branch on. */
export class ApiCallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ApiCallError';
  }
}

type ConnState = 'connecting' | 'ready' | 'lost' | 'denied';

/** Browser mode: the WebSocket to the local server, reconnecting when it drops. */
class SocketTransport implements Transport {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: ApiResult<unknown>) => void>();
  private readonly queue: string[] = [];
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private readonly stateListeners = new Set<(s: ConnState) => void>();
  private retryMs = 250;
  state: ConnState = 'connecting';

  constructor(private readonly token: string) {
    this.open();
  }

  private setState(s: ConnState): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  onState(fn: (s: ConnState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private open(): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`);
    this.ws = ws;
    let ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: this.token }));
    ws.onmessage = (m) => {
      let msg: { type?: string; id?: number; event?: AppEvent } & ApiResult<unknown>;
      try {
        msg = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (msg.type === 'ready') {
        ready = true;
        this.retryMs = 250;
        this.setState('ready');
        for (const q of this.queue.splice(0)) ws.send(q);
        return;
      }
      if (msg.type === 'event' && msg.event) {
        for (const fn of this.listeners) fn(msg.event);
        return;
      }
      if (typeof msg.id === 'number') {
        const done = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        done?.(msg);
      }
    };
    ws.onclose = (ev) => {
      if (ev.code === 4001) {
        this.setState('denied');
        return;
      }
      if (ready || this.state !== 'denied') this.setState('lost');
      // Calls in flight are lost with the connection; say so instead of hanging.
      for (const [id, done] of this.pending) {
        this.pending.delete(id);
        done({ ok: false, error: { code: 'unavailable', message: 'the connection to Coulomb dropped; trying again' } });
      }
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  call(method: string, params?: unknown): Promise<ApiResult<unknown>> {
    const id = this.nextId++;
    const frame = JSON.stringify({ id, method, params: params ?? {} });
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      if (this.state === 'ready' && this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
      else this.queue.push(frame);
    });
  }

  onEvent(cb: (e: AppEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

function tokenFromPage(): string {
  const m = /token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('coulomb.token', m[1]!);
    // Keep the token out of the address bar (and out of screenshots and history).
    history.replaceState(null, '', location.pathname);
    return m[1]!;
  }
  return sessionStorage.getItem('coulomb.token') ?? '';
}

let socket: SocketTransport | undefined;
const transport: Transport = window.coulomb ?? (socket = new SocketTransport(tokenFromPage()));

/** Connection state of browser mode; the desktop app's IPC is always 'ready'. */
export function onConnection(fn: (s: ConnState) => void): () => void {
  if (!socket) {
    fn('ready');
    return () => undefined;
  }
  fn(socket.state);
  return socket.onState(fn);
}

export async function api<M extends AnyMethod>(method: M, params: Record<string, unknown> = {}): Promise<AnyOutput<M>> {
  const r = await transport.call(method, params);
  if (!r.ok) throw new ApiCallError(r.error.code, r.error.message);
  return r.result as AnyOutput<M>;
}

export function onEvent(cb: (e: AppEvent) => void): () => void {
  return transport.onEvent(cb);
}
