/**
 * The recovery words encrypted at rest: scrypt (memory-hard) turns the password into a key, and
 * XChaCha20-Poly1305 seals the words and passphrase. A wrong password fails the tag check and changes
 * nothing.
 */
import { randomBytes } from 'node:crypto';
import { scrypt } from '@noble/hashes/scrypt.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hex } from '@scure/base';
import { WalletError } from './errors.ts';
import { normalizeMnemonic } from './mnemonic.ts';

export interface VaultV1 {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'xchacha20poly1305';
  nonce: string;
  ciphertext: string;
}

export interface VaultSecret {
  mnemonic: string;
  passphrase: string;
}

/** scrypt cost: 2^17 × 8 × 128 B = 128 MiB of memory per attempt. Tests may lower N. */
export const DEFAULT_SCRYPT = { N: 1 << 17, r: 8, p: 1 };

const AD = new TextEncoder().encode('coulomb-vault-v1');

function key(password: string, kdf: VaultV1['kdf']): Uint8Array {
  return scrypt(new TextEncoder().encode(password.normalize('NFKC')), hex.decode(kdf.salt), { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32, maxmem: 2 ** 31 });
}

export function sealVault(secret: VaultSecret, password: string, cost = DEFAULT_SCRYPT): VaultV1 {
  if (password.length < 8) throw new WalletError('weak_password', 'choose a password of at least 8 characters');
  const kdf = { name: 'scrypt' as const, ...cost, salt: hex.encode(randomBytes(16)) };
  const nonce = new Uint8Array(randomBytes(24));
  const plaintext = new TextEncoder().encode(JSON.stringify({ mnemonic: normalizeMnemonic(secret.mnemonic), passphrase: secret.passphrase }));
  const ciphertext = xchacha20poly1305(key(password, kdf), nonce, AD).encrypt(plaintext);
  return { version: 1, kdf, cipher: 'xchacha20poly1305', nonce: hex.encode(nonce), ciphertext: hex.encode(ciphertext) };
}

export function openVault(vault: unknown, password: string): VaultSecret {
  const v = vault as Partial<VaultV1>;
  if (!v || v.version !== 1 || v.cipher !== 'xchacha20poly1305' || v.kdf?.name !== 'scrypt' || typeof v.nonce !== 'string' || typeof v.ciphertext !== 'string') {
    throw new WalletError('corrupt_vault', 'the wallet file is not a Coulomb wallet this version can read');
  }
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(key(password, v.kdf), hex.decode(v.nonce), AD).decrypt(hex.decode(v.ciphertext));
  } catch {
    throw new WalletError('wrong_password', 'wrong password');
  }
  const s = JSON.parse(new TextDecoder().decode(plaintext)) as VaultSecret;
  return { mnemonic: s.mnemonic, passphrase: s.passphrase };
}
