/**
 * The payments ledger, the invoices and the HTLC switch in the node's KvStore, on the in-memory, the
 * embedded and the PostgreSQL backends:
 * - a data directory of an earlier version (test/fixtures/payments-v1: payments.json, invoices.json and
 *   htlc-switch.json as the JSON stores wrote them, made through those classes at commit 3171448)
 *   moves in exactly, once, leaving each file as `<name>.json.migrated`;
 * - a restart (the store closed and opened again) gives back the same entries;
 * - a change of several records is one atomic write;
 * - the newest 100 of 100,000 payments are read without reading the rest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaymentStore } from '../../../core/payments/payments.ts';
import { InvoiceRegistry } from '../../../core/payments/invoices.ts';
import { HtlcSwitch, FORWARDS_NS, ORIGINS_DONE_NS, ORIGINS_NS } from '../../../core/node/htlc-switch.ts';
import type { ChannelManager, ChannelView } from '../../../core/node/channels.ts';
import type { ChannelState } from '../../../core/channel/types.ts';
import { kvIndexKey, kvJson } from '../../../core/store/kv/types.ts';
import { MemoryKvStore } from '../../../core/store/kv/memory.ts';
import type { KvOp, KvStore } from '../../../core/store/kv/types.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { hex } from '../../../core/util/bytes.ts';
import { memoryLogger } from '../../../core/log/logger.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/payments-v1', import.meta.url));
const NODE_SECRET = new Uint8Array(32).fill(0x21);
const DEST = hex.encode(secp.getPublicKey(new Uint8Array(32).fill(3)));
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

interface Json<T> {
  schema_version: number;
  data: T;
}
type PaymentsJson = Json<{ lastPaymentIndex: number; lastAttemptId: number; payments: Record<string, { paymentIndex: number; status: string }> }>;
type InvoicesJson = Json<{ lastAddIndex: number; lastSettleIndex: number; invoices: Record<string, { addIndex: number; settleIndex: number; state: string; htlcs: { state: string }[] }> }>;
type SwitchJson = Json<{ origins: Record<string, { done?: boolean }>; forwarded: Record<string, string> }>;
const fixture = async <T>(name: string): Promise<T> => JSON.parse(await readFile(join(FIXTURE, `${name}.json`), 'utf8')) as T;

describeEachKvBackend('payments, invoices and the switch in the $name store', ({ name, open }) => {
  let dir: string;
  let kv: KvStore;
  beforeEach(async () => {
    dir = await tempDir(`kv-move-${name}`);
    kv = await open(dir);
  });
  afterEach(async () => {
    await kv.close();
    await removeDir(dir);
  });
  /** Closes the store and opens it again, as a restart does (memory keeps its records across this). */
  const restart = async (): Promise<void> => {
    if (kv.backend === 'memory') return;
    await kv.close();
    kv = await open(dir);
  };

  /** The switch against one channel that still carries our outgoing HTLC 2 (the fixture's payment in flight). */
  const channels = (): ChannelManager => {
    const spec = (htlcs: unknown[]) => ({ htlcs, toLocalMsat: 0n, toRemoteMsat: 0n, feeratePerKw: 253 });
    const carrying = { phase: 'NORMAL', commit: { localSpec: spec([{ id: 2n, incoming: false, amountMsat: 23_000n, paymentHash: new Uint8Array(32), cltvExpiry: 1083, onion: new Uint8Array(0) }]), remoteSpec: spec([]), localChanges: { proposed: [], signed: [], acked: [] }, remoteChanges: { proposed: [], signed: [], acked: [] } } } as unknown as ChannelState;
    const view: ChannelView = { key: 'aa'.repeat(32), peer: DEST, state: carrying, private: true };
    return { get: (k: string) => (k === view.key ? view : undefined), list: () => [view], unresolvedIncoming: () => [], setHtlcHandler: () => undefined, setPreimageHandler: () => undefined } as unknown as ChannelManager;
  };

  it('moves a data directory of the JSON stores in exactly, once, keeping each file as a backup', async () => {
    for (const f of ['payments', 'invoices', 'htlc-switch']) await copyFile(join(FIXTURE, `${f}.json`), join(dir, `${f}.json`));
    const pj = await fixture<PaymentsJson>('payments');
    const ij = await fixture<InvoicesJson>('invoices');
    const sj = await fixture<SwitchJson>('htlc-switch');

    const payments = await PaymentStore.open(kv, { dir });
    const invoices = await InvoiceRegistry.open(kv, { dir, nodeSecret: NODE_SECRET, network: 'regtest' });
    const sw = await HtlcSwitch.open({ kv, dir, channels: channels(), invoices, payments, nodeSecret: NODE_SECRET, nodeId: DEST, height: () => 1000, log: memoryLogger() });
    await sw.close();

    // Every record as the file held it, and the indexes that page them.
    const decoded = async (ns: string, key: string): Promise<unknown> => kvJson.decode((await kv.get(ns, key))!);
    for (const [hash, p] of Object.entries(pj.data.payments)) {
      expect(await decoded('payments', hash)).toEqual(p);
      expect(text(await kv.get('payments-by-index', kvIndexKey(p.paymentIndex)))).toBe(hash);
      expect(!!(await kv.get('payments-succeeded', kvIndexKey(p.paymentIndex)))).toBe(p.status === 'SUCCEEDED');
      expect(!!(await kv.get('payments-in-flight', hash))).toBe(p.status === 'IN_FLIGHT');
    }
    expect(await kv.count('payments')).toBe(Object.keys(pj.data.payments).length);
    expect(await decoded('meta', 'payments-counters')).toEqual({ lastPaymentIndex: pj.data.lastPaymentIndex, lastAttemptId: pj.data.lastAttemptId });
    for (const [hash, i] of Object.entries(ij.data.invoices)) {
      expect(await decoded('invoices', hash)).toEqual(i);
      expect(text(await kv.get('invoices-by-add', kvIndexKey(i.addIndex)))).toBe(hash);
      if (i.settleIndex) expect(text(await kv.get('invoices-by-settle', kvIndexKey(i.settleIndex)))).toBe(hash);
      expect(!!(await kv.get('invoices-pending', kvIndexKey(i.addIndex)))).toBe(i.state === 'OPEN' || i.state === 'ACCEPTED');
      expect(!!(await kv.get('invoices-held', hash))).toBe(i.state === 'ACCEPTED' && i.htlcs.some((h) => h.state === 'ACCEPTED'));
    }
    expect(await kv.count('invoices')).toBe(Object.keys(ij.data.invoices).length);
    expect(await kv.count('invoices-by-settle')).toBe(ij.data.lastSettleIndex);
    expect(await decoded('meta', 'invoices-counters')).toEqual({ lastAddIndex: ij.data.lastAddIndex, lastSettleIndex: ij.data.lastSettleIndex });
    for (const [key, o] of Object.entries(sj.data.origins)) expect(await decoded(o.done ? ORIGINS_DONE_NS : ORIGINS_NS, key)).toEqual(o);
    expect((await kv.range(ORIGINS_NS)).length + (await kv.range(ORIGINS_DONE_NS)).length).toBe(Object.keys(sj.data.origins).length);
    expect(Object.fromEntries((await kv.range(FORWARDS_NS)).map((r) => [r.key, text(r.value)]))).toEqual(sj.data.forwarded);

    // The classes read them back as the JSON stores held them.
    expect((await payments.list()).payments.map((p) => [p.paymentIndex, p.status])).toEqual([
      [1, 'SUCCEEDED'],
      [2, 'SUCCEEDED'],
      [3, 'FAILED'],
      [4, 'SUCCEEDED'],
      [5, 'FAILED'],
      [6, 'IN_FLIGHT'],
    ]);
    expect(payments.inFlight().map((p) => p.paymentIndex)).toEqual([6]);
    expect((await invoices.list()).invoices.map((i) => [i.addIndex, i.state, i.memo])).toEqual(Object.values(ij.data.invoices).map((i) => [i.addIndex, i.state, (i as unknown as { memo: string }).memo]));
    expect(invoices.heldSets()).toMatchObject([{ htlcIds: [`${'bb'.repeat(32)}:3`], complete: false }]);
    expect((await invoices.list({ pendingOnly: true })).invoices.map((i) => i.addIndex)).toEqual([1, 4, 5, 6]);

    // The files stay as backups; a second start moves nothing again.
    expect((await readdir(dir)).filter((f) => f.endsWith('.json') || f.endsWith('.migrated')).sort()).toEqual(['htlc-switch.json.migrated', 'invoices.json.migrated', 'payments.json.migrated']);
    for (const f of ['payments', 'invoices', 'htlc-switch']) expect(await readFile(join(dir, `${f}.json.migrated`))).toEqual(await readFile(join(FIXTURE, `${f}.json`)));
    const before = { payments: (await payments.list()).payments, invoices: (await invoices.list()).invoices };
    await restart();
    const p2 = await PaymentStore.open(kv, { dir });
    const i2 = await InvoiceRegistry.open(kv, { dir, nodeSecret: NODE_SECRET, network: 'regtest' });
    expect((await p2.list()).payments).toEqual(before.payments);
    expect((await i2.list()).invoices).toEqual(before.invoices);
    expect(p2.inFlight().map((p) => p.paymentIndex)).toEqual([6]);
    // Counters carry on where the files left them.
    expect((await i2.create()).addIndex).toBe(ij.data.lastAddIndex + 1);
    expect((await p2.begin({ paymentHash: sha256(new Uint8Array(32).fill(0x77)), destination: DEST, amountMsat: 1n })).payment.paymentIndex).toBe(pj.data.lastPaymentIndex + 1);
  });

  it('keeps payments and invoices across a restart of the store', async () => {
    let payments = await PaymentStore.open(kv);
    let invoices = await InvoiceRegistry.open(kv, { nodeSecret: NODE_SECRET, network: 'regtest' });
    const pre = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
    const route = { totalTimeLock: 1200, totalAmtMsat: 1_000n, totalFeesMsat: 0n, hops: [{ pubkey: DEST, shortChannelId: 1n, amtToForwardMsat: 1_000n, feeMsat: 0n, expiry: 1200 }] };
    for (const p of pre) {
      await payments.begin({ paymentHash: sha256(p), destination: DEST, amountMsat: 1_000n });
      await payments.attempt(sha256(p), route);
    }
    await payments.succeed(sha256(pre[0]!), { preimage: pre[0]! });
    const inv = await invoices.create({ amountMsat: 10_000n, memo: 'held' });
    await invoices.onHtlc({ paymentHash: inv.paymentHash, paymentSecret: hex.decode(inv.paymentSecret), amountMsat: 4_000n, totalMsat: 10_000n, cltvExpiry: 1200, currentHeight: 1000, htlcId: 'c:1' });
    const before = { payments: (await payments.list()).payments, invoices: (await invoices.list()).invoices, held: invoices.heldSets() };
    await restart();
    payments = await PaymentStore.open(kv);
    invoices = await InvoiceRegistry.open(kv, { nodeSecret: NODE_SECRET, network: 'regtest' });
    expect((await payments.list()).payments).toEqual(before.payments);
    expect(payments.inFlight().map((p) => p.paymentHash)).toEqual([hex.encode(sha256(pre[1]!)), hex.encode(sha256(pre[2]!))]);
    expect((await invoices.list()).invoices).toEqual(before.invoices);
    expect(invoices.heldSets()).toEqual(before.held);
  });

  it('a step that changes several records is one write', async () => {
    const payments = await PaymentStore.open(kv);
    const hash = sha256(new Uint8Array(32).fill(9));
    const route = { totalTimeLock: 1200, totalAmtMsat: 1_000n, totalFeesMsat: 0n, hops: [{ pubkey: DEST, shortChannelId: 1n, amtToForwardMsat: 1_000n, feeMsat: 0n, expiry: 1200 }] };
    const writes: KvOp[][] = [];
    const durable: boolean[] = [];
    const write = kv.write.bind(kv);
    kv.write = (ops, o) => {
      writes.push([...ops]);
      durable.push(o?.durable !== false);
      return write(ops, o);
    };
    // The intent alone need not be durable: the attempt's write, before the HTLC leaves, carries it.
    await payments.begin({ paymentHash: hash, destination: DEST, amountMsat: 1_000n }, { durable: false });
    // The attempt with the switch's origin of its HTLC; the success with the origin's end.
    await payments.attempt(hash, route, { with: () => [{ type: 'put', ns: ORIGINS_NS, key: 'ch:0', value: new Uint8Array([1]) }] });
    await payments.succeed(hash, { preimage: new Uint8Array(32).fill(9), with: [{ type: 'delete', ns: ORIGINS_NS, key: 'ch:0' }, { type: 'put', ns: ORIGINS_DONE_NS, key: 'ch:0', value: new Uint8Array([2]) }] });
    const where = (ops: KvOp[]) => ops.map((o) => `${o.type} ${o.ns}`).sort();
    expect(writes.map(where)).toEqual([
      ['put meta', 'put payments', 'put payments-by-index', 'put payments-in-flight'],
      ['put meta', 'put payments', 'put switch-origins'],
      ['delete payments-in-flight', 'delete switch-origins', 'put payments', 'put payments-succeeded', 'put switch-origins-done'],
    ]);
    expect(durable).toEqual([false, true, true]);
  });
});

describe('paging 100,000 payments', () => {
  let kv: MemoryKvStore;
  afterEach(async () => {
    await kv.close();
  });

  it('lists the newest 100 reading only them, and pages as lncli does', async () => {
    kv = MemoryKvStore.open();
    const N = 100_000;
    const ops: KvOp[] = [{ type: 'put', ns: 'meta', key: 'payments-counters', value: kvJson.encode({ lastPaymentIndex: N, lastAttemptId: 0 }) }];
    const enc = new TextEncoder();
    for (let i = 1; i <= N; i++) {
      const hash = i.toString(16).padStart(64, '0');
      const status = i % 10 === 0 ? 'FAILED' : 'SUCCEEDED';
      ops.push({ type: 'put', ns: 'payments', key: hash, value: kvJson.encode({ paymentHash: hash, paymentRequest: '', destination: DEST, amountMsat: String(i), feeMsat: '0', preimage: '', status, creationTime: i, paymentIndex: i, attempts: [] }) });
      ops.push({ type: 'put', ns: 'payments-by-index', key: kvIndexKey(i), value: enc.encode(hash) });
      if (status === 'SUCCEEDED') ops.push({ type: 'put', ns: 'payments-succeeded', key: kvIndexKey(i), value: enc.encode(hash) });
    }
    await kv.write(ops);
    const counting = new WatchedKvStore(kv);
    const payments = await PaymentStore.open(counting);
    counting.returned = 0;
    const t0 = performance.now();
    const newest = await payments.list({ reversed: true, maxPayments: 100 });
    const ms = performance.now() - t0;
    expect(newest.payments.map((p) => p.paymentIndex)).toEqual(Array.from({ length: 100 }, (_, i) => N - 99 + i));
    expect(newest).toMatchObject({ firstIndexOffset: N - 99, lastIndexOffset: N });
    // 100 index records and the 100 payments they name.
    expect(counting.returned).toBe(200);
    expect(ms).toBeLessThan(5_000);

    // The page before it, from its first index; forwards from an offset; the succeeded ones only.
    expect((await payments.list({ reversed: true, indexOffset: newest.firstIndexOffset, maxPayments: 3 })).payments.map((p) => p.paymentIndex)).toEqual([N - 102, N - 101, N - 100]);
    expect((await payments.list({ indexOffset: 8, maxPayments: 3 })).payments.map((p) => p.paymentIndex)).toEqual([9, 10, 11]);
    expect((await payments.list({ indexOffset: 8, maxPayments: 3, includeIncomplete: false })).payments.map((p) => p.paymentIndex)).toEqual([9, 11, 12]);
    expect(await payments.list({ indexOffset: N })).toEqual({ payments: [], firstIndexOffset: 0, lastIndexOffset: 0 });
    expect(await payments.count()).toBe(N);
  }, 120_000);
});
