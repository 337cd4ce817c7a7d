/**
 * BOLT 8 transport: handshakes per second over loopback, and encrypted throughput (encrypt, send,
 * receive, decrypt) as a share of the raw AEAD ceiling measured in the same run.
 */
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { acceptNoise, connectNoise } from '../../core/transport/index.ts';
import type { NoiseConnection } from '../../core/transport/index.ts';
import { defaultAead, secp } from '../../core/crypto/index.ts';
import { opsPerSec, table, timeAsync } from './harness.ts';

async function listener(secret: Uint8Array): Promise<{ port: number; accepted: NoiseConnection[]; close: () => void }> {
  const accepted: NoiseConnection[] = [];
  const server = createServer((s: Socket) => {
    acceptNoise(s, { localSecret: secret })
      .then((c) => {
        accepted.push(c);
        c.start();
      })
      .catch(() => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, accepted, close: () => server.close() };
}

function dial(port: number): Promise<Socket> {
  return new Promise((r) => {
    const s = connect({ host: '127.0.0.1', port }, () => r(s));
  });
}

export async function run(): Promise<void> {
  const serverSecret = new Uint8Array(randomBytes(32));
  const serverPub = secp.getPublicKey(serverSecret);
  const clientSecret = new Uint8Array(randomBytes(32));
  const l = await listener(serverSecret);

  // Handshakes per second, one at a time, each over a fresh TCP connection.
  const HS = 150;
  const ms = await timeAsync(async () => {
    for (let i = 0; i < HS; i++) {
      const c = await connectNoise(await dial(l.port), serverPub, { localSecret: clientSecret });
      c.close('bench');
    }
  });
  table('BOLT 8 handshakes over loopback (connect + 3 acts, sequential)', [['handshakes/s'], [(HS * 1000) / ms]]);

  const aead = defaultAead();
  const rows: (string | number)[][] = [['message size', 'transport MB/s', `${aead.name} AEAD seal+open MB/s`, 'share of ceiling']];
  for (const size of [65535, 100]) {
    const sock = await dial(l.port);
    const client = await connectNoise(sock, serverPub, { localSecret: clientSecret });
    client.start();
    // Find the server side of this very connection (late accepts of the handshake run may linger).
    const mine = (): NoiseConnection | undefined => l.accepted.find((c) => c.remoteAddress.endsWith(`:${sock.localPort}`));
    while (!mine()) await new Promise((r) => setImmediate(r));
    const server = mine()!;
    const total = size > 1000 ? 2000 : 100_000;
    const msg = new Uint8Array(size);
    let received = 0;
    const done = new Promise<void>((resolve) => server.on('message', () => ++received === total && resolve()));
    const elapsed = await timeAsync(async () => {
      for (let i = 0; i < total; i++) {
        if (!client.send(msg)) await new Promise<void>((r) => client.once('drain', () => r()));
      }
      await done;
    });
    const transport = (total * size) / 1e3 / elapsed;
    // The ceiling: the same AEAD sealing and opening the same bytes (length + body), with no socket.
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    const empty = new Uint8Array(0);
    const len = new Uint8Array(2);
    const sealedLen = aead.encrypt(key, nonce, empty, len);
    const sealedMsg = aead.encrypt(key, nonce, empty, msg);
    const ceiling = (opsPerSec(() => {
      aead.encrypt(key, nonce, empty, len);
      aead.encrypt(key, nonce, empty, msg);
      aead.decrypt(key, nonce, empty, sealedLen);
      aead.decrypt(key, nonce, empty, sealedMsg);
    }) * size) / 1e6;
    rows.push([`${size} B`, transport, ceiling, `${((transport / ceiling) * 100).toFixed(0)}%`]);
    client.close('bench');
    server.close('bench');
  }
  table('BOLT 8 encrypted throughput over loopback vs the AEAD ceiling (seal + open of the same bytes)', rows);
  l.close();
}
