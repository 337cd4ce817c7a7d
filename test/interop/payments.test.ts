/**
 * Payments between three Coulomb nodes on one playground chain: Alice — Bob — Carol. Direct payments
 * both ways, a payment through Bob (who forwards and earns his fee), an invoice paid only once however
 * often it is paid, and the refusals that happen before any HTLC leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';

describe('payments between Coulomb nodes', () => {
  let alice: TestNode;
  let bob: TestNode;
  let carol: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  let c: ApiHandlers;
  const all = (): TestNode[] => [alice, bob, carol];
  const mine = async (n: number): Promise<void> => {
    await a.playground_mine({ blocks: n });
    for (const t of all()) await t.node.chain.source.poke();
  };
  const active = (h: ApiHandlers, peer: string) => async () => ((await h.listchannels({})).channels.find((x) => x.remote_pubkey === peer && x.active) ? true : undefined);

  beforeAll(async () => {
    alice = await startTestNode('pay-alice');
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const chain = { kind: 'bitcoind' as const, rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie };
    bob = await startTestNode('pay-bob', undefined, chain);
    carol = await startTestNode('pay-carol', undefined, chain);
    [a, b, c] = all().map((t) => t.node.handlers()) as [ApiHandlers, ApiHandlers, ApiHandlers];
    for (const h of [a, b]) await a.playground_faucet({ addr: (await h.newaddress({})).address, amt: 5_000_000 });
    for (const t of all()) await t.node.chain.source.poke();
    await a.connect({ addr: bob.uri });
    await b.connect({ addr: carol.uri });
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 2_000_000, private: true });
    await b.openchannel({ node_key: carol.node.nodeId, local_amt: 2_000_000, private: true });
    await mine(6);
    await waitFor('alice–bob to be active', active(a, bob.node.nodeId), 20_000);
    await waitFor('bob–carol to be active', active(b, carol.node.nodeId), 20_000);
    await waitFor('carol to see bob–carol active', active(c, bob.node.nodeId), 20_000);
  }, 90_000);

  afterAll(async () => {
    for (const t of [carol, bob, alice]) await t?.close();
  });

  it('Alice pays Bob directly; the invoice settles once with the amount; balances move', { timeout: 60_000 }, async () => {
    const before = await a.channelbalance({});
    const inv = await b.addinvoice({ value: 32_345, memo: 'coffee' });
    const paid = await a.sendpayment({ pay_req: inv.payment_request });
    expect(paid).toMatchObject({ status: 'SUCCEEDED', value_sat: '32345', fee_sat: '0', payment_error: '' });
    expect(paid.payment_preimage).toMatch(/^[0-9a-f]{64}$/);
    const settled = await waitFor('the invoice to settle', async () => {
      const i = await b.lookupinvoice({ r_hash: inv.r_hash });
      return i.state === 'SETTLED' ? i : undefined;
    });
    expect(settled).toMatchObject({ amt_paid_sat: '32345', settled: true, r_preimage: paid.payment_preimage });
    await waitFor('balances to move', async () => (BigInt((await a.channelbalance({})).balance) === BigInt(before.balance) - 32_345n ? true : undefined));
    // Paying the same invoice again pays nothing more.
    const again = await a.payinvoice({ pay_req: inv.payment_request });
    expect(again.status).toBe('SUCCEEDED');
    expect((await a.listpayments({})).payments).toHaveLength(1);
  });

  it('Bob pays Alice back over the same channel, but never into the reserve Alice asks him to keep', { timeout: 60_000 }, async () => {
    const inv = await a.addinvoice({ value: 2_000 });
    expect((await b.sendpayment({ pay_req: inv.payment_request })).status).toBe('SUCCEEDED');
    // Bob has 30 345 sat on his side; Alice asks him to keep 20 000 of them.
    const withAlice = async () => (await b.listchannels({})).channels.find((x) => x.remote_pubkey === alice.node.nodeId)!;
    await waitFor('the payment to settle in both commitments', async () => ((await withAlice()).local_balance === '30345' ? true : undefined));
    const tooMuch = await a.addinvoice({ value: 15_000 });
    await expect(b.sendpayment({ pay_req: tooMuch.payment_request })).rejects.toThrow(/the most the channel toward the payee can send is 10\u202f345 sat/);
  });

  it('Alice pays Carol through Bob, who forwards and keeps his fee', { timeout: 60_000 }, async () => {
    const bobBefore = BigInt((await b.channelbalance({})).balance);
    const inv = await c.addinvoice({ value: 50_000, memo: 'through bob', private: true });
    // Bob told Carol his policy for their channel (channel_update), so her route hint carries it exactly.
    const hint = (await c.decodepayreq({ pay_req: inv.payment_request })).route_hints[0]!.hop_hints[0]!;
    expect(hint).toMatchObject({ node_id: bob.node.nodeId, fee_base_msat: 1000, fee_proportional_millionths: 100, cltv_expiry_delta: 40 });
    const paid = await a.sendpayment({ pay_req: inv.payment_request });
    expect(paid.status).toBe('SUCCEEDED');
    // Bob's fee, to the msat: 1000 base + 100 ppm of 50 000 sat.
    expect(paid.fee_msat).toBe('6000');
    expect(paid.htlcs.at(-1)!.route.hops.map((h) => h.pub_key)).toEqual([bob.node.nodeId, carol.node.nodeId]);
    await waitFor('carol to settle', async () => ((await c.lookupinvoice({ r_hash: inv.r_hash })).state === 'SETTLED' ? true : undefined));
    // Bob gained exactly what Alice paid in fees (his two channels' local balances together).
    await waitFor('bob to earn the fee', async () => (BigInt((await b.channelbalance({})).balance) - bobBefore === BigInt(paid.fee_msat) / 1000n ? true : undefined), 10_000);
  });

  it('refuses before sending: expired, wrong network, our own, no amount, too much', async () => {
    const own = await a.addinvoice({ value: 1 });
    await expect(a.sendpayment({ pay_req: own.payment_request })).rejects.toThrow(/our own/);
    const mainnet = 'lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7x39ymw6j38gp7ynn44';
    await expect(a.sendpayment({ pay_req: mainnet })).rejects.toThrow(/for mainnet|expired/);
    const any = await b.addinvoice({});
    await expect(a.sendpayment({ pay_req: any.payment_request })).rejects.toThrow(/no amount/);
    const big = await b.addinvoice({ value: 1_990_000 });
    await expect(a.sendpayment({ pay_req: big.payment_request })).rejects.toThrow(/can send|not enough/);
    await expect(a.sendpayment({ pay_req: 'lnbcrt1nonsense' })).rejects.toThrow(/not a valid Lightning invoice/);
  });

  it('a wrong amount for an amount-less invoice the payee accepts; closing with nothing in flight still works', { timeout: 60_000 }, async () => {
    const inv = await b.addinvoice({});
    expect((await a.sendpayment({ pay_req: inv.payment_request, amt: 777 })).status).toBe('SUCCEEDED');
    await waitFor('settled', async () => ((await b.lookupinvoice({ r_hash: inv.r_hash })).amt_paid_sat === '777' ? true : undefined));
  });

  it('the connection cut while payments are in flight: every payment ends once, paid exactly when its invoice settled', { timeout: 90_000 }, async () => {
    const invoices = [];
    for (let i = 0; i < 8; i++) invoices.push(await b.addinvoice({ value: 1_000 + i }));
    const pays = invoices.map((inv) => a.sendpayment({ pay_req: inv.payment_request, timeout_seconds: 60 }).catch((e: Error) => ({ status: 'REFUSED', payment_error: e.message })));
    await new Promise((r) => setTimeout(r, 15));
    await a.disconnect({ pub_key: bob.node.nodeId });
    await new Promise((r) => setTimeout(r, 300));
    await a.connect({ addr: bob.uri, perm: true });
    const results = await Promise.all(pays);
    // Whatever was in flight finishes after the reconnect; nothing stays pending.
    await waitFor('every payment to end', async () => ((await a.listpayments({})).payments.every((p) => p.status !== 'IN_FLIGHT') ? true : undefined), 30_000);
    const payments = new Map((await a.listpayments({})).payments.map((p) => [p.payment_hash, p.status]));
    for (const [i, inv] of invoices.entries()) {
      const state = (await b.lookupinvoice({ r_hash: inv.r_hash })).state;
      const paid = payments.get(inv.r_hash);
      expect([state, paid], `invoice ${i} (${results[i]!.status})`).toSatisfy(([s, p]: [string, string | undefined]) => (s === 'SETTLED') === (p === 'SUCCEEDED'));
    }
    // The channel is healthy: a new payment goes through.
    const after = await b.addinvoice({ value: 4_321 });
    expect((await a.sendpayment({ pay_req: after.payment_request })).status).toBe('SUCCEEDED');
  });
});
