/**
 * A data directory belongs to one network. The first start records it; a later start on another
 * network is refused, so a testnet wallet is never pointed at mainnet by a typo.
 */
import { join } from 'node:path';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import { DataFileError } from './errors.ts';
import type { Network } from '../keys/node-key.ts';

export const NETWORK_FILE = 'network.json';

export async function checkDatadirNetwork(datadir: string, network: Network | 'playground'): Promise<void> {
  const path = join(datadir, NETWORK_FILE);
  const raw = await readFileIfExists(path);
  if (!raw) {
    await writeFileDurable(path, JSON.stringify({ version: 1, network }, null, 2) + '\n', 0o600);
    return;
  }
  let recorded: unknown;
  try {
    recorded = (JSON.parse(raw.toString('utf8')) as { network?: unknown }).network;
  } catch {
    throw new DataFileError(path, `${path} is not valid JSON; it may be corrupt. Fix or remove it by hand; Coulomb will not overwrite it.`);
  }
  if (recorded !== network) {
    throw new DataFileError(path, `data directory ${datadir} belongs to ${String(recorded)}, not ${network}. Use --network ${String(recorded)}, or another --datadir for ${network}.`);
  }
}
