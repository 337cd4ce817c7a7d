/**
 * Fee estimates from bitcoind's estimatesmartfee, cached so callers get an answer synchronously.
 * Never below the relay floor; a fallback when bitcoind has no estimate yet (fresh regtest, new node).
 */
import type { BitcoindRpc } from './rpc-client.ts';
import { FEERATE_FLOOR_SAT_PER_KW } from '../types.ts';
import type { FeeEstimator, FeeTarget } from '../types.ts';

const TARGETS: Record<FeeTarget, number> = { urgent: 2, normal: 6, economy: 144 };

export class BitcoindFeeEstimator implements FeeEstimator {
  private readonly cache = new Map<FeeTarget, number>();

  constructor(
    private readonly rpc: BitcoindRpc,
    /** Used while bitcoind has no estimate: 2,500 sat/kw is 10 sat/vB. */
    private readonly fallbackSatPerKw = 2500,
  ) {}

  feerateSatPerKw(target: FeeTarget): number {
    return Math.max(FEERATE_FLOOR_SAT_PER_KW, this.cache.get(target) ?? this.fallbackSatPerKw);
  }

  /** Refreshes every target; failures keep the previous answers. */
  async refresh(): Promise<void> {
    const replies = await this.rpc.batch(Object.values(TARGETS).map((t) => ({ method: 'estimatesmartfee', params: [t, 'CONSERVATIVE'] })));
    (Object.keys(TARGETS) as FeeTarget[]).forEach((target, i) => {
      const r = replies[i] as { feerate?: number } | Error;
      if (r instanceof Error || typeof r?.feerate !== 'number') return;
      // BTC per 1000 vbytes → sat per 1000 weight units.
      this.cache.set(target, Math.round((r.feerate * 1e8) / 4));
    });
  }
}
