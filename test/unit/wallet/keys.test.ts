import { describe, expect, it } from 'vitest';
import { mnemonicToSeed, createMnemonic, normalizeMnemonic } from '../../../core/wallet/mnemonic.ts';
import { sealVault, openVault } from '../../../core/wallet/vault.ts';
import { Bip84Account } from '../../../core/wallet/bip84.ts';
import { WalletError } from '../../../core/wallet/errors.ts';

// The test vector of BIP84 itself.
const BIP84_WORDS = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('BIP84 (the BIP\'s own test vectors)', () => {
  const acct = new Bip84Account(mnemonicToSeed(BIP84_WORDS), 'mainnet');
  it('account keys', () => {
    expect(acct.xprv).toBe('zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE');
    expect(acct.xpub).toBe('zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs');
  });
  it('first receive and change addresses', () => {
    expect(acct.address(0, 0).address).toBe('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu');
    expect(acct.address(0, 1).address).toBe('bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g');
    expect(acct.address(1, 0).address).toBe('bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el');
    expect(acct.address(0, 0).path).toBe("m/84'/0'/0'/0/0");
  });
  it('test networks use coin type 1 and their own prefixes', () => {
    const seed = mnemonicToSeed(BIP84_WORDS);
    expect(new Bip84Account(seed, 'regtest').address(0, 0).address).toMatch(/^bcrt1q/);
    expect(new Bip84Account(seed, 'testnet').address(0, 0).address).toMatch(/^tb1q/);
    expect(new Bip84Account(seed, 'signet').xpub).toMatch(/^vpub/);
  });
});

describe('recovery words', () => {
  it('creates 24 valid words and accepts them however they are typed', () => {
    const words = createMnemonic();
    expect(words.split(' ')).toHaveLength(24);
    expect(normalizeMnemonic(`  ${words.toUpperCase().replace(/ /g, '   ')} `)).toBe(words);
  });
  it('says what is wrong with bad words', () => {
    expect(() => normalizeMnemonic('abandon abandon')).toThrow(/expected 24 recovery words/);
    expect(() => normalizeMnemonic(BIP84_WORDS.replace('about', 'aboot'))).toThrow(/not in the BIP39 English word list: aboot/);
    expect(() => normalizeMnemonic(BIP84_WORDS.replace('about', 'abandon'))).toThrow(/do not check out/);
  });
  it('a passphrase gives another wallet', () => {
    expect(mnemonicToSeed(BIP84_WORDS, 'TREZOR')).not.toEqual(mnemonicToSeed(BIP84_WORDS));
  });
});

describe('vault (words encrypted at rest)', () => {
  const cheap = { N: 1 << 10, r: 8, p: 1 };
  it('round-trips, and a wrong password fails without revealing anything', async () => {
    const v = await sealVault({ mnemonic: BIP84_WORDS, passphrase: 'pp' }, 'correct horse', cheap);
    expect(JSON.stringify(v)).not.toContain('abandon');
    expect(await openVault(v, 'correct horse')).toEqual({ mnemonic: BIP84_WORDS, passphrase: 'pp' });
    await expect(openVault(v, 'wrong horse')).rejects.toThrow(expect.objectContaining({ code: 'wrong_password' }));
    await expect(openVault({ ...v, ciphertext: v.ciphertext.replace(/^./, (c) => (c === '0' ? '1' : '0')) }, 'correct horse')).rejects.toThrow(WalletError);
    await expect(openVault({ version: 2 }, 'x')).rejects.toThrow(expect.objectContaining({ code: 'corrupt_vault' }));
  });
  it('refuses a short password', async () => {
    await expect(sealVault({ mnemonic: BIP84_WORDS, passphrase: '' }, 'short', cheap)).rejects.toThrow(/at least 8 characters/);
  });
  it('the default cost is memory-hard', async () => {
    const v = await sealVault({ mnemonic: BIP84_WORDS, passphrase: '' }, 'a long password');
    expect(v.kdf.N).toBe(1 << 17);
    expect((await openVault(v, 'a long password')).mnemonic).toBe(BIP84_WORDS);
  });
});
