/**
 * When an HTLC still open off chain makes us go on chain (BOLT 2, "cltv_expiry_delta Selection",
 * requirements of the offering and of the fulfilling node). Pure: the monitor's data and a height in,
 * the reason for people out, or nothing.
 *
 * - An HTLC we offered that the peer has neither failed nor fulfilled `OFFERED_HTLC_GRACE` blocks after
 *   its cltv_expiry: only on chain can we time it out, and the HTLC it forwards (or our payment) waits
 *   on that, with the incoming HTLC's own expiry `cltv_expiry_delta` blocks later.
 * - An HTLC offered to us whose preimage we know, while our fulfill is not irrevocably committed (the
 *   HTLC is still in a commitment that may be published), `FULFILL_DEADLINE_BUFFER` blocks before its
 *   cltv_expiry: after it the peer can take it back on chain, so we must claim it there first.
 *
 * An HTLC counts while it is in our current commitment or in either of the peer's that may still be
 * published (the current one, and the next one it has not yet revoked the current for).
 */
import type { MonitorData, MonitorHtlc } from './state.ts';
import { preimageFor } from './state.ts';

/**
 * Blocks after an offered HTLC's cltv_expiry we wait for the peer to fail it off chain (BOLT 2's G).
 * The spec finds 1 reasonable; 2 spares a channel from a close over a slow round trip at a block,
 * and still leaves most of our forwarding delta to get the HTLC-timeout confirmed.
 */
export const OFFERED_HTLC_GRACE = 2;

/**
 * Blocks before a received HTLC's cltv_expiry by which a fulfill not yet committed sends us on chain
 * (BOLT 2's 2R+G+S: 7 with R=2, G=1, S=2). Ours allows S=3 (a commitment and then the HTLC-success
 * to confirm, fees raised as the expiry nears): 2*2 + 1 + 2*3 = 11.
 */
export const FULFILL_DEADLINE_BUFFER = 11;

/** The HTLCs of every commitment that may still be published, each once. */
function liveHtlcs(d: MonitorData): MonitorHtlc[] {
  const byId = new Map<string, MonitorHtlc>();
  for (const h of [...d.local.htlcs, ...d.remote.htlcs, ...(d.remoteNext?.htlcs ?? [])]) byId.set(`${h.incoming ? 'in' : 'out'}:${h.id}`, h);
  return [...byId.values()];
}

/**
 * Why the block at `height` must send us on chain, or undefined when it need not. The first HTLC past
 * its deadline is named (the soonest expiry among them).
 */
export function htlcDeadlinePassed(d: MonitorData, height: number): string | undefined {
  const due = liveHtlcs(d)
    .filter((h) => (h.incoming ? preimageFor(d, h.paymentHash) !== undefined && height >= h.cltvExpiry - FULFILL_DEADLINE_BUFFER : height >= h.cltvExpiry + OFFERED_HTLC_GRACE))
    .sort((a, b) => a.cltvExpiry - b.cltvExpiry);
  const h = due[0];
  if (!h) return undefined;
  const sat = `${h.amountMsat / 1000n} sat`;
  const more = due.length > 1 ? ` (and ${due.length - 1} more HTLC${due.length > 2 ? 's' : ''})` : '';
  if (h.incoming) {
    return `we know the preimage of HTLC ${h.id} (${sat}) the peer offered us, but the peer has not taken our fulfill into both commitments, and the HTLC expires at block ${h.cltvExpiry} (now ${height})${more}: the channel is closed on chain to claim it with the preimage before the peer can take it back (BOLT 2 fulfillment deadline)`;
  }
  return `HTLC ${h.id} (${sat}) we offered expired at block ${h.cltvExpiry} and the peer has not failed or fulfilled it by block ${height}${more}: the channel is closed on chain to time it out, so that what it pays for can be failed back in time (BOLT 2 timeout deadline)`;
}
