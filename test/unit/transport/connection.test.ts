import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { acceptNoise, connectNoise } from '../../../core/transport/index.ts';
import type { NoiseConnection } from '../../../core/transport/index.ts';
import { aeadBackends, nobleAead, secp } from '../../../core/crypto/index.ts';
import type { AeadBackend } from '../../../core/crypto/index.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function pair(aead: AeadBackend): Promise<{ a: NoiseConnection; b: NoiseConnection }> {
  const bSecret = new Uint8Array(randomBytes(32));
  const aSecret = new Uint8Array(randomBytes(32));
  let accepted!: Promise<NoiseConnection>;
  const server = createServer((s: Socket) => {
    accepted = acceptNoise(s, { localSecret: bSecret, aead });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = await new Promise<Socket>((r) => {
    const s = connect({ host: '127.0.0.1', port }, () => r(s));
  });
  const a = await connectNoise(sock, secp.getPublicKey(bSecret), { localSecret: aSecret, aead });
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
    expect(() => a.send(new Uint8Array(65536))).toThrow(/longer than 65535/);
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
});
