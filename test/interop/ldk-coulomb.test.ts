/**
 * Coulomb against LDK, an implementation nobody here wrote, over real TCP on 127.0.0.1:
 * BOLT 8 handshake both ways, BOLT 1 init with feature negotiation, ping/pong, clean disconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { featureBits } from './ldk/features.ts';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import { ourInitFeatures } from '../../core/node/features.ts';

describe('Coulomb ↔ LDK', () => {
  let ldk: LdkNode;
  let ldkPort: number;
  let us: TestNode;

  beforeAll(async () => {
    ldk = await startLdkNode({ alias: 'ldk', timers: false });
    ldkPort = await ldk.listen(0, '127.0.0.1');
    us = await startTestNode('coulomb-ldk', { timings: { pingIntervalMs: 200, pingTimeoutMs: 5_000 } });
  });
  afterAll(async () => {
    await us?.close();
    await ldk?.stop();
  });

  it('we dial LDK: handshake, init, both sides list each other with the features the other announced', async () => {
    const peer = await us.node.peers.connect(ldk.nodeId, '127.0.0.1', ldkPort);
    expect(peer.state).toBe('ready');
    await ldk.waitForPeer(us.node.nodeId);
    // LDK saw exactly the features we announced.
    expect(featureBits(ldk.peerInitFeatures(us.node.nodeId)!)).toEqual(featureBits(ourInitFeatures().toBytes()));
    // We saw exactly LDK's.
    expect(featureBits(peer.features!.toBytes())).toEqual(featureBits(ldk.ownInitFeatures()));
    const view = us.node.peerView();
    expect(view).toHaveLength(1);
    expect(view[0]).toMatchObject({ pub_key: ldk.nodeId, inbound: false, address: `127.0.0.1:${ldkPort}` });
  });

  it('ping/pong both ways: LDK answers our pings, and we answer LDK\'s', async () => {
    const peer = us.node.peers.get(ldk.nodeId)!;
    // Our pings (every 200 ms here) must be answered with the right pong length, or we would disconnect.
    await waitFor('a measured ping round trip', () => peer.pingTimeMicros > 0 || undefined);
    // LDK drops a peer that sent nothing between two of its ticks; each tick sends a ping we must answer.
    for (let i = 0; i < 3; i++) {
      ldk.tick();
      await new Promise((r) => setTimeout(r, 300));
      expect(ldk.listPeers()).toContain(us.node.nodeId);
    }
    expect(peer.state).toBe('ready');
  });

  it('we disconnect cleanly and LDK sees it', async () => {
    expect(us.node.peers.disconnect(ldk.nodeId)).toBe(true);
    await ldk.waitForPeerGone(us.node.nodeId);
    expect(us.node.peerView()).toHaveLength(0);
  });

  it('LDK dials us: handshake, init, both sides list each other', async () => {
    await ldk.connect(us.node.nodeId, '127.0.0.1', us.port);
    const peer = await waitFor('LDK to be listed as an inbound peer', () => {
      const p = us.node.peers.get(ldk.nodeId);
      return p && p.state === 'ready' ? p : undefined;
    });
    expect(peer.inbound).toBe(true);
    expect(featureBits(peer.features!.toBytes())).toEqual(featureBits(ldk.ownInitFeatures()));
    await waitFor('a ping answered by LDK', () => peer.pingTimeMicros > 0 || undefined);
  });

  it('LDK disconnects and we see it with a reason', async () => {
    ldk.disconnect(us.node.nodeId);
    await waitFor('the peer to be gone', () => (us.node.peers.get(ldk.nodeId) === undefined ? true : undefined));
    expect(us.logs.some((l) => l.includes('peer disconnected') && l.includes(ldk.nodeId))).toBe(true);
  });

  it('a persistent peer is reconnected after LDK drops it', async () => {
    const fast = await startTestNode('coulomb-perm', { backoff: { initialMs: 100, maxMs: 1_000 } });
    try {
      await fast.node.peers.connect(ldk.nodeId, '127.0.0.1', ldkPort, { perm: true });
      await ldk.waitForPeer(fast.node.nodeId);
      ldk.disconnect(fast.node.nodeId);
      await ldk.waitForPeerGone(fast.node.nodeId);
      await ldk.waitForPeer(fast.node.nodeId, 10_000);
      expect(fast.logs.some((l) => l.includes('will reconnect to persistent peer'))).toBe(true);
    } finally {
      await fast.close();
    }
  });
});
