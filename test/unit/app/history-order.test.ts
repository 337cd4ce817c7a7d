/** The order of the History screen (renderer/history.ts): newest first, to the millisecond, and stable. */
import { describe, expect, it } from 'vitest';
import { newestFirst, nsToMs } from '../../../renderer/history.ts';

const T = 1_700_000_000_000;

describe('History order', () => {
  it('puts an invoice paid back within the same second as a payment above that payment', () => {
    const paid = { key: 'pay-aa', timeMs: T + 120, status: 'Paid' };
    const received = { key: 'inv-bb', timeMs: T + 870, status: 'Paid' };
    expect([paid, received].sort(newestFirst).map((r) => r.key)).toEqual(['inv-bb', 'pay-aa']);
    expect([received, paid].sort(newestFirst).map((r) => r.key)).toEqual(['inv-bb', 'pay-aa']);
  });

  it('keeps transactions waiting for a block on top, and one order for ties whatever the input order', () => {
    const rows = [
      { key: 'tx-02', timeMs: T, status: 'Confirmed' },
      { key: 'tx-01', timeMs: T, status: 'Confirmed' },
      { key: 'tx-03', timeMs: 0, status: 'Waiting for a block' },
      { key: 'pay-04', timeMs: T + 1, status: 'Pending' },
    ];
    const want = ['tx-03', 'pay-04', 'tx-01', 'tx-02'];
    expect([...rows].sort(newestFirst).map((r) => r.key)).toEqual(want);
    expect([...rows].reverse().sort(newestFirst).map((r) => r.key)).toEqual(want);
  });

  it('reads nanosecond times from the node as ms', () => {
    expect(nsToMs('1700000000123000000')).toBe(1_700_000_000_123);
    expect(nsToMs('0')).toBe(0);
  });
});
