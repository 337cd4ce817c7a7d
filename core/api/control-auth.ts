/**
 * Mutual proof on the control channel, so that the control token never crosses it and nothing secret
 * (a password, recovery words) goes to a program that merely listens where the daemon used to be.
 *
 *   1. client → daemon   POST /hello {"nonce": <client nonce>}                    (no credentials)
 *   2. daemon → client   {"nonce": <daemon nonce>, "proof": HMAC(token, server-label, client nonce, daemon nonce)}
 *      The client checks the proof and sends nothing more to a daemon that cannot give it.
 *   3. client → daemon   POST /v1/<method>  Authorization: Coulomb <daemon nonce>.<HMAC(token, client-label, daemon nonce, method)>
 *      The daemon accepts each of its nonces once, for a short while.
 *
 * The token is the secret in `<datadir>/control.json` (mode 0600): only someone who can read it can
 * answer either side. The labels keep a daemon's proof from being replayed as a client's, and back.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE = /^[0-9a-f]{64}$/;
export const AUTH_SCHEME = 'Coulomb';

export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

function mac(token: string, ...parts: string[]): string {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(parts.join('\n')).digest('hex');
}

/** What the daemon answers to a client's nonce. */
export function serverProof(token: string, clientNonce: string, serverNonce: string): string {
  return mac(token, 'coulomb control: daemon', clientNonce, serverNonce);
}

/** What the client sends with one call, on a nonce the daemon gave it. */
export function clientProof(token: string, serverNonce: string, method: string): string {
  return mac(token, 'coulomb control: client', serverNonce, method);
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
