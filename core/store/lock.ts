/**
 * One writer per store file across processes: an exclusive lock file holding the owner's pid.
 *
 * - The lock appears atomically with its content (written to a temp file, then hard-linked into place,
 *   which fails if the lock exists), so no reader ever sees an empty lock.
 * - Only its owner, or the holder of the takeover lock (`<lock>.takeover`, taken the same way), removes
 *   a lock. A lock whose pid is gone was left by a crash: a contender takes the takeover lock, checks
 *   again that the owner is dead, and only then removes it. Contenders therefore never remove a lock
 *   that was freshly taken by someone else, and exactly one of them gets the file.
 * - Limits: a takeover lock left by a process that crashed within those few milliseconds is itself
 *   removed as stale (racing removals of that one could let two contenders in); and a pid reused by
 *   an unrelated process makes a stale lock look alive (the error message names the file to remove).
 */
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from './errors.ts';

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner pid written in a lock file; undefined when unreadable or not a pid. */
export function parseLockOwner(text: string): number | undefined {
  const t = text.trim();
  if (!/^[1-9][0-9]{0,9}$/.test(t)) return undefined;
  return Number(t);
}

/** Whether a lock owned by `owner` (as read from its file) still guards anything. */
function heldByOther(owner: number | undefined): owner is number {
  return owner !== undefined && owner !== process.pid && pidAlive(owner);
}

async function readOwner(path: string): Promise<number | undefined | 'gone'> {
  try {
    return parseLockOwner(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
}

/** Creates `path` holding the content of `source`, atomically; false if `path` exists. */
async function linkExclusive(source: string, path: string): Promise<boolean> {
  try {
    await link(source, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes the lock at `lockPath` for `file` (the store file it guards, named in errors), or throws
 * StoreError('locked') when a live process holds it.
 */
export async function acquireLock(lockPath: string, file: string, dir: string, inUse: (owner: number) => string = (owner) => defaultInUse(file, lockPath, owner)): Promise<FileLock> {
  // A live owner is refused before anything is written, so a second process leaves no trace.
  const current = await readOwner(lockPath).catch(() => undefined);
  if (current !== 'gone' && heldByOther(current)) throw new StoreError('locked', file, inUse(current));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mine = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    // Each round either takes the lock, finds a live owner, or makes progress on a stale one; waiting
    // for another contender's takeover is bounded by the attempts.
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await linkExclusive(mine, lockPath)) return { path: lockPath, release: () => releaseLock(lockPath) };
      const owner = await readOwner(lockPath);
      if (owner === 'gone') continue; // released meanwhile
      if (heldByOther(owner)) throw new StoreError('locked', file, inUse(owner));
      if (!(await removeStaleLock(lockPath, mine))) await sleep(5);
    }
    throw new StoreError('locked', file, `could not lock ${file}: ${lockPath} keeps changing; is another Coulomb starting?`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

function defaultInUse(file: string, lockPath: string, owner: number): string {
  return `${file} is in use by another Coulomb process (pid ${owner}); stop it first. If no Coulomb is running, remove ${lockPath}.`;
}

export const DATADIR_LOCK = 'datadir.lock';

/**
 * Makes this process the one Coulomb of a data directory: taken before anything else is written there
 * (log, control channel, stores), released when the node stops.
 */
export function lockDatadir(datadir: string): Promise<FileLock> {
  const lockPath = join(datadir, DATADIR_LOCK);
  return acquireLock(
    lockPath,
    datadir,
    datadir,
    (owner) =>
      `The data directory ${datadir} is already in use by another Coulomb (pid ${owner}), so this one did not start; ` +
      `stop that one first (coulomb --datadir ${datadir} stop) or choose another --datadir, and if no Coulomb is running, remove ${lockPath}.`,
  );
}

/** Removes the lock if, checked under the takeover lock, its owner is dead. False when someone else is at it. */
async function removeStaleLock(lockPath: string, mine: string): Promise<boolean> {
  const takeover = `${lockPath}.takeover`;
  if (!(await linkExclusive(mine, takeover))) {
    const holder = await readOwner(takeover);
    if (holder === 'gone') return true;
    if (heldByOther(holder)) return false;
    // Its holder died within the takeover: remove it, and contend again.
    await unlink(takeover).catch(() => undefined);
    return true;
  }
  try {
    // Only a lock's owner or the takeover holder removes it, so what we read now stays until we act.
    const owner = await readOwner(lockPath);
    if (owner !== 'gone' && !heldByOther(owner)) await unlink(lockPath).catch(() => undefined);
    return true;
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
}

/** Removes the lock, but only while it is still ours; a lock already gone or unreadable is left be. */
async function releaseLock(lockPath: string): Promise<void> {
  const owner = await readOwner(lockPath).catch(() => undefined);
  if (owner === process.pid) await unlink(lockPath).catch(() => undefined);
}
