/**
 * The socket adapter around the pure BOLT 8 state: runs the three acts over a `net.Socket` with a
 * deadline, then turns the byte stream into messages and back. The only file of the transport that
 * touches `net` or timers. Nothing here throws out of a socket event handler: every failure closes the
 * connection with a reason.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { AeadBackend } from '../crypto/aead.ts';
import { defaultAead } from '../crypto/aead.ts';
import { InitiatorHandshake, ResponderHandshake, transportFor, ACT_ONE_LENGTH, ACT_TWO_LENGTH, ACT_THREE_LENGTH } from './handshake.ts';
import type { HandshakeResult } from './handshake.ts';
import type { MessageDecryptor, MessageEncryptor } from './cipher.ts';
import { TransportError } from './errors.ts';
import type { TransportErrorCode } from './errors.ts';

export interface NoiseOptions {
  localSecret: Uint8Array;
  /** The whole handshake must finish within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /** A message begun must be finished within this (default 60 s), so a stalling peer cannot hold us. */
  partialMessageTimeoutMs?: number;
  ephemeralSecret?: Uint8Array;
  aead?: AeadBackend;
}

export interface NoiseConnectionEvents {
  message: [Uint8Array];
  drain: [];
  close: [string];
}

function formatAddress(socket: Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

/** Reads exactly `n` bytes for one act, or fails with that act's read error. */
class ActReader {
  private buf = new Uint8Array(0);
  private want: { n: number; act: 1 | 2 | 3; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  private error: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.length);
    this.buf = next;
    this.check();
  };

  private readonly onClose = (): void => this.fail(undefined);
  private readonly onError = (e: Error): void => this.fail(e);

  private fail(e: Error | undefined): void {
    if (this.want) {
      const w = this.want;
      this.want = undefined;
      w.reject(new TransportError(`ACT${w.act}_READ_FAILED` as TransportErrorCode, e ? e.message : `connection closed after ${this.buf.length} of ${w.n} bytes`));
    } else {
      this.error ??= e ?? new Error('connection closed');
    }
  }

  private check(): void {
    const w = this.want;
    if (!w || this.buf.length < w.n) return;
    this.want = undefined;
    const out = this.buf.slice(0, w.n);
    this.buf = this.buf.slice(w.n);
    w.resolve(out);
  }

  read(n: number, act: 1 | 2 | 3): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.buf.length < n && (this.error || this.socket.destroyed)) {
        reject(new TransportError(`ACT${act}_READ_FAILED` as TransportErrorCode, this.error?.message ?? 'connection closed'));
        return;
      }
      this.want = { n, act, resolve, reject };
      this.check();
    });
  }

  /** Stops reading for the handshake and returns whatever arrived beyond it. */
  detach(): Uint8Array {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    return this.buf;
  }
}

async function withDeadline<T>(socket: Socket, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransportError('HANDSHAKE_TIMEOUT', `${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (e) {
    socket.destroy();
    throw e instanceof TransportError ? e : new TransportError('CLOSED', String(e));
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one side's acts over the socket within the handshake deadline, then wraps the connection. */
async function handshake(socket: Socket, opts: NoiseOptions, acts: (reader: ActReader, hsOpts: { ephemeralSecret?: Uint8Array; aead: AeadBackend }) => Promise<HandshakeResult>): Promise<NoiseConnection> {
  const aead = opts.aead ?? defaultAead();
  const reader = new ActReader(socket);
  const hsOpts = { ...(opts.ephemeralSecret ? { ephemeralSecret: opts.ephemeralSecret } : {}), aead };
  const result = await withDeadline(socket, opts.handshakeTimeoutMs ?? 10_000, acts(reader, hsOpts));
  return new NoiseConnection(socket, result, aead, opts, reader.detach());
}

/** Dials side: runs acts one to three against a node whose key we know. */
export function connectNoise(socket: Socket, remotePubkey: Uint8Array, opts: NoiseOptions): Promise<NoiseConnection> {
  return handshake(socket, opts, async (reader, hsOpts) => {
    const hs = new InitiatorHandshake(opts.localSecret, remotePubkey, hsOpts);
    socket.write(hs.actOne());
    const { actThree, result } = hs.actTwo(await reader.read(ACT_TWO_LENGTH, 2));
    socket.write(actThree);
    return result;
  });
}

/** Listening side: runs acts one to three and learns who dialed us. */
export function acceptNoise(socket: Socket, opts: NoiseOptions): Promise<NoiseConnection> {
  return handshake(socket, opts, async (reader, hsOpts) => {
    const hs = new ResponderHandshake(opts.localSecret, hsOpts);
    socket.write(hs.actOne(await reader.read(ACT_ONE_LENGTH, 1)));
    return hs.actThree(await reader.read(ACT_THREE_LENGTH, 3));
  });
}

/** An established BOLT 8 connection: whole messages in and out. */
export class NoiseConnection extends EventEmitter<NoiseConnectionEvents> {
  readonly remotePubkey: Uint8Array;
  readonly remoteAddress: string;
  private readonly encryptor: MessageEncryptor;
  private readonly decryptor: MessageDecryptor;
  private readonly partialTimeoutMs: number;
  private partialTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private paused = false;
  /** Messages decrypted but not yet delivered because the listener paused us. */
  private readonly pending: Uint8Array[] = [];

  constructor(
    private readonly socket: Socket,
    result: HandshakeResult,
    aead: AeadBackend,
    opts: NoiseOptions,
    leftover: Uint8Array,
  ) {
    super();
    this.remotePubkey = result.remoteStatic;
    this.remoteAddress = formatAddress(socket);
    ({ encryptor: this.encryptor, decryptor: this.decryptor } = transportFor(result, aead));
    this.partialTimeoutMs = opts.partialMessageTimeoutMs ?? 60_000;
    socket.setNoDelay(true);
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    this.leftover = leftover;
  }

  private leftover: Uint8Array | undefined;

  /**
   * Starts delivering messages. Call it once the 'message' listener is attached: bytes that arrived
   * with the last handshake act (a peer may send `init` right behind act three) are delivered first.
   */
  start(): void {
    if (!this.leftover) return;
    const first = this.leftover;
    this.leftover = undefined;
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (first.length) this.onData(first);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    let messages: Uint8Array[];
    try {
      messages = this.decryptor.feed(chunk);
    } catch (e) {
      this.close(e instanceof TransportError ? e.message : `transport failure: ${String(e)}`);
      return;
    }
    for (const m of messages) this.pending.push(m);
    this.deliver();
    this.armStallTimer();
  }

  /** Hands queued messages to the listener, stopping as soon as it pauses us. */
  private deliver(): void {
    while (this.pending.length && !this.paused && !this.closed) this.emit('message', this.pending.shift()!);
  }

  private armStallTimer(): void {
    if (this.decryptor.midMessage) {
      if (!this.partialTimer) {
        this.partialTimer = setTimeout(() => this.close(new TransportError('STALLED', `no progress for ${this.partialTimeoutMs / 1000}s`).message), this.partialTimeoutMs);
        this.partialTimer.unref();
      }
    } else if (this.partialTimer) {
      clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
    }
  }

  /** Sends one message. Returns false when the socket's buffer is full: wait for 'drain'. */
  send(msg: Uint8Array): boolean {
    if (this.closed) return false;
    const parts = this.encryptor.encryptParts(msg);
    // Corked, the pieces leave in one writev: no copy to join them.
    this.socket.cork();
    let ok = true;
    for (const p of parts) ok = this.socket.write(p);
    this.socket.uncork();
    return ok;
  }

  /** Stops reading: no more 'message' events (even for bytes already received) until resume(). */
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.deliver();
    if (!this.paused) this.socket.resume();
  }

  /** Closes the connection; emits 'close' once, with the first reason given. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    // end() lets queued bytes (such as an error message) leave before the socket goes.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.emit('close', reason);
  }
}
