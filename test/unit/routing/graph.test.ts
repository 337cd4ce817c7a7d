/**
 * The in-memory channel graph: signed gossip checked and applied end to end (the graph as the checks'
 * view), direction bits, stale and duplicate updates, channels leaving when their funding is spent,
 * two-week pruning, and nodes leaving with their last channel.
 */
import { describe, expect, it } from 'vitest';
import { FundingChecks } from '../../../core/gossip/funding-check.ts';
import { validateChannelAnnouncement, validateChannelUpdate, validateNodeAnnouncement, STALE_AFTER_SECONDS } from '../../../core/gossip/validate.ts';
import type { AcceptedChannelAnnouncement, GossipContext } from '../../../core/gossip/validate.ts';
import { Graph, SPENT_FORGET_DEPTH } from '../../../core/routing/graph.ts';
import { fundingScript, p2wsh } from '../../../core/tx/scripts.ts';
import { decodeMessage, scidFromParts } from '../../../core/wire/index.ts';
import type { ChannelAnnouncementMessage, ChannelUpdateMessage, NodeAnnouncementMessage } from '../../../core/wire/index.ts';
import { REGTEST, announce, nodeAnnouncement, testChannel, testKey, update } from '../../helpers/gossip.ts';
import type { TestChannel } from '../../helpers/gossip.ts';
import { buildGraph, signedGossip, syntheticGraph } from '../../helpers/synthetic-graph.ts';

const NOW = 1_700_000_000;
const scid = (n: number): bigint => scidFromParts({ block: 600_000 + n, tx: 1, output: 0 });

function ctx(g: Graph, now = NOW): GossipContext {
  return { chainHash: REGTEST, view: g, now };
}

/** Announces a test channel into the graph through the checks. */
function addChannel(g: Graph, c: TestChannel, now = NOW): void {
  const r = validateChannelAnnouncement(announce(c), ctx(g, now));
  if (!r.ok) throw new Error(r.message);
  expect(g.addChannel(r, { capacitySat: 1_000_000n, now })).toBe(true);
}

function applyUpdate(g: Graph, c: TestChannel, direction: 0 | 1, timestamp: number, now = NOW, fee = 1000): ReturnType<typeof validateChannelUpdate> {
  const r = validateChannelUpdate(update(c, direction, { timestamp, feeBaseMsat: fee }), ctx(g, now));
  if (r.ok) expect(g.applyChannelUpdate(r)).toBe(true);
  return r;
}

describe('graph from checked gossip', () => {
  it('builds from signed gossip through the checks and the funding lookup the same graph as the synthetic description', async () => {
    const s = syntheticGraph({ nodes: 60, channels: 240, seed: 7 });
    const { messages, fundingKeys } = signedGossip(s);
    const checks = new FundingChecks(async (id) => {
      const f = fundingKeys.get(id);
      return f ? { kind: 'unspent', script: p2wsh(fundingScript(f.key1, f.key2)), valueSat: f.capacitySat } : { kind: 'missing' };
    });
    const g = new Graph();
    const refused: string[] = [];
    for (const raw of messages) {
      const d = decodeMessage(raw);
      if (d.kind !== 'known') throw new Error('unknown message');
      const m = d.message;
      const c = ctx(g, s.now);
      if (m.type === 'channel_announcement') {
        const r = validateChannelAnnouncement({ message: m as ChannelAnnouncementMessage, raw }, c);
        if (!r.ok) refused.push(r.message);
        else {
          const f = await checks.check(r.scid, r.bitcoinKey1, r.bitcoinKey2);
          if (!f.ok) refused.push(f.message);
          else g.addChannel(r, { capacitySat: f.capacitySat, now: s.now });
        }
      } else if (m.type === 'channel_update') {
        const r = validateChannelUpdate({ message: m as ChannelUpdateMessage, raw }, c);
        if (r.ok) g.applyChannelUpdate(r);
        else refused.push(r.message);
      } else if (m.type === 'node_announcement') {
        const r = validateNodeAnnouncement({ message: m as NodeAnnouncementMessage, raw }, c);
        if (r.ok) g.applyNodeAnnouncement(r);
        else refused.push(r.message);
      }
    }
    expect(refused).toEqual([]);
    const want = buildGraph(s);
    expect(g.channelCount).toBe(240);
    expect(g.nodeCount).toBe(want.nodeCount);
    for (const id of want.channelIds()) expect(g.channel(id)).toEqual(want.channel(id));
    for (const n of s.nodes) expect(g.node(n.pub)).toEqual(want.node(n.pub));
    // What the node announcements said, readable.
    const announced = s.nodes.find((n) => n.announcement)!;
    expect(g.node(announced.pub)).toMatchObject({ alias: expect.stringMatching(/^node-\d+$/), addresses: [{ type: 'ipv4', port: 9735 }] });
  });
});

describe('channel updates', () => {
  const c = testChannel(scid(1), 'alice', 'bob');

  it('keeps each direction apart, by the direction bit', () => {
    const g = new Graph();
    addChannel(g, c);
    expect(g.channel(c.scid)!.policies).toEqual([undefined, undefined]);
    expect(applyUpdate(g, c, 1, NOW - 10, NOW, 11)).toMatchObject({ ok: true });
    expect(g.channel(c.scid)!.policies).toEqual([undefined, expect.objectContaining({ feeBaseMsat: 11, channelFlags: 1 })]);
    expect(applyUpdate(g, c, 0, NOW - 20, NOW, 22)).toMatchObject({ ok: true });
    const [p0, p1] = g.channel(c.scid)!.policies;
    expect([p0!.feeBaseMsat, p1!.feeBaseMsat]).toEqual([22, 11]);
    expect(g.policy(c.scid, 0)).toEqual(p0);
  });

  it('takes a newer update, and neither an older one nor the same one again', () => {
    const g = new Graph();
    addChannel(g, c);
    applyUpdate(g, c, 0, NOW - 100, NOW, 1);
    expect(applyUpdate(g, c, 0, NOW - 200, NOW, 2)).toMatchObject({ ok: false, reason: 'stale' });
    expect(applyUpdate(g, c, 0, NOW - 100, NOW, 1)).toMatchObject({ ok: false, reason: 'duplicate' });
    expect(applyUpdate(g, c, 0, NOW - 50, NOW, 3)).toMatchObject({ ok: true });
    expect(g.policy(c.scid, 0)).toMatchObject({ timestamp: NOW - 50, feeBaseMsat: 3 });
    // Two copies checked against the same state, the newer applied first: the older one does not undo it.
    const older = validateChannelUpdate(update(c, 0, { timestamp: NOW - 40, feeBaseMsat: 4 }), ctx(g));
    const newer = validateChannelUpdate(update(c, 0, { timestamp: NOW - 30, feeBaseMsat: 5 }), ctx(g));
    if (!older.ok || !newer.ok) throw new Error('both should pass the checks');
    expect(g.applyChannelUpdate(newer)).toBe(true);
    expect(g.applyChannelUpdate(older)).toBe(false);
    expect(g.policy(c.scid, 0)).toMatchObject({ feeBaseMsat: 5 });
  });

  it('takes a node_announcement only for a node some channel names, and only a newer one', () => {
    const g = new Graph();
    const a = c.node1;
    expect(validateNodeAnnouncement(nodeAnnouncement(a, { timestamp: NOW }), ctx(g))).toMatchObject({ ok: false, reason: 'unknown_node' });
    addChannel(g, c);
    expect(g.nodeTimestamp(a.pub)).toBe(0);
    const r = validateNodeAnnouncement(nodeAnnouncement(a, { timestamp: NOW, alias: 'first' }), ctx(g));
    if (!r.ok) throw new Error(r.message);
    expect(g.applyNodeAnnouncement(r)).toBe(true);
    expect(g.applyNodeAnnouncement(r)).toBe(false);
    expect(g.node(a.pub)).toMatchObject({ alias: 'first', timestamp: NOW, channels: [c.scid] });
    expect(validateNodeAnnouncement(nodeAnnouncement(a, { timestamp: NOW, alias: 'again' }), ctx(g))).toMatchObject({ ok: false, reason: 'stale' });
  });
});

describe('channels leaving the graph', () => {
  it('removes a channel 12 blocks after its funding is spent, and no sooner; a reorg takes the spend back', () => {
    const g = new Graph();
    const c1 = testChannel(scid(1), 'alice', 'bob');
    const c2 = testChannel(scid(2), 'bob', 'carol');
    addChannel(g, c1);
    addChannel(g, c2);
    expect(g.markFundingSpent(c1.scid, 800_000)).toBe(true);
    expect(g.channel(c1.scid)!.spentAtHeight).toBe(800_000);
    expect(g.forgetSpent(800_000 + SPENT_FORGET_DEPTH - 2)).toEqual([]);
    expect(g.forgetSpent(800_000 + SPENT_FORGET_DEPTH - 1)).toEqual([c1.scid]);
    expect(g.hasChannel(c1.scid)).toBe(false);
    // Alice had only that channel: she is gone too; Bob stays with his other one.
    expect(g.node(testKey('alice').pub)).toBeUndefined();
    expect(g.node(testKey('bob').pub)).toMatchObject({ channels: [c2.scid] });
    expect(g.nodeCount).toBe(2);
    expect(g.markFundingSpent(c2.scid, 800_001)).toBe(true);
    expect(g.markFundingUnspent(c2.scid)).toBe(true);
    expect(g.forgetSpent(900_000)).toEqual([]);
    expect(g.channelCount).toBe(1);
  });

  it('prunes a channel whose older direction is two weeks old, counting a direction never updated from the announcement', () => {
    const g = new Graph();
    const fresh = testChannel(scid(1), 'a', 'b');
    const oneSideOld = testChannel(scid(2), 'a', 'c');
    const neverUpdated = testChannel(scid(3), 'd', 'e');
    const oneSideOnly = testChannel(scid(4), 'a', 'f');
    const t0 = NOW - STALE_AFTER_SECONDS + 1000;
    for (const c of [fresh, oneSideOld, neverUpdated, oneSideOnly]) addChannel(g, c, t0);
    for (const d of [0, 1] as const) applyUpdate(g, fresh, d, t0 + 900, t0);
    applyUpdate(g, oneSideOld, 0, t0 + 900, t0);
    applyUpdate(g, oneSideOld, 1, t0 + 10, t0);
    applyUpdate(g, oneSideOnly, 0, t0 + 2000, t0);
    // At NOW + 1100 the cutoff is t0 + 100: everything older than that goes.
    expect(g.pruneStale(NOW + 1000)).toEqual([]);
    const gone = g.pruneStale(NOW + 1100);
    expect(new Set(gone)).toEqual(new Set([oneSideOld.scid, neverUpdated.scid, oneSideOnly.scid]));
    expect([...g.channelIds()]).toEqual([fresh.scid]);
    // d and e had only the pruned channel; c and f too.
    expect(g.nodeCount).toBe(2);
    expect(g.pruneStale(NOW + 1100)).toEqual([]);
  });

  it('reuses the slots of removed channels and nodes, and finds everything by id afterwards', () => {
    const g = new Graph({ nodes: 16, channels: 16 });
    const chans = Array.from({ length: 40 }, (_, i) => testChannel(scid(i), `n${i}`, `m${i}`));
    for (const c of chans) addChannel(g, c);
    for (const c of chans.slice(0, 20)) expect(g.removeChannel(c.scid)).toBe(true);
    expect(g.removeChannel(chans[0]!.scid)).toBe(false);
    const more = Array.from({ length: 20 }, (_, i) => testChannel(scid(100 + i), `p${i}`, `q${i}`));
    for (const c of more) addChannel(g, c);
    expect(g.chanHigh).toBe(40);
    expect(g.nodeHigh).toBe(80);
    expect(g.channelCount).toBe(40);
    for (const c of [...chans.slice(20), ...more]) expect(g.channel(c.scid)).toMatchObject({ node1: c.node1.pub, node2: c.node2.pub, capacitySat: 1_000_000n });
    for (const c of chans.slice(0, 20)) expect(g.node(c.node1.pub)).toBeUndefined();
  });

  it('keeps a channel with an unknown even feature bit, marked not routable', () => {
    const g = new Graph();
    const c = testChannel(scid(1), 'alice', 'bob');
    const features = Uint8Array.of(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const r = validateChannelAnnouncement(announce(c, { features }), ctx(g)) as AcceptedChannelAnnouncement;
    g.addChannel(r, { now: NOW });
    expect(g.channel(c.scid)).toMatchObject({ routable: false, features, capacitySat: undefined });
  });
});
