/**
 * Hostile input against a running node: every bad connection is closed with a logged reason, the
 * node stays up, and a well-behaved peer connected the whole time keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { closedWithin, evilClient, rawSocket } from '../helpers/attacker.ts';
import type { EvilClient } from '../helpers/attacker.ts';
import { waitFor } from '../helpers/daemon.ts';
import { InitiatorHandshake } from '../../core/transport/index.ts';
import { CHAIN_HASHES, encodeMessage, FeatureSet } from '../../core/wire/index.ts';
import { ourInitFeatures } from '../../core/node/features.ts';
import { secp } from '../../core/crypto/index.ts';

const FAST = {
  handshakeTimeoutMs: 500,
  partialMessageTimeoutMs: 500,
  timings: { initTimeoutMs: 800, pingIntervalMs: 150, pingTimeoutMs: 3_000 },
};

function goodInit(features = ourInitFeatures(), chain = CHAIN_HASHES.regtest): Uint8Array {
  return encodeMessage({ type: 'init', globalfeatures: new Uint8Array(0), features: features.toBytes(), tlvs: { networks: { chains: [chain] } } });
}

describe('hostile input suite', () => {
  let victim: TestNode;
  let friend: TestNode;
  let victimKey: Uint8Array;

  beforeAll(async () => {
    victim = await startTestNode('victim', FAST);
    friend = await startTestNode('friend', FAST);
    victimKey = hex.decode(victim.node.nodeId);
    await friend.node.peers.connect(victim.node.nodeId, '127.0.0.1', victim.port);
  });
  afterAll(async () => {
    await friend?.close();
    await victim?.close();
  });

  /** The friend is still connected and its pings are still answered after an attack. */
  async function friendStillWorks(): Promise<void> {
    const peer = friend.node.peers.get(victim.node.nodeId);
    expect(peer?.state).toBe('ready');
    const before = peer!.pongs;
    await waitFor('another pong from the victim', () => peer!.pongs > before || undefined, 5_000);
    expect(victim.node.peers.get(friend.node.nodeId)?.state).toBe('ready');
  }

  async function expectLogged(pattern: RegExp): Promise<void> {
    await waitFor(`a log line matching ${pattern}`, () => victim.logs.some((l) => pattern.test(l)) || undefined, 5_000);
  }

  it('garbage instead of act one', async () => {
    const s = await rawSocket(victim.port);
    s.write(Uint8Array.from([0, ...randomBytes(49)]));
    expect(await closedWithin(s, 3_000)).toBe(true);
    await expectLogged(/inbound handshake failed .*reason="act one/);
    await friendStillWorks();
  });

  it('wrong handshake version byte', async () => {
    const s = await rawSocket(victim.port);
    const act1 = new InitiatorHandshake(new Uint8Array(randomBytes(32)), victimKey).actOne();
    act1[0] = 1;
    s.write(act1);
    expect(await closedWithin(s, 3_000)).toBe(true);
    await expectLogged(/act one has an unknown handshake version/);
    await friendStillWorks();
  });

  it('bad MAC: an initiator that dialed the wrong node key', async () => {
    const s = await rawSocket(victim.port);
    s.write(new InitiatorHandshake(new Uint8Array(randomBytes(32)), secp.getPublicKey(new Uint8Array(randomBytes(32)))).actOne());
    expect(await closedWithin(s, 3_000)).toBe(true);
    await expectLogged(/act one failed authentication/);
    await friendStillWorks();
  });

  it('a truncated act, then silence', async () => {
    const s = await rawSocket(victim.port);
    s.write(new InitiatorHandshake(new Uint8Array(randomBytes(32)), victimKey).actOne().subarray(0, 20));
    expect(await closedWithin(s, 3_000)).toBe(true);
    await expectLogged(/the handshake did not finish in time/);
    await friendStillWorks();
  });

  it('garbage act three', async () => {
    const s = await rawSocket(victim.port);
    s.write(new InitiatorHandshake(new Uint8Array(randomBytes(32)), victimKey).actOne());
    await new Promise((r) => setTimeout(r, 50));
    s.write(Uint8Array.from([0, ...randomBytes(65)]));
    expect(await closedWithin(s, 3_000)).toBe(true);
    await expectLogged(/act three static key failed authentication/);
    await friendStillWorks();
  });

  async function afterHandshake(send: (c: EvilClient) => void, pattern: RegExp): Promise<void> {
    const c = await evilClient(victim.port, victimKey);
    send(c);
    expect(await closedWithin(c.socket, 3_000)).toBe(true);
    await expectLogged(pattern);
    await friendStillWorks();
  }

  it('a message before init', () => afterHandshake((c) => c.sendRaw(encodeMessage({ type: 'ping', num_pong_bytes: 1, ignored: new Uint8Array(0) })), /peer sent ping before init/));

  it('malformed init', () => afterHandshake((c) => c.sendRaw(Uint8Array.from([0, 16, 0, 5, 1])), /malformed init message: .*truncated/));

  it('init requiring a feature we do not have', () => afterHandshake((c) => c.sendRaw(goodInit(FeatureSet.fromBits([8, 12, 14, 100]))), /requires feature bit 100 \(unknown\)/));

  it('init for another chain', () => afterHandshake((c) => c.sendRaw(goodInit(undefined, CHAIN_HASHES.mainnet)), /peer is on a different chain/));

  it('no init at all', () => afterHandshake(() => undefined, /peer sent no init within/));

  it('unknown even message type after init; unknown odd is ignored', async () => {
    const c = await evilClient(victim.port, victimKey);
    c.sendRaw(goodInit());
    c.sendRaw(Uint8Array.from([0x80, 0x01, 1, 2, 3])); // odd: ignored
    await new Promise((r) => setTimeout(r, 200));
    expect(c.socket.destroyed).toBe(false);
    c.sendRaw(Uint8Array.from([0x80, 0x00, 1, 2, 3])); // even: fatal
    expect(await closedWithin(c.socket, 3_000)).toBe(true);
    await expectLogged(/peer sent unknown even message type 32768/);
    await friendStillWorks();
  });

  it('a tampered length MAC', () =>
    afterHandshake((c) => {
      c.sendRaw(goodInit());
      const frame = c.enc.encrypt(encodeMessage({ type: 'ping', num_pong_bytes: 1, ignored: new Uint8Array(0) }));
      frame[3]! ^= 1;
      c.socket.write(frame);
    }, /a message length failed authentication/));

  it('a length prefix promising more than ever arrives (a stall mid-message)', () =>
    afterHandshake((c) => {
      c.sendRaw(goodInit());
      // A maximal 65535-byte message, of which only the length and a few bytes are sent.
      const frame = c.enc.encrypt(new Uint8Array(65535));
      c.socket.write(frame.subarray(0, 100));
    }, /stopped in the middle of a message/));

  it('a peer that floods pings and never reads the pongs: we stop reading from it, memory stays bounded', async () => {
    const c = await evilClient(victim.port, victimKey);
    c.sendRaw(goodInit());
    c.socket.pause(); // never read what the victim sends
    const ping = encodeMessage({ type: 'ping', num_pong_bytes: 60_000, ignored: new Uint8Array(0) });
    for (let i = 0; i < 3000; i++) c.sendRaw(ping); // asks for ~180 MB of pongs
    await expectLogged(/pausing reads from it/);
    const evilId = [...victim.node.peers.list()].find((p) => p.pubkey !== friend.node.nodeId && p.inbound && p.state === 'ready');
    expect(evilId).toBeDefined();
    // What we sent it is bounded by the socket buffers, far below what it asked for.
    expect(Number(evilId!.bytesSent)).toBeLessThan(60_000_000);
    await friendStillWorks();
    c.socket.destroy();
  });

  it('200 connections at once: garbage and good ones mixed; the node serves them all and stays up', async () => {
    const garbage = await Promise.all(Array.from({ length: 150 }, () => rawSocket(victim.port)));
    for (const s of garbage) s.write(randomBytes(50));
    const good = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const c = await evilClient(victim.port, victimKey);
        c.sendRaw(goodInit());
        return c;
      }),
    );
    const closed = await Promise.all(garbage.map((s) => closedWithin(s, 10_000)));
    expect(closed.every(Boolean)).toBe(true);
    await waitFor('50 well-behaved clients to be ready peers', () => victim.node.peerView().length >= 51 || undefined, 10_000);
    for (const c of good) c.socket.destroy();
    await waitFor('the clients to be gone', () => victim.node.peerView().length === 1 || undefined, 10_000);
    await friendStillWorks();
  });
});
