import { describe, expect, it } from 'vitest';
import { daemonConfig } from '../../../core/cli/main.ts';
import { UsageError } from '../../../core/cli/args.ts';

describe('daemon channel-policy flags', () => {
  it('turn into the channel config and limits, lnd names where lnd has them', () => {
    const c = daemonConfig({
      datadir: '/tmp/x',
      minchansize: '100000',
      maxchansize: '5000000',
      maxlocalcsvdelay: '1000',
      'bitcoin.defaultremotedelay': '288',
      'bitcoin.defaultchanconfs': '6',
      'bitcoin.minhtlc': '1000',
      'default-remote-max-htlcs': '30',
      'chan.dust_limit': '600',
      'chan.reserve_pct': '2',
      'chan.max_in_flight_msat': '100000000',
    });
    expect(c.channel).toEqual({
      config: { toSelfDelay: 288, minimumDepth: 6, htlcMinimumMsat: 1000n, maxAcceptedHtlcs: 30, dustLimitSat: 600n, reserveRatio: 0.02, maxHtlcValueInFlightMsat: 100_000_000n },
      limits: { minFundingSat: 100_000n, maxFundingSat: 5_000_000n, maxToSelfDelay: 1000 },
    });
    expect(daemonConfig({ datadir: '/tmp/x' }).channel).toEqual({ config: {}, limits: {} });
  });

  it('refuse values outside sane ranges with the flag named', () => {
    expect(() => daemonConfig({ 'default-remote-max-htlcs': '484' })).toThrow(UsageError);
    expect(() => daemonConfig({ 'chan.reserve_pct': '50' })).toThrow(/--chan.reserve_pct must be a number from 1 to 20/);
    expect(() => daemonConfig({ minchansize: 'lots' })).toThrow(/--minchansize/);
  });
});
