/**
 * Hostile peers against one BOLT 8 listener over real TCP: each bad connection ends with the expected
 * reason, and the listener then still serves a well-behaved client. Also hostile responders against our
 * dialing side, and 200 simultaneous handshakes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { acceptNoise, connectNoise, InitiatorHandshake, ResponderHandshake, transportFor, TransportError } from '../../../core/transport/index.ts';
import type { NoiseConnection } from '../../../core/transport/index.ts';
import { secp } from '../../../core/crypto/index.ts';
import { readExactly } from '../../helpers/attacker.ts';

const rand = (n = 32): Uint8Array => new Uint8Array(randomBytes(n));
const FAST = { handshakeTimeoutMs: 400, partialMessageTimeoutMs: 400 };

type Outcome = { ok: true; conn: NoiseConnection; closed: Promise<string> } | { ok: false; error: TransportError };

/** A listener that echoes every message and records how each connection (by client port) ended. */
class Listener {
  readonly secret = rand();
  readonly pub = secp.getPublicKey(this.secret);
  port = 0;
  private readonly server: Server;
  private readonly outcomes = new Map<number, Outcome>();
  private readonly waiting = new Map<number, (o: Outcome) => void>();

  constructor(timeouts: { handshakeTimeoutMs?: number; partialMessageTimeoutMs?: number }) {
    this.server = createServer((s: Socket) => {
      const key = s.remotePort!;
      acceptNoise(s, { localSecret: this.secret, ...timeouts }).then(
        (conn) => {
          const closed = new Promise<string>((r) => conn.on('close', r));
          conn.on('message', (m) => conn.send(m));
          conn.start();
          this.settle(key, { ok: true, conn, closed });
        },
        (error: TransportError) => this.settle(key, { ok: false, error }),
      );
    });
  }

  private settle(key: number, o: Outcome): void {
    const w = this.waiting.get(key);
    if (w) w(o);
    else this.outcomes.set(key, o);
  }

  /** How the connection from this client port ended (or was established). */
  outcome(s: Socket): Promise<Outcome> {
    const key = s.localPort!;
    const o = this.outcomes.get(key);
    if (o) return Promise.resolve(o);
    return new Promise((r) => this.waiting.set(key, r));
  }

  async failure(s: Socket): Promise<TransportError> {
    const o = await this.outcome(s);
    if (o.ok) throw new Error('the handshake was expected to fail');
    expect(o.error).toBeInstanceOf(TransportError);
    return o.error;
  }

  async closeReason(s: Socket): Promise<string> {
    const o = await this.outcome(s);
    if (!o.ok) throw new Error(`handshake failed: ${o.error.message}`);
    return o.closed;
  }

  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as { port: number }).port;
      r();
    }));
  }

  close(): void {
    this.server.close();
  }
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves once the other end has closed this socket. */
function closedByPeer(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.on('error', () => undefined);
    s.once('close', () => resolve());
    s.resume();
  });
}


/** A correct initiator up to act three, which `tamper` may change before it is sent. */
async function actThreeClient(l: Listener, tamper: (act3: Uint8Array) => void = () => undefined): Promise<{ s: Socket; result: ReturnType<InitiatorHandshake['actTwo']>['result'] }> {
  const s = await rawSocket(l.port);
  const hs = new InitiatorHandshake(rand(), l.pub);
  s.write(hs.actOne());
  const { actThree, result } = hs.actTwo(await readExactly(s, 50));
  tamper(actThree);
  s.write(actThree);
  return { s, result };
}

async function goodClientWorks(l: Listener): Promise<void> {
  const c = await connectNoise(await rawSocket(l.port), l.pub, { localSecret: rand() });
  const echo = new Promise<Uint8Array>((r) => c.once('message', r));
  c.send(Uint8Array.of(0, 16, 1, 2, 3));
  expect(await echo).toEqual(Uint8Array.of(0, 16, 1, 2, 3));
  c.close('done');
}

describe('a listener under attack keeps serving', () => {
  const l = new Listener(FAST);
  beforeAll(() => l.listen());
  afterAll(() => l.close());

  it('garbage instead of act one', async () => {
    for (let i = 0; i < 6; i++) {
      const s = await rawSocket(l.port);
      // A valid point with a random tag fails the MAC; random bytes usually fail the key check first.
      s.write(i % 2 ? Uint8Array.from([0, ...secp.getPublicKey(rand()), ...rand(16)]) : Uint8Array.from([0, ...rand(49)]));
      const e = await l.failure(s);
      expect(e.code).toMatch(i % 2 ? /^ACT1_BAD_TAG$/ : /^ACT1_BAD_(PUBKEY|TAG)$/);
      await closedByPeer(s);
    }
    await goodClientWorks(l);
  });

  it('wrong version byte in act one', async () => {
    const s = await rawSocket(l.port);
    const act1 = new InitiatorHandshake(rand(), l.pub).actOne();
    act1[0] = 1;
    s.write(act1);
    const e = await l.failure(s);
    expect(e.code).toBe('ACT1_BAD_VERSION');
    expect(e.message).toMatch(/unknown handshake version/);
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('bad MAC on act one (an initiator that dialed the wrong node key)', async () => {
    const s = await rawSocket(l.port);
    s.write(new InitiatorHandshake(rand(), secp.getPublicKey(rand())).actOne());
    expect((await l.failure(s)).code).toBe('ACT1_BAD_TAG');
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('a truncated act one, then silence: the handshake times out', async () => {
    const s = await rawSocket(l.port);
    s.write(new InitiatorHandshake(rand(), l.pub).actOne().subarray(0, 30));
    const e = await l.failure(s);
    expect(e.code).toBe('HANDSHAKE_TIMEOUT');
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('a truncated act one, then hang-up', async () => {
    const s = await rawSocket(l.port);
    s.end(new InitiatorHandshake(rand(), l.pub).actOne().subarray(0, 30));
    expect((await l.failure(s)).code).toBe('ACT1_READ_FAILED');
    await goodClientWorks(l);
  });

  it.each([
    ['version', (a: Uint8Array) => void (a[0] = 1), 'ACT3_BAD_VERSION'],
    ['encrypted static key', (a: Uint8Array) => void (a[5]! ^= 1), 'ACT3_BAD_CIPHERTEXT'],
    ['final MAC', (a: Uint8Array) => void (a[65]! ^= 1), 'ACT3_BAD_TAG'],
  ])('bad act three: %s', async (_what, tamper, code) => {
    const { s } = await actThreeClient(l, tamper);
    expect((await l.failure(s)).code).toBe(code);
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('a tampered length MAC after the handshake closes the connection', async () => {
    const { s, result } = await actThreeClient(l);
    const { encryptor } = transportFor(result);
    const frame = encryptor.encrypt(Uint8Array.of(0, 16));
    frame[3]! ^= 1;
    s.write(frame);
    expect(await l.closeReason(s)).toMatch(/message length failed authentication/);
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('a tampered body closes the connection', async () => {
    const { s, result } = await actThreeClient(l);
    const frame = transportFor(result).encryptor.encrypt(Uint8Array.of(0, 16, 9, 9));
    frame[20]! ^= 1;
    s.write(frame);
    expect(await l.closeReason(s)).toMatch(/message body failed authentication/);
    await goodClientWorks(l);
  });

  it('a peer that stalls mid-message is dropped after the partial-message timeout', async () => {
    const { s, result } = await actThreeClient(l);
    const frame = transportFor(result).encryptor.encrypt(new Uint8Array(1000));
    s.write(frame.subarray(0, 500));
    expect(await l.closeReason(s)).toMatch(/stopped in the middle of a message/);
    await closedByPeer(s);
    await goodClientWorks(l);
  });

  it('a peer that goes silent between messages is not a stall', async () => {
    const { s, result } = await actThreeClient(l);
    const t = transportFor(result);
    s.write(t.encryptor.encrypt(Uint8Array.of(0, 16, 5)));
    const echoed = await readExactly(s, 18 + 3 + 16);
    expect(t.decryptor.feed(echoed)).toEqual([Uint8Array.of(0, 16, 5)]);
    await new Promise((r) => setTimeout(r, FAST.partialMessageTimeoutMs * 2));
    expect(s.destroyed).toBe(false);
    s.write(t.encryptor.encrypt(Uint8Array.of(0, 16, 6)));
    expect(t.decryptor.feed(await readExactly(s, 18 + 3 + 16))).toEqual([Uint8Array.of(0, 16, 6)]);
    const reason = l.closeReason(s); // keyed by our port, which a destroyed socket no longer reports
    s.destroy();
    expect(await reason).toBe('peer closed the connection');
  });
});

describe('our dialing side against hostile responders', () => {
  let server: Server;
  let port = 0;
  const secret = rand();
  let behave: (s: Socket, hs: ResponderHandshake, act1: Uint8Array) => void;

  beforeAll(async () => {
    server = createServer((s) => {
      s.on('error', () => undefined);
      void readExactly(s, 50).then((act1) => behave(s, new ResponderHandshake(secret), act1), () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  async function dialExpecting(code: string): Promise<void> {
    const sock = await rawSocket(port);
    const err = await connectNoise(sock, secp.getPublicKey(secret), { localSecret: rand(), handshakeTimeoutMs: 400 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe(code);
    expect(sock.destroyed).toBe(true);
  }

  it('wrong version byte in act two', async () => {
    behave = (s, hs, act1) => {
      const act2 = hs.actOne(act1);
      act2[0] = 1;
      s.write(act2);
    };
    await dialExpecting('ACT2_BAD_VERSION');
  });

  it('bad MAC on act two', async () => {
    behave = (s, hs, act1) => {
      const act2 = hs.actOne(act1);
      act2[49]! ^= 1;
      s.write(act2);
    };
    await dialExpecting('ACT2_BAD_TAG');
  });

  it('invalid ephemeral key in act two', async () => {
    behave = (s, hs, act1) => {
      const act2 = hs.actOne(act1);
      act2[1] = 9;
      s.write(act2);
    };
    await dialExpecting('ACT2_BAD_PUBKEY');
  });

  it('a responder that hangs up after act one, or never answers', async () => {
    behave = (s) => s.destroy();
    await dialExpecting('ACT2_READ_FAILED');
    behave = (s, hs, act1) => s.write(hs.actOne(act1).subarray(0, 20));
    await dialExpecting('HANDSHAKE_TIMEOUT');
  });

  it('an invalid key to dial is refused before anything is sent', async () => {
    const sock = await rawSocket(port);
    await expect(connectNoise(sock, new Uint8Array(33), { localSecret: rand() })).rejects.toMatchObject({ code: 'BAD_REMOTE_KEY', message: /invalid public key/ });
    expect(sock.destroyed).toBe(true);
  });
});

describe('load', () => {
  it('200 connections opened at once against one listener all complete and exchange a message', async () => {
    const l = new Listener({});
    await l.listen();
    try {
      const clients = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const c = await connectNoise(await rawSocket(l.port), l.pub, { localSecret: rand() });
          const echo = new Promise<Uint8Array>((r) => c.once('message', r));
          c.send(Uint8Array.of(0, 16, i >> 8, i & 0xff));
          expect(await echo).toEqual(Uint8Array.of(0, 16, i >> 8, i & 0xff));
          return c;
        }),
      );
      expect(new Set(clients.map((c) => c.remoteAddress)).size).toBe(1);
      for (const c of clients) c.close('done');
    } finally {
      l.close();
    }
  });
});
