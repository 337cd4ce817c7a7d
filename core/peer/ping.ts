/**
 * BOLT 1 ping/pong rules as pure functions.
 */
import type { PingMessage, PongMessage } from '../wire/index.ts';

/** A ping asking for 65532 or more bytes must not be answered (BOLT 1). */
export const PONG_NOT_WANTED = 65532;

export function pongFor(ping: PingMessage): PongMessage | undefined {
  if (ping.num_pong_bytes >= PONG_NOT_WANTED) return undefined;
  return { type: 'pong', ignored: new Uint8Array(ping.num_pong_bytes) };
}

/** Our own pings ask for a small random pong so a peer cannot answer with a canned reply. */
export function makePing(random: () => number = Math.random): { ping: PingMessage; expectBytes: number } {
  const n = Math.floor(random() * 64);
  return { ping: { type: 'ping', num_pong_bytes: n, ignored: new Uint8Array(0) }, expectBytes: n };
}
