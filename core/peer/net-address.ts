/**
 * BOLT 7 address descriptors, as carried in init's `remote_addr` TLV (and later in node_announcement):
 * type 1 = IPv4 (4 bytes + port), type 2 = IPv6 (16 bytes + port). Other types are returned as unknown.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type NetAddress = { kind: 'ipv4' | 'ipv6'; host: string; port: number } | { kind: 'unknown'; type: number };

function ipv6Bytes(host: string): Uint8Array | undefined {
  // Expand "::" and any embedded IPv4 tail into eight 16-bit groups.
  let h = host;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (v4tail) {
    const b = v4tail[1]!.split('.').map(Number);
    h = h.slice(0, -v4tail[1]!.length) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head, tail] = h.split('::');
  const hp = head ? head.split(':') : [];
  const tp = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = tail !== undefined ? 8 - hp.length - tp.length : 0;
  const groups = [...hp, ...Array<string>(fill).fill('0'), ...tp];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Encodes a socket address as a BOLT 7 descriptor, or undefined when it is neither IPv4 nor IPv6. */
export function encodeNetAddress(host: string, port: number): Uint8Array | undefined {
  // An IPv4 peer reached over a dual-stack socket shows up as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  const h = mapped ? mapped[1]! : host;
  if (isIPv4(h)) {
    const out = new Uint8Array(7);
    out[0] = 1;
    h.split('.').forEach((p, i) => (out[1 + i] = Number(p)));
    out[5] = port >> 8;
    out[6] = port & 0xff;
    return out;
  }
  if (isIPv6(h)) {
    const b = ipv6Bytes(h);
    if (!b) return undefined;
    const out = new Uint8Array(19);
    out[0] = 2;
    out.set(b, 1);
    out[17] = port >> 8;
    out[18] = port & 0xff;
    return out;
  }
  return undefined;
}

/** Decodes the first descriptor of a `remote_addr` value. Never throws. */
export function decodeNetAddress(b: Uint8Array): NetAddress | undefined {
  if (b.length === 0) return undefined;
  const type = b[0]!;
  if (type === 1 && b.length >= 7) {
    return { kind: 'ipv4', host: `${b[1]}.${b[2]}.${b[3]}.${b[4]}`, port: (b[5]! << 8) | b[6]! };
  }
  if (type === 2 && b.length >= 19) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(((b[1 + 2 * i]! << 8) | b[2 + 2 * i]!).toString(16));
    return { kind: 'ipv6', host: groups.join(':'), port: (b[17]! << 8) | b[18]! };
  }
  return { kind: 'unknown', type };
}
