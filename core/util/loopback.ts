/**
 * Whether an address stays on this computer. Listeners that guard a wallet (the control channel, the
 * app's browser mode) and credentials that only mean something locally (bitcoind's `.cookie`) ask this
 * before they expose or send anything.
 */
import { isIP } from 'node:net';

/** True for `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped 127.x; false for every other name or address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  const v4 = (s: string): boolean => isIP(s) === 4 && s.split('.')[0] === '127';
  if (v4(h)) return true;
  if (isIP(h) !== 6) return false;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:0:0:0:0:0|):ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h.replace(/^::/, ':'));
  return mapped ? v4(mapped[1]!) : false;
}
