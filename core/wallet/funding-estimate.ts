/**
 * What a channel opening can hold and what it costs on chain, before anything is built: the largest
 * channel the confirmed coins can fund at a fee rate (after the funding transaction's fee), and the
 * fee of a funding transaction for a given amount, with the coin selection the wallet then uses.
 * Pure: the caller gives the coins and the node's limits.
 */
import { selectCoins, sweepAmount, SelectionError } from './coin-select.ts';
import type { Candidate } from './coin-select.ts';

/** A P2WSH output (OP_0 <32 bytes>): what a funding transaction pays (BOLT 3 funding output). Only its size matters here. */
const P2WSH_SHAPE = new Uint8Array(34);
P2WSH_SHAPE[1] = 0x20;

export interface FundingEstimate {
  /** The largest channel these coins can fund at this rate, within the node's maximum; 0 when even the minimum does not fit. */
  maxSat: bigint;
  /** The fee of a funding transaction for `amountSat` (or for maxSat when no amount is given); undefined when it cannot be funded. */
  feeSat: bigint | undefined;
  /** Whether the coins can fund `amountSat` (or maxSat) at this rate. */
  affordable: boolean;
}

export function fundingEstimate(opts: { coins: Candidate[]; satPerVb: number; amountSat?: bigint; minFundingSat: bigint; maxFundingSat: bigint }): FundingEstimate {
  const { coins, satPerVb } = opts;
  let sweep = 0n;
  if (coins.length) {
    try {
      sweep = sweepAmount(coins, P2WSH_SHAPE, satPerVb).amount;
    } catch (e) {
      if (!(e instanceof SelectionError)) throw e;
    }
  }
  const fits = sweep < opts.maxFundingSat ? sweep : opts.maxFundingSat;
  const maxSat = fits >= opts.minFundingSat ? fits : 0n;
  const amount = opts.amountSat ?? maxSat;
  if (amount <= 0n || amount > sweep) return { maxSat, feeSat: undefined, affordable: false };
  try {
    return { maxSat, feeSat: selectCoins(coins, [{ script: P2WSH_SHAPE, value: amount }], satPerVb).fee, affordable: true };
  } catch (e) {
    if (!(e instanceof SelectionError)) throw e;
    return { maxSat, feeSat: undefined, affordable: false };
  }
}
