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
import type { PeerAddress, PeerBook } from './book.ts';

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
  /**
   * Where permanent peers and the addresses we dialled are kept across restarts (core/peer/book.ts).
   * The manager closes it. Without one, nothing outlives the process.
   */
  book?: PeerBook;
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

/** Reconnection to one peer: the next delay (doubling, with jitter) and the pending attempt. */
interface Redial {
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Attempts so far: each takes the next of the peer's known addresses. */
  attempt: number;
}

export class PeerManager extends EventEmitter<PeerManagerEvents> {
  private readonly peers = new Map<string, Peer>();
  /** Peers connected with `perm`, and the address given for each. */
  private readonly persistent = new Map<string, PeerAddress>();
  private readonly redial = new Map<string, Redial>();
  private readonly dialing = new Map<string, Promise<Peer>>();
  /** Peers the user disconnected: not redialled (even with a channel) until connected again. */
  private readonly heldOff = new Set<string>();
  /** Peers to stay connected to besides the permanent ones (the node: peers we have channels with). */
  private keep: (pubkey: string) => boolean = () => false;
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

  /**
   * Besides permanent peers, stay connected to the peers `fn` names (the node names those it has a
   * channel with): redialled with backoff when they drop, at the addresses we dialled them at.
   */
  keepConnectedTo(fn: (pubkey: string) => boolean): void {
    this.keep = fn;
  }

  /**
   * At start: forgets the book's peers we no longer need, then dials every permanent or kept peer
   * whose address we know, now and then with backoff until it answers. A peer that only ever
   * connected to us is waited for.
   */
  async reconnectAll(): Promise<void> {
    const book = this.opts.book;
    if (!book) return;
    await book.prune((pk) => this.keep(pk));
    for (const e of book.list()) {
      if (e.perm && e.addresses[0] && !this.persistent.has(e.pubkey)) this.persistent.set(e.pubkey, e.addresses[0]);
      this.scheduleReconnect(e.pubkey, 0);
    }
  }

  private wanted(key: string): boolean {
    return !this.heldOff.has(key) && (this.persistent.has(key) || this.keep(key));
  }

  /** Where we can dial a peer: the address given with `perm` first, then those we dialled it at. */
  private addressesOf(key: string): PeerAddress[] {
    const out: PeerAddress[] = [];
    const perm = this.persistent.get(key);
    if (perm) out.push(perm);
    for (const a of this.opts.book?.addresses(key) ?? []) if (!out.some((b) => b.host === a.host && b.port === a.port)) out.push(a);
    return out;
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
      const r = this.redial.get(peer.pubkey);
      if (r) {
        r.delayMs = this.opts.backoff?.initialMs ?? 1000;
        r.attempt = 0;
      }
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
    this.heldOff.delete(key);
    if (options.perm) await this.addPersistent(key, host, port);
    const existing = this.peers.get(key);
    if (existing && existing.state === 'ready') throw new ConnectError(`already connected to peer ${key}`);
    // Our own redial may be under way: a second connection would only replace it (and the peer may
    // keep the first and drop this one, leaving neither). Take its result instead.
    const inFlight = this.dialing.get(key);
    if (inFlight) {
      const peer = await inFlight.catch(() => undefined);
      if (peer && peer.state === 'ready') return peer;
    }
    try {
      return await this.dial(key, host, port, options.timeoutMs ?? 30_000);
    } catch (e) {
      // A persistent peer that cannot be reached now is tried again later.
      if (options.perm) this.scheduleReconnect(key);
      throw e;
    }
  }

  /** One outbound dial per peer at a time; `connect` and redials share it. */
  private dial(key: string, host: string, port: number, timeoutMs: number): Promise<Peer> {
    const p = this.dialOnce(key, host, port, timeoutMs);
    this.dialing.set(key, p);
    const done = (): void => {
      if (this.dialing.get(key) === p) this.dialing.delete(key);
    };
    p.then(done, done);
    return p;
  }

  private async dialOnce(key: string, host: string, port: number, timeoutMs: number): Promise<Peer> {
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
    try {
      // The address is durable before the connection carries anything (a channel opened over it
      // must find its peer again after a restart).
      await this.opts.book?.noteDialled(key, host, port);
    } catch (e) {
      conn.close('could not record the peer address');
      throw new ConnectError(`could not record the address of ${key}: ${e instanceof Error ? e.message : String(e)}`);
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
    this.heldOff.add(key);
    const peer = this.peers.get(key);
    if (!peer) return false;
    peer.close('disconnected by user');
    return true;
  }

  /** Keeps reconnecting to this peer, across restarts too; durable when this resolves. */
  async addPersistent(pubkey: string, host: string, port: number): Promise<void> {
    const key = pubkey.toLowerCase();
    await this.opts.book?.setPerm(key, true, { host, port });
    this.persistent.set(key, { host, port });
    const r = this.redial.get(key);
    if (r?.timer) clearTimeout(r.timer);
    this.redial.delete(key);
  }

  private removePersistent(key: string): void {
    const r = this.redial.get(key);
    if (r?.timer) clearTimeout(r.timer);
    this.redial.delete(key);
    this.persistent.delete(key);
    this.opts.book?.setPerm(key, false).catch((e: unknown) => this.log.error('could not record that a peer is no longer permanent', { peer: key, error: String(e) }));
  }

  /** Dials a wanted peer after `firstDelayMs`, or after the next backoff delay; a peer with no known address is waited for. */
  private scheduleReconnect(key: string, firstDelayMs?: number): void {
    if (this.closed || !this.wanted(key) || this.peers.get(key)?.state === 'ready') return;
    if (this.addressesOf(key).length === 0) return;
    let r = this.redial.get(key);
    if (!r) this.redial.set(key, (r = { delayMs: this.opts.backoff?.initialMs ?? 1000, timer: undefined, attempt: 0 }));
    if (r.timer) return;
    // Exponential backoff with jitter, so many wallets do not all retry on the same beat.
    let delay: number;
    if (firstDelayMs !== undefined) delay = firstDelayMs;
    else {
      delay = Math.round(r.delayMs * (0.75 + Math.random() * 0.5));
      r.delayMs = Math.min(r.delayMs * 2, this.opts.backoff?.maxMs ?? 300_000);
    }
    this.log.info('will reconnect to persistent peer', { peer: key, in_ms: delay });
    const timer = setTimeout(() => {
      r.timer = undefined;
      if (this.closed || !this.wanted(key) || this.redial.get(key) !== r || this.peers.get(key)?.state === 'ready') return;
      const inFlight = this.dialing.get(key);
      if (inFlight) {
        // Someone is dialling it already; if that fails, the backoff goes on.
        inFlight.catch(() => this.scheduleReconnect(key));
        return;
      }
      const addrs = this.addressesOf(key);
      const at = addrs[r.attempt++ % addrs.length];
      if (!at) return;
      this.dial(key, at.host, at.port, 30_000).catch((e: unknown) => {
        this.log.info('reconnect failed', { peer: key, reason: e instanceof Error ? e.message : String(e) });
        this.scheduleReconnect(key);
      });
    }, delay);
    r.timer = timer;
    timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.redial.values()) if (r.timer) clearTimeout(r.timer);
    for (const peer of this.peers.values()) peer.close('node shutting down');
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await this.opts.book?.close();
  }
}
