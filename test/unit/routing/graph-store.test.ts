/**
 * The channel graph in the node's store: a round trip of a synthetic graph (every channel, policy and
 * node read back exactly, after the store is closed and opened again), saves that rewrite only the
 * buckets that changed, and a damaged record reported so the graph can be dropped and learnt again.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../../core/store/errors.ts';
import { clearGraph, GRAPH_NS, loadGraph, markAllDirty, saveGraph } from '../../../core/routing/graph-store.ts';
import type { Graph } from '../../../core/routing/graph.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';
import { buildGraph, syntheticGraph } from '../../helpers/synthetic-graph.ts';
import type { SyntheticGraph } from '../../helpers/synthetic-graph.ts';

/** Every channel and node view as one line of text (bytes in hex, bigints in decimal), in id order. */
function snapshot(g: Graph, s: SyntheticGraph): string[] {
  const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
  const ids = [...g.channelIds()].sort((a, b) => (a < b ? -1 : 1));
  return [...ids.map((id) => text(g.channel(id))), ...s.nodes.map((n) => text(g.node(n.pub) ?? null))];
}

function expectSameGraph(a: Graph, b: Graph, s: SyntheticGraph): void {
  expect(b.channelCount).toBe(a.channelCount);
  expect(b.nodeCount).toBe(a.nodeCount);
  expect(snapshot(b, s)).toEqual(snapshot(a, s));
}

describeEachKvBackend(
  'channel graph on the $name store',
  (backend) => {
    let dir: string;
    let kv: KvStore;
    beforeEach(async () => {
      dir = await tempDir('graph');
      kv = await backend.open(dir);
    });
    afterEach(async () => {
      await kv.close().catch(() => undefined);
      await removeDir(dir);
    });

    it('reads back every channel, policy and node exactly, after the store is opened again', async () => {
      const s = syntheticGraph({ nodes: 1500, channels: 7000, seed: 3 });
      const g = buildGraph(s);
      // Some removals first, so the stored slots have holes the load must keep.
      for (const c of s.channels.slice(0, 300)) g.removeChannel(c.scid);
      g.markFundingSpent(s.channels[400]!.scid, 810_000);
      expect(await saveGraph(kv, g)).toBe(512);
      if (backend.persistent) {
        await kv.close();
        kv = await backend.open(dir);
      }
      const back = await loadGraph(kv);
      expectSameGraph(g, back, s);
      expect(back.channel(s.channels[400]!.scid)!.spentAtHeight).toBe(810_000);
      expect([back.nodeHigh, back.chanHigh]).toEqual([g.nodeHigh, g.chanHigh]);
      // The slots freed before the save are taken again after the load, not new ones.
      const spare = s.channels[0]!;
      back.addChannel({ ok: true, scid: spare.scid, node1: s.nodes[spare.node1]!.pub, node2: s.nodes[spare.node2]!.pub, bitcoinKey1: new Uint8Array(33), bitcoinKey2: new Uint8Array(33), features: new Uint8Array(0), routable: true }, { now: s.now });
      expect(back.chanHigh).toBe(g.chanHigh);
    });

    it('rewrites only the buckets that changed, in one write', async () => {
      const s = syntheticGraph({ nodes: 300, channels: 1200, seed: 4 });
      const g = buildGraph(s);
      const watched = new WatchedKvStore(kv);
      await saveGraph(watched, g);
      expect(await saveGraph(watched, g)).toBe(0);
      expect(watched.writes.length).toBe(1);
      const c = s.channels[50]!;
      const p = g.policy(c.scid, 1) ?? g.policy(c.scid, 0)!;
      const dir = g.policy(c.scid, 1) ? 1 : 0;
      expect(g.applyChannelUpdate({ ok: true, scid: c.scid, direction: dir, policy: { ...p, timestamp: p.timestamp + 1, feeBaseMsat: 4242, htlcMinimumMsat: 2n ** 53n + 1n, htlcMaximumMsat: 2n ** 64n - 2n }, forward: true })).toBe(true);
      expect(await saveGraph(watched, g)).toBe(1);
      const last = watched.writes.at(-1)!;
      expect(last.ops.map((o) => o.key)).toEqual([expect.stringMatching(/^c-\d{3}$/), 'meta']);
      // u64 amounts beyond a double's precision come back exact.
      expect((await loadGraph(kv)).policy(c.scid, dir)).toMatchObject({ feeBaseMsat: 4242, htlcMinimumMsat: 2n ** 53n + 1n, htlcMaximumMsat: 2n ** 64n - 2n });
      // A channel removed with the last channel of a node: its channel bucket and that node's bucket.
      const before = g.nodeCount;
      const victim = s.channels.find((x) => g.node(s.nodes[x.node1]!.pub)!.channels.length === 1);
      if (victim) {
        g.removeChannel(victim.scid);
        expect(g.nodeCount).toBe(before - 1);
        await saveGraph(watched, g);
        expect(watched.writes.at(-1)!.ops.map((o) => o.key[0])).toEqual(expect.arrayContaining(['n', 'c', 'm']));
        expect((await loadGraph(kv)).node(s.nodes[victim.node1]!.pub)).toBeUndefined();
      }
    });

    it('stores an empty graph as nothing, and an emptied bucket as a deleted record', async () => {
      expect((await loadGraph(kv)).channelCount).toBe(0);
      const s = syntheticGraph({ nodes: 4, channels: 3, seed: 5 });
      const g = buildGraph(s);
      await saveGraph(kv, g);
      for (const c of s.channels) g.removeChannel(c.scid);
      await saveGraph(kv, g);
      expect((await kv.range(GRAPH_NS)).map((r) => r.key)).toEqual(['meta']);
      const back = await loadGraph(kv);
      expect([back.channelCount, back.nodeCount]).toEqual([0, 0]);
    });

    it('reports a damaged record as corrupt, and the graph can be dropped and learnt again', async () => {
      const s = syntheticGraph({ nodes: 50, channels: 100, seed: 6 });
      const g = buildGraph(s);
      await saveGraph(kv, g);
      const rec = (await kv.range(GRAPH_NS, { prefix: 'c-' }))[0]!;
      await kv.write([{ type: 'put', ns: GRAPH_NS, key: rec.key, value: rec.value.subarray(0, rec.value.length - 3) }]);
      const err = await loadGraph(kv).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'corrupt', message: expect.stringContaining('learnt again from gossip') });
      await clearGraph(kv);
      expect((await loadGraph(kv)).channelCount).toBe(0);
      markAllDirty(g);
      await saveGraph(kv, g);
      expectSameGraph(g, await loadGraph(kv), s);
    });
  },
  { backends: ['memory', 'embedded'] },
);
