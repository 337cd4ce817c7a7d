/**
 * What we ask of a channel and what we accept from a peer (BOLT 2 open_channel/accept_channel),
 * with sane defaults. An offer outside these limits is refused with a sentence saying why.
 */
export interface ChannelConfig {
  dustLimitSat: bigint;
  /** Reserve we require the peer to keep, as a share of the capacity (1%). */
  reserveRatio: number;
  htlcMinimumMsat: bigint;
  maxHtlcValueInFlightMsat: bigint;
  maxAcceptedHtlcs: number;
  /** The delay we impose on the peer's own outputs. */
  toSelfDelay: number;
  /** Confirmations we want on a funding transaction the peer publishes. */
  minimumDepth: number;
}

export interface ChannelLimits {
  minFundingSat: bigint;
  maxFundingSat: bigint;
  /** The longest delay we accept on our own outputs. */
  maxToSelfDelay: number;
  maxDustLimitSat: bigint;
  minDustLimitSat: bigint;
  /** The largest reserve (share of capacity) we accept keeping. */
  maxReserveRatio: number;
  maxMinimumDepth: number;
  minFeeratePerKw: number;
  maxFeeratePerKw: number;
}

export const DEFAULT_CONFIG: ChannelConfig = {
  dustLimitSat: 546n,
  reserveRatio: 0.01,
  htlcMinimumMsat: 1n,
  maxHtlcValueInFlightMsat: 2n ** 64n - 1n,
  maxAcceptedHtlcs: 483,
  toSelfDelay: 144,
  minimumDepth: 3,
};

export const DEFAULT_LIMITS: ChannelLimits = {
  minFundingSat: 20_000n,
  maxFundingSat: 16_777_215n,
  maxToSelfDelay: 2016,
  maxDustLimitSat: 20_000n,
  minDustLimitSat: 354n,
  maxReserveRatio: 0.2,
  maxMinimumDepth: 144,
  minFeeratePerKw: 253,
  maxFeeratePerKw: 100_000,
};

export function reserveFor(capacitySat: bigint, cfg: ChannelConfig): bigint {
  const r = BigInt(Math.ceil(Number(capacitySat) * cfg.reserveRatio));
  return r < cfg.dustLimitSat ? cfg.dustLimitSat : r;
}
