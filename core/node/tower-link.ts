/**
 * One BOLT 8 connection speaking the watchtower messages (core/tower/wire.ts), for both sides: each
 * message in is decoded (a message that does not parse closes this connection only), and a request
 * waits for the next message with a deadline. The tower's listener and the client's dial live here,
 * the only tower code that touches `net`.
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { acceptNoise, connectNoise } from '../transport/index.ts';
import type { NoiseConnection } from '../transport/index.ts';
import { decodeTowerMessage, encodeTowerMessage, WireError } from '../tower/wire.ts';
import type { TowerMessage } from '../tower/wire.ts';

export class TowerLink {
  private readonly inbox: TowerMessage[] = [];
  private waiter: { resolve: (m: TowerMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private closedWith: string | undefined;

  constructor(readonly conn: NoiseConnection) {
    conn.on('message', (bytes) => {
      let m: TowerMessage;
      try {
        m = decodeTowerMessage(bytes);
      } catch (e) {
        this.close(e instanceof WireError ? `a message that does not parse: ${e.message}` : String(e));
        return;
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        clearTimeout(w.timer);
        w.resolve(m);
      } else if (this.inbox.length < 16) this.inbox.push(m);
      else this.close('too many messages sent without waiting for an answer');
    });
    conn.on('close', (reason) => {
      this.closedWith ??= reason;
      const w = this.waiter;
      this.waiter = undefined;
      if (w) {
        clearTimeout(w.timer);
        w.reject(new Error(`the connection closed: ${reason}`));
      }
    });
  }

  get remotePubkey(): Uint8Array {
    return this.conn.remotePubkey;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  send(m: TowerMessage): void {
    this.conn.send(encodeTowerMessage(m));
  }

  /** The next message, or an error once `timeoutMs` passes or the connection closes. */
  next(timeoutMs: number): Promise<TowerMessage> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith !== undefined) return Promise.reject(new Error(`the connection closed: ${this.closedWith}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      timer.unref();
      this.waiter = { resolve, reject, timer };
    });
  }

  async request(m: TowerMessage, timeoutMs: number): Promise<TowerMessage> {
    this.send(m);
    return this.next(timeoutMs);
  }

  close(reason: string): void {
    this.conn.close(reason);
  }
}

/** Dials a tower: TCP, then BOLT 8 with the session's own key (so the tower cannot link sessions). */
export async function dialTower(o: { host: string; port: number; towerPubkey: Uint8Array; localSecret: Uint8Array; timeoutMs: number }): Promise<TowerLink> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ host: o.host, port: o.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the tower at ${o.host}:${o.port} did not answer within ${o.timeoutMs / 1000} s`));
    }, o.timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not reach the tower at ${o.host}:${o.port}: ${e.message}`));
    });
  });
  try {
    return new TowerLink(await connectNoise(socket, o.towerPubkey, { localSecret: o.localSecret, handshakeTimeoutMs: o.timeoutMs }));
  } catch (e) {
    socket.destroy();
    throw new Error(`the BOLT 8 handshake with the tower failed (is it the tower's key?): ${(e as Error).message}`);
  }
}

/** Listens for clients; each authenticated connection goes to `onLink`. At most `maxConnections` at once. */
export async function listenTower(o: { host: string; port: number; secret: Uint8Array; maxConnections: number; onLink: (l: TowerLink) => void; onError: (e: Error) => void }): Promise<{ server: Server; address: { host: string; port: number } }> {
  let open = 0;
  const server = createServer((socket) => {
    if (open >= o.maxConnections) {
      socket.destroy();
      return;
    }
    open++;
    socket.once('close', () => open--);
    socket.on('error', () => undefined);
    acceptNoise(socket, { localSecret: o.secret }).then(
      (conn) => o.onLink(new TowerLink(conn)),
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', o.onError);
  const a = server.address() as AddressInfo;
  return { server, address: { host: o.host, port: a.port } };
}
