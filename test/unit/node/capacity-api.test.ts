/**
 * What the API says a person can do now, before any button: the largest channel the confirmed coins
 * can fund and its funding fee (estimateopen), a larger one refused before the peer hears of it, what
 * one payment can send or bring (channelbalance, listchannels' shares), an invoice that does not decode
 * in one sentence without its text, and a paid invoice found by its payment hash (lookuppayment). Two
 * in-process nodes on one playground chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlaygroundPair } from '../../helpers/playground-pair.ts';
import type { PlaygroundPair } from '../../helpers/playground-pair.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import type { ApiHandlers } from '../../../core/api/contract.ts';

describe('capacity and checks through the API', () => {
  let pair: PlaygroundPair;
  let bob: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  const mine = (n: number): Promise<void> => pair.mine(n);

  beforeAll(async () => {
    pair = await startPlaygroundPair('cap');
    ({ bob, a, b } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
  });

  it('funds no channel without confirmed coins, and says so before asking the peer', async () => {
    expect(await a.estimateopen({})).toMatchObject({ max_local_amt: '0', min_local_amt: '20000', fee_sat: '', confirmed_balance: '0' });
    await expect(a.openchannel({ node_key: bob.node.nodeId, local_amt: 100_000 })).rejects.toThrow(/^Your confirmed balance \(0 sat\) cannot fund a channel: the smallest is 20\u202f000 sat plus the network fee\. Receive more bitcoin first/);
    expect((await a.closedchannels({})).channels).toEqual([]);
  });

  it('gives the largest channel the coins fund after the fee, and refuses one sat more', { timeout: 30_000 }, async () => {
    const { address } = await a.newaddress({});
    await a.playground_faucet({ addr: address, amt: 1_500_000 });
    await waitFor('the coins to confirm', async () => ((await a.walletbalance({})).confirmed_balance === '1500000' ? true : undefined));
    const est = await a.estimateopen({ sat_per_vbyte: 2 });
    // One input, one P2WSH output: 10.5 + 68 + 43 vB, rounded up, at 2 sat/vB.
    expect(est).toEqual({ max_local_amt: String(1_500_000 - 244), min_local_amt: '20000', fee_sat: '244', sat_per_vbyte: '2', confirmed_balance: '1500000' });
    expect((await a.estimateopen({ local_amt: 1_500_000, sat_per_vbyte: 2 })).fee_sat).toBe('');
    expect(BigInt((await a.estimateopen({ local_amt: 500_000, sat_per_vbyte: 2 })).fee_sat)).toBeGreaterThan(244n);
    await expect(a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_500_000 - 243, sat_per_vbyte: 2 })).rejects.toThrow(
      'A channel of 1\u202f499\u202f757 sat is more than your confirmed balance can fund: you can open up to 1\u202f499\u202f756 sat now (1\u202f500\u202f000 sat confirmed, less the network fee). To open a larger one, receive more bitcoin first.',
    );
    await expect(a.openchannel({ node_key: bob.node.nodeId, local_amt: 17_000_000 })).rejects.toThrow(/^A channel holds at most 16\u202f777\u202f215 sat/);
    expect((await a.closedchannels({})).channels).toEqual([]);
  });

  it('says what one payment can send and bring, the same on both ends of a channel', { timeout: 40_000 }, async () => {
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, push_amt: 300_000 });
    await mine(3);
    const ours = await waitFor('the channel to be active on both ends', async () => {
      const [x] = (await a.listchannels({})).channels;
      const [y] = (await b.listchannels({})).channels;
      return x?.active && y?.active ? x : undefined;
    });
    expect(ours).toMatchObject({ local_chan_reserve_sat: '10000', remote_chan_reserve_sat: '10000', unsettled_balance: '0' });
    expect(BigInt(ours.local_balance) + BigInt(ours.remote_balance) + BigInt(ours.commit_fee) + BigInt(ours.anchor_sat)).toBe(1_000_000n);
    const aBal = await a.channelbalance({});
    const bBal = await b.channelbalance({});
    expect(aBal.can_send.msat).toBe(ours.spendable_msat);
    expect(aBal.can_receive.msat).toBe(ours.receivable_msat);
    expect(bBal.can_receive).toEqual(aBal.can_send);
    expect(bBal.can_send).toEqual(aBal.can_receive);
    // Bob did not open the channel, so he pays no fee: all of his 300 000 sat above his reserve.
    expect(aBal.can_receive.sat).toBe('290000');
    expect(BigInt(aBal.can_send.sat)).toBeLessThan(700_000n - 10_000n - BigInt(ours.commit_fee));
  });

  it('reads a mistyped invoice in one sentence without its text, and finds a paid one by its hash', { timeout: 30_000 }, async () => {
    const inv = await b.addinvoice({ value: 1_000, memo: 'a coffee' });
    const broken = inv.payment_request.slice(0, 40) + (inv.payment_request[40] === 'q' ? 'p' : 'q') + inv.payment_request.slice(41);
    const refused = a.decodepayreq({ pay_req: broken });
    await expect(refused).rejects.toThrow('This is not a valid Lightning invoice (a character is wrong or missing). Copy it again from the payee, whole.');
    await expect(a.sendpayment({ pay_req: broken })).rejects.toThrow(/^This is not a valid Lightning invoice \(a character is wrong or missing\)/);
    await expect(a.lookuppayment({ payment_hash: inv.r_hash })).rejects.toThrow(/^There is no payment to this invoice/);
    const paid = await a.sendpayment({ pay_req: inv.payment_request });
    expect(paid.status).toBe('SUCCEEDED');
    expect(await a.lookuppayment({ payment_hash: inv.r_hash })).toMatchObject({ status: 'SUCCEEDED', payment_preimage: paid.payment_preimage, value_sat: '1000' });
  });
});
