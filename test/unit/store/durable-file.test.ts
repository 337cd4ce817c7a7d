import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempFileOf, readFileIfExists, tempPathFor, writeFileDurable } from '../../../core/store/index.ts';
import { withTempDir } from '../../helpers/daemon.ts';

const withDir = <T>(fn: (dir: string) => Promise<T>): Promise<T> => withTempDir('dfile', fn);

describe('durable file writes', () => {
  it('writes into directories it creates, private by default, and replaces whole files', () =>
    withDir(async (dir) => {
      const path = join(dir, 'a', 'b', 'f.json');
      await writeFileDurable(path, 'first, longer content');
      await writeFileDurable(path, new Uint8Array([1, 2, 3]));
      expect(await readFile(path)).toEqual(Buffer.from([1, 2, 3]));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readFileIfExists(join(dir, 'missing'))).toBeUndefined();
    }));

  it('concurrent writers of one path never share a temp file and leave none behind', () =>
    withDir(async (dir) => {
      const path = join(dir, 'f');
      const texts = Array.from({ length: 20 }, (_, i) => `${i}:`.padEnd(1000 + i * 997, String.fromCharCode(97 + i)));
      await Promise.all(texts.map((t) => writeFileDurable(path, t)));
      expect(texts).toContain(await readFile(path, 'utf8'));
      expect(await readdir(dir)).toEqual(['f']);
    }));

  it('a failed write leaves no temp file', () =>
    withDir(async (dir) => {
      const path = join(dir, 'target');
      await mkdir(path); // renaming a file over a directory fails
      await expect(writeFileDurable(path, 'x')).rejects.toThrow();
      expect(await readdir(dir)).toEqual(['target']);
    }));

  it('names temp files so a store can recognise its own leftovers', () => {
    const tmp = tempPathFor('/d/wallet.json');
    const base = tmp.slice('/d/'.length);
    expect(isTempFileOf(base, 'wallet.json')).toBe(true);
    expect(isTempFileOf(base, 'wallet_history.json')).toBe(false);
    expect(isTempFileOf('wallet.json', 'wallet.json')).toBe(false);
    expect(tempPathFor('/d/wallet.json')).not.toBe(tmp);
  });
});
