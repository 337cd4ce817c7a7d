import { describe, expect, it } from 'vitest';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateSeed, SEED_FILE, DataFileError } from '../../../core/node/seed-file.ts';
import { checkDatadirNetwork } from '../../../core/node/datadir.ts';
import { deriveNodeKeys } from '../../../core/keys/node-key.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';

describe('node identity and data directory', () => {
  it('creates a seed once (mode 0600) and derives the same node id from it every time', async () => {
    const dir = await tempDir('seed');
    try {
      const a = await loadOrCreateSeed(dir);
      expect(a.created).toBe(true);
      if (process.platform !== 'win32') expect((await stat(join(dir, SEED_FILE))).mode & 0o777).toBe(0o600);
      const b = await loadOrCreateSeed(dir);
      expect(b).toEqual({ seed: a.seed, created: false });
      expect(deriveNodeKeys(a.seed, 'regtest').nodeId).toEqual(deriveNodeKeys(b.seed, 'regtest').nodeId);
      // The identity differs between mainnet and test networks (BIP44 coin type).
      expect(deriveNodeKeys(a.seed, 'mainnet').nodeId).not.toEqual(deriveNodeKeys(a.seed, 'regtest').nodeId);
    } finally {
      await removeDir(dir);
    }
  });

  it('refuses a corrupt or foreign seed file, naming it, and never overwrites it', async () => {
    const dir = await tempDir('seed-bad');
    try {
      const path = join(dir, SEED_FILE);
      for (const junk of ['{not json', '{"version":9,"kind":"raw","seed":"00"}', '']) {
        await writeFile(path, junk);
        await expect(loadOrCreateSeed(dir)).rejects.toThrow(DataFileError);
        await expect(loadOrCreateSeed(dir)).rejects.toThrow(path);
        expect(await readFile(path, 'utf8')).toBe(junk);
      }
    } finally {
      await removeDir(dir);
    }
  });

  it('a data directory belongs to the network it was first used on', async () => {
    const dir = await tempDir('net');
    try {
      await checkDatadirNetwork(dir, 'regtest');
      await checkDatadirNetwork(dir, 'regtest');
      await expect(checkDatadirNetwork(dir, 'mainnet')).rejects.toThrow(/belongs to regtest, not mainnet. Use --network regtest/);
    } finally {
      await removeDir(dir);
    }
  });

  it('derives the node key at m/1017\'/coin\'/6\'/0/0 from a known seed', () => {
    const seed = new Uint8Array(32).fill(1);
    const k = deriveNodeKeys(seed, 'regtest');
    expect(k.nodeId).toHaveLength(33);
    expect(deriveNodeKeys(seed, 'testnet').nodeId).toEqual(k.nodeId);
    expect(() => deriveNodeKeys(new Uint8Array(8), 'regtest')).toThrow(/16 to 64 bytes/);
  });
});
