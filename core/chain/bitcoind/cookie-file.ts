/**
 * bitcoind's `.cookie` file, read with suspicion: it is a password, so Coulomb reads only a file that is
 * named like one and looks like one, and sends it only to a bitcoind on this computer (a cookie is
 * written by the bitcoind that reads it, so it means nothing to a bitcoind elsewhere). Any other file a
 * user or a screen points at is refused before a byte of it leaves.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../util/loopback.ts';

export const COOKIE_FILE_NAME = '.cookie';
const COOKIE = /^__cookie__:[0-9a-f]{64}$/;
/** `__cookie__:` and 64 hex digits, with room for a line ending. */
const MAX_COOKIE_BYTES = 80;

export class CookieFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CookieFileError';
  }
}

/** The host of `host[:port]`, `[v6]:port` or `http://host:port`. */
function hostOf(rpcHost: string): string {
  const s = rpcHost.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const v6 = /^\[([^\]]*)\]/.exec(s);
  if (v6) return v6[1]!;
  if (s.split(':').length <= 2) return s.split(':')[0]!;
  // An IPv6 address without brackets, perhaps followed by a port.
  return isIP(s) ? s : s.replace(/:\d+$/, '');
}

/** Refuses, before anything is read, a cookie path that is not bitcoind's `.cookie` or a bitcoind that is not on this computer. */
export function checkCookieUse(path: string, rpcHost: string): void {
  if (basename(path) !== COOKIE_FILE_NAME) {
    throw new CookieFileError(`${path} is not a bitcoind cookie file (those are named ${COOKIE_FILE_NAME}, in bitcoind's data directory); give that file's path, or bitcoind's RPC user and password instead.`);
  }
  const host = hostOf(rpcHost);
  if (!isLoopbackHost(host)) {
    throw new CookieFileError(
      `A cookie file only works with a bitcoind on this computer, and ${host} is another one, so the cookie was not sent; use that bitcoind's RPC user and password instead (its rpcauth setting).`,
    );
  }
}

/** The `__cookie__:<hex>` credential in a cookie file, or a CookieFileError that says what is wrong with the file. */
export async function readCookieFile(path: string): Promise<string> {
  if (basename(path) !== COOKIE_FILE_NAME) checkCookieUse(path, '127.0.0.1');
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_COOKIE_BYTES) throw new CookieFileError(`${path} is not a bitcoind cookie file (it is not a small file holding __cookie__:<64 hex digits>); check the path.`);
    const buf = Buffer.alloc(MAX_COOKIE_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1').replace(/\r?\n$/, '');
    if (bytesRead > MAX_COOKIE_BYTES || !COOKIE.test(text)) throw new CookieFileError(`${path} is not a bitcoind cookie file (it does not hold __cookie__:<64 hex digits>); check the path.`);
    return text;
  } finally {
    await fh.close();
  }
}
