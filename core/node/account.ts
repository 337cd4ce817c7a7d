/**
 * The wallet's account in the data directory: its recovery words shown again on request (after the
 * password), the password changed, and a forgotten password replaced by proving the 24 words. The
 * words travel only in the answer to the one call that asks for them after the password; nothing here
 * logs, and no error repeats what was typed.
 */
import { ApiError } from '../api/contract.ts';
import { openVault, sealVault } from '../wallet/vault.ts';
import type { DEFAULT_SCRYPT } from '../wallet/vault.ts';
import { WalletError as VaultError } from '../wallet/errors.ts';
import { normalizeMnemonic } from '../wallet/mnemonic.ts';
import { readVaultFile, writeVaultFile } from './vault-file.ts';
import type { VaultFile } from './vault-file.ts';
import type { VaultSecret } from '../wallet/vault.ts';

async function vaultFile(datadir: string): Promise<VaultFile> {
  const file = await readVaultFile(datadir);
  if (!file) throw new ApiError('failed_precondition', 'There is no wallet yet; create one first (coulomb create)');
  return file;
}

/** The vault's secret, or a refusal in people's words when the password is not the one. */
export async function openWithPassword(datadir: string, password: string): Promise<{ file: VaultFile; secret: VaultSecret }> {
  const file = await vaultFile(datadir);
  try {
    return { file, secret: await openVault(file.vault, password) };
  } catch (e) {
    if (e instanceof VaultError && e.code === 'wrong_password') throw new ApiError('invalid_argument', 'Wrong password; nothing was changed');
    throw e;
  }
}

export async function revealWords(datadir: string, password: string): Promise<string[]> {
  const { secret } = await openWithPassword(datadir, password);
  return secret.mnemonic.split(' ');
}

export async function changePassword(datadir: string, current: string, next: string, cost: typeof DEFAULT_SCRYPT): Promise<void> {
  if (next === current) throw new ApiError('invalid_argument', 'The new password is the same as the current one; choose another');
  const { file, secret } = await openWithPassword(datadir, current);
  await writeVaultFile(datadir, { ...file, vault: await sealVault(secret, next, cost) });
}

/**
 * A forgotten password: the 24 words (and passphrase, if the wallet has one) prove who the wallet is;
 * the vault is sealed again with a new password. Words of another wallet are refused when the data
 * directory knows its node's id; where it does not (a wallet from before the id was kept), the node
 * refuses to open channels that are not its seed's before anything is written (see CoulombNode).
 */
export async function resealWithWords(datadir: string, words: string, passphrase: string, password: string, nodeIdOf: (secret: VaultSecret) => string, cost: typeof DEFAULT_SCRYPT): Promise<{ file: VaultFile; secret: VaultSecret; nodeId: string }> {
  const file = await vaultFile(datadir);
  let mnemonic: string;
  try {
    mnemonic = normalizeMnemonic(words);
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  const secret = { mnemonic, passphrase };
  const nodeId = nodeIdOf(secret);
  if (file.nodeId && file.nodeId !== nodeId) {
    throw new ApiError('invalid_argument', 'These words (with this passphrase) belong to another wallet, not the one in this data directory; check each word, or the passphrase if you set one. Nothing was changed');
  }
  return { file: { ...file, vault: await sealVault(secret, password, cost), nodeId }, secret, nodeId };
}
