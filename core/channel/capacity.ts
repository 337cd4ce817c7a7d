/**
 * What a channel can move now, and where the rest of its capacity is: the numbers the screens and the
 * CLI show, computed with the same arithmetic the channel applies to an add (core/channel/updates.ts),
 * so a form that checks against them agrees with what the node then does.
 *
 * BOLT 2 "Requirements" of update_add_htlc: an HTLC may not take the sender below the reserve its peer
 * asked for, and the funder must still afford the commitment fee (with anchors, also both anchor
 * outputs, BOLT 3 "Fees"). Like the send side, the receive side keeps room for a fee spike (twice the
 * feerate, one more HTLC), as a funder sending to us keeps it too (LDK's fee spike buffer).
 */
import { ANCHOR_SAT, commitmentFee, isTrimmed } from '../tx/commitment.ts';
import type { ChannelState } from './types.ts';
import { commitmentsOf, currentSpec, feeOf, reduce, spendableMsat } from './updates.ts';

const max0 = (v: bigint): bigint => (v > 0n ? v : 0n);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * What the peer can offer us in one more HTLC now, in msat: the mirror of spendableMsat, on both
 * commitments as they will be once the pending updates are signed.
 */
export function receivableMsat(s: ChannelState): bigint {
  if (s.phase !== 'NORMAL' || !s.remote) return 0n;
  const c = commitmentsOf(s);
  const theirs = reduce(c.remoteNext?.spec ?? c.remoteSpec, c.localChanges.proposed, c.remoteChanges.acked);
  const ours = reduce(c.localSpec, [...c.localChanges.acked, ...c.localChanges.signed, ...c.localChanges.proposed], c.remoteChanges.proposed);
  let v = min(theirs.toRemoteMsat, ours.toRemoteMsat) - s.local.reserveSat * 1000n;
  // The peer as funder pays the commitment fee, with the same room for a fee spike (and the HTLC itself).
  // The funder checks this on our commitment (its "remote" one), trimmed by our dust limit.
  if (!s.funder) v -= feeOf(s, ours, s.local.dustLimitSat, 'local', ours.feeratePerKw * 2, 2);
  // And what we accept in flight at once (BOLT 2 max_htlc_value_in_flight_msat).
  const inFlight = ours.htlcs.filter((h) => h.incoming).reduce((t, h) => t + h.amountMsat, 0n);
  return max0(min(v, s.local.maxHtlcValueInFlightMsat - inFlight));
}

/** Where a channel's capacity is, for people: each share in sat, and what can move now. */
export interface ChannelNumbers {
  /** Our balance on our current commitment, net of what we pay as the funder (as lncli shows it). */
  localSat: bigint;
  remoteSat: bigint;
  /** The commitment transaction's fee, paid by the funder out of its balance (without the anchors). */
  commitFeeSat: bigint;
  /** The two anchor outputs (330 sat each) the funder pays for, with anchors; 0 otherwise. */
  anchorSat: bigint;
  /** HTLCs in flight either way: neither side's until they settle or fail. */
  inFlightSat: bigint;
  /** What we must keep in the channel: the reserve the peer asked of us. */
  localReserveSat: bigint;
  /** What the peer must keep: the reserve we asked of it. */
  remoteReserveSat: bigint;
  /** What one more payment out (an HTLC) can take now, in msat. */
  spendableMsat: bigint;
  /** What one more payment in can bring now, in msat. */
  receivableMsat: bigint;
}

/**
 * The channel's capacity, split: localSat + remoteSat + commitFeeSat + anchorSat + inFlightSat equals
 * the capacity up to rounding to whole sats (and trimmed HTLCs, which go to the fee).
 */
export function channelNumbers(s: ChannelState): ChannelNumbers {
  const spec = currentSpec(s);
  const anchors = s.channelType === 'anchors';
  const open = !!s.funding && !!s.remote;
  const dust = s.local.dustLimitSat;
  const untrimmed = spec.htlcs.filter((h) => !isTrimmed({ id: 0n, offered: !h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry }, dust, spec.feeratePerKw, anchors)).length;
  const commitFeeSat = open ? commitmentFee(untrimmed, spec.feeratePerKw, anchors) : 0n;
  const anchorSat = open && anchors ? 2n * ANCHOR_SAT : 0n;
  const fundersCut = (commitFeeSat + anchorSat) * 1000n;
  const net = (msat: bigint): bigint => max0(msat - fundersCut);
  const localMsat = s.funder ? net(spec.toLocalMsat) : spec.toLocalMsat;
  const remoteMsat = s.funder ? spec.toRemoteMsat : net(spec.toRemoteMsat);
  return {
    localSat: localMsat / 1000n,
    remoteSat: remoteMsat / 1000n,
    commitFeeSat,
    anchorSat,
    inFlightSat: spec.htlcs.reduce((t, h) => t + h.amountMsat, 0n) / 1000n,
    localReserveSat: s.remote?.reserveSat ?? 0n,
    remoteReserveSat: s.local.reserveSat,
    spendableMsat: spendableMsat(s),
    receivableMsat: receivableMsat(s),
  };
}
