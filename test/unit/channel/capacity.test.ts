/**
 * What a channel can send and receive now, and where its capacity is: the receive side mirrors the
 * send side exactly (what one end can send is what the other can receive), each agrees with what the
 * channel then accepts or refuses, and the shares add up to the capacity.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { channelNumbers, receivableMsat } from '../../../core/channel/capacity.ts';
import { spendableMsat } from '../../../core/channel/updates.ts';
import { deliverOne, feed, onion, openPair } from '../../helpers/channel-pair.ts';
import type { PairSide } from '../../helpers/channel-pair.ts';

const seed = (): Uint8Array => new Uint8Array(randomBytes(64));

function add(side: PairSide, amountMsat: bigint): 'added' | 'refused' {
  const before = side.outbox.length;
  feed(side, { type: 'add_htlc', amountMsat, paymentHash: new Uint8Array(randomBytes(32)), cltvExpiry: 500, onion: onion() });
  return side.outbox.length > before ? 'added' : 'refused';
}

describe('channel capacity', () => {
  it('what one end can send is what the other can receive, both ways', async () => {
    const { funder, fundee } = await openPair({ seed: seed(), index: 0 }, { seed: seed(), index: 0 });
    expect(spendableMsat(funder.state)).toBeGreaterThan(0n);
    expect(spendableMsat(fundee.state)).toBeGreaterThan(0n);
    expect(receivableMsat(fundee.state)).toBe(spendableMsat(funder.state));
    expect(receivableMsat(funder.state)).toBe(spendableMsat(fundee.state));
  });

  it('an HTLC of exactly what the other end can receive is taken, and one sat more is refused', async () => {
    const { funder, fundee } = await openPair({ seed: seed(), index: 0 }, { seed: seed(), index: 0 });
    const room = receivableMsat(fundee.state);
    expect(add(funder, room + 1000n)).toBe('refused');
    expect(add(funder, room)).toBe('added');
    deliverOne(funder, fundee);
    expect(fundee.state.phase).toBe('NORMAL');
    // The offered HTLC is pending on the receiving side: nothing more can come in on top of it.
    expect(receivableMsat(fundee.state)).toBe(0n);
  });

  it('the fundee receives what the funder can pay above its reserve, its fees and a fee spike', async () => {
    const { funder, fundee } = await openPair({ seed: seed(), index: 0 }, { seed: seed(), index: 0 });
    const n = channelNumbers(fundee.state);
    // 1 000 000 sat, 300 000 pushed to the fundee; each side keeps 1% as its reserve.
    expect(n.remoteReserveSat).toBe(10_000n);
    expect(n.localReserveSat).toBe(10_000n);
    expect(n.remoteSat).toBeLessThan(700_000n);
    expect(n.receivableMsat / 1000n).toBeLessThan(n.remoteSat - 10_000n);
    expect(channelNumbers(funder.state).spendableMsat).toBe(n.receivableMsat);
    expect(add(fundee, n.spendableMsat)).toBe('added');
  });

  it("the shares add up to the capacity: each side's balance, the commitment fee, the anchors, HTLCs in flight", async () => {
    const { funder, fundee } = await openPair({ seed: seed(), index: 0 }, { seed: seed(), index: 0 });
    for (const side of [funder, fundee]) {
      const n = channelNumbers(side.state);
      expect(n.anchorSat).toBe(660n);
      expect(n.commitFeeSat).toBeGreaterThan(0n);
      expect(n.inFlightSat).toBe(0n);
      expect(n.localSat + n.remoteSat + n.commitFeeSat + n.anchorSat).toBe(1_000_000n);
    }
    expect(channelNumbers(funder.state).localSat).toBe(700_000n - channelNumbers(funder.state).commitFeeSat - 660n);
    expect(channelNumbers(fundee.state).localSat).toBe(300_000n);
  });
});
