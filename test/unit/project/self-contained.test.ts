/**
 * A fresh clone must test green on its own: every piece of spec data the code and the tests read lives
 * inside the repository, and nothing reaches for a folder beside it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CSV, ONION_CSV } from '../../../core/wire/gen/generate.ts';
import { VECTORS_DIR } from '../../helpers/vectors.ts';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

function inside(path: string): boolean {
  const rel = relative(ROOT, resolve(path));
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

describe('the repository stands on its own', () => {
  it('reads the BOLT vectors and wire tables from inside the repository', () => {
    expect(inside(VECTORS_DIR)).toBe(true);
    expect(inside(DEFAULT_CSV)).toBe(true);
    expect(inside(ONION_CSV)).toBe(true);
  });

  it('has every vector file the manifest lists, unchanged', () => {
    const manifest = JSON.parse(readFileSync(join(VECTORS_DIR, 'manifest.json'), 'utf8')) as {
      spec_commit: string;
      files: { path: string; sha256: string }[];
    };
    expect(manifest.spec_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest.files.length).toBeGreaterThan(10);
    for (const file of manifest.files) {
      const digest = createHash('sha256').update(readFileSync(join(VECTORS_DIR, file.path))).digest('hex');
      expect(digest, file.path).toBe(file.sha256);
    }
  });

  it('has no source file that reaches outside the repository for data', () => {
    const offenders: string[] = [];
    for (const dir of ['core', 'test', 'electron', 'renderer', 'bin']) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        const text = readFileSync(file, 'utf8');
        // A relative path that climbs above the repository root (one more `..` than the file's depth).
        const depth = relative(ROOT, file).split(sep).length - 1;
        const climb = new RegExp(`(\\.\\./){${depth + 1},}`);
        if (climb.test(text) || /['"`][^'"`]*\bshared\/bolt-/.test(text)) offenders.push(relative(ROOT, file));
      }
    }
    expect(offenders).toEqual([]);
  });
});
