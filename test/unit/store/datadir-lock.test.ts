/**
 * The data directory's lock: one Coulomb per data directory, and a refused one writes nothing there.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { DATADIR_LOCK, lockDatadir } from '../../../core/store/lock.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsp>();
  return { ...real, writeFile: vi.fn(real.writeFile), link: vi.fn(real.link), mkdir: vi.fn(real.mkdir) };
});

describe('the data directory lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('datadir-lock');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('refuses while another live process holds it, before writing anything, and says which directory and what to do', async () => {
    await fsp.writeFile(join(dir, DATADIR_LOCK), '1\n'); // pid 1 is alive and not us
    vi.mocked(fsp.writeFile).mockClear();
    vi.mocked(fsp.link).mockClear();
    vi.mocked(fsp.mkdir).mockClear();
    await expect(lockDatadir(dir)).rejects.toThrow(
      `The data directory ${dir} is already in use by another Coulomb (pid 1), so this one did not start; stop that one first (coulomb --datadir ${dir} stop) or choose another --datadir, and if no Coulomb is running, remove ${join(dir, DATADIR_LOCK)}.`,
    );
    expect(vi.mocked(fsp.writeFile)).not.toHaveBeenCalled();
    expect(vi.mocked(fsp.link)).not.toHaveBeenCalled();
    expect(vi.mocked(fsp.mkdir)).not.toHaveBeenCalled();
    expect(await fsp.readdir(dir)).toEqual([DATADIR_LOCK]);
  });

  it('is taken when free or left by a process that is gone, and released', async () => {
    await fsp.writeFile(join(dir, DATADIR_LOCK), '999999\n');
    const lock = await lockDatadir(dir);
    expect(await fsp.readFile(join(dir, DATADIR_LOCK), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    expect(await fsp.readdir(dir)).toEqual([]);
  });
});
