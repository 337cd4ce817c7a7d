/**
 * The outgoing payments' ledger: one payment per hash at a time, attempts recorded before they are sent,
 * success final, failure only once nothing is in flight, and all of it durable.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/crypto/hash.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { hex } from '../../../core/util/bytes.ts';
import { PaymentStore, PaymentStoreError } from '../../../core/payments/payments.ts';
import type { Route } from '../../../core/payments/payments.ts';
import { paymentView } from '../../../core/payments/views.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

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

describe('PaymentStore', () => {
  let dir: string;
  let store: PaymentStore;
  let clock: number;
  const open = (): Promise<PaymentStore> => PaymentStore.open({ dir, now: () => clock });

  beforeEach(async () => {
    clock = T0;
    dir = await tempDir('payments');
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    await removeDir(dir);
  });

  it('records a payment, its attempt and its success', async () => {
    const begun = await store.begin({ paymentHash: HASH, paymentRequest: 'lnbcrt1...', destination: DEST, amountMsat: 50_000n, feeLimitMsat: 5_000n });
    expect(begun.started).toBe(true);
    expect(begun.payment).toMatchObject({ paymentHash: HASH, status: 'IN_FLIGHT', amountMsat: 50_000n, feeLimitMsat: 5_000n, paymentIndex: 1, creationTime: T0, preimage: '', attempts: [] });
    const id = await store.attempt(HASH, route(50_000n));
    clock = T0 + 1500;
    expect(await store.succeed(sha256(PREIMAGE), { preimage: PREIMAGE })).toBe(true);
    const p = store.get(HASH)!;
    expect(p).toMatchObject({ status: 'SUCCEEDED', preimage: hex.encode(PREIMAGE), feeMsat: 1000n, failureReason: undefined });
    expect(p.attempts).toEqual([{ attemptId: id, status: 'SUCCEEDED', route: route(50_000n), attemptTime: T0, resolveTime: T0 + 1500, preimage: hex.encode(PREIMAGE) }]);
    // Succeeding again changes nothing.
    expect(await store.succeed(HASH, { preimage: PREIMAGE, feeMsat: 9n })).toBe(false);
    expect(store.get(HASH)!.feeMsat).toBe(1000n);
  });

  it('never starts a second payment of a hash in flight or paid', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    const again = await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 99_000n });
    expect(again).toMatchObject({ started: false, payment: { status: 'IN_FLIGHT', amountMsat: 50_000n } });
    await store.attempt(HASH, route(50_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    expect(await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n })).toMatchObject({ started: false, payment: { status: 'SUCCEEDED' } });
    expect(store.list()).toHaveLength(1);
  });

  it('fails a payment only when no attempt is in flight, and lets a failed one be tried again', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    const a1 = await store.attempt(HASH, route(50_000n));
    await expect(store.fail(HASH, 'FAILURE_REASON_NO_ROUTE')).rejects.toThrow(/still in flight/);
    await store.failAttempt(HASH, a1, { code: 'temporary_channel_failure', failureSourceIndex: 0 });
    await store.failAttempt(HASH, a1, { code: 'ignored: resolved already' });
    await store.fail(HASH, 'FAILURE_REASON_NO_ROUTE');
    expect(store.get(HASH)).toMatchObject({ status: 'FAILED', failureReason: 'FAILURE_REASON_NO_ROUTE' });
    expect(store.get(HASH)!.attempts[0]).toMatchObject({ status: 'FAILED', failure: { code: 'temporary_channel_failure', failureSourceIndex: 0 } });
    await expect(store.attempt(HASH, route(50_000n))).rejects.toMatchObject({ code: 'failed_precondition' });

    const retry = await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    expect(retry.started).toBe(true);
    expect(retry.payment).toMatchObject({ status: 'IN_FLIGHT', paymentIndex: 1, failureReason: undefined });
    expect(retry.payment.attempts).toHaveLength(1);
    const a2 = await store.attempt(HASH, route(50_000n, (600n << 40n) | 1n));
    expect(a2).toBeGreaterThan(a1);
    await store.succeed(HASH, { preimage: PREIMAGE });
    expect(store.get(HASH)!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
    await expect(store.fail(HASH, 'FAILURE_REASON_TIMEOUT')).rejects.toThrow(/succeeded/);
  });

  it('settles every part of a multi-part payment with the one preimage and sums their fees', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 100_000n });
    await store.attempt(HASH, route(60_000n));
    await store.attempt(HASH, route(40_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    const p = store.get(HASH)!;
    expect(p.attempts.map((a) => [a.status, a.preimage])).toEqual([
      ['SUCCEEDED', hex.encode(PREIMAGE)],
      ['SUCCEEDED', hex.encode(PREIMAGE)],
    ]);
    expect(p.feeMsat).toBe(2000n);
  });

  it('records a route given at success when no attempt was recorded', async () => {
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    await store.succeed(HASH, { preimage: PREIMAGE, feeMsat: 1000n, route: route(50_000n) });
    expect(store.get(HASH)!.attempts).toMatchObject([{ status: 'SUCCEEDED', route: route(50_000n) }]);
  });

  it('refuses bad input', async () => {
    await expect(store.begin({ paymentHash: 'zz', destination: DEST, amountMsat: 1n })).rejects.toThrow(PaymentStoreError);
    await expect(store.begin({ paymentHash: HASH, destination: '04' + '00'.repeat(32), amountMsat: 1n })).rejects.toThrow(/destination/);
    await expect(store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 0n })).rejects.toThrow(/amount/);
    await expect(store.attempt(HASH, route(1n))).rejects.toMatchObject({ code: 'not_found' });
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 1n });
    await expect(store.succeed(HASH, { preimage: new Uint8Array(32) })).rejects.toThrow(/does not hash/);
    expect(store.get(HASH)!.status).toBe('IN_FLIGHT');
  });

  it('keeps payments and attempts across a restart, in order', async () => {
    const other = new Uint8Array(32).fill(8);
    await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n });
    await store.attempt(HASH, route(50_000n));
    await store.begin({ paymentHash: sha256(other), destination: DEST, amountMsat: 1_000n });
    await store.attempt(sha256(other), route(1_000n));
    await store.succeed(sha256(other), { preimage: other });
    const before = store.list();
    await store.close();
    store = await open();
    expect(store.list()).toEqual(before);
    expect(store.list().map((p) => p.status)).toEqual(['IN_FLIGHT', 'SUCCEEDED']);
    expect(store.inFlight().map((p) => p.paymentHash)).toEqual([HASH]);
    expect((await store.begin({ paymentHash: HASH, destination: DEST, amountMsat: 50_000n })).started).toBe(false);
  });

  it('shows a payment as lncli does', async () => {
    await store.begin({ paymentHash: HASH, paymentRequest: 'lnbcrt500n1x', destination: DEST, amountMsat: 50_000n });
    await store.attempt(HASH, route(50_000n));
    await store.succeed(HASH, { preimage: PREIMAGE });
    const v = paymentView(store.get(HASH)!);
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
