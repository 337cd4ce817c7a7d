/**
 * The wallet vault file (`wallet.vault.json`, mode 0600): the 24 words and passphrase, encrypted with
 * the user's password (core/wallet/vault.ts). The BIP39 seed it holds is the root of every key the
 * node has: on-chain coins and the node identity alike.
 */
import { join } from 'node:path';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import { DataFileError } from './errors.ts';
import type { VaultV1 } from '../wallet/vault.ts';

export const VAULT_FILE = 'wallet.vault.json';

export interface VaultFile {
  vault: VaultV1;
  /** Height to rescan from when restoring; a new wallet starts at the tip it was created on. */
  birthday: number;
  /**
   * The node's public key (it descends from the words): lets a restore of a forgotten password refuse
   * another wallet's words before anything is written. Absent in files from before it was kept.
   */
  nodeId?: string;
}

export async function readVaultFile(datadir: string): Promise<VaultFile | undefined> {
  const path = join(datadir, VAULT_FILE);
  const raw = await readFileIfExists(path);
  if (!raw) return undefined;
  try {
    const doc = JSON.parse(raw.toString('utf8')) as VaultFile;
    if (typeof doc.birthday !== 'number' || typeof doc.vault !== 'object') throw new Error('shape');
    return doc;
  } catch {
    throw new DataFileError(path, `${path} is not a Coulomb wallet file this version understands; Coulomb will not overwrite it. Restore it from a backup or move it aside.`);
  }
}

export async function writeVaultFile(datadir: string, file: VaultFile): Promise<void> {
  await writeFileDurable(join(datadir, VAULT_FILE), JSON.stringify(file, null, 2) + '\n', 0o600);
}
