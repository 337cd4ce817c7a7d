/**
 * BOLT 8 transport: handshakes per second over loopback, and encrypted throughput (encrypt, send,
 * receive, decrypt) against the raw AEAD ceiling of the same backend measured in the same run.
 *
 * Throughput is measured two ways:
 * - two threads: the receiving node runs in a worker thread, so sealing and opening proceed on separate
 *   cores as between two real nodes. Its ceiling is the slower of raw seal and raw open of the same
 *   frames (each side does one of them); this is the headline share.
 * - one thread: both ends on this event loop. Its ceiling is raw seal + open of the same frames; the
 *   share left over is what the sockets, the kernel's loopback and framing cost on one core. For 64 KiB
 *   the last column adds plain loopback TCP's own cost (measured here, no crypto) to that ceiling, which
 *   leaves only what this code adds: framing, buffering, events.
 */
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { acceptNoise, connectNoise } from '../../core/transport/index.ts';
import type { NoiseConnection } from '../../core/transport/index.ts';
import { aeadBackends, nobleAead, secp } from '../../core/crypto/index.ts';
import type { AeadBackend } from '../../core/crypto/index.ts';
import { table, timeAsync } from './harness.ts';

const SIZES = [65535, 100];

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Messages per run: about 0.3 s of the backend's raw speed, so the whole file stays short. */
function messagesFor(size: number, ceilingMBs: number): number {
  const n = Math.round((ceilingMBs * 1e6 * 0.3) / size);
  return Math.max(200, Math.min(n, 100_000));
}

/** Sends `total` messages as fast as backpressure allows. */
async function pump(c: NoiseConnection, msg: Uint8Array, total: number): Promise<void> {
  for (let i = 0; i < total; i++) {
    if (!c.send(msg)) await new Promise<void>((r) => c.once('drain', () => r()));
  }
}

/** MB/s of raw seal and of raw open for frames of this size (2-byte length and body, each sealed). */
function aeadRates(aead: AeadBackend, size: number): { seal: number; open: number } {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(12);
  const empty = new Uint8Array(0);
  const len = new Uint8Array(2);
  const msg = new Uint8Array(size);
  const sealedLen = aead.encrypt(key, nonce, empty, len);
  const sealedMsg = aead.encrypt(key, nonce, empty, msg);
  const rate = (fn: () => void): number => {
    const start = performance.now();
    let done = 0;
    while (performance.now() - start < 100) {
      for (let i = 0; i < 10; i++) fn();
      done += 10;
    }
    return (done * size) / 1e3 / (performance.now() - start);
  };
  // Sealing as the transport does it: pieces written one after another, never joined.
  const sealOnce = (): void => {
    aead.encryptParts(key, nonce, empty, len);
    aead.encryptParts(key, nonce, empty, msg);
  };
  const openOnce = (): void => {
    aead.decrypt(key, nonce, empty, sealedLen);
    aead.decrypt(key, nonce, empty, sealedMsg);
  };
  // Best of three interleaved rounds: the machine's other work only ever slows a round down.
  let seal = 0;
  let open = 0;
  for (let round = 0; round < 3; round++) {
    seal = Math.max(seal, rate(sealOnce));
    open = Math.max(open, rate(openOnce));
  }
  return { seal, open };
}

class Peer {
  private readonly worker: Worker;
  private readonly waiters: ((m: Record<string, unknown>) => void)[] = [];
  readonly secret = new Uint8Array(randomBytes(32));
  port = 0;

  constructor() {
    // A worker does not inherit the --import hooks that let this process load TypeScript: it registers
    // tsx itself, then loads the peer module.
    const entry = new URL('./transport-peer.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--expose-gc'));
    this.worker = new Worker(boot, { eval: true, workerData: { secret: this.secret }, execArgv });
    this.worker.on('message', (m: Record<string, unknown>) => this.waiters.shift()?.(m));
  }

  next(): Promise<Record<string, unknown>> {
    return new Promise((r) => this.waiters.push(r));
  }

  async ready(): Promise<void> {
    this.port = (await this.next())['port'] as number;
  }

  /** Throughput in MB/s of `total` messages of `size` sent to the worker. */
  async run(aead: AeadBackend, size: number, total: number): Promise<number> {
    const ready = this.next();
    this.worker.postMessage({ aead: aead.name, total });
    await ready;
    const client = await connectNoise(await dial(this.port), secp.getPublicKey(this.secret), { localSecret: new Uint8Array(randomBytes(32)), aead });
    client.start();
    const done = this.next();
    const ms = await timeAsync(async () => {
      await pump(client, new Uint8Array(size), total);
      const r = await done;
      if (r['error']) throw new Error(String(r['error']));
    });
    client.close('bench');
    return (total * size) / 1e3 / ms;
  }

  stop(): Promise<number> {
    this.worker.postMessage('stop');
    return this.worker.terminate();
  }
}

/** Both ends on this thread: a listener and a client in the same process. */
async function sameThread(aead: AeadBackend, size: number, total: number): Promise<number> {
  const secret = new Uint8Array(randomBytes(32));
  let accepted!: Promise<NoiseConnection>;
  const server = createServer((s: Socket) => {
    accepted = acceptNoise(s, { localSecret: secret, aead });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = await connectNoise(await dial((server.address() as { port: number }).port), secp.getPublicKey(secret), { localSecret: new Uint8Array(randomBytes(32)), aead });
  const receiver = await accepted;
  let got = 0;
  const done = new Promise<void>((resolve) => receiver.on('message', () => ++got === total && resolve()));
  receiver.start();
  client.start();
  const ms = await timeAsync(async () => {
    await pump(client, new Uint8Array(size), total);
    await done;
  });
  client.close('bench');
  receiver.close('bench');
  server.close();
  return (total * size) / 1e3 / ms;
}

async function handshakesPerSecond(): Promise<number> {
  const secret = new Uint8Array(randomBytes(32));
  const server = createServer((s: Socket) => {
    acceptNoise(s, { localSecret: secret }).then((c) => c.close('bench'), () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const pub = secp.getPublicKey(secret);
  const clientSecret = new Uint8Array(randomBytes(32));
  const HS = 150;
  const ms = await timeAsync(async () => {
    for (let i = 0; i < HS; i++) {
      const c = await connectNoise(await dial(port), pub, { localSecret: clientSecret });
      c.close('bench');
    }
  });
  server.close();
  return (HS * 1000) / ms;
}

/**
 * Plain TCP over loopback on one thread, no crypto: what the kernel alone costs per byte. Together with
 * seal + open this bounds the one-thread figure (1 / (1/crypto + 1/tcp)).
 */
async function rawTcp(frame: number, ms = 250): Promise<number> {
  let received = 0;
  let onEnough: () => void = () => undefined;
  const server = createServer((s) => s.on('data', (d: Buffer) => {
    received += d.length;
    onEnough();
  }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = await dial((server.address() as { port: number }).port);
  c.setNoDelay(true);
  const chunk = Buffer.alloc(frame);
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms) {
    // A fresh buffer per frame, as the transport writes freshly sealed bytes.
    const b = Buffer.allocUnsafe(frame);
    b.set(chunk);
    sent += frame;
    if (!c.write(b) && c.writableLength > 1 << 20) await new Promise((r) => c.once('drain', r));
  }
  await new Promise<void>((r) => {
    onEnough = () => received >= sent && r();
    onEnough();
  });
  const rate = received / 1e3 / (performance.now() - start);
  c.destroy();
  server.close();
  return rate;
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

export async function run(): Promise<void> {
  table(`BOLT 8 handshakes over loopback (connect + 3 acts, sequential, ${secp.name})`, [['handshakes/s'], [await handshakesPerSecond()]]);

  const tcp = Math.max(await rawTcp(65535 + 34), await rawTcp(65535 + 34));
  const peer = new Peer();
  await peer.ready();
  const rows: (string | number)[][] = [['backend', 'message', 'seal MB/s', 'open MB/s', '2 threads MB/s', 'of min(seal,open)', '1 thread MB/s', 'of seal+open', 'of seal+open+TCP']];
  try {
    for (const aead of aeadBackends.includes(nobleAead) ? aeadBackends : [...aeadBackends, nobleAead]) {
      for (const size of SIZES) {
        const { seal, open } = aeadRates(aead, size);
        const total = messagesFor(size, Math.min(seal, open));
        await peer.run(aead, size, Math.ceil(total / 10)); // warm-up: JIT and socket buffers
        const two = await peer.run(aead, size, total);
        const one = await sameThread(aead, size, total);
        const both = 1 / (1 / seal + 1 / open);
        const withTcp = size === 65535 ? pct(one * (1 / both + 1 / tcp)) : '-';
        rows.push([aead.name, `${size} B`, seal, open, two, pct(two / Math.min(seal, open)), one, pct(one / both), withTcp]);
      }
    }
  } finally {
    await peer.stop();
  }
  table('BOLT 8 encrypted throughput over loopback vs the same backend\'s raw AEAD, measured in this run', rows);
  table('For scale: loopback TCP alone, one thread, 64 KiB frames, no crypto', [['MB/s'], [tcp]]);
}
