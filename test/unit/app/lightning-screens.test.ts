/**
 * The Lightning logic behind the Send, Receive and History screens (renderer/lightning.ts): telling an
 * invoice from an address, the most an invoice could cost in fees over the ways we know, how much the
 * channels can receive, and the node's words turned into sentences.
 */
import { describe, expect, it } from 'vitest';
import { duration, estimateFee, expiresAt, failureSentence, formatMsat, invoiceNetworkFor, msatToSatCeil, networkLabel, parsePayTarget, receivableSat, sentence } from '../../../renderer/lightning.ts';
import type { Decoded } from '../../../renderer/lightning.ts';
import type { ChannelView } from '../../../core/api/contract.ts';

const US = '02' + '11'.repeat(32);
const PEER = '03' + '22'.repeat(32);
const PAYEE = '02' + '33'.repeat(32);
const OTHER = '03' + '44'.repeat(32);
const INVOICE = 'lnbcrt50u1pjexample0qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypq';

function channel(remote: string, local: number, remoteBal: number, active = true): ChannelView {
  return {
    remote_pubkey: remote,
    channel_point: `${'ab'.repeat(32)}:0`,
    chan_id: '101x1x0',
    capacity: '500000',
    local_balance: String(local),
    remote_balance: String(remoteBal),
    active,
    initiator: true,
    private: true,
    commitment_type: 'ANCHORS',
    state: 'NORMAL',
    commit_fee: '0',
    anchor_sat: '0',
    unsettled_balance: '0',
    local_chan_reserve_sat: '5000',
    remote_chan_reserve_sat: '5000',
    spendable_msat: String(Math.max(0, local - 5000) * 1000),
    receivable_msat: String(Math.max(0, remoteBal - 5000) * 1000),
  };
}

function decoded(destination: string, hints: { node_id: string; fee_base_msat: number; fee_proportional_millionths: number }[][] = []): Decoded {
  return {
    destination,
    payment_hash: '00'.repeat(32),
    num_satoshis: '5000',
    num_msat: '5000000',
    timestamp: '1700000000',
    expiry: '3600',
    expired: false,
    description: 'coffee',
    description_hash: '',
    cltv_expiry: '80',
    payment_addr: '00'.repeat(32),
    network: 'regtest',
    route_hints: hints.map((hops) => ({ hop_hints: hops.map((h) => ({ ...h, chan_id: '101x1x0', cltv_expiry_delta: 40 })) })),
    features: {},
  };
}

describe('what was pasted into "Pay to"', () => {
  it('tells invoices (bare, as lightning: links, in capitals) from addresses and bitcoin: links', () => {
    expect(parsePayTarget('')).toEqual({ kind: 'empty' });
    expect(parsePayTarget(`  ${INVOICE}\n`)).toEqual({ kind: 'invoice', invoice: INVOICE });
    expect(parsePayTarget(`lightning:${INVOICE}`)).toEqual({ kind: 'invoice', invoice: INVOICE });
    expect(parsePayTarget(`LIGHTNING:${INVOICE.toUpperCase()}`)).toEqual({ kind: 'invoice', invoice: INVOICE });
    expect(parsePayTarget('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080')).toEqual({ kind: 'onchain', address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' });
    expect(parsePayTarget('bitcoin:bcrt1qxyz?amount=0.0005&label=Shop')).toEqual({ kind: 'onchain', address: 'bcrt1qxyz', amountSat: 50_000n, label: 'Shop' });
    // A unified link offers both: the invoice comes along for the Lightning way.
    expect(parsePayTarget(`bitcoin:bcrt1qxyz?amount=0.0005&lightning=${INVOICE.toUpperCase()}`)).toMatchObject({ kind: 'onchain', address: 'bcrt1qxyz', invoice: INVOICE });
    // Not invoices: an address that happens to start with "ln" letters, a word.
    expect(parsePayTarget('lnurl')).toEqual({ kind: 'onchain', address: 'lnurl' });
  });

  it('knows which invoice network each app network pays', () => {
    expect(invoiceNetworkFor('playground')).toBe('regtest');
    expect(invoiceNetworkFor('testnet4')).toBe('testnet');
    expect(invoiceNetworkFor('mainnet')).toBe('mainnet');
    expect(networkLabel('regtest', 'playground')).toBe('Playground');
    expect(networkLabel('mainnet', 'playground')).toBe('Bitcoin (mainnet)');
  });
});

describe('the most an invoice could cost in fees', () => {
  const amount = 5_000_000n; // 5 000 sat

  it('is nothing over a direct channel, even when the invoice names our own channel as a hint', () => {
    const inv = decoded(PAYEE, [[{ node_id: US, fee_base_msat: 1000, fee_proportional_millionths: 200 }]]);
    expect(estimateFee(inv, amount, US, [channel(PAYEE, 400_000, 100_000)])).toEqual({ maxMsat: 0n, via: 'direct' });
  });

  it('is the base fee and the proportional fee of each hint hop, added from the payee back', () => {
    const one = decoded(PAYEE, [[{ node_id: PEER, fee_base_msat: 1000, fee_proportional_millionths: 200 }]]);
    // 1000 + 5 000 000 × 200 / 1 000 000 = 2000 msat.
    expect(estimateFee(one, amount, US, [channel(PEER, 400_000, 0)])).toEqual({ maxMsat: 2000n, via: 'hint', through: PEER });
    const two = decoded(PAYEE, [
      [
        { node_id: PEER, fee_base_msat: 1000, fee_proportional_millionths: 1000 },
        { node_id: OTHER, fee_base_msat: 500, fee_proportional_millionths: 100 },
      ],
    ]);
    // OTHER forwards 5 000 000 for 500 + 500 = 1000; PEER forwards 5 001 000 for 1000 + 5001 = 6001.
    expect(estimateFee(two, amount, US, [channel(PEER, 400_000, 0)]).maxMsat).toBe(7001n);
  });

  it('takes the dearest of the ways the node might use, and only those starting at an active channel', () => {
    const inv = decoded(PAYEE, [
      [{ node_id: PEER, fee_base_msat: 1000, fee_proportional_millionths: 0 }],
      [{ node_id: OTHER, fee_base_msat: 9000, fee_proportional_millionths: 0 }],
    ]);
    expect(estimateFee(inv, amount, US, [channel(PEER, 400_000, 0), channel(PAYEE, 400_000, 0)])).toEqual({ maxMsat: 1000n, via: 'hint', through: PEER });
    expect(estimateFee(inv, amount, US, [channel(PEER, 400_000, 0), channel(OTHER, 400_000, 0)]).maxMsat).toBe(9000n);
    // No way at all: the hints' fee is still shown, and the screen warns.
    expect(estimateFee(inv, amount, US, [channel(PEER, 400_000, 0, false)])).toEqual({ maxMsat: 9000n, via: 'none' });
    expect(estimateFee(decoded(PAYEE), amount, US, [])).toEqual({ maxMsat: 0n, via: 'none' });
  });

  it('is shown rounded up to whole sats, and fractions of a sat are kept where they matter', () => {
    expect(msatToSatCeil(2001n)).toBe(3n);
    expect(msatToSatCeil(2000n)).toBe(2n);
    expect(formatMsat(2000n, 'sat')).toBe('2 sat');
    expect(formatMsat(1_234_500n, 'sat')).toBe('1\u202f234.5 sat');
    expect(formatMsat(1500n, 'btc')).toBe('0.00000002 BTC');
  });
});

describe('room to receive, time, and sentences', () => {
  it('counts what the other sides of active channels hold above their reserves', () => {
    expect(receivableSat([])).toBe(0n);
    expect(receivableSat([channel(PEER, 495_000, 0)])).toBe(0n);
    // 1% of 500 000 stays with them.
    expect(receivableSat([channel(PEER, 480_000, 20_000), channel(OTHER, 0, 500_000), channel(PAYEE, 0, 100_000, false)])).toBe(15_000n + 495_000n);
  });

  it('says how long is left, and when an invoice ends', () => {
    expect(duration(40_500)).toBe('40 s');
    expect(duration(200_000)).toBe('3 min 20 s');
    expect(duration(86_399_000)).toBe('23 h 59 min');
    expect(duration(3 * 86_400_000)).toBe('3 days');
    expect(duration(-5)).toBe('0 s');
    expect(expiresAt({ timestamp: '1700000000', expiry: '3600' })).toBe(1_700_003_600_000);
    expect(expiresAt({ creation_date: '1700000000', expiry: '60' })).toBe(1_700_000_060_000);
  });

  it("turns the node's messages and failure codes into sentences", () => {
    expect(sentence('the payment failed: no route')).toBe('The payment failed: no route.');
    expect(sentence('Already a sentence.')).toBe('Already a sentence.');
    expect(failureSentence({ status: 'FAILED', failure_reason: 'FAILURE_REASON_INSUFFICIENT_BALANCE' })).toBe('Your channels do not hold enough to pay it.');
    expect(failureSentence({ status: 'SUCCEEDED', failure_reason: 'FAILURE_REASON_NONE' })).toBe('');
  });
});
