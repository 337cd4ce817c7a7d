/**
 * The recovery words encrypted at rest: scrypt (memory-hard) turns the password into a key, and
 * XChaCha20-Poly1305 seals the words and passphrase. A wrong password fails the tag check and changes
 * nothing.
 */
import { randomBytes } from 'node:crypto';
import { scrypt } from 'node:crypto';
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

/**
 * Node's scrypt runs on the libuv thread pool: the half second of hashing never stalls the event loop
 * (peers, the chain, the desktop window's IPC all carry on).
 */
function key(password: string, kdf: VaultV1['kdf']): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(new TextEncoder().encode(password.normalize('NFKC')), hex.decode(kdf.salt), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 2 ** 31 }, (err, k) => (err ? reject(err) : resolve(new Uint8Array(k))));
  });
}

export async function sealVault(secret: VaultSecret, password: string, cost = DEFAULT_SCRYPT): Promise<VaultV1> {
  if (password.length < 8) throw new WalletError('weak_password', 'choose a password of at least 8 characters');
  const kdf = { name: 'scrypt' as const, ...cost, salt: hex.encode(randomBytes(16)) };
  const nonce = new Uint8Array(randomBytes(24));
  const plaintext = new TextEncoder().encode(JSON.stringify({ mnemonic: normalizeMnemonic(secret.mnemonic), passphrase: secret.passphrase }));
  const ciphertext = xchacha20poly1305(await key(password, kdf), nonce, AD).encrypt(plaintext);
  return { version: 1, kdf, cipher: 'xchacha20poly1305', nonce: hex.encode(nonce), ciphertext: hex.encode(ciphertext) };
}

export async function openVault(vault: unknown, password: string): Promise<VaultSecret> {
  const v = vault as Partial<VaultV1>;
  if (!v || v.version !== 1 || v.cipher !== 'xchacha20poly1305' || v.kdf?.name !== 'scrypt' || typeof v.nonce !== 'string' || typeof v.ciphertext !== 'string') {
    throw new WalletError('corrupt_vault', 'the wallet file is not a Coulomb wallet this version can read');
  }
  const k = await key(password, v.kdf).catch(() => {
    throw new WalletError('corrupt_vault', 'the wallet file has scrypt parameters this computer cannot use');
  });
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(k, hex.decode(v.nonce), AD).decrypt(hex.decode(v.ciphertext));
  } catch {
    throw new WalletError('wrong_password', 'wrong password');
  }
  const s = JSON.parse(new TextDecoder().decode(plaintext)) as VaultSecret;
  return { mnemonic: s.mnemonic, passphrase: s.passphrase };
}
