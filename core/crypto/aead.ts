/**
 * ChaCha20-Poly1305 (IETF, 96-bit nonce) with two backends: Node's built-in cipher where the runtime
 * offers it, and @noble/ciphers where it does not (Electron's BoringSSL may lack it). Ciphertexts carry
 * the 16-byte tag at the end.
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { CryptoError } from './errors.ts';

export interface AeadBackend {
  readonly name: 'node' | 'noble';
  encrypt(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The same bytes as `encrypt`, as pieces to write one after another (spares a copy on hot paths). */
  encryptParts(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array[];
  /** Throws CryptoError('bad_mac') when the tag does not check out. */
  decrypt(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export const TAG_LENGTH = 16;

function badMac(): CryptoError {
  return new CryptoError('bad_mac', 'message authentication failed');
}

/** Both backends would throw their own errors on a wrong key or nonce size; ours is typed. */
function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new CryptoError('invalid_length', 'ChaCha20-Poly1305 key must be 32 bytes');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 12) throw new CryptoError('invalid_length', 'ChaCha20-Poly1305 nonce must be 12 bytes');
}

export const nodeAead: AeadBackend = {
  name: 'node',
  encryptParts(key, nonce, ad, plaintext) {
    checkSizes(key, nonce);
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const head = c.update(plaintext);
    c.final();
    return [head, c.getAuthTag()];
  },
  encrypt(key, nonce, ad, plaintext) {
    const b = Buffer.concat(this.encryptParts(key, nonce, ad, plaintext));
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  },
  decrypt(key, nonce, ad, ciphertext) {
    checkSizes(key, nonce);
    if (ciphertext.length < TAG_LENGTH) throw badMac();
    const body = ciphertext.subarray(0, ciphertext.length - TAG_LENGTH);
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
    d.setAAD(ad, { plaintextLength: body.length });
    d.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_LENGTH));
    const out = d.update(body);
    try {
      d.final();
    } catch {
      throw badMac();
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
};

export const nobleAead: AeadBackend = {
  name: 'noble',
  encrypt(key, nonce, ad, plaintext) {
    checkSizes(key, nonce);
    return chacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  encryptParts(key, nonce, ad, plaintext) {
    return [this.encrypt(key, nonce, ad, plaintext)];
  },
  decrypt(key, nonce, ad, ciphertext) {
    checkSizes(key, nonce);
    if (ciphertext.length < TAG_LENGTH) throw badMac();
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(ciphertext);
    } catch {
      throw badMac();
    }
  },
};

export function nodeHasChaCha(): boolean {
  return getCiphers().includes('chacha20-poly1305');
}

/** Backends this runtime can use, preferred first. */
export const aeadBackends: readonly AeadBackend[] = nodeHasChaCha() ? [nodeAead, nobleAead] : [nobleAead];

export function defaultAead(): AeadBackend {
  return aeadBackends[0]!;
}
