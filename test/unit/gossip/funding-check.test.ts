/** The funding output check: the verdict on an output, and the cache and bounded queue around a fake chain lookup. */
import { describe, expect, it } from 'vitest';
import { FundingChecks, judgeFunding } from '../../../core/gossip/funding-check.ts';
import type { FundingOutput } from '../../../core/gossip/funding-check.ts';
import { fundingScript, p2wsh } from '../../../core/tx/scripts.ts';
import { testKey } from '../../helpers/gossip.ts';

const k1 = testKey('funding 1').pub;
const k2 = testKey('funding 2').pub;
const script = p2wsh(fundingScript(k1, k2));

/** A lookup whose answers the test releases one by one, counting the calls. */
class FakeChain {
  calls: bigint[] = [];
  private waiting: { scid: bigint; resolve: (o: FundingOutput) => void; reject: (e: Error) => void }[] = [];
  readonly lookup = (scid: bigint): Promise<FundingOutput> => {
    this.calls.push(scid);
    return new Promise((resolve, reject) => this.waiting.push({ scid, resolve, reject }));
  };
  get open(): number {
    return this.waiting.length;
  }
  answer(out: FundingOutput | Error): bigint {
    const w = this.waiting.shift();
    if (!w) throw new Error('no lookup is waiting');
    if (out instanceof Error) w.reject(out);
    else w.resolve(out);
    return w.scid;
  }
}

/** Lets promise callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('funding output verdict', () => {
  it('takes the 2-of-2 P2WSH of the two keys in either order, with its amount as the capacity', () => {
    expect(judgeFunding(1n, { kind: 'unspent', script, valueSat: 500_000n }, k1, k2)).toEqual({ ok: true, capacitySat: 500_000n });
    expect(judgeFunding(1n, { kind: 'unspent', script, valueSat: 500_000n }, k2, k1)).toEqual({ ok: true, capacitySat: 500_000n });
  });

  it('refuses another script, a spent output, a missing one, and says to wait for a block not seen yet', () => {
    expect(judgeFunding(1n, { kind: 'unspent', script: p2wsh(fundingScript(k1, testKey('other').pub)), valueSat: 1n }, k1, k2)).toMatchObject({ ok: false, reason: 'wrong_script' });
    expect(judgeFunding(1n, { kind: 'spent' }, k1, k2)).toMatchObject({ ok: false, reason: 'spent' });
    expect(judgeFunding(1n, { kind: 'missing' }, k1, k2)).toMatchObject({ ok: false, reason: 'missing' });
    expect(judgeFunding(1n, { kind: 'not_yet' }, k1, k2)).toMatchObject({ ok: false, reason: 'not_yet' });
  });
});

describe('funding checks', () => {
  it('asks the chain once per channel: repeats wait on the same lookup, later ones come from the cache', async () => {
    const chain = new FakeChain();
    const checks = new FundingChecks(chain.lookup);
    const a = checks.check(7n, k1, k2);
    const b = checks.check(7n, k2, k1);
    await settle();
    expect(chain.calls).toEqual([7n]);
    chain.answer({ kind: 'unspent', script, valueSat: 1000n });
    expect(await a).toEqual({ ok: true, capacitySat: 1000n });
    expect(await b).toEqual({ ok: true, capacitySat: 1000n });
    // A forged announcement of the same channel with other keys: refused from the cache.
    expect(await checks.check(7n, k1, testKey('other').pub)).toMatchObject({ ok: false, reason: 'wrong_script' });
    expect(chain.calls).toEqual([7n]);
    checks.markSpent(7n);
    expect(await checks.check(7n, k1, k2)).toMatchObject({ ok: false, reason: 'spent' });
    checks.forget(7n);
    const again = checks.check(7n, k1, k2);
    await settle();
    chain.answer({ kind: 'spent' });
    expect(await again).toMatchObject({ ok: false, reason: 'spent' });
    expect(chain.calls).toEqual([7n, 7n]);
  });

  it('runs at most maxInFlight lookups, queues at most maxQueued more, and refuses the rest until the queue drains', async () => {
    const chain = new FakeChain();
    const checks = new FundingChecks(chain.lookup, { maxInFlight: 2, maxQueued: 3 });
    const results = [1n, 2n, 3n, 4n, 5n].map((s) => checks.check(s, k1, k2));
    await settle();
    expect(chain.open).toBe(2);
    expect(checks.queued).toBe(3);
    expect(await checks.check(6n, k1, k2)).toMatchObject({ ok: false, reason: 'queue_full' });
    // Each answer frees a slot for the next one waiting, in order.
    for (let i = 0; i < 5; i++) {
      expect(chain.answer({ kind: 'missing' })).toBe(BigInt(i + 1));
      await settle();
    }
    for (const r of results) expect(await r).toMatchObject({ ok: false, reason: 'missing' });
    expect(checks.queued).toBe(0);
    expect(checks.running).toBe(0);
    const sixth = checks.check(6n, k1, k2);
    await settle();
    chain.answer({ kind: 'unspent', script, valueSat: 9n });
    expect(await sixth).toEqual({ ok: true, capacitySat: 9n });
  });

  it('does not cache a failed lookup or a block not seen yet, and forgets the oldest beyond cacheSize', async () => {
    const chain = new FakeChain();
    const checks = new FundingChecks(chain.lookup, { cacheSize: 2 });
    const failed = checks.check(1n, k1, k2);
    await settle();
    chain.answer(new Error('bitcoind is unreachable'));
    expect(await failed).toMatchObject({ ok: false, reason: 'lookup_failed', message: expect.stringContaining('bitcoind is unreachable') });
    const early = checks.check(1n, k1, k2);
    await settle();
    chain.answer({ kind: 'not_yet' });
    expect(await early).toMatchObject({ ok: false, reason: 'not_yet' });
    expect(checks.cached(1n)).toBeUndefined();
    for (const s of [1n, 2n, 3n]) {
      const p = checks.check(s, k1, k2);
      await settle();
      chain.answer({ kind: 'unspent', script, valueSat: s });
      await p;
    }
    expect(checks.cached(1n)).toBeUndefined();
    expect(checks.cached(2n)).toMatchObject({ valueSat: 2n });
    expect(checks.cached(3n)).toMatchObject({ valueSat: 3n });
  });
});
