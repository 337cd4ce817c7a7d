/**
 * Amounts in the node's messages, written as the app writes them: whole sats with the digits in groups
 * of three, set apart by a narrow no-break space ("2 000 000 sat"), so a message reads the same in
 * the CLI and on a screen.
 */
export function satText(sat: bigint | number): string {
  const v = BigInt(sat);
  const digits = (v < 0n ? -v : v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${v < 0n ? '−' : ''}${digits} sat`;
}

/** msat as whole sats, rounded down (what can be sent or received is never overstated). */
export function msatText(msat: bigint): string {
  return satText(msat / 1000n);
}
