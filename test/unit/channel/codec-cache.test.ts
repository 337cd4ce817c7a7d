/**
 * A channel's stored JSON is the same whether its HTLCs were encoded at an earlier step (the encoding
 * is kept per HTLC object) or just now: checked at every step of payments both ways with HTLCs in flight.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { toStoredJson } from '../../../core/channel/codec.ts';
import { sha256 } from '../../../core/crypto/index.ts';
import type { ChannelState } from '../../../core/channel/types.ts';
import { deliverOne, feed, onion, openPair } from '../../helpers/channel-pair.ts';
import type { PairSide } from '../../helpers/channel-pair.ts';

/** The same state as fresh objects (nothing shared with the original, so nothing found encoded). */
function copy(s: ChannelState): ChannelState {
  return structuredClone(s);
}

describe('stored channel JSON with HTLC encodings kept', () => {
  it('equals a fresh encoding at every step, with onions apart and the same onion list', async () => {
    const { funder, fundee } = await openPair({ seed: new Uint8Array(randomBytes(32)), index: 0 }, { seed: new Uint8Array(randomBytes(32)), index: 0 });
    const check = (side: PairSide): void => {
      const cached = toStoredJson(side.state);
      const again = toStoredJson(side.state);
      const fresh = toStoredJson(copy(side.state));
      expect(again.json).toBe(cached.json);
      expect(fresh.json).toBe(cached.json);
      expect([...cached.onions.keys()]).toEqual([...fresh.onions.keys()]);
    };
    const drain = (): void => {
      for (let n = 0; n < 100 && (funder.outbox.length || fundee.outbox.length); n++) {
        if (funder.outbox.length) deliverOne(funder, fundee);
        if (fundee.outbox.length) deliverOne(fundee, funder);
        check(funder);
        check(fundee);
        feed(funder, { type: 'sign' });
        feed(fundee, { type: 'sign' });
      }
    };
    const preimages: Uint8Array[] = [];
    // Three HTLCs out from the funder and two from the fundee, all in flight at once.
    for (const [from, n] of [[funder, 3], [fundee, 2]] as const) {
      for (let i = 0; i < n; i++) {
        const preimage = new Uint8Array(randomBytes(32));
        preimages.push(preimage);
        feed(from, { type: 'add_htlc', amountMsat: 5_000_000n + BigInt(i), paymentHash: sha256(preimage), cltvExpiry: 500 + i, onion: onion() });
        check(from);
      }
      feed(from, { type: 'sign' });
      drain();
    }
    expect(funder.state.commit!.localSpec.htlcs.length).toBe(5);
    // Settled one by one, each step checked again.
    for (const side of [fundee, funder]) {
      for (const h of side.state.commit!.localSpec.htlcs.filter((x) => x.incoming)) {
        const preimage = preimages.find((p) => Buffer.from(sha256(p)).equals(Buffer.from(h.paymentHash)))!;
        feed(side, { type: 'fulfill_htlc', id: h.id, preimage });
        check(side);
        feed(side, { type: 'sign' });
        drain();
      }
    }
    expect(funder.state.commit!.localSpec.htlcs).toEqual([]);
    expect(fundee.state.commit!.localSpec.htlcs).toEqual([]);
  });
});
