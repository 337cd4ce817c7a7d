/**
 * A route's amounts and expiries, worked out from the payee back to us (BOLT 7 "HTLC Fees", BOLT 4's
 * per-hop amt_to_forward and outgoing_cltv_value): each node forwarding over a channel
 * keeps `fee_base_msat + amount_to_forward · fee_proportional_millionths / 1,000,000` (rounded down)
 * and wants its incoming HTLC to expire `cltv_expiry_delta` blocks after its outgoing one.
 *
 * This is the arithmetic the HTLC switch's buildRoute does for direct peers and route hints, kept here
 * pure so the route finder and the switch build every route the same way; a route the finder returns
 * has the switch's shape (core/payments/payments.ts `Route`).
 */
import { hex } from '@scure/base';
import type { Route } from '../payments/payments.ts';

/** Blocks added to the final expiry, so blocks found while the payment travels do not fail it. */
export const FINAL_CLTV_BUFFER = 3;
/** The most blocks a payment may lock our funds for (LDK's and lnd's default cap on a route's total CLTV). */
export const MAX_TOTAL_CLTV_EXPIRY_DELTA = 2016;

/** BOLT 7: what a node keeps for forwarding `amountMsat` over a channel with this policy. */
export function forwardFee(feeBaseMsat: number, feeProportionalMillionths: number, amountMsat: bigint): bigint {
  return BigInt(feeBaseMsat) + (amountMsat * BigInt(feeProportionalMillionths)) / 1_000_000n;
}

/**
 * The same fee on doubles, exact for amounts below 2^53 msat (90,000 BTC): the product is split so no
 * intermediate loses a digit. The route finder's inner loop uses it; `forwardFee` builds the route.
 */
export function forwardFeeNumber(feeBaseMsat: number, feeProportionalMillionths: number, amountMsat: number): number {
  const q = Math.floor(amountMsat / 1_000_000);
  const r = amountMsat - q * 1_000_000;
  return feeBaseMsat + q * feeProportionalMillionths + Math.floor((r * feeProportionalMillionths) / 1_000_000);
}

/** A node after us on a path, and the channel it forwards over with its policy for that direction. */
export interface PathHop {
  pubkey: Uint8Array;
  /** The channel this node forwards the payment over (toward the next node, or the payee). */
  shortChannelId: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

/**
 * The route over `firstScid` (our channel to the first node) then through `hops` to `payee`, which
 * receives `amountMsat` in an HTLC expiring at `finalCltv` (the chain height, plus the invoice's
 * min_final_cltv_expiry_delta, plus FINAL_CLTV_BUFFER).
 */
export function routeFromPath(o: { payee: Uint8Array; amountMsat: bigint; finalCltv: number; firstScid: bigint; hops: readonly PathHop[] }): Route {
  const { hops } = o;
  let amt = o.amountMsat;
  let cltv = o.finalCltv;
  const out: Route['hops'] = [{ pubkey: hex.encode(o.payee), shortChannelId: hops.length ? hops[hops.length - 1]!.shortChannelId : o.firstScid, amtToForwardMsat: amt, feeMsat: 0n, expiry: cltv }];
  for (let i = hops.length - 1; i >= 0; i--) {
    const h = hops[i]!;
    const fee = forwardFee(h.feeBaseMsat, h.feeProportionalMillionths, amt);
    amt += fee;
    cltv += h.cltvExpiryDelta;
    out.unshift({ pubkey: hex.encode(h.pubkey), shortChannelId: i === 0 ? o.firstScid : hops[i - 1]!.shortChannelId, amtToForwardMsat: amt - fee, feeMsat: fee, expiry: cltv });
  }
  return { totalTimeLock: cltv, totalAmtMsat: amt, totalFeesMsat: amt - o.amountMsat, hops: out };
}

/** One channel a route crosses: which direction (BOLT 7: 0 when the forwarding node's id is the lesser) and how much it carries. */
export interface RouteChannel {
  shortChannelId: bigint;
  direction: 0 | 1;
  /** The HTLC's amount on this channel (what arrives at the next node). */
  amountMsat: bigint;
}

/** The channels of a route that started at `source`, in order (the first is ours). */
export function routeChannels(source: Uint8Array, route: Route): RouteChannel[] {
  let from = hex.encode(source);
  return route.hops.map((h) => {
    // Lower-case hex of equal length orders as the bytes do.
    const c: RouteChannel = { shortChannelId: h.shortChannelId, direction: from < h.pubkey ? 0 : 1, amountMsat: h.amtToForwardMsat + h.feeMsat };
    from = h.pubkey;
    return c;
  });
}
