/**
 * A payment that fails says what happened and what to do, from the payment's record, in the API's
 * error and in lookuppayment's failure_detail alike: no channel, not enough to send (with the most one
 * can), no known way to the payee, every way over the fee limit (with the fee that would do), a node on
 * the way that cannot pass it on (which one, and why), and a payee that refuses (a canceled invoice).
 * estimateroutefee says the same before any payment: the fee of the way the node would take, or why
 * none. Two in-process nodes on one playground chain; a third payee is only a key that signs invoices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { startPlaygroundPair } from '../../helpers/playground-pair.ts';
import type { PlaygroundPair } from '../../helpers/playground-pair.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import type { ApiHandlers } from '../../../core/api/contract.ts';
import { encodeInvoice } from '../../../core/invoice/bolt11.ts';
import type { RouteHintHop } from '../../../core/invoice/bolt11.ts';

/** An invoice of a node nobody knows, optionally with a route hint. */
function strangerInvoice(sat: number, routeHints: RouteHintHop[][] = []): string {
  return encodeInvoice(
    { network: 'regtest', amountMsat: BigInt(sat) * 1000n, timestamp: Math.floor(Date.now() / 1000), paymentHash: randomBytes(32), paymentSecret: randomBytes(32), description: 'a stranger', expiry: 3600, minFinalCltvExpiryDelta: 40, routeHints },
    randomBytes(32),
  );
}

describe('payment failures diagnosed, and route fees estimated, by the node', () => {
  let pair: PlaygroundPair;
  let bob: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  const mine = (n: number): Promise<void> => pair.mine(n);

  beforeAll(async () => {
    pair = await startPlaygroundPair('diag');
    ({ bob, a, b } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
  });

  it('without a channel: says to open one, before paying and after', async () => {
    const inv = await b.addinvoice({ value: 1_000 });
    const est = await a.estimateroutefee({ payment_request: inv.payment_request });
    expect(est).toMatchObject({ failure_reason: 'FAILURE_REASON_INSUFFICIENT_BALANCE', via: '', failure_detail: { kind: 'no_channel' } });
    await expect(a.sendpayment({ pay_req: inv.payment_request })).rejects.toThrow('You have no open channel to pay through. Open a channel first (Channels), then pay again.');
    expect((await a.lookuppayment({ payment_hash: inv.r_hash })).failure_detail).toEqual(est.failure_detail);
  });

  it('with a channel: the fee of each way, too much to send, no way, the fee limit, a hop that cannot forward, a payee that refuses', { timeout: 60_000 }, async () => {
    const { address } = await a.newaddress({});
    await a.playground_faucet({ addr: address, amt: 1_500_000 });
    await waitFor('the coins to confirm', async () => ((await a.walletbalance({})).confirmed_balance === '1500000' ? true : undefined));
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000 });
    await mine(3);
    await waitFor('the channel to be active on both ends', async () => ((await a.listchannels({})).channels[0]?.active && (await b.listchannels({})).channels[0]?.active ? true : undefined));

    // Direct: no fee, over Bob.
    const coffee = await b.addinvoice({ value: 1_000, memo: 'a coffee' });
    expect(await a.estimateroutefee({ payment_request: coffee.payment_request })).toMatchObject({ routing_fee_msat: '0', max_routing_fee_msat: '0', failure_reason: 'FAILURE_REASON_NONE', via: 'direct', first_hop_pubkey: bob.node.nodeId });
    expect(Number((await a.estimateroutefee({ payment_request: coffee.payment_request })).time_lock_delay)).toBeGreaterThanOrEqual(18);

    // More than the channel can send: the most it can, in the app's way of writing amounts.
    const any = await b.addinvoice({ memo: 'any amount' });
    const canSend = BigInt((await a.channelbalance({})).can_send.sat);
    const most = canSend.toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
    const tooMuch = await a.estimateroutefee({ payment_request: any.payment_request, amt_sat: 2_000_000 });
    expect(tooMuch).toMatchObject({ failure_reason: 'FAILURE_REASON_NO_ROUTE', failure_detail: { kind: 'insufficient_outbound' } });
    expect(tooMuch.failure_detail!.text).toBe(
      `Your channels cannot send 2\u202f000\u202f000 sat now: the most the channel toward the payee can send is ${most} sat (each side keeps a reserve, and the opener pays the fees). Pay less, or open a channel with more on your side.`,
    );
    await expect(a.sendpayment({ pay_req: any.payment_request, amt: 2_000_000 })).rejects.toThrow(tooMuch.failure_detail!.text);

    // A payee nobody knows a way to.
    const lost = strangerInvoice(1_000);
    expect((await a.estimateroutefee({ payment_request: lost })).failure_detail?.kind).toBe('no_route');
    await expect(a.sendpayment({ pay_req: lost })).rejects.toThrow(/^No way to the payee is known: you have no channel to the payee, and the invoice names no node you have a channel with/);

    // Through Bob by a route hint naming a channel Bob does not have: 1 sat of fee at Bob.
    const hinted = strangerInvoice(2_000, [[{ pubkey: hex.decode(bob.node.nodeId), shortChannelId: (600n << 40n) | (1n << 16n), feeBaseMsat: 1_000, feeProportionalMillionths: 0, cltvExpiryDelta: 40 }]]);
    expect(await a.estimateroutefee({ payment_request: hinted })).toMatchObject({ routing_fee_msat: '1000', max_routing_fee_msat: '1000', via: 'hint', first_hop_pubkey: bob.node.nodeId });
    await expect(a.sendpayment({ pay_req: hinted, fee_limit_sat: 0 })).rejects.toThrow('Every way to the payee asks more in fees (at least 1 sat) than the limit of 0 sat allows. Allow a fee of 1 sat and pay again.');
    // Without the limit it leaves, and Bob answers that he has no such channel.
    await expect(a.sendpayment({ pay_req: hinted })).rejects.toThrow(/^Your channel peer could not pass the payment on: it has no channel the route names toward the next node .*Ask the payee for a new invoice\.$/);
    const viaBob = (await a.listpayments({})).payments.at(-1)!;
    expect(viaBob).toMatchObject({ status: 'FAILED', failure_detail: { kind: 'hop_failed', hop: { index: 1, pub_key: bob.node.nodeId, is_payee: false, failure: 'unknown_next_peer' } } });
    expect(viaBob.htlcs.at(-1)!.failure).toEqual({ code: 'unknown_next_peer', failure_source_index: 0 });

    // The payee cancels its invoice: the payee refused it, and said so itself.
    const canceled = await b.addinvoice({ value: 3_000, memo: 'canceled' });
    await b.cancelinvoice({ payment_hash: canceled.r_hash });
    await expect(a.sendpayment({ pay_req: canceled.payment_request })).rejects.toThrow(/^The payee refused the payment: it does not know this invoice, or canceled it/);
    expect((await a.lookuppayment({ payment_hash: canceled.r_hash })).failure_detail).toMatchObject({ kind: 'payee_refused', hop: { index: 1, pub_key: bob.node.nodeId, is_payee: true, failure: 'incorrect_or_unknown_payment_details' } });

    // And a payment that can go, goes.
    expect((await a.sendpayment({ pay_req: coffee.payment_request })).status).toBe('SUCCEEDED');
    expect((await a.lookuppayment({ payment_hash: coffee.r_hash })).failure_detail).toBeUndefined();
  });
});
