/**
 * The node seed kept in the data directory (`node_seed.json`, mode 0600).
 * Until the on-chain wallet exists this raw seed is the root of every key; the wallet will replace it
 * with an encrypted BIP39 seed and the same derivation (core/keys) will apply to that seed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';

export const SEED_FILE = 'node_seed.json';
const SEED_VERSION = 1;

export class DataFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'DataFileError';
  }
}

interface SeedFileV1 {
  version: 1;
  kind: 'raw';
  seed: string;
}

function parseSeedFile(path: string, raw: Buffer): Uint8Array {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new DataFileError(path, `${path} is not valid JSON; it may be corrupt. Restore it from a backup; Coulomb will not overwrite it.`);
  }
  const d = doc as Partial<SeedFileV1>;
  if (typeof d !== 'object' || d === null || d.version !== SEED_VERSION || d.kind !== 'raw' || typeof d.seed !== 'string' || !/^[0-9a-f]{64}$/.test(d.seed)) {
    throw new DataFileError(path, `${path} is not a Coulomb seed file this version understands; Coulomb will not overwrite it.`);
  }
  return hex.decode(d.seed);
}

/** Loads the seed, creating it on first start. Never overwrites an existing file. */
export async function loadOrCreateSeed(datadir: string): Promise<{ seed: Uint8Array; created: boolean }> {
  const path = join(datadir, SEED_FILE);
  const raw = await readFileIfExists(path);
  if (raw) return { seed: parseSeedFile(path, raw), created: false };
  const seed = new Uint8Array(randomBytes(32));
  const doc: SeedFileV1 = { version: SEED_VERSION, kind: 'raw', seed: hex.encode(seed) };
  await writeFileDurable(path, JSON.stringify(doc, null, 2) + '\n', 0o600);
  return { seed, created: true };
}
