/**
 * The channel graph at mainnet size (the synthetic graph of test/helpers/synthetic-graph.ts: 15,000
 * nodes, 70,000 channels, seed 1) in the embedded store: how long a node takes to read it back at
 * start, how much memory it holds, and what a save writes. The reference, measured in the same run on
 * the same store: the same graph kept as one JSON file beside the store (the form the graph must not take: too big
 * for one store record, and rewritten whole on each change), read back and parsed. Load times are medians of
 * 5 rounds, the side going first alternating. Ratios are ours over the reference: below 1 is faster.
 * The last line is for scripts: `graph load vs json: <ratio>x`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRAPH_NS, loadGraph, saveGraph } from '../../core/routing/graph-store.ts';
import type { Graph } from '../../core/routing/graph.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import { kvJson } from '../../core/store/kv/types.ts';
import type { KvStore } from '../../core/store/kv/types.ts';
import { buildGraph, syntheticGraph } from '../helpers/synthetic-graph.ts';
import type { SyntheticGraph } from '../helpers/synthetic-graph.ts';
import { table } from './harness.ts';

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The reference document: every channel and node as a plain object, the way a JSON store would keep them. */
function asDocument(g: Graph, s: SyntheticGraph): unknown {
  return {
    channels: [...g.channelIds()].map((id) => g.channel(id)),
    nodes: s.nodes.map((n) => g.node(n.pub)).filter((n) => n !== undefined),
  };
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coulomb-bench-graph-'));
  const quiet = { log: () => undefined };
  try {
    let t = performance.now();
    const s = syntheticGraph();
    const g = buildGraph(s);
    const buildMs = performance.now() - t;

    let kv: KvStore = await openKvStore({ backend: 'embedded', dir }, quiet);
    t = performance.now();
    await saveGraph(kv, g);
    const saveMs = performance.now() - t;
    const storedBytes = (await kv.range(GRAPH_NS)).reduce((n, r) => n + r.value.length, 0);
    const doc = kvJson.encode(asDocument(g, s));
    const docPath = join(dir, 'graph.json');
    await writeFile(docPath, doc);

    // 100 updates spread over the graph, then the save that follows them.
    for (const c of s.channels.filter((_, i) => i % 700 === 0)) {
      const p = g.policy(c.scid, 0);
      if (p) g.applyChannelUpdate({ ok: true, scid: c.scid, direction: 0, policy: { ...p, timestamp: p.timestamp + 60 }, forward: true });
    }
    t = performance.now();
    const buckets = await saveGraph(kv, g);
    const incrementalMs = performance.now() - t;
    await kv.close();

    const ours: number[] = [];
    const ref: number[] = [];
    // CPU time too: on a shared machine the wall clock also counts the time others had the cores.
    const oursCpu: number[] = [];
    const refCpu: number[] = [];
    let heldBytes = 0;
    let loaded: Graph | undefined;
    for (let round = 0; round < 5; round++) {
      for (const side of round % 2 === 0 ? ['ours', 'ref'] : ['ref', 'ours']) {
        kv = await openKvStore({ backend: 'embedded', dir }, quiet);
        const before = memory();
        t = performance.now();
        const cpu = process.cpuUsage();
        const cpuMs = (): number => {
          const d = process.cpuUsage(cpu);
          return (d.user + d.system) / 1000;
        };
        if (side === 'ours') {
          loaded = await loadGraph(kv);
          ours.push(performance.now() - t);
          oursCpu.push(cpuMs());
          heldBytes = memory() - before;
          if (loaded.channelCount !== g.channelCount || loaded.nodeCount !== g.nodeCount) throw new Error('the graph did not read back whole');
        } else {
          const parsed = kvJson.decode<{ channels: unknown[] }>(await readFile(docPath));
          ref.push(performance.now() - t);
          refCpu.push(cpuMs());
          if (parsed.channels.length !== g.channelCount) throw new Error('the reference document did not read back whole');
        }
        await kv.close();
      }
      loaded = undefined;
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const oursMs = median(ours);
    const refMs = median(ref);
    table(`Channel graph, ${g.nodeCount.toLocaleString('en')} nodes and ${g.channelCount.toLocaleString('en')} channels, embedded store`, [
      ['', 'graph', 'one JSON file', 'ratio'],
      ['load at start (ms, median of 5)', oursMs, refMs, oursMs / refMs],
      ['  of which CPU time (ms)', median(oursCpu), median(refCpu), median(oursCpu) / median(refCpu)],
      ['stored size (MB)', storedBytes / 1e6, doc.length / 1e6, storedBytes / doc.length],
      ['memory held once loaded (MB)', heldBytes / 1e6, '', ''],
    ]);
    table('Writing it', [
      ['', 'ms', 'buckets'],
      ['first save (all 512 buckets)', saveMs, 512],
      ['save after 100 updates', incrementalMs, buckets],
      ['building it in memory from checked gossip (no signatures)', buildMs, ''],
    ]);
    process.stdout.write(`graph load vs json: ${(oursMs / refMs).toFixed(2)}x\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
