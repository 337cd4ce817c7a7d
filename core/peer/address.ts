/**
 * Parsing of peer addresses as users type them: `<pubkey>@<host>[:<port>]`, with IPv6 hosts in brackets.
 */
export const DEFAULT_PEER_PORT = 9735;

export interface PeerAddress {
  pubkey: string;
  host: string;
  port: number;
}

export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

const PUBKEY = /^(02|03)[0-9a-f]{64}$/;

/** `allowZero` is for listen addresses, where port 0 asks the system for a free port. */
export function parseHostPort(s: string, defaultPort = DEFAULT_PEER_PORT, allowZero = false): { host: string; port: number } {
  let host: string;
  let portStr: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portStr = v6[2];
  } else {
    const parts = s.split(':');
    if (parts.length > 2) throw new AddressError(`"${s}" is ambiguous: write IPv6 addresses in brackets, e.g. [::1]:9735`);
    host = parts[0]!;
    portStr = parts[1];
  }
  if (!host || !/^[A-Za-z0-9.\-:]+$/.test(host)) throw new AddressError(`"${s}" has no valid host name or IP address`);
  const port = portStr === undefined ? defaultPort : Number(portStr);
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) throw new AddressError(`"${portStr}" is not a valid port (${allowZero ? 0 : 1}-65535)`);
  return { host, port };
}

export function parsePeerAddress(s: string): PeerAddress {
  const at = s.indexOf('@');
  if (at < 0) throw new AddressError(`"${s}" is not a peer address; expected <pubkey>@<host>:<port>`);
  const pubkey = s.slice(0, at).toLowerCase();
  if (!PUBKEY.test(pubkey)) throw new AddressError(`"${s.slice(0, at)}" is not a node public key (66 hex characters starting with 02 or 03)`);
  return { pubkey, ...parseHostPort(s.slice(at + 1)) };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
