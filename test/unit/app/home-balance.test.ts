/** The Home screen's words for mining rewards that cannot be spent yet (renderer/balance.ts). */
import { describe, expect, it } from 'vitest';
import { immatureSentence } from '../../../renderer/balance.ts';

describe('immature mining rewards on Home', () => {
  it('says nothing when there are none', () => {
    expect(immatureSentence({ immature_balance: '0', maturing_coins: [] }, 'sat')).toBeUndefined();
  });

  it('says how much and in how many blocks it becomes spendable', () => {
    expect(immatureSentence({ immature_balance: '5000000000', maturing_coins: [{ blocks_to_maturity: 1, amount_sat: '5000000000' }] }, 'sat')).toBe('5\u202f000\u202f000\u202f000 sat from mining, spendable in 1 block');
    expect(immatureSentence({ immature_balance: '5000000000', maturing_coins: [{ blocks_to_maturity: 42, amount_sat: '5000000000' }] }, 'btc')).toBe('50.00000000 BTC from mining, spendable in 42 blocks');
  });

  it('names the first and the last block when rewards mature at different heights', () => {
    const maturing = Array.from({ length: 99 }, (_v, i) => ({ blocks_to_maturity: i + 1, amount_sat: '5000000000' }));
    expect(immatureSentence({ immature_balance: String(99n * 5_000_000_000n), maturing_coins: maturing }, 'btc')).toBe('4950.00000000 BTC from mining, spendable over the next 99 blocks (the first 50.00000000 BTC in 1 block)');
  });
});
