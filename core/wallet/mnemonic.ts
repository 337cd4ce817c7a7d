/**
 * BIP39 recovery words: 24 English words (256 bits of entropy), an optional passphrase, and the
 * 64-byte seed every key of the wallet and the node descends from.
 */
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { WalletError } from './errors.ts';

export function createMnemonic(): string {
  return generateMnemonic(wordlist, 256);
}

/** Folds case and spacing the way people type words; rejects anything that is not valid BIP39. */
export function normalizeMnemonic(words: string): string {
  const norm = words.trim().toLowerCase().split(/\s+/).join(' ');
  const n = norm ? norm.split(' ').length : 0;
  if (![12, 15, 18, 21, 24].includes(n)) throw new WalletError('invalid_mnemonic', `expected 24 recovery words (or 12, 15, 18, 21), got ${n}`);
  const unknown = norm.split(' ').filter((w) => !wordlist.includes(w));
  if (unknown.length) throw new WalletError('invalid_mnemonic', `not in the BIP39 English word list: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}`);
  if (!validateMnemonic(norm, wordlist)) throw new WalletError('invalid_mnemonic', 'the recovery words do not check out (a word is wrong or out of order)');
  return norm;
}

export function mnemonicToSeed(words: string, passphrase = ''): Uint8Array {
  return mnemonicToSeedSync(normalizeMnemonic(words), passphrase);
}
