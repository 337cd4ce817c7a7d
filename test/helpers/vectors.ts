/** Loads a BOLT test-vector file from spec/bolt-vectors (see its README). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTORS_DIR = fileURLToPath(new URL('../../spec/bolt-vectors/', import.meta.url));

export function loadVectors<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(VECTORS_DIR + name, 'utf8')) as T;
}
