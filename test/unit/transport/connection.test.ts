import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { acceptNoise, connectNoise } from '../../../core/transport/index.ts';
import type { NoiseConnection, NoiseOptions } from '../../../core/transport/index.ts';
import { aeadBackends, nobleAead, nodeAead, secp } from '../../../core/crypto/index.ts';
import type { AeadBackend } from '../../../core/crypto/index.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function pair(aead: AeadBackend, extra: Partial<NoiseOptions> = {}): Promise<{ a: NoiseConnection; b: NoiseConnection }> {
  const bSecret = new Uint8Array(randomBytes(32));
  const aSecret = new Uint8Array(randomBytes(32));
  let accepted!: Promise<NoiseConnection>;
  const server = createServer((s: Socket) => {
    accepted = acceptNoise(s, { localSecret: bSecret, aead, ...extra });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = await new Promise<Socket>((r) => {
    const s = connect({ host: '127.0.0.1', port }, () => r(s));
  });
  const a = await connectNoise(sock, secp.getPublicKey(bSecret), { localSecret: aSecret, aead, ...extra });
  const b = await accepted;
  a.start();
  b.start();
  expect(b.remotePubkey).toEqual(secp.getPublicKey(aSecret));
  expect(a.remotePubkey).toEqual(secp.getPublicKey(bSecret));
  return { a, b };
}

function collect(c: NoiseConnection, n: number): Promise<Uint8Array[]> {
  return new Promise((resolve) => {
    const got: Uint8Array[] = [];
    c.on('message', (m) => {
      got.push(m);
      if (got.length === n) resolve(got);
    });
  });
}

const backends = aeadBackends.includes(nobleAead) ? aeadBackends : [...aeadBackends, nobleAead];

describe.each(backends.map((b) => [b.name, b] as const))('BOLT 8 over TCP with the %s AEAD', (_n, aead) => {
  it('10,000 messages each way (key rotation many times over), in order', async () => {
    const { a, b } = await pair(aead);
    const N = 10_000;
    const atB = collect(b, N);
    const atA = collect(a, N);
    for (let i = 0; i < N; i++) {
      a.send(Uint8Array.from([i >> 8, i & 0xff, 1]));
      b.send(Uint8Array.from([i >> 8, i & 0xff, 2]));
    }
    const [gotB, gotA] = await Promise.all([atB, atA]);
    gotB.forEach((m, i) => expect(m).toEqual(Uint8Array.from([i >> 8, i & 0xff, 1])));
    gotA.forEach((m, i) => expect(m).toEqual(Uint8Array.from([i >> 8, i & 0xff, 2])));
    a.close('done');
  });

  it('the largest message (65535 bytes) passes; a larger one is refused before sending', async () => {
    const { a, b } = await pair(aead);
    const big = new Uint8Array(randomBytes(65535));
    const got = collect(b, 1);
    a.send(big);
    expect((await got)[0]).toEqual(big);
    expect(() => a.send(new Uint8Array(65536))).toThrow(expect.objectContaining({ name: 'TransportError', code: 'MESSAGE_TOO_LARGE' }));
    a.close('done');
  });

  it('backpressure: send() returns false when the socket is full and drain follows', async () => {
    const { a, b } = await pair(aead);
    b.pause();
    let full = false;
    for (let i = 0; i < 2000 && !full; i++) full = !a.send(new Uint8Array(60_000));
    expect(full).toBe(true);
    const drained = new Promise<void>((r) => a.once('drain', () => r()));
    b.resume();
    await drained;
    a.close('done');
  });

  it('close is reported once, with the reason, on both sides', async () => {
    const { a, b } = await pair(aead);
    const reasons: string[] = [];
    a.on('close', (r) => reasons.push(`a:${r}`));
    const bClosed = new Promise<string>((r) => b.on('close', r));
    a.close('bye');
    a.close('again');
    expect(await bClosed).toBe('peer closed the connection');
    expect(reasons).toEqual(['a:bye']);
    expect(a.send(new Uint8Array(1))).toBe(false);
  });

  it('a small highWaterMark: send() turns false once that much is queued, and drain follows as it empties', async () => {
    const { a, b } = await pair(aead, { highWaterMark: 4096 });
    const got = collect(b, 3);
    expect(a.send(new Uint8Array(1000))).toBe(true);
    expect(a.send(new Uint8Array(5000))).toBe(false); // 1034 + 5034 bytes queued this tick
    const drained = new Promise<void>((r) => a.once('drain', () => r()));
    expect(a.send(new Uint8Array(10))).toBe(false);
    await drained;
    expect((await got).map((m) => m.length)).toEqual([1000, 5000, 10]);
    expect(a.send(new Uint8Array(10))).toBe(true);
    a.close('done');
  });
});

describe('connection lifecycle', () => {
  it('handshakes both ways: each node dials the other and learns its key', async () => {
    const nodes = [0, 1].map(() => ({ secret: new Uint8Array(randomBytes(32)), inbound: [] as NoiseConnection[], port: 0 }));
    for (const n of nodes) {
      const server = createServer((s) => void acceptNoise(s, { localSecret: n.secret }).then((c) => n.inbound.push(c)));
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      n.port = (server.address() as { port: number }).port;
    }
    const [n0, n1] = [nodes[0]!, nodes[1]!];
    for (const [from, to] of [[n0, n1], [n1, n0]] as const) {
      const sock = connect({ host: '127.0.0.1', port: to.port });
      const out = await connectNoise(sock, secp.getPublicKey(to.secret), { localSecret: from.secret });
      expect(out.remotePubkey).toEqual(secp.getPublicKey(to.secret));
      expect(out.remoteAddress).toBe(`127.0.0.1:${to.port}`);
      while (to.inbound.length === 0) await new Promise((r) => setTimeout(r, 5));
      const inbound = to.inbound[0]!;
      expect(inbound.remotePubkey).toEqual(secp.getPublicKey(from.secret));
      expect(inbound.remoteAddress).toBe(`127.0.0.1:${sock.localPort}`);
      const got = collect(inbound, 1);
      out.send(Uint8Array.of(42));
      expect(await got).toEqual([Uint8Array.of(42)]);
      out.close('done');
    }
  });

  it('messages sent right behind act three wait, unread, until the receiver attaches its listener', async () => {
    const bSecret = new Uint8Array(randomBytes(32));
    let accepted!: Promise<NoiseConnection>;
    const server = createServer((s) => {
      accepted = acceptNoise(s, { localSecret: bSecret });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sock = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    const a = await connectNoise(sock, secp.getPublicKey(bSecret), { localSecret: new Uint8Array(randomBytes(32)) });
    for (let i = 0; i < 50; i++) a.send(new Uint8Array(1000).fill(i));
    const b = await accepted;
    await new Promise((r) => setTimeout(r, 100)); // everything has arrived by now, nobody listening
    // No start(): attaching the 'message' listener is enough.
    const got = await collect(b, 50);
    got.forEach((m, i) => expect(m).toEqual(new Uint8Array(1000).fill(i)));
    a.close('done');
  });

  it('a throwing message listener closes the connection instead of escaping the socket handler', async () => {
    const { a, b } = await pair(nodeAead);
    const closed = new Promise<string>((r) => b.on('close', r));
    b.on('message', () => {
      throw new Error('listener bug');
    });
    a.send(Uint8Array.of(1));
    expect(await closed).toBe('message handler failed: listener bug');
  });

  it('a receiver paused in the middle of a frame is not a stalling peer', async () => {
    const { a, b } = await pair(nodeAead, { partialMessageTimeoutMs: 100 });
    const closes: string[] = [];
    b.on('close', (r) => closes.push(r));
    const got: Uint8Array[] = [];
    // 60,000-byte frames straddle the socket's 64 KiB reads: when the first message is delivered, part
    // of the second is already buffered. Pausing then must not count as the peer stalling.
    const first = new Promise<void>((r) =>
      b.on('message', (m) => {
        got.push(m);
        if (got.length === 1) {
          b.pause();
          r();
        }
      }),
    );
    for (let i = 0; i < 20; i++) a.send(new Uint8Array(60_000).fill(i));
    await first;
    await new Promise((r) => setTimeout(r, 400));
    expect(closes).toEqual([]);
    expect(got.length).toBe(1);
    b.resume();
    while (got.length < 20) await new Promise((r) => setTimeout(r, 10));
    got.forEach((m, i) => expect(m[0]).toBe(i));
    a.close('done');
  });
});
