/**
 * The outgoing payments' ledger: one payment per hash at a time, attempts recorded before they are sent,
 * success final, failure only once nothing is in flight, and all of it durable.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sha256 } from '../../../core/crypto/hash.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { hex } from '../../../core/util/bytes.ts';
import { PaymentStore, PaymentStoreError } from '../../../core/payments/payments.ts';
import type { Route } from '../../../core/payments/payments.ts';
import { paymentView } from '../../../core/payments/views.ts';
import { HtlcSwitch } from '../../../core/node/htlc-switch.ts';
import type { ChannelManager, ChannelView, HtlcEvent } from '../../../core/node/channels.ts';
import { InvoiceRegistry } from '../../../core/payments/invoices.ts';
import { createOnion, sharedSecrets } from '../../../core/onion/sphinx.ts';
import { createFailurePacket, obfuscateFailure } from '../../../core/onion/failure.ts';
import { encodeFailureMessage, framedPayload } from '../../../core/onion/wire.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelState } from '../../../core/channel/types.ts';
import type { Htlc, Spec, Update } from '../../../core/channel/updates.ts';
import { openStore } from '../../../core/store/store.ts';
import { memoryLogger } from '../../../core/log/logger.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { ORIGINS_DONE_NS, ORIGINS_NS } from '../../../core/node/htlc-switch.ts';

const PREIMAGE = new Uint8Array(32).fill(7);
const HASH = hex.encode(sha256(PREIMAGE));
const DEST = hex.encode(secp.getPublicKey(new Uint8Array(32).fill(3)));
const HOP = hex.encode(secp.getPublicKey(new Uint8Array(32).fill(4)));
const T0 = 1_700_000_000_000;

/** Us → HOP → DEST, 1 sat of fee at HOP. */
const route = (amountMsat: bigint, scid = (500n << 40n) | (1n << 16n)): Route => ({
  totalTimeLock: 1200,
  totalAmtMsat: amountMsat + 1000n,
  totalFeesMsat: 1000n,
  hops: [
    { pubkey: HOP, shortChannelId: scid, amtToForwardMsat: amountMsat, feeMsat: 1000n, expiry: 1200 },
    { pubkey: DEST, shortChannelId: scid + 1n, amtToForwardMsat: amountMsat, feeMsat: 0n, expiry: 1160 },
  ],
});

describeEachKvBackend('PaymentStore on the $name store', (backend) => {
  let dir: string;
  let kv: KvStore;
  let store: PaymentStore;
  let clock: number;
  /** Opens the ledger again on the same store, as a restart does. */
  const open = (): Promise<PaymentStore> => PaymentStore.open(kv, { now: () => clock });

  beforeEach(async () => {
    clock = T0;
    dir = await tempDir('payments');
    kv = await backend.open(dir);
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    await kv.close();
    await removeDir(dir);
  });

  it('records a payment, its attempt and its success', async () => {
    const begun = await store.begin({ paymentHash: HASH, paymentRequest: 'lnbcrt1...', destination: DEST, amountMsat: 50_000n, feeLimitMsat: 5_000n });
    expect(begun.started).toBe(true);
    expect(begun.payment).toMatchObject({ paymentHash: HASH, status: 'IN_FLIGHT', amountMsat: 50_000n, feeLimitMsat: 5_000n, paymentIndex: 1, creationTime: T0, preimage: '', attempts: [] });
    const id = await store.attempt(HASH, route(50_000n));
    clock = T0 + 1500;
    expect(await store.succeed(sha256(PREIMAGE), { preimage: PREIMAGE })).toBe(true);
    const p = (await store.get(HASH))!;
    expect(p).toMatchObject({ status: 'SUCCEEDED', preimage: hex.encode(PREIMAGE), feeMsat: 1000n, failureReason: undefined });
    expect(p.attempts).toEqual([{ attemptId: id, status: 'SUCCEEDED', route: route(50_000n), attemptTime: T0, resolveTime: T0 + 1500, preimage: hex.encode(PREIMAGE) }]);
    // Succeeding again changes nothing.
    expect(await store.succeed(HASH, { preimage: PREIMAGE, feeMsat: 9n })).toBe(false);
    expect((await store.get(HASH))!.feeMsat).toBe(1000n);
  });

  it('never starts a second payment of a hash in flight or paid', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    const again = await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 99_000n });
    expect(again).toMatchObject({ started: false, payment: { status: 'IN_FLIGHT', amountMsat: 50_000n } });
    await store.attempt(HASH, route(50_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    expect(await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n })).toMatchObject({ started: false, payment: { status: 'SUCCEEDED' } });
    expect((await store.list()).payments).toHaveLength(1);
  });

  it('fails a payment only when no attempt is in flight, and lets a failed one be tried again', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    const a1 = await store.attempt(HASH, route(50_000n));
    await expect(store.fail(HASH, 'FAILURE_REASON_NO_ROUTE')).rejects.toThrow(/still in flight/);
    await store.failAttempt(HASH, a1, { code: 'temporary_channel_failure', failureSourceIndex: 0 });
    await store.failAttempt(HASH, a1, { code: 'ignored: resolved already' });
    await store.fail(HASH, 'FAILURE_REASON_NO_ROUTE');
    expect((await store.get(HASH))).toMatchObject({ status: 'FAILED', failureReason: 'FAILURE_REASON_NO_ROUTE' });
    expect((await store.get(HASH))!.attempts[0]).toMatchObject({ status: 'FAILED', failure: { code: 'temporary_channel_failure', failureSourceIndex: 0 } });
    await expect(store.attempt(HASH, route(50_000n))).rejects.toMatchObject({ code: 'failed_precondition' });

    const retry = await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    expect(retry.started).toBe(true);
    expect(retry.payment).toMatchObject({ status: 'IN_FLIGHT', paymentIndex: 1, failureReason: undefined });
    expect(retry.payment.attempts).toHaveLength(1);
    const a2 = await store.attempt(HASH, route(50_000n, (600n << 40n) | 1n));
    expect(a2).toBeGreaterThan(a1);
    await store.succeed(HASH, { preimage: PREIMAGE });
    expect((await store.get(HASH))!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
    await expect(store.fail(HASH, 'FAILURE_REASON_TIMEOUT')).rejects.toThrow(/succeeded/);
  });

  it('settles every part of a multi-part payment with the one preimage and sums their fees', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 100_000n });
    await store.attempt(HASH, route(60_000n));
    await store.attempt(HASH, route(40_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    const p = (await store.get(HASH))!;
    expect(p.attempts.map((a) => [a.status, a.preimage])).toEqual([
      ['SUCCEEDED', hex.encode(PREIMAGE)],
      ['SUCCEEDED', hex.encode(PREIMAGE)],
    ]);
    expect(p.feeMsat).toBe(2000n);
  });

  it('records a route given at success when no attempt was recorded', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    await store.succeed(HASH, { preimage: PREIMAGE, feeMsat: 1000n, route: route(50_000n) });
    expect((await store.get(HASH))!.attempts).toMatchObject([{ status: 'SUCCEEDED', route: route(50_000n) }]);
  });

  it('refuses bad input', async () => {
    await expect(store.begin({ paymentHash: 'zz', destination: DEST, amountMsat: 1n })).rejects.toThrow(PaymentStoreError);
    await expect(store.begin({ paymentHash: HASH, destination: '04' + '00'.repeat(32), amountMsat: 1n })).rejects.toThrow(/destination/);
    await expect(store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 0n })).rejects.toThrow(/amount/);
    await expect(store.attempt(HASH, route(1n))).rejects.toMatchObject({ code: 'not_found' });
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 1n });
    await expect(store.succeed(HASH, { preimage: new Uint8Array(32) })).rejects.toThrow(/does not hash/);
    expect((await store.get(HASH))!.status).toBe('IN_FLIGHT');
  });

  it('after a restart, fails the attempts no channel can carry and the payments left with nothing in flight; their invoices can be paid again', async () => {
    const hashes = [1, 2, 3, 4].map((n) => hex.encode(sha256(new Uint8Array(32).fill(n))));
    for (const h of hashes) await store.begin({ paymentHash: h, destination: DEST, amountMsat: 1_000n });
    const [carried, lost, mixedLost] = [await store.attempt(hashes[0]!, route(1_000n)), await store.attempt(hashes[1]!, route(1_000n)), await store.attempt(hashes[2]!, route(1_000n))];
    const mixedCarried = await store.attempt(hashes[2]!, route(1_000n));
    // hashes[3]: begun, and stopped before its first attempt.
    clock = T0 + 10;
    const failed = await store.failStranded((_h, id) => id === carried || id === mixedCarried, { code: 'the node stopped' }, 'FAILURE_REASON_ERROR');
    expect(failed.sort()).toEqual([hashes[1], hashes[3]].sort());
    expect((await store.get(hashes[0]!))).toMatchObject({ status: 'IN_FLIGHT', attempts: [{ status: 'IN_FLIGHT' }] });
    expect((await store.get(hashes[1]!))).toMatchObject({ status: 'FAILED', failureReason: 'FAILURE_REASON_ERROR', attempts: [{ attemptId: lost, status: 'FAILED', resolveTime: T0 + 10, failure: { code: 'the node stopped' } }] });
    expect((await store.get(hashes[2]!))!.status).toBe('IN_FLIGHT');
    expect((await store.get(hashes[2]!))!.attempts.map((a) => [a.attemptId, a.status])).toEqual([
      [mixedLost, 'FAILED'],
      [mixedCarried, 'IN_FLIGHT'],
    ]);
    expect((await store.get(hashes[3]!))).toMatchObject({ status: 'FAILED', attempts: [] });
    // Nothing left to fail: nothing changes.
    const rev = store.revision;
    expect(await store.failStranded(() => true, { code: 'x' }, 'FAILURE_REASON_ERROR')).toEqual([]);
    expect(store.revision).toBe(rev);
    expect((await store.begin({ paymentHash: hashes[1]!, destination: DEST, amountMsat: 1_000n })).started).toBe(true);
  });

  it('keeps payments and attempts across a restart, in order', async () => {
    const other = new Uint8Array(32).fill(8);
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    await store.attempt(HASH, route(50_000n));
    await store.begin({ paymentHash: sha256(other), destination: DEST, amountMsat: 1_000n });
    await store.attempt(sha256(other), route(1_000n));
    await store.succeed(sha256(other), { preimage: other });
    const before = (await store.list()).payments;
    await store.close();
    // A real restart opens the store again too (in memory the same store stands in for it).
    if (backend.persistent) {
      await kv.close();
      kv = await backend.open(dir);
    }
    store = await open();
    expect((await store.list()).payments).toEqual(before);
    expect((await store.list()).payments.map((p) => p.status)).toEqual(['IN_FLIGHT', 'SUCCEEDED']);
    expect(store.inFlight().map((p) => p.paymentHash)).toEqual([HASH]);
    expect((await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n })).started).toBe(false);
  });

  it('shows a payment as lncli does', async () => {
    await store.begin({ paymentHash: HASH, paymentRequest: 'lnbcrt500n1x', destination: DEST, amountMsat: 50_000n });
    await store.attempt(HASH, route(50_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    const v = paymentView((await store.get(HASH))!);
    expect(v).toMatchObject({
      payment_hash: HASH,
      value: '50',
      value_sat: '50',
      value_msat: '50000',
      payment_preimage: hex.encode(PREIMAGE),
      payment_request: 'lnbcrt500n1x',
      status: 'SUCCEEDED',
      fee_sat: '1',
      fee_msat: '1000',
      creation_date: String(T0 / 1000),
      creation_time_ns: `${T0}000000`,
      payment_index: '1',
      failure_reason: 'FAILURE_REASON_NONE',
    });
    expect(v.htlcs[0]).toMatchObject({ attempt_id: '1', status: 'SUCCEEDED', failure: null, route: { total_time_lock: 1200, total_fees_msat: '1000', total_amt_msat: '51000' } });
    expect(v.htlcs[0]!.route.hops[0]).toEqual({ chan_id: '500x1x0', pub_key: HOP, amt_to_forward: '50', amt_to_forward_msat: '50000', fee: '1', fee_msat: '1000', expiry: 1200 });
  });
});

/**
 * The switch at start-up, against channels that hold what a crash left: an attempt whose HTLC a channel
 * still carries is left alone (it could still be paid); one whose HTLC never left, or was never stored
 * by its channel, fails, and its invoice can be paid again.
 */
describeEachKvBackend('the HTLC switch after a restart, on the $name store', ({ open }) => {
  let dir: string;
  let kv: KvStore;
  beforeEach(async () => {
    dir = await tempDir('switch');
    kv = await open(dir);
  });
  afterEach(async () => {
    await kv.close();
    await removeDir(dir);
  });

  const CH = 'aa'.repeat(32);
  const emptySpec = (): Spec => ({ htlcs: [], toLocalMsat: 0n, toRemoteMsat: 0n, feeratePerKw: 253 });
  const htlc = (id: bigint): Htlc => ({ id, amountMsat: 1_000n, paymentHash: new Uint8Array(32), cltvExpiry: 500, onion: new Uint8Array(0) });
  /** A channel whose state holds outgoing HTLC 0 in a commitment and HTLC 1 as an add it stored and signed. */
  const channelState = (): ChannelState => {
    const signed: Update[] = [{ kind: 'add', htlc: htlc(1n) }];
    return {
      phase: 'NORMAL',
      commit: {
        localSpec: { ...emptySpec(), htlcs: [{ ...htlc(0n), incoming: false }] },
        remoteSpec: emptySpec(),
        localChanges: { proposed: [], signed, acked: [] },
        remoteChanges: { proposed: [], acked: [], signed: [] },
      },
    } as unknown as ChannelState;
  };

  async function start(origins: Record<string, unknown>, realInvoices?: InvoiceRegistry, resolveHtlc: (key: string, input: { type: string }) => Promise<void> = async () => undefined) {
    const db = await openStore<{ origins: Record<string, unknown>; forwarded: Record<string, string> }>({ dir, name: 'htlc-switch', version: 1, migrations: [], defaults: () => ({ origins: {}, forwarded: {} }) });
    await db.update((d) => void (d.origins = origins));
    await db.close();
    let handler: ((e: HtlcEvent) => Promise<void>) | undefined;
    let onPreimage: ((channel: string, id: bigint, preimage: Uint8Array) => Promise<void>) | undefined;
    const view: ChannelView = { key: CH, peer: DEST, state: channelState(), private: true };
    const channels = {
      get: (key: string) => (key === CH ? view : undefined),
      list: () => [view],
      unresolvedIncoming: () => [],
      setHtlcHandler: (fn: typeof handler) => void (handler = fn),
      setPreimageHandler: (fn: typeof onPreimage) => void (onPreimage = fn),
      resolveHtlc,
    } as unknown as ChannelManager;
    const invoices = realInvoices ?? ({ onCancel: () => () => undefined, heldSets: () => [] } as unknown as InvoiceRegistry);
    const payments = await PaymentStore.open(kv, { dir });
    return { payments, channels, invoices, handler: () => handler!, onPreimage: () => onPreimage! };
  }

  it('fails only the attempts whose HTLC cannot be in flight, and ends the rest with their channel', async () => {
    const pre = [1, 2, 3, 4].map((n) => new Uint8Array(32).fill(n));
    const hashes = pre.map((p) => hex.encode(sha256(p)));
    // Four payments, each stopped at a different point, as a crash leaves them.
    {
      const payments = await PaymentStore.open(kv);
      for (const h of hashes) {
        await payments.begin({ paymentHash: h, destination: DEST, amountMsat: 1_000n });
        await payments.attempt(h, route(1_000n));
      }
      await payments.close();
    }
    const origin = (h: number) => ({ kind: 'local', paymentHash: hashes[h], attemptId: h + 1, sessionKey: '00'.repeat(32), hops: [DEST], route: { totalTimeLock: 1200, totalAmtMsat: '1000', totalFeesMsat: '0', hops: [{ pubkey: DEST, shortChannelId: '1', amtToForwardMsat: '1000', feeMsat: '0', expiry: 1200 }] } });
    // 0: HTLC 0 in a commitment. 1: HTLC 1 signed, not yet revoked. 2: origin stored, the add never
    // stored by the channel (HTLC 2 is nowhere). 3: stopped before the origin was stored.
    const t = await start({ [`${CH}:0`]: origin(0), [`${CH}:1`]: origin(1), [`${CH}:2`]: origin(2) });
    const sw = await HtlcSwitch.open({ kv, dir, channels: t.channels, invoices: t.invoices, payments: t.payments, nodeSecret: new Uint8Array(32).fill(9), nodeId: DEST, height: () => 100, log: memoryLogger() });
    try {
      expect((await t.payments.list()).payments.map((p) => p.status)).toEqual(['IN_FLIGHT', 'IN_FLIGHT', 'FAILED', 'FAILED']);
      expect((await t.payments.get(hashes[2]!))).toMatchObject({ failureReason: 'FAILURE_REASON_ERROR', attempts: [{ status: 'FAILED', failure: { code: 'local_failure', message: expect.stringMatching(/^the node stopped/) } }] });
      // Each failed invoice can be paid again.
      for (const h of [hashes[2]!, hashes[3]!]) expect((await t.payments.begin({ paymentHash: h, destination: DEST, amountMsat: 1_000n })).started).toBe(true);

      // The carried ones end with their channel, with nobody waiting on them any more: HTLC 0's
      // preimage arrives (recorded before the channel moves on), HTLC 1 fails.
      await t.onPreimage()(CH, 0n, pre[0]!);
      expect((await t.payments.get(hashes[0]!))).toMatchObject({ status: 'SUCCEEDED', preimage: hex.encode(pre[0]!) });
      await t.handler()({ type: 'failed', channel: CH, id: 1n, local: 'the connection to the peer dropped before the payment was committed' });
      expect((await t.payments.get(hashes[1]!))).toMatchObject({ status: 'FAILED', failureReason: 'FAILURE_REASON_ERROR' });
      expect((await t.payments.begin({ paymentHash: hashes[1]!, destination: DEST, amountMsat: 1_000n })).started).toBe(true);
    } finally {
      await sw.close();
      await t.payments.close();
    }
  });

  it('keeps no onion session key once its attempt ended: one an older version stored still reads its failure, then goes', async () => {
    const hash = hex.encode(sha256(new Uint8Array(32).fill(1)));
    {
      const payments = await PaymentStore.open(kv);
      await payments.begin({ paymentHash: hash, destination: DEST, amountMsat: 1_000n });
      await payments.attempt(hash, route(1_000n));
      await payments.close();
    }
    const outKey = new Uint8Array(32).fill(0x11);
    const endedKey = new Uint8Array(32).fill(0x22);
    const origin = (h: string, attemptId: number, key: Uint8Array, done: boolean) => ({ kind: 'local', paymentHash: h, attemptId, sessionKey: hex.encode(key), hops: [DEST], route: { totalTimeLock: 1200, totalAmtMsat: '1000', totalFeesMsat: '0', hops: [{ pubkey: DEST, shortChannelId: '1', amtToForwardMsat: '1000', feeMsat: '0', expiry: 1200 }] }, ...(done ? { done } : {}) });
    // Version 1 of the store: HTLC 0 still out (in a commitment), HTLC 1's attempt long over.
    const t = await start({ [`${CH}:0`]: origin(hash, 1, outKey, false), [`${CH}:1`]: origin('bb'.repeat(32), 2, endedKey, true) });
    const sw = await HtlcSwitch.open({ kv, dir, channels: t.channels, invoices: t.invoices, payments: t.payments, nodeSecret: new Uint8Array(32).fill(9), nodeId: DEST, height: () => 100, log: memoryLogger() });
    // What the node keeps of the switch: every origin record, live and ended.
    const stored = async () => [...(await kv.range(ORIGINS_NS)), ...(await kv.range(ORIGINS_DONE_NS))].map((r) => `${r.key} ${Buffer.from(r.value).toString()}`).join('\n');
    try {
      // htlc-switch.json of version 1 moved into the store: the ended attempt's key did not come along.
      expect(await readFile(join(dir, 'htlc-switch.json.migrated'), 'utf8')).toContain('"schema_version":1');
      expect(await stored()).not.toContain(hex.encode(endedKey));
      expect(await stored()).toContain(hex.encode(outKey));
      // The payee fails HTLC 0; the key still read its answer, and goes with the attempt.
      const { secrets } = sharedSecrets(outKey, [hex.decode(DEST)]);
      const reason = obfuscateFailure(secrets[0]!, createFailurePacket(secrets[0]!, encodeFailureMessage({ type: 'incorrect_or_unknown_payment_details', htlc_msat: 1_000n, height: 100 })));
      await t.handler()({ type: 'failed', channel: CH, id: 0n, reason });
      expect((await t.payments.get(hash))).toMatchObject({ status: 'FAILED', failureReason: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS' });
      expect(await stored()).not.toContain(hex.encode(outKey));
      expect(await stored()).not.toContain('sessionKey');
    } finally {
      await sw.close();
      await t.payments.close();
    }
  });

  it('a payee settles its invoice before the preimage leaves, so a crash in between cannot lose the payment', async () => {
    const nodeSecret = new Uint8Array(32).fill(9);
    const invoices = await InvoiceRegistry.open(kv, { nodeSecret, network: 'regtest' });
    const inv = await invoices.create({ amountMsat: 5_000_000n });
    const hash = hex.decode(inv.paymentHash);
    const atFulfill: string[] = [];
    const t = await start({}, invoices, async (_key, input) => {
      if (input.type === 'fulfill_htlc') atFulfill.push((await invoices.lookup(hash))!.state);
    });
    const sw = await HtlcSwitch.open({ kv, dir, channels: t.channels, invoices, payments: t.payments, nodeSecret, nodeId: hex.encode(secp.getPublicKey(nodeSecret)), height: () => 100, log: memoryLogger() });
    try {
      const payload = framedPayload({ amountMsat: 5_000_000n, outgoingCltv: 500, paymentSecret: hex.decode(inv.paymentSecret), totalMsat: 5_000_000n });
      const onion = createOnion(new Uint8Array(32).fill(5), [{ pubkey: secp.getPublicKey(nodeSecret), payload }], hash);
      await t.handler()({ type: 'locked_in', channel: CH, htlc: { id: 0n, amountMsat: 5_000_000n, paymentHash: hash, cltvExpiry: 500, onion } });
      expect(atFulfill).toEqual(['SETTLED']);
      expect((await invoices.lookup(hash))).toMatchObject({ state: 'SETTLED' });
    } finally {
      await sw.close();
      await t.payments.close();
      await invoices.close();
    }
  });
});
