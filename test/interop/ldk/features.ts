/**
 * Feature-bit helpers for reading what LDK puts in (and expects from) a BOLT 1 `init`.
 *
 * LDK's `InitFeatures.le_flags()` is little-endian (byte 0 holds bits 0–7); on the wire (BOLT 1)
 * the `features` field is big-endian. Everything here exposes the wire order.
 */

/** LDK's little-endian flag bytes → the big-endian bytes that go on the wire, minimal length. */
export function leFlagsToWire(le: Uint8Array): Uint8Array {
  let len = le.length;
  while (len > 0 && le[len - 1] === 0) len--;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[len - 1 - i] = le[i]!;
  return out;
}

/** The numbers of the bits set in a big-endian feature field, ascending. */
export function featureBits(wire: Uint8Array): number[] {
  const bits: number[] = [];
  for (let byteIdx = 0; byteIdx < wire.length; byteIdx++) {
    const b = wire[wire.length - 1 - byteIdx]!;
    for (let bit = 0; bit < 8; bit++) if ((b >> bit) & 1) bits.push(byteIdx * 8 + bit);
  }
  return bits;
}

/** Builds a big-endian feature field with exactly the given bits set. */
export function wireFromBits(bits: readonly number[]): Uint8Array {
  const top = bits.length ? Math.max(...bits) : -1;
  const out = new Uint8Array(top < 0 ? 0 : Math.floor(top / 8) + 1);
  for (const bit of bits) {
    const idx = out.length - 1 - Math.floor(bit / 8);
    out[idx] = out[idx]! | (1 << (bit % 8));
  }
  return out;
}

/** BOLT 9 names for the pairs LDK 0.1 knows, keyed by the even (compulsory) bit. */
export const FEATURE_NAMES: Readonly<Record<number, string>> = {
  0: 'option_data_loss_protect',
  2: 'initial_routing_sync',
  4: 'option_upfront_shutdown_script',
  6: 'gossip_queries',
  8: 'var_onion_optin',
  10: 'gossip_queries_ex',
  12: 'option_static_remotekey',
  14: 'payment_secret',
  16: 'basic_mpp',
  18: 'option_support_large_channel',
  20: 'option_anchor_outputs',
  22: 'option_anchors_zero_fee_htlc_tx',
  24: 'option_route_blinding',
  26: 'option_shutdown_anysegwit',
  28: 'option_dual_fund',
  30: 'option_quiesce',
  38: 'option_onion_messages',
  44: 'option_channel_type',
  46: 'option_scid_alias',
  48: 'option_payment_metadata',
  50: 'option_zeroconf',
};

/** "12 (option_static_remotekey, required)" style labels, for logs and docs. */
export function describeBits(bits: readonly number[]): string[] {
  return bits.map((bit) => {
    const name = FEATURE_NAMES[bit & ~1] ?? 'unknown';
    return `${bit} (${name}, ${bit % 2 === 0 ? 'required' : 'optional'})`;
  });
}
