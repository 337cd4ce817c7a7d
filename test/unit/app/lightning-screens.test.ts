/**
 * The Lightning logic behind the Send, Receive and History screens (renderer/lightning.ts): telling an
 * invoice from an address, fees and amounts as people read them, and the node's words turned into
 * sentences (route fees are the node's: estimateroutefee, test/unit/node/payment-diagnosis.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { duration, expiresAt, failureSentence, formatFee, formatMsat, invoiceNetworkFor, looksLikeAddress, msatToSatCeil, networkLabel, parsePayTarget } from '../../../renderer/lightning.ts';
import { amountProblem } from '../../../renderer/format.ts';
import { fromNode, fromText, toShown } from '../../../renderer/errors.ts';

const INVOICE = 'lnbcrt50u1pjexample0qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypq';

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
    // Neither an invoice nor an address: a word, an "ln" that is no invoice, a long paste of nothing.
    expect(parsePayTarget('lnurl')).toEqual({ kind: 'unknown' });
    expect(parsePayTarget('hello there')).toEqual({ kind: 'unknown' });
    expect(parsePayTarget('x'.repeat(2000))).toEqual({ kind: 'unknown' });
    // Addresses by their shape (the node checks their checksum): segwit in one case, legacy base58.
    expect(looksLikeAddress('BCRT1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KYGT080')).toBe(true);
    expect(looksLikeAddress('bcrt1qW508d6qejxtdg4y5r3zarvary0c5xw7kygt080')).toBe(false);
    expect(looksLikeAddress('mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn')).toBe(true);
    expect(looksLikeAddress('0xdeadbeef')).toBe(false);
  });

  it('knows which invoice network each app network pays', () => {
    expect(invoiceNetworkFor('playground')).toBe('regtest');
    expect(invoiceNetworkFor('testnet4')).toBe('testnet');
    expect(invoiceNetworkFor('mainnet')).toBe('mainnet');
    expect(networkLabel('regtest', 'playground')).toBe('Playground');
    expect(networkLabel('mainnet', 'playground')).toBe('Bitcoin (mainnet)');
  });
});

describe('fees as people read them', () => {
  it('is shown rounded up to whole sats, and fractions of a sat are kept where they matter', () => {
    expect(msatToSatCeil(2001n)).toBe(3n);
    expect(msatToSatCeil(2000n)).toBe(2n);
    expect(formatMsat(2000n, 'sat')).toBe('2 sat');
    expect(formatMsat(1_234_500n, 'sat')).toBe('1\u202f234.5 sat');
    expect(formatMsat(1500n, 'btc')).toBe('0.00000002 BTC');
    // Fees as people read them: whole sats, never rounded down.
    expect(formatFee(1_234_500n, 'sat')).toBe('1 235 sat');
    expect(formatFee('0', 'sat')).toBe('0 sat');
  });
});

describe('amounts typed, time, and sentences', () => {
  it('refuses an amount of nothing in the same words on every form', () => {
    expect(amountProblem('0', 'sat')).toBe('Enter an amount above zero.');
    expect(amountProblem('0.00000000', 'btc')).toBe('Enter an amount above zero.');
    expect(amountProblem('ten', 'sat')).toBe('Type the amount as a whole number of sats.');
    expect(amountProblem('1 000', 'sat')).toBeUndefined();
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
    expect(failureSentence({ status: 'FAILED', failure_reason: 'FAILURE_REASON_INSUFFICIENT_BALANCE' })).toBe('Your channels do not hold enough to pay it.');
    expect(failureSentence({ status: 'SUCCEEDED', failure_reason: 'FAILURE_REASON_NONE' })).toBe('');
    // The node's diagnosis wins, with amounts as the app writes them.
    expect(failureSentence({ status: 'FAILED', failure_reason: 'FAILURE_REASON_NO_ROUTE', failure_detail: { kind: 'insufficient_outbound', text: 'Your channels cannot send 2000000 sat now' } })).toBe('Your channels cannot send 2\u202f000\u202f000 sat now.');
  });
});

describe('errors in one voice', () => {
  const KEY = '02' + 'ab'.repeat(32);
  const TXID = 'cd'.repeat(32);

  it('starts with a capital, ends with a full stop, and writes amounts as the app does', () => {
    expect(fromText('the payment failed: no route')).toEqual({ text: 'The payment failed: no route.' });
    expect(fromText('Already a sentence.')).toEqual({ text: 'Already a sentence.' });
    expect(fromNode('failed_precondition', 'no channel can send 2000000 sat right now (the most any channel can send is 480000 sat); open a channel first').text).toBe(
      'No channel can send 2\u202f000\u202f000 sat right now (the most any channel can send is 480\u202f000 sat); open a channel first.',
    );
  });

  it('keeps identifiers for the details, and says what to do when the node did not', () => {
    const e = fromNode('not_found', `there is no invoice with payment hash ${TXID}`);
    expect(e.text).toBe('There is no invoice with payment hash. Check it and try again.');
    expect(e.details).toBe(`there is no invoice with payment hash ${TXID}`);
    const c = fromNode('failed_precondition', `not connected to ${KEY}; connect first (coulomb connect <pubkey>@<host>:<port>)`);
    expect(c.text).toBe('That node is not connected. Connect to it first (Peers), then try again.');
    expect(c.text).not.toContain(KEY);
    expect(c.details).toContain(KEY);
    expect(fromNode('internal', 'internal error in listpayments: boom')).toMatchObject({ details: 'internal error in listpayments: boom' });
    expect(fromNode('internal', 'internal error in listpayments: boom').text).toMatch(/^Something went wrong inside Coulomb/);
  });

  it("takes a failed call's code, and a screen's own error as it is", () => {
    const call = Object.assign(new Error('wrong password; nothing was changed'), { code: 'invalid_argument' });
    expect(toShown(call).text).toBe('That password is not right. Nothing was changed: try again.');
    expect(toShown(new Error('Enter an amount above zero.'))).toEqual({ text: 'Enter an amount above zero.' });
    expect(fromNode('invalid_argument', 'This is not a valid Lightning invoice (a character is wrong or missing). Copy it again from the payee, whole.')).toEqual({
      text: 'This is not a valid Lightning invoice (a character is wrong or missing). Copy it again from the payee, whole.',
    });
  });
});
