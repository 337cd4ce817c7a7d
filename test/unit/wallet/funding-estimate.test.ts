/** The largest channel confirmed coins can fund, and the funding transaction's fee, before anything is built. */
import { describe, expect, it } from 'vitest';
import { fundingEstimate } from '../../../core/wallet/funding-estimate.ts';
import { VSIZE } from '../../../core/wallet/coin-select.ts';

const coins = [
  { key: 'a:0', value: 600_000n },
  { key: 'b:0', value: 400_000n },
];
const limits = { minFundingSat: 20_000n, maxFundingSat: 16_777_215n };

describe('funding estimate', () => {
  it('the largest channel is every coin less the fee of a transaction spending them all to one P2WSH output', () => {
    const vsize = Math.ceil(VSIZE.overhead + 2 * VSIZE.p2wpkhInput + VSIZE.p2wshOutput);
    const e = fundingEstimate({ coins, satPerVb: 2, ...limits });
    expect(e.maxSat).toBe(1_000_000n - BigInt(vsize * 2));
    expect(e.affordable).toBe(true);
    expect(e.feeSat).toBe(BigInt(vsize * 2));
  });

  it('the fee of a smaller channel comes from the coins the wallet would pick (with change)', () => {
    const e = fundingEstimate({ coins, satPerVb: 3, amountSat: 500_000n, ...limits });
    const vsize = Math.ceil(VSIZE.overhead + VSIZE.p2wpkhInput + VSIZE.p2wshOutput + VSIZE.p2wpkhOutput);
    expect(e).toEqual({ maxSat: e.maxSat, feeSat: BigInt(vsize * 3), affordable: true });
  });

  it("a channel above what fits is not affordable, and the node's maximum caps the largest", () => {
    const max = fundingEstimate({ coins, satPerVb: 2, ...limits }).maxSat;
    expect(fundingEstimate({ coins, satPerVb: 2, amountSat: max + 1n, ...limits })).toEqual({ maxSat: max, feeSat: undefined, affordable: false });
    expect(fundingEstimate({ coins: [{ key: 'c:0', value: 50_000_000n }], satPerVb: 2, ...limits }).maxSat).toBe(16_777_215n);
  });

  it('no coins, or too few for the smallest channel, fund nothing', () => {
    expect(fundingEstimate({ coins: [], satPerVb: 2, ...limits })).toEqual({ maxSat: 0n, feeSat: undefined, affordable: false });
    expect(fundingEstimate({ coins: [{ key: 'd:0', value: 15_000n }], satPerVb: 2, ...limits }).maxSat).toBe(0n);
  });
});
