/**
 * A deliberately misbehaving BOLT 8 client for hostile-input tests: it can send any bytes at any step,
 * including frames it encrypts correctly but whose contents break the rules.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { InitiatorHandshake, transportFor } from '../../core/transport/index.ts';
import type { MessageEncryptor, MessageDecryptor } from '../../core/transport/index.ts';

export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the server closes the socket (or after `ms`, with false). */
export function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(t);
      resolve(true);
    };
    s.once('close', done);
    s.once('end', done);
    s.on('error', () => undefined);
    // Drain whatever the server sent, or 'end' would wait for someone to read it.
    s.resume();
  });
}

/** Reads exactly `n` bytes (leaving any excess in the socket), or rejects if it closes first. */
export function readExactly(s: Socket, n: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) {
        s.off('data', onData);
        if (buf.length > n) s.unshift(buf.subarray(n));
        resolve(new Uint8Array(buf.subarray(0, n)));
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error('closed')));
  });
}

export interface EvilClient {
  socket: Socket;
  enc: MessageEncryptor;
  dec: MessageDecryptor;
  /** Sends one well-framed message with arbitrary content. */
  sendRaw(msg: Uint8Array): void;
}

/** Completes a correct handshake as initiator, then hands over full control of the socket. */
export async function evilClient(port: number, remotePubkey: Uint8Array, secret: Uint8Array = new Uint8Array(randomBytes(32))): Promise<EvilClient> {
  const socket = await rawSocket(port);
  const hs = new InitiatorHandshake(secret, remotePubkey);
  socket.write(hs.actOne());
  const { actThree, result } = hs.actTwo(await readExactly(socket, 50));
  socket.write(actThree);
  const { encryptor: enc, decryptor: dec } = transportFor(result);
  return { socket, enc, dec, sendRaw: (m) => socket.write(enc.encrypt(m)) };
}
