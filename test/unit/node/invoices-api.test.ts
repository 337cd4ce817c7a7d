/**
 * Invoices and payments through the node's API handlers, lncli-shaped: addinvoice makes an invoice that
 * decodepayreq reads back, listinvoices pages, lookupinvoice and cancelinvoice find it by hash, and a
 * restart keeps everything. One in-process node on its own playground.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import type { ApiHandlers } from '../../../core/api/contract.ts';
import { createDispatcher } from '../../../core/api/dispatch.ts';
import { CoulombNode } from '../../../core/node/node.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import { hex } from '../../../core/util/bytes.ts';

describe('invoice and payment API', () => {
  let t: TestNode;
  let api: ApiHandlers;

  beforeAll(async () => {
    t = await startTestNode('invoices-api');
    api = t.node.handlers();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('addinvoice makes an invoice that decodepayreq reads back', async () => {
    const added = await api.addinvoice({ value: 1500, memo: 'two coffees', expiry: 3600 });
    expect(added).toMatchObject({ add_index: '1' });
    expect(added.r_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(added.payment_addr).toMatch(/^[0-9a-f]{64}$/);
    expect(added.payment_request).toMatch(/^lnbcrt15u1/);
    const d = await api.decodepayreq({ pay_req: added.payment_request });
    expect(d).toMatchObject({
      destination: t.node.nodeId,
      payment_hash: added.r_hash,
      payment_addr: added.payment_addr,
      num_satoshis: '1500',
      num_msat: '1500000',
      description: 'two coffees',
      expiry: '3600',
      expired: false,
      cltv_expiry: '80',
      network: 'regtest',
      route_hints: [],
    });
    expect(Object.keys(d.features).sort()).toEqual(['14', '17', '8']);
    expect(d.features['17']).toEqual({ name: 'basic_mpp', is_required: false, is_known: true });
  });

  it('lookupinvoice and listinvoices show invoices as lncli does', async () => {
    const dh = hex.encode(sha256(new TextEncoder().encode('terms and conditions')));
    const added = await api.addinvoice({ value_msat: 12_345, description_hash: dh, cltv_expiry: 144 });
    const inv = await api.lookupinvoice({ r_hash: added.r_hash.toUpperCase() });
    expect(inv).toMatchObject({
      memo: '',
      r_hash: added.r_hash,
      value: '12',
      value_msat: '12345',
      settled: false,
      settle_date: '0',
      settle_time_ns: '0',
      payment_request: added.payment_request,
      description_hash: dh,
      expiry: '86400',
      cltv_expiry: '144',
      private: false,
      add_index: '2',
      settle_index: '0',
      amt_paid_sat: '0',
      amt_paid_msat: '0',
      state: 'OPEN',
      payment_addr: added.payment_addr,
      htlcs: [],
    });
    expect(hex.encode(sha256(hex.decode(inv.r_preimage)))).toBe(added.r_hash);
    expect(Number(inv.creation_date)).toBeGreaterThan(1_600_000_000);
    expect((await api.decodepayreq({ pay_req: added.payment_request })).description_hash).toBe(dh);

    const all = await api.listinvoices({});
    expect(all.invoices.map((i) => i.add_index)).toEqual(['1', '2']);
    expect(all).toMatchObject({ first_index_offset: '1', last_index_offset: '2' });
    expect((await api.listinvoices({ reversed: true, num_max_invoices: 1 })).invoices.map((i) => i.add_index)).toEqual(['2']);
    expect((await api.listinvoices({ index_offset: 1 })).invoices.map((i) => i.add_index)).toEqual(['2']);
  });

  it('cancelinvoice cancels; unknown hashes are not_found', async () => {
    const added = await api.addinvoice({});
    await api.cancelinvoice({ payment_hash: added.r_hash });
    expect((await api.lookupinvoice({ r_hash: added.r_hash })).state).toBe('CANCELED');
    expect((await api.listinvoices({ pending_only: true })).invoices.map((i) => i.add_index)).toEqual(['1', '2']);
    await expect(api.lookupinvoice({ r_hash: '00'.repeat(32) })).rejects.toMatchObject({ code: 'not_found' });
    await expect(api.cancelinvoice({ payment_hash: '00'.repeat(32) })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a settled invoice shows its payment, and cannot be canceled', async () => {
    const added = await api.addinvoice({ value: 10 });
    const reg = t.node.invoices;
    const d = await reg.onHtlc({ paymentHash: added.r_hash, paymentSecret: hex.decode(added.payment_addr), amountMsat: 10_000n, totalMsat: 10_000n, cltvExpiry: 10_000, currentHeight: 200, htlcId: 'c:0' });
    expect(d.action).toBe('settle');
    await reg.markSettled(added.r_hash, 10_000n);
    expect(await api.lookupinvoice({ r_hash: added.r_hash })).toMatchObject({ state: 'SETTLED', settled: true, settle_index: '1', amt_paid_sat: '10', amt_paid_msat: '10000', htlcs: [{ htlc_id: 'c:0', amt_msat: '10000', state: 'SETTLED', expiry_height: 10_000 }] });
    await expect(api.cancelinvoice({ payment_hash: added.r_hash })).rejects.toMatchObject({ code: 'failed_precondition' });
  });

  it('the dispatcher checks input before the handlers see it', async () => {
    const dispatch = createDispatcher(api, t.node.log);
    expect(await dispatch('addinvoice', { value: 1, value_msat: 1000 })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch('addinvoice', { cltv_expiry: 10 })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch('lookupinvoice', { r_hash: 'abc' })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch('listpayments', {})).toEqual({ ok: true, result: { payments: [], first_index_offset: '0', last_index_offset: '0' } });
    expect(await dispatch('listpayments', { max_payments: 0 })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('keeps invoices and payments across a restart, and refuses them while locked', async () => {
    const before = await api.listinvoices({});
    await t.node.payments.begin({ paymentHash: sha256(new Uint8Array(32).fill(5)), destination: t.node.nodeId, amountMsat: 1000n });
    expect((await api.listpayments({})).payments).toMatchObject([{ status: 'IN_FLIGHT', value_msat: '1000' }]);
    await t.restart();
    api = t.node.handlers();
    expect(await api.listinvoices({})).toEqual(before);
    // Begun but never sent: no channel holds an HTLC for it, so the restart ends it and it can be paid again.
    expect((await api.listpayments({})).payments).toMatchObject([{ status: 'FAILED', value_msat: '1000', failure_reason: 'FAILURE_REASON_ERROR' }]);
    expect((await api.addinvoice({})).add_index).toBe(String(before.invoices.length + 1));

    // The same data directory, started again but not unlocked.
    await t.node.stop();
    const locked = new CoulombNode({ config: t.node.config, log: t.node.log });
    await locked.start();
    try {
      await expect(locked.handlers().addinvoice({})).rejects.toThrow(/The wallet is locked; unlock it first/);
      await expect(locked.handlers().listpayments({})).rejects.toThrow(/The wallet is locked/);
      expect(() => locked.invoices).toThrow(/The wallet is locked/);
    } finally {
      await locked.stop();
    }
  });
});
