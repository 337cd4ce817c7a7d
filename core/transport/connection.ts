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
import { LENGTH_HEADER, MAC, MAX_MESSAGE_LENGTH } from './cipher.ts';
import { TransportError } from './errors.ts';
import type { TransportErrorCode } from './errors.ts';

export interface NoiseOptions {
  localSecret: Uint8Array;
  /** The whole handshake must finish within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /** A message begun must be finished within this (default 60 s), so a stalling peer cannot hold us. */
  partialMessageTimeoutMs?: number;
  /** Injected ephemeral key (tests replaying the spec vectors); a fresh random one otherwise. */
  ephemeralSecret?: Uint8Array;
  aead?: AeadBackend;
  /** Bytes queued for the socket before send() returns false (default 1 MiB). */
  highWaterMark?: number;
}

export interface NoiseConnectionEvents {
  message: [Uint8Array];
  drain: [];
  close: [string];
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_PARTIAL_TIMEOUT_MS = 60_000;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** Bytes of small frames gathered into one write before it is sent without waiting for the tick's end. */
const CORK_BYTES = 16 * 1024;
/**
 * What the handshake reader holds before it stops reading: act three plus one maximal frame (a peer
 * may send `init` right behind act three). Beyond that the socket is paused until the connection
 * starts, so a peer cannot make us buffer without bound before it is authenticated.
 */
const HANDSHAKE_BUFFER_LIMIT = ACT_THREE_LENGTH + LENGTH_HEADER + MAX_MESSAGE_LENGTH + MAC;

function formatAddress(socket: Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

function readFailed(act: 1 | 2 | 3, detail: string): TransportError {
  return new TransportError(`ACT${act}_READ_FAILED` as TransportErrorCode, detail);
}

/** Reads exactly `n` bytes for one act, or fails with that act's read error. */
class ActReader {
  private buf = new Uint8Array(0);
  private want: { n: number; act: 1 | 2 | 3; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  private error: string | undefined;

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
    if (this.buf.length >= HANDSHAKE_BUFFER_LIMIT) this.socket.pause();
    this.check();
  };

  private readonly onClose = (): void => this.fail(`connection closed after ${this.buf.length} bytes`);
  private readonly onError = (e: Error): void => this.fail(e.message);

  private fail(detail: string): void {
    this.error ??= detail;
    const w = this.want;
    if (!w) return;
    this.want = undefined;
    w.reject(readFailed(w.act, `${detail} (wanted ${w.n})`));
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
      if (this.buf.length < n && (this.error !== undefined || this.socket.destroyed)) {
        reject(readFailed(act, this.error ?? 'connection closed'));
        return;
      }
      this.want = { n, act, resolve, reject };
      this.check();
    });
  }

  /**
   * Stops reading for the handshake and returns whatever arrived beyond it. The socket is left paused
   * so no byte is lost before the connection attaches its own reader.
   */
  detach(): Uint8Array {
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.off('error', this.onError);
    return this.buf;
  }
}

/** Runs the acts within the deadline; on any failure the socket is destroyed and a TransportError thrown. */
async function withDeadline<T>(socket: Socket, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransportError('HANDSHAKE_TIMEOUT', `${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (e) {
    socket.destroy();
    throw e instanceof TransportError ? e : new TransportError('CLOSED', e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}

type Acts = (reader: ActReader, hsOpts: { ephemeralSecret?: Uint8Array; aead: AeadBackend }) => Promise<HandshakeResult>;

/** Runs one side's acts over the socket within the handshake deadline, then wraps the connection. */
async function handshake(socket: Socket, opts: NoiseOptions, acts: Acts): Promise<NoiseConnection> {
  const aead = opts.aead ?? defaultAead();
  const reader = new ActReader(socket);
  const hsOpts = { ...(opts.ephemeralSecret ? { ephemeralSecret: opts.ephemeralSecret } : {}), aead };
  const result = await withDeadline(socket, opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () => acts(reader, hsOpts));
  return new NoiseConnection(socket, result, aead, opts, reader.detach());
}

/** Dialing side: acts one to three against a node whose key we know (BOLT 8 "Handshake Exchange"). */
export function connectNoise(socket: Socket, remotePubkey: Uint8Array, opts: NoiseOptions): Promise<NoiseConnection> {
  return handshake(socket, opts, async (reader, hsOpts) => {
    const hs = new InitiatorHandshake(opts.localSecret, remotePubkey, hsOpts);
    socket.write(hs.actOne());
    const { actThree, result } = hs.actTwo(await reader.read(ACT_TWO_LENGTH, 2));
    socket.write(actThree);
    return result;
  });
}

/** Listening side: acts one to three, learning who dialed us from act three. */
export function acceptNoise(socket: Socket, opts: NoiseOptions): Promise<NoiseConnection> {
  return handshake(socket, opts, async (reader, hsOpts) => {
    const hs = new ResponderHandshake(opts.localSecret, hsOpts);
    socket.write(hs.actOne(await reader.read(ACT_ONE_LENGTH, 1)));
    return hs.actThree(await reader.read(ACT_THREE_LENGTH, 3));
  });
}

/**
 * An established BOLT 8 connection: whole messages in and out. Messages flow once `start()` is called
 * (or, if it never is, as soon as a 'message' listener is attached).
 */
export class NoiseConnection extends EventEmitter<NoiseConnectionEvents> {
  readonly remotePubkey: Uint8Array;
  readonly remoteAddress: string;
  private readonly encryptor: MessageEncryptor;
  private readonly decryptor: MessageDecryptor;
  private readonly partialTimeoutMs: number;
  private readonly highWaterMark: number;
  private partialTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private paused = false;
  private started = false;
  /** send() returned false: 'drain' is owed once the queue falls below the mark. */
  private owesDrain = false;
  /** Bytes that arrived with the last handshake act (a peer may send `init` right behind act three). */
  private leftover: Uint8Array;
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
    this.partialTimeoutMs = opts.partialMessageTimeoutMs ?? DEFAULT_PARTIAL_TIMEOUT_MS;
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.leftover = leftover;
    socket.setNoDelay(true);
    socket.on('drain', this.onFlushed);
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (socket.destroyed) queueMicrotask(() => this.close('peer closed the connection'));
    // 'newListener' is EventEmitter's own event, outside the typed map.
    (this as unknown as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message' && !this.started) queueMicrotask(() => this.start());
    });
  }

  /**
   * Starts delivering messages; call it once the 'message' listener is attached. Bytes that came with
   * the last handshake act are delivered first. Idempotent.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    const first = this.leftover;
    this.leftover = new Uint8Array(0);
    if (first.length) this.onData(first);
    else this.armStallTimer();
    if (!this.paused && !this.closed) this.socket.resume();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.started) {
      // Not reading yet (the socket is paused); keep anything already in flight for start().
      const joined = new Uint8Array(this.leftover.length + chunk.length);
      joined.set(this.leftover, 0);
      joined.set(chunk, this.leftover.length);
      this.leftover = joined;
      return;
    }
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
    while (this.pending.length && !this.paused && !this.closed) this.emitSafely('message', this.pending.shift()!);
  }

  /** A throwing listener must not throw out of a socket handler: it closes the connection instead. */
  private emitSafely<K extends keyof NoiseConnectionEvents>(event: K, ...args: NoiseConnectionEvents[K]): void {
    try {
      (this as unknown as EventEmitter).emit(event, ...args);
    } catch (e) {
      if (event !== 'close') this.close(`${event} handler failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Runs while part of a message is buffered, and only while we are reading. */
  private armStallTimer(): void {
    if (this.decryptor.midMessage && !this.paused && !this.closed) {
      if (!this.partialTimer) {
        this.partialTimer = setTimeout(() => this.close(new TransportError('STALLED', `message not completed within ${this.partialTimeoutMs / 1000}s`).message), this.partialTimeoutMs);
        this.partialTimer.unref();
      }
    } else if (this.partialTimer) {
      clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
    }
  }

  /** A queued frame left (or the socket drained): owe 'drain' until the queue is below the mark. */
  private readonly onFlushed = (): void => {
    if (this.owesDrain && !this.closed && this.socket.writableLength < this.highWaterMark) {
      this.owesDrain = false;
      this.emitSafely('drain');
    }
  };

  private corked = false;
  private corkedBytes = 0;
  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  /**
   * Sends one message (at most 65535 bytes, or TransportError). Returns false once the queue holds
   * `highWaterMark` bytes or more: back off until 'drain'. False also after close.
   */
  send(msg: Uint8Array): boolean {
    if (this.closed) return false;
    const parts = this.encryptor.encryptParts(msg);
    const socket = this.socket;
    const frameLength = LENGTH_HEADER + msg.length + MAC;
    // Frames that leave the queue above the mark report when they are flushed, so 'drain' can be
    // emitted as soon as the queue falls below it (the socket's own 'drain' waits for empty).
    const over = socket.writableLength + frameLength >= this.highWaterMark;
    // Corked, the pieces of a frame leave in one writev with no copy to join them; a burst of small
    // messages in one tick shares a writev too, up to CORK_BYTES so the peer is never kept waiting.
    if (!this.corked) {
      this.corked = true;
      this.corkedBytes = 0;
      socket.cork();
      process.nextTick(this.uncork);
    }
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) socket.write(parts[i]!);
    socket.write(parts[last]!, over ? this.onFlushed : undefined);
    this.corkedBytes += frameLength;
    if (this.corkedBytes >= CORK_BYTES) this.uncork();
    if (over) this.owesDrain = true;
    return !over;
  }

  /** Stops reading: no more 'message' events (even for bytes already received) until resume(). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    // The peer is not stalling while we are not reading.
    this.armStallTimer();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.deliver();
    if (this.paused || this.closed) return;
    this.armStallTimer();
    if (this.started) this.socket.resume();
  }

  /** Closes the connection; emits 'close' once, with the first reason given. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    // end() lets queued bytes (such as an error message) leave; destroy() follows in any case.
    this.socket.end();
    if (!this.socket.destroyed) setTimeout(() => this.socket.destroy(), 1000).unref();
    this.emitSafely('close', reason);
  }
}
