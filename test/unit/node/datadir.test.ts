import { describe, expect, it } from 'vitest';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readVaultFile, writeVaultFile, VAULT_FILE } from '../../../core/node/vault-file.ts';
import { DataFileError } from '../../../core/node/errors.ts';
import { checkDatadirNetwork } from '../../../core/node/datadir.ts';
import { deriveNodeKeys } from '../../../core/keys/node-key.ts';
import { sealVault, openVault } from '../../../core/wallet/vault.ts';
import { mnemonicToSeed } from '../../../core/wallet/mnemonic.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';

const WORDS = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('node identity and data directory', () => {
  it('the vault file is written 0600 and read back; the node id descends from the wallet seed', async () => {
    const dir = await tempDir('vault');
    try {
      expect(await readVaultFile(dir)).toBeUndefined();
      const vault = await sealVault({ mnemonic: WORDS, passphrase: '' }, 'password1', { N: 1 << 10, r: 8, p: 1 });
      await writeVaultFile(dir, { vault, birthday: 7 });
      if (process.platform !== 'win32') expect((await stat(join(dir, VAULT_FILE))).mode & 0o777).toBe(0o600);
      const back = (await readVaultFile(dir))!;
      expect(back.birthday).toBe(7);
      const seed = mnemonicToSeed((await openVault(back.vault, 'password1')).mnemonic);
      // Same words, same node: the identity is restored with the wallet.
      expect(deriveNodeKeys(seed, 'regtest').nodeId).toEqual(deriveNodeKeys(mnemonicToSeed(WORDS), 'regtest').nodeId);
      expect(deriveNodeKeys(seed, 'mainnet').nodeId).not.toEqual(deriveNodeKeys(seed, 'regtest').nodeId);
    } finally {
      await removeDir(dir);
    }
  });

  it('refuses a corrupt or foreign wallet file, naming it, and never overwrites it', async () => {
    const dir = await tempDir('vault-bad');
    try {
      const path = join(dir, VAULT_FILE);
      for (const junk of ['{not json', '{"version":9}', '']) {
        await writeFile(path, junk);
        await expect(readVaultFile(dir)).rejects.toThrow(DataFileError);
        await expect(readVaultFile(dir)).rejects.toThrow(path);
        expect(await readFile(path, 'utf8')).toBe(junk);
      }
    } finally {
      await removeDir(dir);
    }
  });

  it('a data directory belongs to the network it was first used on', async () => {
    const dir = await tempDir('net');
    try {
      await checkDatadirNetwork(dir, 'playground');
      await checkDatadirNetwork(dir, 'playground');
      await expect(checkDatadirNetwork(dir, 'regtest')).rejects.toThrow(/belongs to playground, not regtest. Use --network playground/);
    } finally {
      await removeDir(dir);
    }
  });

  it("derives the node key at m/1017'/coin'/6'/0/0", () => {
    const seed = new Uint8Array(64).fill(1);
    const k = deriveNodeKeys(seed, 'regtest');
    expect(k.nodeId).toHaveLength(33);
    expect(deriveNodeKeys(seed, 'testnet').nodeId).toEqual(k.nodeId);
    expect(() => deriveNodeKeys(new Uint8Array(8), 'regtest')).toThrow(/16 to 64 bytes/);
  });
});
