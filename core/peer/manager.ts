/**
 * The peer manager: listens for inbound connections, dials outbound ones, runs the BOLT 8 handshake,
 * hands each connection to a `Peer`, reconnects to persistent peers with backoff, and routes messages
 * to handlers by type. It is the only part of the peer layer that touches `net`.
 */
import { EventEmitter } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { acceptNoise, connectNoise } from '../transport/index.ts';
import type { NoiseOptions } from '../transport/index.ts';
import type { Message } from '../wire/index.ts';
import type { Logger } from '../log/logger.ts';
import { Peer, DEFAULT_PEER_TIMINGS } from './peer.ts';
import type { PeerTimings } from './peer.ts';
import type { InitPolicy } from './init.ts';
import { encodeNetAddress } from './net-address.ts';
import { formatHostPort } from './address.ts';
import { hex } from '../util/bytes.ts';

export interface PeerManagerOptions {
  nodeSecret: Uint8Array;
  policy: InitPolicy;
  log: Logger;
  timings?: Partial<PeerTimings>;
  handshakeTimeoutMs?: number;
  /** A message begun must be finished within this (see core/transport). */
  partialMessageTimeoutMs?: number;
  /** Connections still in the handshake; more are refused at once (a flood must not exhaust us). */
  maxPendingHandshakes?: number;
  maxPeers?: number;
  /** Reconnect backoff for persistent peers. */
  backoff?: { initialMs: number; maxMs: number };
}

export type MessageHandler = (peer: Peer, msg: Message) => void;

export interface PeerManagerEvents {
  peer_ready: [Peer];
  peer_closed: [Peer, string];
}

export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

interface Persistent {
  host: string;
  port: number;
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
}

export class PeerManager extends EventEmitter<PeerManagerEvents> {
  private readonly peers = new Map<string, Peer>();
  private readonly persistent = new Map<string, Persistent>();
  private readonly handlers = new Map<string, MessageHandler[]>();
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private pending = 0;
  private closed = false;
  private readonly timings: PeerTimings;
  private readonly log: Logger;

  constructor(private readonly opts: PeerManagerOptions) {
    super();
    this.timings = { ...DEFAULT_PEER_TIMINGS, ...opts.timings };
    this.log = opts.log;
  }

  get handshakeTimeoutMs(): number {
    return this.opts.handshakeTimeoutMs ?? 10_000;
  }

  private noiseOptions(handshakeTimeoutMs: number): NoiseOptions {
    return {
      localSecret: this.opts.nodeSecret,
      handshakeTimeoutMs,
      ...(this.opts.partialMessageTimeoutMs ? { partialMessageTimeoutMs: this.opts.partialMessageTimeoutMs } : {}),
    };
  }

  /** Registers a handler for one message type (e.g. 'open_channel'). */
  onMessage(type: Message['type'], handler: MessageHandler): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
  }

  list(): Peer[] {
    return [...this.peers.values()];
  }

  get(pubkey: string): Peer | undefined {
    return this.peers.get(pubkey.toLowerCase());
  }

  isPersistent(pubkey: string): boolean {
    return this.persistent.has(pubkey.toLowerCase());
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.onInbound(socket));
    server.maxConnections = (this.opts.maxPeers ?? 1000) + (this.opts.maxPendingHandshakes ?? 500);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error('listener error', { error: String(e) }));
    this.servers.push(server);
    const a = server.address() as AddressInfo;
    this.log.info('listening for peers', { address: formatHostPort(a.address, a.port) });
    return { host: a.address, port: a.port };
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private onInbound(socket: Socket): void {
    const from = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pending >= (this.opts.maxPendingHandshakes ?? 500)) {
      this.log.warn('refusing connection: too many handshakes in progress', { from });
      socket.destroy();
      return;
    }
    this.track(socket);
    this.pending++;
    acceptNoise(socket, this.noiseOptions(this.handshakeTimeoutMs))
      .then((conn) => {
        this.pending--;
        const theirAddr = encodeNetAddress(socket.remoteAddress ?? '', socket.remotePort ?? 0);
        this.adopt(new Peer(conn, true, this.opts.policy, this.log, this.timings, theirAddr));
      })
      .catch((e: unknown) => {
        this.pending--;
        socket.destroy();
        this.log.info('inbound handshake failed', { from, reason: e instanceof Error ? e.message : String(e) });
      });
  }

  /** Takes a peer whose handshake finished; settles duplicates and wires its events. */
  private adopt(peer: Peer): void {
    const existing = this.peers.get(peer.pubkey);
    if (existing) {
      // The newer connection wins: the older one is most likely dead without either side knowing yet.
      existing.close('replaced by a newer connection from the same node');
    }
    if (this.peers.size >= (this.opts.maxPeers ?? 1000)) {
      peer.close('too many peers');
      return;
    }
    this.peers.set(peer.pubkey, peer);
    peer.on('ready', () => {
      this.log.info('peer connected', { peer: peer.pubkey, address: peer.address, inbound: peer.inbound });
      const p = this.persistent.get(peer.pubkey);
      if (p) p.delayMs = this.opts.backoff?.initialMs ?? 1000;
      this.emit('peer_ready', peer);
    });
    peer.on('message', (msg) => this.route(peer, msg));
    peer.on('close', (reason) => {
      if (this.peers.get(peer.pubkey) === peer) this.peers.delete(peer.pubkey);
      this.log.info('peer disconnected', { peer: peer.pubkey, reason });
      this.emit('peer_closed', peer, reason);
      this.scheduleReconnect(peer.pubkey);
    });
  }

  private route(peer: Peer, msg: Message): void {
    const hs = this.handlers.get(msg.type);
    if (!hs || hs.length === 0) {
      this.log.debug('no handler for message', { peer: peer.pubkey, type: msg.type });
      return;
    }
    for (const h of hs) h(peer, msg);
  }

  /**
   * Dials a node and resolves once both inits are exchanged. Rejects with a ConnectError whose message
   * says what went wrong (refused, timed out, handshake failed, peer closed during init and why).
   */
  async connect(pubkey: string, host: string, port: number, options: { perm?: boolean; timeoutMs?: number } = {}): Promise<Peer> {
    const key = pubkey.toLowerCase();
    if (this.closed) throw new ConnectError('the node is shutting down');
    if (options.perm) this.addPersistent(key, host, port);
    const existing = this.peers.get(key);
    if (existing && existing.state === 'ready') throw new ConnectError(`already connected to peer ${key}`);
    try {
      return await this.dial(key, host, port, options.timeoutMs ?? 30_000);
    } catch (e) {
      // A persistent peer that cannot be reached now is tried again later.
      if (options.perm) this.scheduleReconnect(key);
      throw e;
    }
  }

  private async dial(key: string, host: string, port: number, timeoutMs: number): Promise<Peer> {
    const where = formatHostPort(host, port);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ host, port });
      this.track(s);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectError(`could not connect to ${where}: no answer within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ConnectError(`could not connect to ${where}: ${e.code === 'ECONNREFUSED' ? 'connection refused (is the node listening there?)' : e.message}`));
      });
    });
    let conn;
    try {
      conn = await connectNoise(socket, hex.decode(key), this.noiseOptions(Math.min(timeoutMs, this.handshakeTimeoutMs)));
    } catch (e) {
      socket.destroy();
      throw new ConnectError(`handshake with ${key}@${where} failed: ${e instanceof Error ? e.message : String(e)} (is that the right public key for this address?)`);
    }
    const peer = new Peer(conn, false, this.opts.policy, this.log, this.timings, encodeNetAddress(host, port));
    this.adopt(peer);
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        peer.off('close', onClose);
        resolve();
      };
      const onClose = (reason: string): void => {
        peer.off('ready', onReady);
        reject(new ConnectError(`peer ${key} closed the connection during init: ${reason}`));
      };
      peer.once('ready', onReady);
      peer.once('close', onClose);
    });
    return peer;
  }

  /** Disconnects a peer and stops reconnecting to it. Returns false when it was not connected. */
  disconnect(pubkey: string): boolean {
    const key = pubkey.toLowerCase();
    this.removePersistent(key);
    const peer = this.peers.get(key);
    if (!peer) return false;
    peer.close('disconnected by user');
    return true;
  }

  addPersistent(pubkey: string, host: string, port: number): void {
    const key = pubkey.toLowerCase();
    const cur = this.persistent.get(key);
    if (cur?.timer) clearTimeout(cur.timer);
    this.persistent.set(key, { host, port, delayMs: this.opts.backoff?.initialMs ?? 1000, timer: undefined });
  }

  private removePersistent(key: string): void {
    const p = this.persistent.get(key);
    if (p?.timer) clearTimeout(p.timer);
    this.persistent.delete(key);
  }

  private scheduleReconnect(key: string): void {
    const p = this.persistent.get(key);
    if (!p || this.closed || p.timer || this.peers.get(key)?.state === 'ready') return;
    // Exponential backoff with jitter, so many wallets do not all retry on the same beat.
    const delay = Math.round(p.delayMs * (0.75 + Math.random() * 0.5));
    p.delayMs = Math.min(p.delayMs * 2, this.opts.backoff?.maxMs ?? 300_000);
    this.log.info('will reconnect to persistent peer', { peer: key, in_ms: delay });
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (this.closed || !this.persistent.has(key) || this.peers.get(key)?.state === 'ready') return;
      this.dial(key, p.host, p.port, 30_000).catch((e: unknown) => {
        this.log.info('reconnect failed', { peer: key, reason: e instanceof Error ? e.message : String(e) });
        this.scheduleReconnect(key);
      });
    }, delay);
    p.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.persistent.values()) if (p.timer) clearTimeout(p.timer);
    for (const peer of this.peers.values()) peer.close('node shutting down');
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
