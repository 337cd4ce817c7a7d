/**
 * What the peer layer needs from an encrypted connection. `NoiseConnection` (core/transport) is the real
 * one; tests may hand in any object with this shape.
 */
export interface MessageConn {
  readonly remotePubkey: Uint8Array;
  /** `host:port` of the other end. */
  readonly remoteAddress: string;
  /** Queues one message; false means the socket's buffer is full and the caller should wait for 'drain'. */
  send(msg: Uint8Array): boolean;
  /** Begins delivering 'message' events; called once the listeners are attached. */
  start(): void;
  pause(): void;
  resume(): void;
  close(reason: string): void;
  on(event: 'message', fn: (msg: Uint8Array) => void): this;
  on(event: 'drain', fn: () => void): this;
  on(event: 'close', fn: (reason: string) => void): this;
}
