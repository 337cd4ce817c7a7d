/**
 * Payments between two Coulomb nodes over loopback, with durable persistence on (every commitment is
 * fsynced before its signature leaves): payments per second and latency (median, p95), one at a time
 * and 32 at once. The reference, measured in the same run on the same playground chain, is the same
 * between two LDK nodes (the `lightningdevkit` WebAssembly build, driven by the interop harness in
 * test/interop/ldk/, in this process, over loopback TCP). That harness persists nothing (its
 * ChannelMonitor persister answers "completed" at once) and forwards HTLCs as soon as LDK allows,
 * without the batching delay LDK suggests; so the reference is LDK's protocol and signing work alone.
 *
 * Coulomb on the embedded store and LDK are measured in turns, in blocks (see measureInterleaved), so
 * the ratio on the last line is not one pair's quiet minute against the other's busy one.
 *
 * Coulomb is measured twice: on the embedded store (the default, what the last line compares with LDK)
 * and on PostgreSQL (both nodes on their own databases of a private server started here, fsync and
 * synchronous_commit on; skipped, saying why, where PostgreSQL's programs are missing).
 *
 * All pairs are alike otherwise: anchors channels (what Coulomb opens to a peer that offers them;
 * LDK is told to), every payment of 3000 sat or more (LDK refuses to send a dust HTLC while another is
 * still in the commitments, see test/interop/ldk/README.md, and 32 at once would hit that), and every
 * timed batch starting on a quiet channel (see payMany).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { startLdkNode } from '../interop/ldk/node.ts';
import type { LdkNode } from '../interop/ldk/node.ts';
import { LdkEventDriver } from '../interop/ldk/events.ts';
import { ldkInvoice, ldkPay } from '../interop/ldk/payments.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import { isQuiet } from '../../core/channel/updates.ts';
import { table } from './harness.ts';
import { findPostgres, startPostgres } from '../helpers/postgres.ts';
import type { NodeConfig } from '../../core/node/config.ts';

const WARMUP = 10;
const SEQUENTIAL = 100;
const CONCURRENT = 32;
const ROUNDS = 4;
/** The sequential payments of each pair are measured in this many blocks, interleaved with the other pair's. */
const SEQUENTIAL_BLOCKS = 4;
/** The smallest payment; the i-th of a batch is this plus i sat. */
const AMOUNT_SAT = 3_000;
const COULOMB_CHANNEL_SAT = 16_000_000;
/** LDK's inbound HTLC-in-flight limit is 10% of the channel by default: 400k sat here, 32 × ~3k need ~100k. */
const LDK_CHANNEL_SAT = 4_000_000n;
const PAYMENT_TIMEOUT_MS = 60_000;

/** One side of a pair: makes the payee's invoices and pays them from the payer. */
interface Payments {
  invoice(sat: number): Promise<string>;
  /** Resolves once the payer holds the preimage; throws when the payment failed. */
  pay(invoice: string): Promise<void>;
  /** True when no HTLC is left in the channel on either side (the last ones cleared after their preimages). */
  quiet(): boolean;
  /** Durable commits (fsyncs) both nodes made so far, where the pair persists anything. */
  syncs?(): number;
}

interface Figures {
  perSecond: number;
  p50: number;
  p95: number;
  /** Durable commits of both nodes per payment (undefined where nothing is persisted). */
  syncsPerPayment: number | undefined;
}

function figures(latencies: number[], seconds: number, syncs: number | undefined): Figures {
  const s = [...latencies].sort((a, b) => a - b);
  return { perSecond: s.length / seconds, p50: s[Math.floor(s.length * 0.5)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, syncsPerPayment: syncs === undefined ? undefined : syncs / s.length };
}

/**
 * Pays `n` fresh invoices, `parallel` at a time; returns each payment's latency in ms and the total
 * time. Starts once the channel is quiet: a payment ends when the payer has the preimage, before the
 * HTLC leaves the commitments, and a batch started on top of the last one's leftovers would find
 * LDK's default limit of 50 HTLCs in flight (LDK then refuses to send at all).
 */
async function payMany(p: Payments, n: number, parallel: number): Promise<{ latencies: number[]; seconds: number }> {
  const invoices: string[] = [];
  for (let i = 0; i < n; i++) invoices.push(await p.invoice(AMOUNT_SAT + i));
  await waitFor('the channel to be quiet', () => p.quiet(), 10_000, 2);
  const latencies: number[] = [];
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < invoices.length) {
      const inv = invoices[next++]!;
      const t = performance.now();
      await p.pay(inv);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

/** A warm-up, then `SEQUENTIAL` payments one at a time, then `ROUNDS` rounds of `CONCURRENT` at once. */
async function measure(p: Payments): Promise<{ sequential: Figures; concurrent: Figures }> {
  await payMany(p, WARMUP, 1);
  global.gc?.();
  // Syncs counted from the first invoice to the last payment's end (the payee's invoices and the
  // channel's clean-up after the last preimage included: every payment pays for them).
  let s0 = p.syncs?.();
  const seq = await payMany(p, SEQUENTIAL, 1);
  await waitFor('the channel to be quiet', () => p.quiet(), 10_000, 2);
  const seqSyncs = s0 === undefined ? undefined : p.syncs!() - s0;
  global.gc?.();
  const all: number[] = [];
  let seconds = 0;
  let concSyncs = p.syncs ? 0 : undefined;
  for (let r = 0; r < ROUNDS; r++) {
    s0 = p.syncs?.();
    const c = await payMany(p, CONCURRENT, CONCURRENT);
    all.push(...c.latencies);
    seconds += c.seconds;
    await waitFor('the channel to be quiet', () => p.quiet(), 10_000, 2);
    if (concSyncs !== undefined) concSyncs += p.syncs!() - s0!;
  }
  return { sequential: figures(seq.latencies, seq.seconds, seqSyncs), concurrent: figures(all, seconds, concSyncs) };
}

/**
 * Two pairs measured as `measure` does, in interleaved blocks (ABBA: each block's first pair
 * alternates), so a machine busier in one minute than the next weighs on both alike; the ratio of
 * their rates then compares like with like. Each pair's figures gather all its blocks.
 */
async function measureInterleaved(a: Payments, b: Payments): Promise<[Awaited<ReturnType<typeof measure>>, Awaited<ReturnType<typeof measure>>]> {
  const pairs = [a, b];
  for (const p of pairs) await payMany(p, WARMUP, 1);
  const seq = pairs.map(() => ({ latencies: [] as number[], seconds: 0, syncs: 0 }));
  const conc = pairs.map(() => ({ latencies: [] as number[], seconds: 0, syncs: 0 }));
  const block = async (i: number, n: number, parallel: number, into: typeof seq): Promise<void> => {
    const p = pairs[i]!;
    global.gc?.();
    const s0 = p.syncs?.() ?? 0;
    const r = await payMany(p, n, parallel);
    await waitFor('the channel to be quiet', () => p.quiet(), 10_000, 2);
    into[i]!.latencies.push(...r.latencies);
    into[i]!.seconds += r.seconds;
    into[i]!.syncs += (p.syncs?.() ?? 0) - s0;
  };
  const order = (k: number): number[] => (k % 2 === 0 ? [0, 1] : [1, 0]);
  for (let k = 0; k < SEQUENTIAL_BLOCKS; k++) for (const i of order(k)) await block(i, SEQUENTIAL / SEQUENTIAL_BLOCKS, 1, seq);
  for (let k = 0; k < ROUNDS; k++) for (const i of order(k)) await block(i, CONCURRENT, CONCURRENT, conc);
  const out = pairs.map((p, i) => ({
    sequential: figures(seq[i]!.latencies, seq[i]!.seconds, p.syncs ? seq[i]!.syncs : undefined),
    concurrent: figures(conc[i]!.latencies, conc[i]!.seconds, p.syncs ? conc[i]!.syncs : undefined),
  }));
  return [out[0]!, out[1]!];
}

/** Everything started, stopped in reverse order whatever happens. */
class Scope {
  private readonly closers: (() => Promise<void>)[] = [];
  add(close: () => Promise<void>): void {
    this.closers.push(close);
  }
  async close(): Promise<void> {
    let first: unknown;
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }
}

/** The chain: alice's playground, which every node follows (LDK nodes are handed its blocks). */
class Chain {
  private readonly coulomb: TestNode[] = [];
  private readonly ldk: LdkNode[] = [];
  constructor(private readonly alice: TestNode) {}
  get playground() {
    return this.alice.node.chain.playground!;
  }
  follow(n: TestNode | LdkNode): void {
    if ('node' in n) this.coulomb.push(n);
    else this.ldk.push(n);
    this.feedLdk();
  }
  /** A Coulomb node that stops (before the others), no longer handed blocks. */
  unfollow(t: TestNode): void {
    const i = this.coulomb.indexOf(t);
    if (i >= 0) this.coulomb.splice(i, 1);
  }
  /** Mines `n` blocks (with the mempool) and hands them to every node. */
  async mine(n: number): Promise<void> {
    await this.alice.node.handlers().playground_mine({ blocks: n });
    this.feedLdk();
    for (const t of this.coulomb) await t.node.chain.source.poke();
  }
  private feedLdk(): void {
    const pg = this.playground;
    for (const l of this.ldk) l.syncTo(pg.chain.height, (h) => pg.chain.entries[h]!.block.toBuffer());
  }
}

/**
 * Two Coulomb nodes with a channel between them. On the embedded store the payer is `host` (the node
 * that runs the playground); with `db` (a store for each node, by name) both are new nodes following it.
 */
async function coulombPair(scope: Scope, host: TestNode, chain: Chain, db?: (name: string) => Promise<NodeConfig['db']>): Promise<Payments> {
  const rpc = JSON.parse(await readFile(join(host.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  const follower = async (name: string): Promise<TestNode> => {
    const t = await startTestNode(name, undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie }, undefined, db ? { db: await db(name.replace(/-/g, '_')) } : {});
    scope.add(() => {
      chain.unfollow(t);
      return t.close();
    });
    chain.follow(t);
    return t;
  };
  const alice = db ? await follower('bench-alice') : host;
  const bob = await follower('bench-bob');
  const a = alice.node.handlers();
  const b: ApiHandlers = bob.node.handlers();
  await host.node.handlers().playground_faucet({ addr: (await a.newaddress({})).address, amt: COULOMB_CHANNEL_SAT + 4_000_000 });
  await alice.node.chain.source.poke();
  await a.connect({ addr: bob.uri });
  await a.openchannel({ node_key: bob.node.nodeId, local_amt: COULOMB_CHANNEL_SAT, private: true });
  await chain.mine(6);
  await waitFor('the channel to be active', async () => ((await a.listchannels({})).channels.some((c) => c.active) ? true : undefined), 30_000);
  await waitFor('bob to see it active', async () => ((await b.listchannels({})).channels.some((c) => c.active) ? true : undefined), 30_000);
  const type = (await a.listchannels({})).channels[0]!.commitment_type;
  if (type !== 'ANCHORS') throw new Error(`the Coulomb channel is ${type}, not an anchors channel`);
  return {
    invoice: async (sat) => (await b.addinvoice({ value: sat })).payment_request,
    async pay(invoice) {
      const r = await a.sendpayment({ pay_req: invoice, timeout_seconds: PAYMENT_TIMEOUT_MS / 1000 });
      if (r.status !== 'SUCCEEDED') throw new Error(`a Coulomb payment did not succeed: ${r.status} ${r.payment_error}`);
    },
    quiet: () => [alice, bob].every((t) => t.node.channels.list().every((c) => isQuiet(c.state))),
    syncs: () => alice.node.kv.syncs + bob.node.kv.syncs,
  };
}

async function ldkPair(scope: Scope, chain: Chain): Promise<Payments> {
  const payerDriver = new LdkEventDriver();
  const payeeDriver = new LdkEventDriver();
  // Anchors channels, like the one between the Coulomb nodes (LDK accepts them only by hand, which
  // the payee's driver does on OpenChannelRequest).
  const payer = await startLdkNode({ alias: 'bench-ldk-payer', onEvent: payerDriver.onEvent, logLevel: 'warn', configure: (cfg) => cfg.get_channel_handshake_config().set_negotiate_anchors_zero_fee_htlc_tx(true) });
  scope.add(() => payer.stop());
  const payee = await startLdkNode({
    alias: 'bench-ldk-payee',
    onEvent: payeeDriver.onEvent,
    logLevel: 'warn',
    configure: (cfg) => {
      cfg.get_channel_handshake_config().set_negotiate_anchors_zero_fee_htlc_tx(true);
      cfg.set_manually_accept_inbound_channels(true);
    },
  });
  scope.add(() => payee.stop());
  chain.follow(payer);
  chain.follow(payee);
  const problems = (): string => [...payerDriver.errors, ...payeeDriver.errors, ...payer.logs.slice(-5), ...payee.logs.slice(-5)].join('; ');

  const port = await payee.listen(0, '127.0.0.1');
  await payer.connect(payee.nodeId, '127.0.0.1', port);

  // The payer funds the channel from a coin of a test key, sent by the playground's faucet.
  const pg = chain.playground;
  const key = newKey();
  const txid = await pg.faucet.send(key.address, LDK_CHANNEL_SAT + 100_000n);
  await chain.mine(1);
  const tx = pg.chain.entries[pg.chain.height]!.block.transactions!.find((t) => t.getId() === txid)!;
  const vout = tx.outs.findIndex((o) => Buffer.compare(Buffer.from(o.script), Buffer.from(key.script)) === 0);
  payerDriver.fundingCoin = { key, txid, vout, value: tx.outs[vout]!.value };
  const opened = payer.channelManager.create_channel(Buffer.from(payee.nodeId, 'hex'), LDK_CHANNEL_SAT, 0n, 1n, null, null);
  if (!opened.is_ok()) throw new Error('LDK refused to open the channel');
  payer.processEvents();
  await waitFor('the LDK payer to broadcast its funding', () => (payer.broadcasted.length ? true : undefined), 10_000, 10).catch((e: unknown) => {
    throw new Error(`${(e as Error).message} (${problems()})`);
  });
  for (const raw of payer.broadcasted.splice(0)) pg.chain.acceptToMempool(Buffer.from(raw).toString('hex'));
  await chain.mine(6);
  const usable = (l: LdkNode): boolean => l.channelManager.list_channels().some((c) => c.get_is_usable());
  await waitFor('the LDK channel to be usable on both sides', () => (usable(payer) && usable(payee) ? true : undefined), 20_000, 10).catch((e: unknown) => {
    throw new Error(`${(e as Error).message} (${problems()})`);
  });
  if (!payer.channelManager.list_channels()[0]!.get_channel_type().requires_anchors_zero_fee_htlc_tx()) throw new Error('the LDK channel is not an anchors channel');

  return {
    invoice: (sat) => Promise.resolve(ldkInvoice(payee, BigInt(sat) * 1000n, 'bench').bolt11),
    async pay(invoice) {
      const hash = ldkPay(payer, invoice);
      if ((await payerDriver.paymentEnded(hash, PAYMENT_TIMEOUT_MS)) !== 'sent') throw new Error(`an LDK payment failed: ${payerDriver.failed.get(hash)!.reason}`);
    },
    quiet: () => [payer, payee].every((l) => l.channelManager.list_channels().every((c) => c.get_pending_inbound_htlcs().length === 0 && c.get_pending_outbound_htlcs().length === 0)),
  };
}

/** Coulomb ↔ Coulomb with both stores on a private PostgreSQL server, stopped and removed after; or why it cannot run here. */
async function measurePostgres(host: TestNode, chain: Chain): Promise<Awaited<ReturnType<typeof measure>> | { skipped: string }> {
  const found = findPostgres();
  if ('reason' in found) return { skipped: `${found.reason}; install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR` };
  const scope = new Scope();
  try {
    const pg = await startPostgres(found.bindir);
    scope.add(() => pg.destroy());
    return await measure(await coulombPair(scope, host, chain, async (name) => ({ backend: 'postgres', dsn: await pg.createDatabase(name) })));
  } finally {
    // Stopped before the next pair is measured: its nodes and server would only be in the way.
    await scope.close();
  }
}

export async function run(): Promise<void> {
  const scope = new Scope();
  let coulomb: Awaited<ReturnType<typeof measure>> & { backend: string };
  let postgres: Awaited<ReturnType<typeof measurePostgres>>;
  let ldk: Awaited<ReturnType<typeof measure>>;
  try {
    const alice = await startTestNode('bench-alice');
    scope.add(() => alice.close());
    const chain = new Chain(alice);
    chain.follow(alice);
    // PostgreSQL's pair first, stopped before the others start. Then Coulomb on the embedded store and
    // LDK, both set up, measured in turns (the last line compares them): LDK's rate alone varied by
    // half from one run to the next on a busy machine, which no single measurement of each evens out.
    postgres = await measurePostgres(alice, chain);
    global.gc?.();
    const embedded = await coulombPair(scope, alice, chain);
    const reference = await ldkPair(scope, chain);
    const [c, l] = await measureInterleaved(embedded, reference);
    coulomb = { ...c, backend: alice.node.kv.backend };
    ldk = l;
  } finally {
    await scope.close();
  }
  const row = (name: string, f: Figures): (string | number)[] => [name, f.perSecond, f.p50, f.p95, f.syncsPerPayment ?? '-'];
  table(`payments of ${AMOUNT_SAT}+ sat over loopback on anchors channels (payments/s, latency ms, durable commits of both nodes per payment); Coulomb with durable persistence, LDK (WebAssembly) with none`, [
    ['pair', 'per second', 'p50 ms', 'p95 ms', 'syncs/payment'],
    row(`Coulomb → Coulomb (${coulomb.backend} store), one at a time`, coulomb.sequential),
    row(`Coulomb → Coulomb (${coulomb.backend} store), ${CONCURRENT} at once`, coulomb.concurrent),
    ...('skipped' in postgres ? [] : [row('Coulomb → Coulomb (PostgreSQL), one at a time', postgres.sequential), row(`Coulomb → Coulomb (PostgreSQL), ${CONCURRENT} at once`, postgres.concurrent)]),
    row('LDK → LDK, one at a time (reference)', ldk.sequential),
    row(`LDK → LDK, ${CONCURRENT} at once (reference)`, ldk.concurrent),
  ]);
  if ('skipped' in postgres) process.stdout.write(`Coulomb → Coulomb on PostgreSQL: skipped, ${postgres.skipped}\n`);
  const ratio = (x: number, y: number): string => `${(x / y).toFixed(2)}x`;
  // The last line, for scripts: Coulomb's payments per second over LDK's.
  process.stdout.write(`payments vs LDK: one at a time ${ratio(coulomb.sequential.perSecond, ldk.sequential.perSecond)}, ${CONCURRENT} in flight ${ratio(coulomb.concurrent.perSecond, ldk.concurrent.perSecond)}\n`);
}
