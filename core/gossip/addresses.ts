/**
 * node_announcement address descriptors (BOLT 7, "The node_announcement Message"): a type byte, then
 * that type's data. Parsed the way a receiver must: a descriptor of an unknown type ends the list
 * (its length is unknown, and descriptors come in ascending type order); Tor v2 (type 3) and any
 * ipv4/ipv6/hostname with port 0 are skipped; a second DNS hostname is ignored and the announcement
 * is then not forwarded; a list cut short inside a known type is malformed.
 */
import { base32nopad } from '@scure/base';

export type NodeAddressType = 'ipv4' | 'ipv6' | 'torv3' | 'dns';

/** One address a node takes connections on; `host` is printable (dotted quad, IPv6 groups, `….onion`, hostname). */
export interface NodeAddress {
  type: NodeAddressType;
  host: string;
  port: number;
}

export type ParsedAddresses =
  | {
      ok: true;
      addresses: NodeAddress[];
      /** The descriptors kept, re-encoded back to back: what a graph stores and reads back with `parseAddresses`. */
      canonical: Uint8Array;
      /** More than one DNS hostname: the extras are dropped and the announcement must not be forwarded. */
      extraHostnames: boolean;
    }
  | { ok: false; message: string };

const TYPE_IPV4 = 1;
const TYPE_IPV6 = 2;
const TYPE_TORV2 = 3;
const TYPE_TORV3 = 4;
const TYPE_DNS = 5;

function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function port(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** True when every byte is printable ASCII, as BOLT 7 asks of hostnames (non-ASCII names come Punycoded). */
function printableAscii(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false;
  return b.length > 0;
}

/** Reads the `addresses` field of a node_announcement. */
export function parseAddresses(bytes: Uint8Array): ParsedAddresses {
  const addresses: NodeAddress[] = [];
  const kept: Uint8Array[] = [];
  let extraHostnames = false;
  let at = 0;
  const need = (n: number, what: string): string | undefined => (at + n > bytes.length ? `the ${what} address at byte ${at - 1} is cut short (${bytes.length - at} of ${n} bytes)` : undefined);
  while (at < bytes.length) {
    const start = at;
    const type = bytes[at++]!;
    let short: string | undefined;
    switch (type) {
      case TYPE_IPV4: {
        if ((short = need(6, 'IPv4'))) return { ok: false, message: short };
        const p = port(bytes, at + 4);
        if (p !== 0) addresses.push({ type: 'ipv4', host: Array.from(bytes.subarray(at, at + 4)).join('.'), port: p });
        at += 6;
        break;
      }
      case TYPE_IPV6: {
        if ((short = need(18, 'IPv6'))) return { ok: false, message: short };
        const p = port(bytes, at + 16);
        if (p !== 0) addresses.push({ type: 'ipv6', host: ipv6Text(bytes.subarray(at, at + 16)), port: p });
        at += 18;
        break;
      }
      case TYPE_TORV2:
        // Deprecated; receivers ignore it.
        if ((short = need(12, 'Tor v2'))) return { ok: false, message: short };
        at += 12;
        continue;
      case TYPE_TORV3: {
        if ((short = need(37, 'Tor v3'))) return { ok: false, message: short };
        const host = `${base32nopad.encode(bytes.subarray(at, at + 35)).toLowerCase()}.onion`;
        addresses.push({ type: 'torv3', host, port: port(bytes, at + 35) });
        at += 37;
        break;
      }
      case TYPE_DNS: {
        if ((short = need(1, 'hostname'))) return { ok: false, message: short };
        const len = bytes[at]!;
        if ((short = need(1 + len + 2, 'hostname'))) return { ok: false, message: short };
        const name = bytes.subarray(at + 1, at + 1 + len);
        const p = port(bytes, at + 1 + len);
        at += 1 + len + 2;
        if (addresses.some((a) => a.type === 'dns')) {
          extraHostnames = true;
          continue;
        }
        if (p === 0 || !printableAscii(name)) continue;
        addresses.push({ type: 'dns', host: String.fromCharCode(...name), port: p });
        break;
      }
      default:
        // An unknown type: its length is unknown, so it and whatever follows are ignored.
        return { ok: true, addresses, canonical: concat(kept), extraHostnames };
    }
    // Only reached for a descriptor that was kept (the skipped ones `continue`d).
    if (addresses.length > kept.length) kept.push(bytes.subarray(start, at));
  }
  return { ok: true, addresses, canonical: concat(kept), extraHostnames };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `host:port`, with IPv6 in brackets, the way people paste it into `connect`. */
export function addressText(a: NodeAddress): string {
  return a.type === 'ipv6' ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
