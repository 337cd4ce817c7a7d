/**
 * One connected peer, after the BOLT 8 handshake: the init exchange, keep-alive pings, BOLT 1's
 * message rules and per-peer backpressure. Decisions come from the pure helpers in init.ts/ping.ts;
 * this class only wires them to a connection and timers.
 *
 * Anything the peer sends that breaks the rules closes this one connection with a logged reason;
 * nothing here throws into the socket's event handlers.
 */
import { EventEmitter } from 'node:events';
import { decodeMessage, encodeMessage, messageTypeName, WireError } from '../wire/index.ts';
import type { FeatureSet, Message } from '../wire/index.ts';
import type { Logger } from '../log/logger.ts';
import type { MessageConn } from './conn.ts';
import { buildInit, evaluateInit } from './init.ts';
import type { InitPolicy } from './init.ts';
import { makePing, pongFor } from './ping.ts';
import { hex } from '../util/bytes.ts';

export interface PeerTimings {
  /** How long the peer has to send `init` after the handshake. */
  initTimeoutMs: number;
  /** How often we ping an idle peer. */
  pingIntervalMs: number;
  /** How long a pong may take before the peer is considered gone. */
  pingTimeoutMs: number;
  /** Bytes we will queue for a slow reader before giving up on it. */
  maxQueuedBytes: number;
}

export const DEFAULT_PEER_TIMINGS: PeerTimings = {
  initTimeoutMs: 15_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 30_000,
  maxQueuedBytes: 16 * 1024 * 1024,
};

export type PeerState = 'awaiting_init' | 'ready' | 'closed';

export interface PeerEvents {
  ready: [];
  message: [Message];
  close: [string];
}

export class Peer extends EventEmitter<PeerEvents> {
  readonly pubkey: string;
  state: PeerState = 'awaiting_init';
  features: FeatureSet | undefined;
  /** What the peer says our address looks like from its side (init's remote_addr), if it told us. */
  remoteAddrSeen: Uint8Array | undefined;
  bytesSent = 0n;
  bytesRecv = 0n;
  /** Round trip of the last answered ping, in microseconds. */
  pingTimeMicros = 0;
  /** Pongs received in answer to our pings. */
  pongs = 0;
  readyAt: number | undefined;
  closeReason: string | undefined;

  private readonly timers = new Set<NodeJS.Timeout>();
  private pingOutstanding: { expectBytes: number; sentAt: bigint; timer: NodeJS.Timeout } | undefined;
  private queuedBytes = 0;
  private paused = false;

  constructor(
    readonly conn: MessageConn,
    readonly inbound: boolean,
    private readonly policy: InitPolicy,
    private readonly log: Logger,
    private readonly timings: PeerTimings = DEFAULT_PEER_TIMINGS,
    ourAddrForThem?: Uint8Array,
  ) {
    super();
    this.pubkey = hex.encode(conn.remotePubkey);
    conn.on('message', (bytes) => this.onBytes(bytes));
    conn.on('drain', () => this.onDrain());
    conn.on('close', (reason) => this.onClosed(reason));
    this.after(timings.initTimeoutMs, () => {
      if (this.state === 'awaiting_init') this.close(`peer sent no init within ${timings.initTimeoutMs / 1000}s`);
    });
    // BOLT 1: init is the first message both sides send.
    this.send(buildInit(policy, ourAddrForThem));
    // Bytes that came with the handshake (often the peer's init, sometimes more) are handed over
    // synchronously by start(): wait until whoever made this Peer has attached its listeners, or
    // 'ready' and the first messages are emitted to nobody (the channels never hear of the peer).
    queueMicrotask(() => conn.start());
  }

  get address(): string {
    return this.conn.remoteAddress;
  }

  /** Sends a message; returns false when the peer is closed. Backpressure pauses our reading from it. */
  send(msg: Message): boolean {
    if (this.state === 'closed') return false;
    const bytes = encodeMessage(msg);
    this.bytesSent += BigInt(bytes.length);
    const ok = this.conn.send(bytes);
    if (!ok) {
      this.queuedBytes += bytes.length;
      if (this.queuedBytes > this.timings.maxQueuedBytes) {
        this.close(`peer is not reading: more than ${this.timings.maxQueuedBytes} bytes queued`);
        return false;
      }
      // Stop reading from a peer that is not reading from us, so it cannot make us queue without bound.
      if (!this.paused) {
        this.paused = true;
        this.conn.pause();
        this.log.debug('peer is not reading what we send; pausing reads from it', { peer: this.pubkey, queued_bytes: this.queuedBytes });
      }
    }
    return true;
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.conn.close(reason);
    // The connection emits 'close', which finishes the job; make sure we end even if it does not.
    this.onClosed(reason);
  }

  private onDrain(): void {
    this.queuedBytes = 0;
    if (this.paused) {
      this.paused = false;
      this.conn.resume();
    }
  }

  private onClosed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.pingOutstanding) clearTimeout(this.pingOutstanding.timer);
    this.emit('close', reason);
  }

  private after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private onBytes(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    this.bytesRecv += BigInt(bytes.length);
    let decoded;
    try {
      decoded = decodeMessage(bytes);
    } catch (e) {
      const why = e instanceof WireError ? e.message : String(e);
      const type = bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1;
      this.close(`malformed ${messageTypeName(type) ?? `type ${type}`} message: ${why}`);
      return;
    }
    if (decoded.kind === 'unknown') {
      // BOLT 1: "it's ok to be odd" — unknown odd types are ignored, unknown even ones end the connection.
      if (decoded.even) this.close(`peer sent unknown even message type ${decoded.type}`);
      else this.log.debug('ignoring unknown odd message', { peer: this.pubkey, type: decoded.type });
      return;
    }
    try {
      this.onMessage(decoded.message);
    } catch (e) {
      // A bug in a handler must not take the process down; it ends this connection only.
      this.log.error('message handler failed', { peer: this.pubkey, type: decoded.message.type, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      this.close(`internal error while handling ${decoded.message.type}`);
    }
  }

  private onMessage(msg: Message): void {
    if (this.state === 'awaiting_init') {
      if (msg.type !== 'init') {
        this.close(`peer sent ${msg.type} before init`);
        return;
      }
      const verdict = evaluateInit(this.policy, msg);
      if (!verdict.ok) {
        this.sendError(verdict.reason);
        this.close(verdict.reason);
        return;
      }
      this.features = verdict.features;
      this.remoteAddrSeen = verdict.remoteAddr;
      this.state = 'ready';
      this.readyAt = Date.now();
      this.schedulePing();
      this.emit('ready');
      return;
    }
    switch (msg.type) {
      case 'init':
        this.close('peer sent a second init');
        return;
      case 'ping': {
        const pong = pongFor(msg);
        if (pong) this.send(pong);
        return;
      }
      case 'pong':
        this.onPong(msg.ignored.length);
        return;
      case 'error':
      case 'warning': {
        const text = printable(msg.data);
        const channel = hex.encode(msg.channel_id);
        const allChannels = /^0+$/.test(channel);
        this.log.warn(`peer sent ${msg.type}`, { peer: this.pubkey, channel: allChannels ? 'all' : channel, text });
        // BOLT 1: an error for all channels (channel_id zero) means the peer is failing the connection.
        if (msg.type === 'error' && allChannels) this.close(`peer sent error: ${text}`);
        else this.emit('message', msg);
        return;
      }
      default:
        this.emit('message', msg);
    }
  }

  private sendError(text: string): void {
    this.send({ type: 'error', channel_id: new Uint8Array(32), data: new TextEncoder().encode(text) });
  }

  private schedulePing(): void {
    this.after(this.timings.pingIntervalMs * (0.8 + 0.4 * Math.random()), () => this.pingNow());
  }

  /** Sends a ping now (also used by tests and `listpeers` freshness); a pong must follow in time. */
  pingNow(): void {
    if (this.state !== 'ready' || this.pingOutstanding) return;
    const { ping, expectBytes } = makePing();
    const timer = this.after(this.timings.pingTimeoutMs, () => this.close(`peer did not answer ping within ${this.timings.pingTimeoutMs / 1000}s`));
    this.pingOutstanding = { expectBytes, sentAt: process.hrtime.bigint(), timer };
    this.send(ping);
  }

  private onPong(len: number): void {
    const out = this.pingOutstanding;
    if (!out) {
      this.log.debug('ignoring unsolicited pong', { peer: this.pubkey });
      return;
    }
    if (len !== out.expectBytes) {
      this.close(`peer answered ping with ${len} bytes instead of ${out.expectBytes}`);
      return;
    }
    clearTimeout(out.timer);
    this.timers.delete(out.timer);
    this.pingOutstanding = undefined;
    this.pongs++;
    this.pingTimeMicros = Number((process.hrtime.bigint() - out.sentAt) / 1000n);
    this.schedulePing();
  }
}

/** Error text from a peer, made safe for a log line. */
function printable(data: Uint8Array): string {
  const s = new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(0, 500));
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, '?');
}
