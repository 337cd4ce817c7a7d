/**
 * Proves the LDK harness before it is pointed at our node: two real LDK nodes in this process talk
 * over loopback TCP (BOLT 8 handshake, BOLT 1 init and ping/pong all done by LDK itself), and a
 * probe node with a chosen `init` shows what LDK 0.1 accepts from a peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ldk from 'lightningdevkit';
import { startLdkNode, REGTEST_GENESIS_HASH } from './ldk/node.ts';
import type { LdkNode, LdkNodeOptions } from './ldk/node.ts';
import { featureBits, wireFromBits } from './ldk/features.ts';

const LOOPBACK = '127.0.0.1';
const MAINNET_GENESIS = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
/** Chain hashes travel in internal byte order, the reverse of how bitcoind displays them. */
const chainHash = (display: string) => Uint8Array.from(Buffer.from(display, 'hex')).reverse();

const running: LdkNode[] = [];
async function node(opts: LdkNodeOptions = {}): Promise<LdkNode> {
  const n = await startLdkNode({ timers: false, logLevel: 'trace', ...opts });
  running.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

function count(n: LdkNode, re: RegExp): number {
  return n.logs.filter((l) => re.test(l)).length;
}
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LDK harness over loopback TCP', () => {
  it('uses the regtest genesis in the byte order LDK expects', async () => {
    await node(); // loads the wasm module
    const fromLdk = ldk.BestBlock.constructor_from_network(ldk.Network.LDKNetwork_Regtest).get_block_hash();
    expect(Buffer.from(fromLdk).toString('hex')).toBe(Buffer.from(chainHash(REGTEST_GENESIS_HASH)).toString('hex'));
  });

  it('connects both ways, answers pings across ticks, and disconnects', async () => {
    const a = await node({ alias: 'A', seed: new Uint8Array(32).fill(1) });
    const b = await node({ alias: 'B', seed: new Uint8Array(32).fill(2) });
    expect(a.nodeId).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(a.nodeId).not.toBe(b.nodeId);

    // A dials B.
    const portB = await b.listen();
    await a.connect(b.nodeId, LOOPBACK, portB);
    await b.waitForPeer(a.nodeId);
    expect(a.listPeers()).toEqual([b.nodeId]);
    expect(b.listPeers()).toEqual([a.nodeId]);

    // Each side saw exactly the features the other one announces.
    expect(b.peerInitFeatures(a.nodeId)).toEqual(a.ownInitFeatures());
    expect(a.peerInitFeatures(b.nodeId)).toEqual(b.ownInitFeatures());
    expect(featureBits(a.ownInitFeatures())).toEqual(expect.arrayContaining([0, 8, 12, 14]));
    expect(a.peerInitFeatures(a.nodeId)).toBeUndefined();

    // Each tick sends a ping; a peer that has not been heard from since the previous tick is
    // dropped, so staying connected over several rounds means the pongs came back.
    for (let round = 1; round <= 3; round++) {
      a.tick();
      b.tick();
      await until(
        () => count(a, /Received message Pong/) >= round && count(b, /Received message Pong/) >= round,
        `pongs of round ${round}`,
      );
    }
    a.tick();
    b.tick();
    expect(a.listPeers()).toEqual([b.nodeId]);
    expect(b.listPeers()).toEqual([a.nodeId]);

    a.disconnect(b.nodeId);
    await a.waitForPeerGone(b.nodeId);
    await b.waitForPeerGone(a.nodeId);
    expect(a.listPeers()).toEqual([]);

    // B dials A.
    const portA = await a.listen();
    await b.connect(a.nodeId, LOOPBACK, portA);
    await a.waitForPeer(b.nodeId);
    expect(b.listPeers()).toEqual([a.nodeId]);
    expect(a.listPeers()).toEqual([b.nodeId]);

    b.disconnect(a.nodeId);
    await b.waitForPeerGone(a.nodeId);
    await a.waitForPeerGone(b.nodeId);
  });

  it('drops a peer that stays silent between two ticks', async () => {
    const a = await node({ alias: 'A' });
    const b = await node({ alias: 'B' });
    await a.connect(b.nodeId, LOOPBACK, await b.listen());
    await b.waitForPeer(a.nodeId);
    // The second tick comes before B's pong can possibly have arrived.
    a.tick();
    a.tick();
    expect(a.listPeers()).toEqual([]);
    await b.waitForPeerGone(a.nodeId);
    expect(a.logs.some((l) => l.includes('ping/handshake timeout'))).toBe(true);
  });

  it('flushes ChannelManager messages to peers on its own (open_channel reaches the peer)', async () => {
    const a = await node({ alias: 'A' });
    const b = await node({ alias: 'B' });
    await a.connect(b.nodeId, LOOPBACK, await b.listen());
    const res = a.channelManager.create_channel(Buffer.from(b.nodeId, 'hex'), 100_000n, 0n, 0n, null, null);
    expect(res).toBeInstanceOf(ldk.Result_ChannelIdAPIErrorZ_OK);
    // No processEvents() here: the ChannelManager's wake-up future must trigger the flush.
    await until(() => count(b, /Received message OpenChannel/) === 1, 'open_channel at B');
    await until(() => count(a, /Received message AcceptChannel/) === 1, 'accept_channel at A');
  });

  it('rejects malformed node ids before they reach LDK', async () => {
    const a = await node();
    const b = await node();
    const port = await b.listen();
    await expect(a.connect('02' + 'ff'.repeat(32), LOOPBACK, port)).rejects.toThrow(/not a point/);
    await expect(a.connect('04' + '11'.repeat(32), LOOPBACK, port)).rejects.toThrow(/compressed/);
    expect(() => a.disconnect('zz')).toThrow(/compressed/);
    // The module is still alive.
    await a.connect(b.nodeId, LOOPBACK, port);
    expect(a.listPeers()).toEqual([b.nodeId]);
  });
});

describe('what LDK 0.1 accepts in a peer init', () => {
  const ownBits = [0, 5, 8, 12, 14, 17, 19, 25, 27, 45, 47, 51];

  async function tryInit(
    initOverride: NonNullable<LdkNodeOptions['initOverride']>,
  ): Promise<{ accepted: boolean; judgeLogs: string[] }> {
    const judge = await node({ alias: 'judge', logLevel: 'debug' });
    const probe = await node({ alias: 'probe', logLevel: 'warn', initOverride });
    const accepted = await probe.connect(judge.nodeId, LOOPBACK, await judge.listen(), 3000).then(
      () => judge.listPeers().includes(probe.nodeId),
      () => false,
    );
    return { accepted, judgeLogs: judge.logs };
  }

  it('sends exactly these init features', async () => {
    const a = await node();
    expect(featureBits(a.ownInitFeatures())).toEqual(ownBits);
  });

  it('accepts only the odd bits of what it requires, with or without a networks TLV', async () => {
    expect((await tryInit({ features: wireFromBits([1, 9, 13, 15]), networks: null })).accepted).toBe(true);
    expect((await tryInit({ networks: [chainHash(MAINNET_GENESIS), chainHash(REGTEST_GENESIS_HASH)] })).accepted).toBe(
      true,
    );
    expect((await tryInit({ features: wireFromBits([...ownBits, 101]) })).accepted).toBe(true);
  });

  it.each([
    [0, 1],
    [8, 9],
    [12, 13],
    [14, 15],
  ])('rejects a peer that supports neither bit %i nor %i', async (even, odd) => {
    const { accepted, judgeLogs } = await tryInit({
      features: wireFromBits(ownBits.filter((b) => b !== even && b !== odd)),
    });
    expect(accepted).toBe(false);
    expect(judgeLogs.some((l) => l.includes('We require features unknown to our peer') && l.endsWith(`[${even}]`))).toBe(
      true,
    );
  });

  it('rejects unknown required bits and foreign-only networks', async () => {
    const unknown = await tryInit({ features: wireFromBits([...ownBits, 100]) });
    expect(unknown.accepted).toBe(false);
    expect(unknown.judgeLogs.some((l) => l.includes('requires features unknown to us: [100]'))).toBe(true);

    const mainnet = await tryInit({ networks: [chainHash(MAINNET_GENESIS)] });
    expect(mainnet.accepted).toBe(false);
    expect(mainnet.judgeLogs.some((l) => l.includes('Peer does not support any of our supported chains'))).toBe(true);
  });
});
