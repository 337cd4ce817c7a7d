/**
 * The invoice registry: invoices it makes decode to what was asked, and every HTLC decision (fail, hold,
 * settle) follows BOLT 4's final-node rules and survives a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeInvoice, payableInvoice } from '../../../core/invoice/bolt11.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { hex } from '../../../core/util/bytes.ts';
import { InvoiceRegistry, InvoiceRegistryError, MPP_TIMEOUT_MS, privateRouteHints } from '../../../core/payments/invoices.ts';
import type { IncomingHtlc, InvoiceEntry } from '../../../core/payments/invoices.ts';
import type { Network } from '../../../core/keys/node-key.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';

const NODE_SECRET = new Uint8Array(32).fill(0x21);
const NODE_ID = hex.encode(secp.getPublicKey(NODE_SECRET));
const HEIGHT = 1000;
const T0 = 1_700_000_000_000;

describeEachKvBackend('InvoiceRegistry on the $name store', (backend) => {
  let dir: string;
  let kv: KvStore;
  let reg: InvoiceRegistry;
  let clock: number;
  /** Opens the registry again on the same store, as a restart does. */
  const open = (network: Network = 'regtest'): Promise<InvoiceRegistry> => InvoiceRegistry.open(kv, { nodeSecret: NODE_SECRET, network, now: () => clock });

  /** An HTLC paying `inv` correctly, with overrides. */
  const htlc = (inv: InvoiceEntry, over: Partial<IncomingHtlc> = {}): IncomingHtlc => ({
    paymentHash: inv.paymentHash,
    paymentSecret: hex.decode(inv.paymentSecret),
    amountMsat: inv.amountMsat!,
    totalMsat: inv.amountMsat!,
    cltvExpiry: HEIGHT + 100,
    currentHeight: HEIGHT,
    htlcId: 'chan1:0',
    ...over,
  });

  beforeEach(async () => {
    clock = T0;
    dir = await tempDir('invoices');
    kv = await backend.open(dir);
    reg = await open();
  });
  afterEach(async () => {
    await reg.close();
    await kv.close();
    await removeDir(dir);
  });

  describe('create', () => {
    it('makes an invoice that decodes to the same hash, secret, amount, memo, expiry, final delta and payee', async () => {
      const inv = await reg.create({ amountMsat: 150_000n, memo: 'a coffee', expirySec: 600, minFinalCltvExpiryDelta: 40 });
      const d = decodeInvoice(inv.paymentRequest);
      expect(inv.paymentRequest).toMatch(/^lnbcrt1500n1/);
      expect(d.network).toBe('regtest');
      expect(hex.encode(d.paymentHash)).toBe(inv.paymentHash);
      expect(hex.encode(payableInvoice(d).paymentSecret)).toBe(inv.paymentSecret);
      expect(hex.encode(sha256(hex.decode(inv.preimage)))).toBe(inv.paymentHash);
      expect(d.amountMsat).toBe(150_000n);
      expect(d.description).toBe('a coffee');
      expect(d.expiry).toBe(600);
      expect(d.minFinalCltvExpiryDelta).toBe(40);
      expect(d.timestamp).toBe(Math.floor(T0 / 1000));
      expect(hex.encode(d.payee)).toBe(NODE_ID);
      // var_onion_optin and payment_secret required, basic_mpp optional.
      expect(d.features?.bits()).toEqual([8, 14, 17]);
      expect(inv).toMatchObject({ state: 'OPEN', addIndex: 1, settleIndex: 0, settleDate: 0, amtPaidMsat: 0n, memo: 'a coffee', creationDate: Math.floor(T0 / 1000), htlcs: [] });
    });

    it('defaults: one day, a final delta of 80, any amount; fresh secrets every time; add_index counts up', async () => {
      const a = await reg.create();
      const b = await reg.create({ memo: 'second' });
      const d = decodeInvoice(a.paymentRequest);
      expect(d.amountMsat).toBeUndefined();
      expect(d.expiry).toBe(86_400);
      expect(d.minFinalCltvExpiryDelta).toBe(80);
      expect(d.description).toBe('');
      expect([a.addIndex, b.addIndex]).toEqual([1, 2]);
      expect(new Set([a.paymentHash, b.paymentHash, a.paymentSecret, b.paymentSecret, a.preimage, b.preimage]).size).toBe(6);
    });

    it('puts a description hash in place of the memo, and route hints for private channels', async () => {
      const dh = sha256(new TextEncoder().encode('a long description'));
      const peer = secp.getPublicKey(new Uint8Array(32).fill(0x42));
      const inv = await reg.create({ amountMsat: 1000n, memo: 'local note', descriptionHash: dh, routeHints: privateRouteHints([{ peer, shortChannelId: (700n << 40n) | (3n << 16n) | 1n }]), private: true });
      const d = decodeInvoice(inv.paymentRequest);
      expect(d.description).toBeUndefined();
      expect(d.descriptionHash).toEqual(dh);
      expect(d.routeHints).toHaveLength(1);
      expect(d.routeHints[0]![0]).toMatchObject({ pubkey: peer, shortChannelId: (700n << 40n) | (3n << 16n) | 1n, cltvExpiryDelta: 144 });
      expect(inv).toMatchObject({ memo: 'local note', descriptionHash: hex.encode(dh), private: true });
    });

    it('uses the network of the node (testnet4 invoices are tb)', async () => {
      await reg.close();
      reg = await open('testnet4');
      expect((await reg.create({ amountMsat: 1_000_000n })).paymentRequest).toMatch(/^lntb10u1/);
    });

    it('refuses what BOLT 11 or safety forbid', async () => {
      await expect(reg.create({ minFinalCltvExpiryDelta: 17 })).rejects.toThrow(/final CLTV delta must be 18/);
      await expect(reg.create({ amountMsat: 0n })).rejects.toThrow(InvoiceRegistryError);
      await expect(reg.create({ memo: 'x'.repeat(640) })).rejects.toThrow(/memo is too long/);
      await expect(reg.create({ expirySec: 0 })).rejects.toThrow(/expiry/);
      await expect(reg.create({ descriptionHash: new Uint8Array(31) })).rejects.toThrow(/32 bytes/);
      expect((await reg.list()).invoices).toEqual([]);
    });
  });

  describe('HTLCs', () => {
    it('settles a single-part payment, and records the settlement exactly once', async () => {
      const inv = await reg.create({ amountMsat: 50_000n });
      const d = await reg.onHtlc(htlc(inv));
      expect(d).toEqual({ action: 'settle', preimage: hex.decode(inv.preimage), htlcIds: ['chan1:0'] });
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('ACCEPTED');
      clock = T0 + 5250;
      expect(await reg.markSettled(inv.paymentHash, 50_000n)).toBe(true);
      expect(await reg.markSettled(inv.paymentHash, 50_000n)).toBe(false);
      const after = (await reg.lookup(hex.decode(inv.paymentHash)))!;
      // The date to the second as lncli shows it, and the moment to the millisecond (History orders by it).
      expect(after).toMatchObject({ state: 'SETTLED', settleIndex: 1, settleDate: Math.floor((T0 + 5250) / 1000), settledAt: T0 + 5250, amtPaidMsat: 50_000n });
      expect(after.htlcs.map((h) => h.state)).toEqual(['SETTLED']);
    });

    it('settles a set in the same write as its last part when asked to, for the sum of its parts', async () => {
      const inv = await reg.create({ amountMsat: 100_000n });
      const writes: number[] = [];
      const write = kv.write.bind(kv);
      kv.write = (ops, o) => {
        writes.push(ops.length);
        return write(ops, o);
      };
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 60_000n, totalMsat: 100_000n, htlcId: 'a:1' }), { settle: true })).toMatchObject({ action: 'hold' });
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('ACCEPTED');
      clock = T0 + 2500;
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 40_001n, totalMsat: 100_000n, htlcId: 'b:1' }), { settle: true })).toEqual({ action: 'settle', preimage: hex.decode(inv.preimage), htlcIds: ['a:1', 'b:1'] });
      expect(writes).toHaveLength(2);
      expect(await reg.lookup(inv.paymentHash)).toMatchObject({ state: 'SETTLED', settleIndex: 1, settledAt: T0 + 2500, amtPaidMsat: 100_001n, htlcs: [{ state: 'SETTLED' }, { state: 'SETTLED' }] });
      expect(reg.heldSets()).toEqual([]);
      // What the switch calls next changes nothing; a replay gets the same answer.
      expect(await reg.markSettled(inv.paymentHash, 100_001n)).toBe(false);
      expect(writes).toHaveLength(2);
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 40_001n, totalMsat: 100_000n, htlcId: 'b:1' }), { settle: true })).toMatchObject({ action: 'settle', htlcIds: ['a:1', 'b:1'] });
    });

    it('fails an unknown hash, a wrong or missing secret, under- and over-payment with incorrect_or_unknown_payment_details', async () => {
      const inv = await reg.create({ amountMsat: 50_000n });
      const unknownDetails = { action: 'fail', reason: 'incorrect_or_unknown_payment_details' };
      expect(await reg.onHtlc(htlc(inv, { paymentHash: sha256(new Uint8Array([1])) }))).toMatchObject({ ...unknownDetails, detail: 'no invoice has this payment hash', htlcIds: ['chan1:0'] });
      expect(await reg.onHtlc(htlc(inv, { paymentSecret: new Uint8Array(32) }))).toMatchObject({ ...unknownDetails, detail: /payment secret/ });
      expect(await reg.onHtlc(htlc(inv, { paymentSecret: undefined }))).toMatchObject(unknownDetails);
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 49_999n, totalMsat: 49_999n }))).toMatchObject({ ...unknownDetails, detail: /less than/ });
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 100_001n, totalMsat: 100_001n }))).toMatchObject({ ...unknownDetails, detail: /more than twice/ });
      // Up to twice the amount is allowed.
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 100_000n, totalMsat: 100_000n }))).toMatchObject({ action: 'settle' });
    });

    it('checks the CLTV expiry against the invoice and the onion', async () => {
      const inv = await reg.create({ amountMsat: 50_000n, minFinalCltvExpiryDelta: 40 });
      // Too near the tip: BOLT 4 says incorrect_or_unknown_payment_details, so the payer learns nothing more.
      expect(await reg.onHtlc(htlc(inv, { cltvExpiry: HEIGHT + 39 }))).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: /sooner than/ });
      expect(await reg.onHtlc(htlc(inv, { cltvExpiry: HEIGHT + 50, outgoingCltvValue: HEIGHT + 60 }))).toMatchObject({ action: 'fail', reason: 'final_incorrect_cltv_expiry' });
      expect(await reg.onHtlc(htlc(inv, { amtToForwardMsat: 50_001n }))).toMatchObject({ action: 'fail', reason: 'final_incorrect_htlc_amount' });
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('OPEN');
      expect(await reg.onHtlc(htlc(inv, { cltvExpiry: HEIGHT + 40, outgoingCltvValue: HEIGHT + 40, amtToForwardMsat: 50_000n }))).toMatchObject({ action: 'settle' });
    });

    it('pays an any-amount invoice with whatever total the payer sends', async () => {
      const inv = await reg.create();
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 7_777n, totalMsat: 7_777n }))).toMatchObject({ action: 'settle', htlcIds: ['chan1:0'] });
      expect(await reg.markSettled(inv.paymentHash, 7_777n)).toBe(true);
      expect((await reg.lookup(inv.paymentHash))!.amtPaidMsat).toBe(7_777n);
    });

    it('holds the first part of a two-part payment and settles both when the second arrives', async () => {
      const inv = await reg.create({ amountMsat: 100_000n });
      const first = await reg.onHtlc(htlc(inv, { amountMsat: 60_000n, totalMsat: 100_000n, htlcId: 'a:1' }));
      expect(first).toEqual({ action: 'hold', mppDeadline: T0 + MPP_TIMEOUT_MS });
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('ACCEPTED');
      clock = T0 + 1000;
      const second = await reg.onHtlc(htlc(inv, { amountMsat: 40_000n, totalMsat: 100_000n, htlcId: 'b:7' }));
      expect(second).toEqual({ action: 'settle', preimage: hex.decode(inv.preimage), htlcIds: ['a:1', 'b:7'] });
      expect(await reg.markSettled(inv.paymentHash, 100_000n)).toBe(true);
      expect((await reg.lookup(inv.paymentHash))!.htlcs.map((h) => [h.htlcId, h.state, h.amountMsat])).toEqual([
        ['a:1', 'SETTLED', 60_000n],
        ['b:7', 'SETTLED', 40_000n],
      ]);
    });

    it('settles a three-part payment only with the last part, and refuses a part beyond the total', async () => {
      const inv = await reg.create({ amountMsat: 90_000n });
      const part = (id: string, amountMsat: bigint) => reg.onHtlc(htlc(inv, { amountMsat, totalMsat: 90_000n, htlcId: id }));
      expect(await part('x:1', 30_000n)).toMatchObject({ action: 'hold' });
      expect(await part('x:2', 30_000n)).toMatchObject({ action: 'hold' });
      expect(await part('x:3', 30_000n)).toMatchObject({ action: 'settle', htlcIds: ['x:1', 'x:2', 'x:3'] });
      // The set is complete: a fourth part is not needed (and the invoice cannot be canceled under the payer).
      expect(await part('x:4', 30_000n)).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details', htlcIds: ['x:4'] });
      await expect(reg.cancel(inv.paymentHash)).rejects.toThrow(/being settled/);
      expect(await reg.onMppTimeout(inv.paymentHash)).toEqual([]);
    });

    it('counts a repeated HTLC id once, and answers a replay with the same decision', async () => {
      const inv = await reg.create({ amountMsat: 100_000n });
      const a = htlc(inv, { amountMsat: 60_000n, totalMsat: 100_000n, htlcId: 'a:1' });
      expect(await reg.onHtlc(a)).toMatchObject({ action: 'hold' });
      expect(await reg.onHtlc(a)).toMatchObject({ action: 'hold' });
      expect((await reg.lookup(inv.paymentHash))!.htlcs).toHaveLength(1);
      // Had the repeat counted, 60k + 60k would have completed the set.
      const b = htlc(inv, { amountMsat: 40_000n, totalMsat: 100_000n, htlcId: 'b:1' });
      expect(await reg.onHtlc(b)).toMatchObject({ action: 'settle', htlcIds: ['a:1', 'b:1'] });
      expect(await reg.onHtlc(b)).toMatchObject({ action: 'settle', htlcIds: ['a:1', 'b:1'] });
      await reg.markSettled(inv.paymentHash, 100_000n);
      expect(await reg.onHtlc(a)).toMatchObject({ action: 'settle', preimage: hex.decode(inv.preimage), htlcIds: ['a:1', 'b:1'] });
    });

    it('fails the whole set when the parts disagree on the total', async () => {
      const inv = await reg.create({ amountMsat: 100_000n });
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 50_000n, totalMsat: 100_000n, htlcId: 'a:1' }))).toMatchObject({ action: 'hold' });
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 50_000n, totalMsat: 120_000n, htlcId: 'b:1' }))).toMatchObject({
        action: 'fail',
        reason: 'incorrect_or_unknown_payment_details',
        htlcIds: ['b:1', 'a:1'],
      });
      const after = (await reg.lookup(inv.paymentHash))!;
      expect(after.state).toBe('OPEN');
      expect(after.htlcs.map((h) => h.state)).toEqual(['CANCELED']);
      // Payable again, in full.
      expect(await reg.onHtlc(htlc(inv, { htlcId: 'c:1' }))).toMatchObject({ action: 'settle', htlcIds: ['c:1'] });
    });

    it('never settles an invoice twice: a new payment of a settled invoice fails', async () => {
      const inv = await reg.create({ amountMsat: 10_000n });
      expect(await reg.onHtlc(htlc(inv, { htlcId: 'a:1' }))).toMatchObject({ action: 'settle' });
      expect(await reg.markSettled(inv.paymentHash, 10_000n)).toBe(true);
      expect(await reg.onHtlc(htlc(inv, { htlcId: 'b:1' }))).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: /paid already/, htlcIds: ['b:1'] });
      expect(await reg.markSettled(inv.paymentHash, 20_000n)).toBe(false);
      expect((await reg.lookup(inv.paymentHash))).toMatchObject({ state: 'SETTLED', settleIndex: 1, amtPaidMsat: 10_000n });
      expect((await reg.lookup(inv.paymentHash))!.htlcs.map((h) => h.htlcId)).toEqual(['a:1']);
      // A second invoice gets the next settle_index.
      const other = await reg.create({ amountMsat: 10_000n });
      await reg.onHtlc(htlc(other, { htlcId: 'c:1' }));
      await reg.markSettled(other.paymentHash, 10_000n);
      expect((await reg.lookup(other.paymentHash))!.settleIndex).toBe(2);
    });

    it('fails new HTLCs once an open invoice has expired, but lets a set that began in time complete', async () => {
      const inv = await reg.create({ amountMsat: 10_000n, expirySec: 60 });
      const late = await reg.create({ amountMsat: 10_000n, expirySec: 60 });
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 5_000n, totalMsat: 10_000n, htlcId: 'a:1' }))).toMatchObject({ action: 'hold' });
      clock = T0 + 61_000;
      expect(await reg.onHtlc(htlc(late))).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: /expired/ });
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 5_000n, totalMsat: 10_000n, htlcId: 'a:2' }))).toMatchObject({ action: 'settle', htlcIds: ['a:1', 'a:2'] });
    });

    it('fails an incomplete set with mpp_timeout after 60 seconds, and not before', async () => {
      const inv = await reg.create({ amountMsat: 100_000n });
      const a = htlc(inv, { amountMsat: 30_000n, totalMsat: 100_000n, htlcId: 'a:1' });
      await reg.onHtlc(a);
      clock = T0 + 20_000;
      await reg.onHtlc(htlc(inv, { amountMsat: 30_000n, totalMsat: 100_000n, htlcId: 'a:2' }));
      expect(reg.heldSets()).toEqual([{ paymentHash: inv.paymentHash, htlcIds: ['a:1', 'a:2'], mppDeadline: T0 + MPP_TIMEOUT_MS, complete: false }]);
      clock = T0 + MPP_TIMEOUT_MS - 1;
      expect(await reg.onMppTimeout(inv.paymentHash)).toEqual([]);
      clock = T0 + MPP_TIMEOUT_MS;
      expect(await reg.onMppTimeout(inv.paymentHash)).toEqual(['a:1', 'a:2']);
      expect(await reg.onMppTimeout(inv.paymentHash)).toEqual([]);
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('OPEN');
      expect(reg.heldSets()).toEqual([]);
      // A late replay of a timed-out part gets the same failure; a fresh payment can still succeed.
      expect(await reg.onHtlc(a)).toMatchObject({ action: 'fail', reason: 'mpp_timeout', htlcIds: ['a:1'] });
      expect(await reg.onHtlc(htlc(inv, { htlcId: 'b:1' }))).toMatchObject({ action: 'settle', htlcIds: ['b:1'] });
    });
  });

  describe('cancel', () => {
    it('cancels an open invoice, after which it takes no payment; twice is harmless', async () => {
      const inv = await reg.create({ amountMsat: 10_000n });
      expect(await reg.cancel(inv.paymentHash)).toEqual([]);
      expect(await reg.cancel(inv.paymentHash)).toEqual([]);
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('CANCELED');
      expect(await reg.onHtlc(htlc(inv))).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: /canceled/ });
      await expect(reg.cancel(sha256(new Uint8Array([9])))).rejects.toMatchObject({ code: 'not_found' });
    });

    it('hands back the HTLCs it held, to its return value and to listeners', async () => {
      const inv = await reg.create({ amountMsat: 10_000n });
      const told: [string, string[]][] = [];
      const off = reg.onCancel((h, ids) => told.push([h, ids]));
      await reg.onHtlc(htlc(inv, { amountMsat: 4_000n, totalMsat: 10_000n, htlcId: 'a:1' }));
      expect(await reg.cancel(inv.paymentHash)).toEqual(['a:1']);
      expect(told).toEqual([[inv.paymentHash, ['a:1']]]);
      off();
      expect(await reg.onHtlc(htlc(inv, { amountMsat: 4_000n, totalMsat: 10_000n, htlcId: 'a:1' }))).toMatchObject({ action: 'fail', reason: 'incorrect_or_unknown_payment_details' });
      expect(await reg.onMppTimeout(inv.paymentHash)).toEqual([]);
    });

    it('refuses to cancel a settled invoice', async () => {
      const inv = await reg.create({ amountMsat: 10_000n });
      await reg.onHtlc(htlc(inv));
      await reg.markSettled(inv.paymentHash, 10_000n);
      await expect(reg.cancel(inv.paymentHash)).rejects.toMatchObject({ code: 'failed_precondition', message: /settled already/ });
      expect((await reg.lookup(inv.paymentHash))!.state).toBe('SETTLED');
    });
  });

  describe('list', () => {
    it('pages by add_index forwards and backwards, and filters pending ones', async () => {
      const invs: InvoiceEntry[] = [];
      for (let i = 0; i < 5; i++) invs.push(await reg.create({ amountMsat: 1000n, memo: `#${i + 1}` }));
      await reg.cancel(invs[1]!.paymentHash);
      await reg.onHtlc(htlc(invs[2]!));
      await reg.markSettled(invs[2]!.paymentHash, 1000n);
      const memos = (r: { invoices: InvoiceEntry[] }) => r.invoices.map((i) => i.memo);
      expect(memos((await reg.list()))).toEqual(['#1', '#2', '#3', '#4', '#5']);
      expect((await reg.list({ indexOffset: 1, numMaxInvoices: 2 }))).toMatchObject({ firstIndexOffset: 2, lastIndexOffset: 3 });
      expect(memos((await reg.list({ indexOffset: 1, numMaxInvoices: 2 })))).toEqual(['#2', '#3']);
      expect(memos((await reg.list({ reversed: true, numMaxInvoices: 2 })))).toEqual(['#4', '#5']);
      expect(memos((await reg.list({ reversed: true, indexOffset: 4, numMaxInvoices: 2 })))).toEqual(['#2', '#3']);
      expect(memos((await reg.list({ pendingOnly: true })))).toEqual(['#1', '#4', '#5']);
      expect((await reg.list({ indexOffset: 5 }))).toEqual({ invoices: [], firstIndexOffset: 0, lastIndexOffset: 0 });
    });
  });

  it('keeps every state, held part and index across a restart', async () => {
    const open1 = await reg.create({ amountMsat: 1000n, memo: 'open' });
    const settled = await reg.create({ amountMsat: 1000n, memo: 'settled' });
    const canceled = await reg.create({ amountMsat: 1000n, memo: 'canceled' });
    const accepted = await reg.create({ amountMsat: 1000n, memo: 'accepted' });
    await reg.onHtlc(htlc(settled, { htlcId: 's:1' }));
    await reg.markSettled(settled.paymentHash, 1000n);
    await reg.cancel(canceled.paymentHash);
    await reg.onHtlc(htlc(accepted, { amountMsat: 400n, totalMsat: 1000n, htlcId: 'p:1' }));

    await reg.close();
    // A real restart opens the store again too (in memory the same store stands in for it).
    if (backend.persistent) {
      await kv.close();
      kv = await backend.open(dir);
    }
    reg = await open();
    expect((await reg.list()).invoices.map((i) => [i.memo, i.state])).toEqual([
      ['open', 'OPEN'],
      ['settled', 'SETTLED'],
      ['canceled', 'CANCELED'],
      ['accepted', 'ACCEPTED'],
    ]);
    expect((await reg.lookup(open1.paymentHash))).toEqual(open1);
    expect((await reg.lookup(settled.paymentHash))).toMatchObject({ settleIndex: 1, amtPaidMsat: 1000n, preimage: settled.preimage });
    expect(reg.heldSets()).toEqual([{ paymentHash: accepted.paymentHash, htlcIds: ['p:1'], mppDeadline: T0 + MPP_TIMEOUT_MS, complete: false }]);
    // The held part still counts, the settled invoice still refuses, and indexes carry on.
    expect(await reg.onHtlc(htlc(accepted, { amountMsat: 600n, totalMsat: 1000n, htlcId: 'p:2' }))).toMatchObject({ action: 'settle', htlcIds: ['p:1', 'p:2'] });
    expect(await reg.onHtlc(htlc(settled, { htlcId: 's:2' }))).toMatchObject({ action: 'fail' });
    expect(await reg.markSettled(settled.paymentHash, 1000n)).toBe(false);
    expect((await reg.create()).addIndex).toBe(5);
  });
});
