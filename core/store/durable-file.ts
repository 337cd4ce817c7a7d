/**
 * Atomic, durable file writes: write a temp file, fsync it, rename over the target, fsync the directory.
 * A crash at any moment leaves either the old or the new content, never a torn file.
 */
import { open, rename, mkdir, readFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join } from 'node:path';

/** Temp files are named `.<target>.<pid>.<unique>.tmp` next to their target. */
export function tempPathFor(path: string): string {
  // pid + random: two writers of one path (even in one millisecond) never share a temp file.
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Whether a directory entry is a temp file of writeFileDurable for the target file named `target`. */
export function isTempFileOf(entry: string, target: string): boolean {
  return entry.startsWith(`.${target}.`) && entry.endsWith('.tmp');
}

export async function writeFileDurable(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  // Directories made just now exist durably only once their parents are synced too.
  if (created !== undefined) {
    for (let d = dirname(dir); ; d = dirname(d)) {
      await fsyncDir(d);
      if (d === dirname(created) || d === dirname(d)) break;
    }
  }
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    // Never leave a half-written temp file behind after a failed write (a crash can; opens clean those).
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/** Makes a directory's entries (creations, renames, removals) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  // Directories cannot be opened for fsync on Windows; there the rename is as durable as it gets.
  if (process.platform === 'win32') return;
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Reads a file, or returns undefined when it does not exist. Other errors propagate. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
