/**
 * The embedded storage backend (the default): an append-only log of checksummed frames in one
 * directory, one frame per commit (core/store/kv/log-format.ts), with no server to run.
 *
 * - Writes are applied to an in-memory index at once (so reads see them), queued, and appended in call
 *   order by one committer: writes called while a sync is on its way are appended together and made
 *   durable with one fdatasync (group commit).
 * - The index keeps, per namespace, the keys in byte order and where each value lies in the log;
 *   values are read from the file when asked for, so memory follows the number of keys, not their
 *   values, and reading the newest 100 of 100,000 records reads those 100.
 * - When most of the log is dead (overwritten or deleted records), its live records are copied into a
 *   new generation beside it while writes go on; the frames written meanwhile are copied after them,
 *   and the new file replaces the old under the committer's lock (fsync, rename, directory fsync).
 *   A crash at any moment leaves the old log or the complete new one.
 * - At open, a frame at the very end that is incomplete or fails its checksum is a write that never
 *   finished: it is moved to a side file and reported. Damage anywhere else is refused, untouched.
 */
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsyncDir, writeFileDurable } from '../durable-file.ts';
import { StoreError } from '../errors.ts';
import { acquireLock } from '../lock.ts';
import type { FileLock } from '../lock.ts';
import {
  FILE_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  LOG_NAME,
  decodeFileHeader,
  decodePayload,
  encodeFileHeader,
  encodeFrameHeader,
  encodePayload,
  frameChecksumOk,
  logName,
  readFrameHeader,
  recordBytes,
} from './log-format.ts';
import { FailureNotice, checkNs, checkOp } from './types.ts';
import type { KvOp, KvRange, KvRecord, KvStore } from './types.ts';

export const LOCK_NAME = 'kv.lock';

export interface EmbeddedKvOptions {
  /** Where notices go (a torn tail cut off, a compaction that failed); stderr by default. */
  log?: (msg: string) => void;
  /**
   * When to compact: once the dead bytes (overwritten or deleted records) are at least `minDeadBytes`
   * and more than `deadRatio` of the log. Defaults: 16 MiB and 0.5.
   */
  compaction?: { minDeadBytes?: number; deadRatio?: number };
  /** Milliseconds within which a write made with `durable: false` reaches the disk on its own. */
  lazyFlushMs?: number;
  /** For crash tests: called as compaction passes its steps. */
  onCompaction?: (step: 'start' | 'copied' | 'renamed' | 'done') => void;
}

/** Where a record's value is: in the log (`off` >= 0), or only in memory until its frame is appended. */
interface Entry {
  off: number;
  len: number;
  value: Uint8Array | undefined;
  /** Where a compaction in progress put the value in the new log. */
  next: number;
}

interface Namespace {
  map: Map<string, Entry>;
  /** The keys, in byte order (ASCII, so string order is byte order). */
  keys: string[];
}

interface LogFile {
  fh: FileHandle;
  path: string;
  generation: number;
  readers: number;
  retired: boolean;
}

interface Pending {
  /** A write's frame payload; absent for a flush, which only waits. */
  payload?: Buffer;
  located?: { ns: Namespace; nsName: string; key: string; entry: Entry; at: number }[];
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const openDirs = new Set<string>();
const MiB = 1024 * 1024;
/** Reads of values that lie this close together in the log are made as one read. */
const COALESCE_GAP = 16 * 1024;
const READ_CHUNK = 4 * MiB;
const SNAPSHOT_FRAME_BYTES = MiB;
const MAX_GROUP_BYTES = 256 * MiB;

class Mutex {
  private last: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.last.then(fn, fn);
    this.last = r.catch(() => undefined);
    return r;
  }
}

function lowerBound(keys: string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index range [lo, hi) of the keys within a range's bounds and prefix. */
function bounds(keys: string[], r: KvRange | undefined): [number, number] {
  let lo = 0;
  let hi = keys.length;
  if (r) {
    if (r.gte !== undefined) lo = Math.max(lo, lowerBound(keys, r.gte));
    if (r.gt !== undefined) lo = Math.max(lo, upperBound(keys, r.gt));
    if (r.prefix !== undefined) lo = Math.max(lo, lowerBound(keys, r.prefix));
    if (r.lt !== undefined) hi = Math.min(hi, lowerBound(keys, r.lt));
    if (r.lte !== undefined) hi = Math.min(hi, upperBound(keys, r.lte));
    // Keys are 0x21–0x7e, so every key starting with the prefix sorts before prefix + 0x7f.
    if (r.prefix !== undefined) hi = Math.min(hi, lowerBound(keys, `${r.prefix}\x7f`));
  }
  return [lo, Math.max(lo, hi)];
}

async function readFully(fh: FileHandle, into: Uint8Array, pos: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, pos + done);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${pos + done}, before the ${into.length} bytes asked for at ${pos}`);
    done += bytesRead;
  }
}

async function writeFully(fh: FileHandle, bufs: Buffer[], pos: number): Promise<void> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let done = (await fh.writev(bufs, pos)).bytesWritten;
  while (done < total) {
    // A short write (rare: a signal, a full disk on its way) is finished from a contiguous copy.
    const rest = Buffer.concat(bufs).subarray(done);
    const { bytesWritten } = await fh.write(rest, 0, rest.length, pos + done);
    if (bytesWritten === 0) throw new Error(`the disk took only ${done} of ${total} bytes`);
    done += bytesWritten;
  }
}

/** Sequential reads of a file through a window, for replaying a log. */
class WindowReader {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}
  async read(pos: number, len: number): Promise<Buffer> {
    if (pos >= this.start && pos + len <= this.start + this.buf.length) return this.buf.subarray(pos - this.start, pos - this.start + len);
    const want = Math.min(Math.max(len, READ_CHUNK), this.size - pos);
    const b = Buffer.allocUnsafe(want);
    await readFully(this.fh, b, pos);
    this.buf = b;
    this.start = pos;
    return b.subarray(0, len);
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '');
}

/** `path`, or `path-2`, `path-3`… if taken: a side file never replaces an earlier one. */
async function sideFile(path: string): Promise<string> {
  for (let n = 1; ; n++) {
    const p = n === 1 ? path : `${path}-${n}`;
    try {
      await stat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
  }
}

function corrupt(path: string, what: string): StoreError {
  return new StoreError(
    'corrupt',
    path,
    `The store log ${path} is damaged: ${what}. Coulomb did not open it and left it untouched. ` +
      `Restore the data directory from a backup (keep this file for diagnosis); do not delete it to start afresh, as it holds channel state.`,
  );
}

interface Replayed {
  index: Map<string, Namespace>;
  live: number;
  end: number;
  nextSeq: number;
  torn?: { at: number; bytes: number; why: string };
}

export class EmbeddedKvStore implements KvStore {
  readonly backend = 'embedded' as const;
  syncs = 0;

  private readonly queue: Pending[] = [];
  private readonly mutex = new Mutex();
  private pumping = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private failure: StoreError | undefined;
  private readonly failed = new FailureNotice();
  private timer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  /** Compaction is tried again only once the log has grown past this (after one failed). */
  private compactRetryAt = 0;
  private readonly minDead: number;
  private readonly deadRatio: number;
  private readonly lazyMs: number;
  private readonly log: (msg: string) => void;

  private constructor(
    readonly location: string,
    private readonly lock: FileLock,
    private file: LogFile,
    private readonly index: Map<string, Namespace>,
    /** Bytes of the log that hold live records (the rest is dead, or frame overhead). */
    private live: number,
    private end: number,
    private nextSeq: number,
    private readonly opts: EmbeddedKvOptions,
  ) {
    this.minDead = opts.compaction?.minDeadBytes ?? 16 * MiB;
    this.deadRatio = opts.compaction?.deadRatio ?? 0.5;
    this.lazyMs = opts.lazyFlushMs ?? 1000;
    this.log = opts.log ?? ((msg) => process.stderr.write(`${msg}\n`));
  }

  /** Opens (or creates) the store in `dir`; refused with StoreError('locked') while another open holds it. */
  static async open(dir: string, opts: EmbeddedKvOptions = {}): Promise<EmbeddedKvStore> {
    const root = resolve(dir);
    if (openDirs.has(root)) throw new StoreError('locked', root, `The store in ${root} is already open in this Coulomb; close it first.`);
    openDirs.add(root);
    let lock: FileLock | undefined;
    try {
      const created = await mkdir(root, { recursive: true, mode: 0o700 });
      if (created !== undefined) {
        for (let d = dirname(root); ; d = dirname(d)) {
          await fsyncDir(d);
          if (d === dirname(created) || d === dirname(d)) break;
        }
      }
      lock = await acquireLock(join(root, LOCK_NAME), root, root);
      return await EmbeddedKvStore.load(root, lock, opts);
    } catch (e) {
      await lock?.release();
      openDirs.delete(root);
      throw e;
    }
  }

  private static async load(root: string, lock: FileLock, opts: EmbeddedKvOptions): Promise<EmbeddedKvStore> {
    const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
    const names = await readdir(root);
    const generations = names
      .map((n) => LOG_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    let generation = generations[0];
    if (generation === undefined) {
      generation = 1;
      await writeFileDurable(join(root, logName(generation)), encodeFileHeader(generation, 1));
    }
    const path = join(root, logName(generation));
    const fh = await open(path, 'r+');
    try {
      const r = await replay(fh, path, generation);
      if (r.torn) {
        // A write that never finished: its bytes are kept aside, the log ends at the last whole frame.
        const side = await sideFile(`${path}.torn-${stamp()}`);
        const bytes = Buffer.allocUnsafe(r.torn.bytes);
        await readFully(fh, bytes, r.torn.at);
        await writeFileDurable(side, bytes);
        await fh.truncate(r.torn.at);
        await fh.sync();
        log(
          `${path}: cut off the last ${r.torn.bytes} bytes (${r.torn.why} at byte ${r.torn.at}): a write that never finished, ` +
            `as a crash leaves. No acknowledged write was lost; the cut bytes are kept in ${side}.`,
        );
      }
      // What earlier compactions left: superseded generations and unfinished copies.
      const leftovers = names.filter((n) => {
        const m = LOG_NAME.exec(n);
        return (m !== null && Number(m[1]) < generation) || (n.startsWith('.kv-') && n.endsWith('.tmp'));
      });
      for (const n of leftovers) await unlink(join(root, n));
      if (leftovers.length) await fsyncDir(root);
      const file: LogFile = { fh, path, generation, readers: 0, retired: false };
      return new EmbeddedKvStore(root, lock, file, r.index, r.live, r.end, r.nextSeq, opts);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    this.check();
    checkNs(ns);
    const entry = this.index.get(ns)?.map.get(key);
    if (!entry) return undefined;
    return (await this.values([entry]))[0];
  }

  async range(ns: string, r?: KvRange): Promise<KvRecord[]> {
    this.check();
    checkNs(ns);
    const idx = this.index.get(ns);
    if (!idx) return [];
    const [lo, hi] = bounds(idx.keys, r);
    const n = Math.min(hi - lo, r?.limit ?? Infinity);
    if (n <= 0) return [];
    const keys = r?.reverse ? idx.keys.slice(hi - n, hi).reverse() : idx.keys.slice(lo, lo + n);
    const values = await this.values(keys.map((k) => idx.map.get(k)!));
    return keys.map((key, i) => ({ key, value: values[i]! }));
  }

  async count(ns: string, r?: KvRange): Promise<number> {
    this.check();
    checkNs(ns);
    const idx = this.index.get(ns);
    if (!idx) return 0;
    const [lo, hi] = bounds(idx.keys, r);
    return hi - lo;
  }

  write(ops: readonly KvOp[], opts: { durable?: boolean } = {}): Promise<void> {
    let encoded: ReturnType<typeof encodePayload>;
    try {
      this.check();
      if (this.failure) throw this.failure;
      for (const op of ops) checkOp(op);
      encoded = encodePayload(ops);
    } catch (e) {
      return Promise.reject(e);
    }
    const durable = opts.durable !== false;
    if (ops.length === 0) return durable ? this.flush() : Promise.resolve();
    const { payload, valueAt } = encoded;
    const located: NonNullable<Pending['located']> = [];
    ops.forEach((op, i) => {
      let ns = this.index.get(op.ns);
      if (!ns) this.index.set(op.ns, (ns = { map: new Map(), keys: [] }));
      const old = ns.map.get(op.key);
      if (old && old.off >= 0) this.live -= recordBytes(op.ns, op.key, old.len);
      if (op.type === 'put') {
        const at = valueAt[i]!;
        const entry: Entry = { off: -1, len: op.value.length, value: payload.subarray(at, at + op.value.length), next: -1 };
        if (!old) ns.keys.splice(lowerBound(ns.keys, op.key), 0, op.key);
        ns.map.set(op.key, entry);
        located.push({ ns, nsName: op.ns, key: op.key, entry, at });
      } else if (old) {
        ns.map.delete(op.key);
        ns.keys.splice(lowerBound(ns.keys, op.key), 1);
      }
    });
    return new Promise<void>((resolve, reject) => {
      if (durable) {
        this.queue.push({ payload, located, durable, resolve, reject });
        this.kick();
      } else {
        this.queue.push({ payload, located, durable, resolve: () => undefined, reject: () => undefined });
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          if (!this.closed) this.flush().catch(() => undefined);
        }, this.lazyMs).unref();
        resolve();
      }
    });
  }

  flush(): Promise<void> {
    try {
      this.check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.barrier();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    let failed: unknown;
    try {
      await this.barrier();
    } catch (e) {
      failed = e;
    }
    await this.compacting;
    this.file.retired = true;
    if (this.file.readers === 0) await this.file.fh.close().catch(() => undefined);
    await this.lock.release();
    openDirs.delete(this.location);
    if (failed !== undefined) throw failed;
  }

  /** Resolves once every write queued so far is durable. */
  private barrier(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length === 0 && !this.pumping) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ durable: true, resolve, reject });
      this.kick();
    });
  }

  private check(): void {
    if (this.closed) throw new StoreError('closed', this.location, `The store in ${this.location} is closed.`);
  }

  /** Values of entries, copied: pending ones from memory, the others read from the log. */
  private async values(entries: Entry[]): Promise<Uint8Array[]> {
    if (entries.every((e) => e.value || e.len === 0)) return entries.map((e) => (e.value ? Uint8Array.from(e.value) : new Uint8Array(0)));
    // Taken now, together with the offsets: a compaction switching files meanwhile keeps this one open.
    const file = this.file;
    file.readers++;
    try {
      return await readEntries(file, entries);
    } finally {
      file.readers--;
      if (file.retired && file.readers === 0) await file.fh.close().catch(() => undefined);
    }
  }

  private kick(): void {
    if (!this.pumping) void this.pump();
  }

  /** The committer: appends what is queued, in call order, one sync per batch. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.failure && this.queue.some((p) => p.durable)) {
        // One group commit, bounded so the group offsets in frame headers stay within 32 bits.
        let n = 0;
        for (let bytes = 0; n < this.queue.length && (n === 0 || bytes < MAX_GROUP_BYTES); n++) bytes += this.queue[n]!.payload?.length ?? 0;
        const batch = this.queue.splice(0, n);
        await this.mutex.run(() => this.commit(batch));
      }
      if (this.failure) for (const p of this.queue.splice(0)) p.reject(this.failure);
    } finally {
      this.pumping = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const writes = batch.filter((p) => p.payload);
    try {
      if (this.failure) throw this.failure;
      if (writes.length) {
        const bufs: Buffer[] = [];
        const starts: number[] = [];
        let pos = this.end;
        for (const w of writes) {
          const header = encodeFrameHeader(this.nextSeq++, w.payload!, pos - this.end);
          bufs.push(header, w.payload!);
          starts.push(pos);
          pos += header.length + w.payload!.length;
        }
        try {
          await writeFully(this.file.fh, bufs, this.end);
          writes.forEach((w, i) => {
            for (const l of w.located!) {
              l.entry.off = starts[i]! + FRAME_HEADER_BYTES + l.at;
              l.entry.value = undefined;
              if (l.ns.map.get(l.key) === l.entry) this.live += recordBytes(l.nsName, l.key, l.entry.len);
            }
          });
          this.end = pos;
          await this.file.fh.datasync();
        } catch (e) {
          throw this.fail(e);
        }
        this.syncs++;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) p.resolve();
    this.maybeCompact();
  }

  private fail(e: unknown): StoreError {
    this.failure ??= new StoreError(
      'write_failed',
      this.file.path,
      `Could not write to the store log ${this.file.path} (${e instanceof Error ? e.message : String(e)}). The store takes no more writes; ` +
        `what reached the disk is known once Coulomb is restarted. Check the disk (free space, permissions, errors), then restart Coulomb.`,
      { cause: e },
    );
    this.failed.fire(this.failure);
    return this.failure;
  }

  onFailure(fn: (e: StoreError) => void): void {
    this.failed.listen(fn);
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed || this.failure || this.end < this.compactRetryAt) return;
    const body = this.end - FILE_HEADER_BYTES;
    const dead = body - this.live;
    if (dead < this.minDead || dead <= body * this.deadRatio) return;
    this.compacting = this.compact()
      .catch((e: unknown) => {
        this.compactRetryAt = this.end + this.minDead;
        if (!(e instanceof CompactionStopped)) this.log(`Compacting the store log ${this.file.path} failed (${e instanceof Error ? e.message : String(e)}); it goes on as it was, nothing is lost, and will be tried again later.`);
      })
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /**
   * Copies the live records into the next generation while writes go on, then the frames appended
   * meanwhile, then switches to it under the committer's lock.
   */
  private async compact(): Promise<void> {
    const old = this.file;
    const generation = old.generation + 1;
    const path = join(this.location, logName(generation));
    const tmp = join(this.location, `.${logName(generation)}.tmp`);
    const sizeBefore = this.end;
    // The snapshot: every record already in the log, taken with nothing half-appended.
    const { from, records } = await this.mutex.run(() => {
      const records: { nsName: string; key: string; entry: Entry }[] = [];
      for (const [nsName, ns] of this.index) for (const key of ns.keys) {
        const entry = ns.map.get(key)!;
        if (entry.off >= 0) records.push({ nsName, key, entry });
      }
      return Promise.resolve({ from: this.end, records });
    });
    this.opts.onCompaction?.('start');
    const fh = await open(tmp, 'w+', 0o600);
    let switched = false;
    try {
      await writeFully(fh, [encodeFileHeader(generation, 1)], 0);
      let pos = FILE_HEADER_BYTES;
      let seq = 1;
      old.readers++;
      try {
        for (let s = 0; s < records.length; ) {
          if (this.closed || this.failure) throw new CompactionStopped();
          let e = s;
          let bytes = 0;
          while (e < records.length && (e === s || bytes + records[e]!.entry.len < SNAPSHOT_FRAME_BYTES)) bytes += records[e++]!.entry.len;
          const chunk = records.slice(s, e);
          const values = await readEntries(old, chunk.map((r) => r.entry));
          const { payload, valueAt } = encodePayload(chunk.map((r, i) => ({ type: 'put', ns: r.nsName, key: r.key, value: values[i]! })));
          chunk.forEach((r, i) => (r.entry.next = pos + FRAME_HEADER_BYTES + valueAt[i]!));
          const header = encodeFrameHeader(seq++, payload, 0);
          await writeFully(fh, [header, payload], pos);
          pos += header.length + payload.length;
          s = e;
        }
        // Frames appended since the snapshot, a round at a time while writes go on.
        const catchUpStart = pos;
        let copied = from;
        for (let round = 0; round < 8 && this.end - copied > MiB; round++) {
          if (this.closed || this.failure) throw new CompactionStopped();
          const to = this.end;
          ({ pos, seq } = await copyFrames(old, copied, to, fh, pos, seq));
          copied = to;
        }
        this.opts.onCompaction?.('copied');
        await this.mutex.run(async () => {
          if (this.closed || this.failure) throw new CompactionStopped();
          ({ pos, seq } = await copyFrames(old, copied, this.end, fh, pos, seq));
          await fh.sync();
          await rename(tmp, path);
          // From here the new log is the store: switch at once, in step with the rename.
          switched = true;
          this.opts.onCompaction?.('renamed');
          const delta = catchUpStart - from;
          for (const ns of this.index.values())
            for (const entry of ns.map.values()) {
              if (entry.off >= from) entry.off += delta;
              else if (entry.off >= 0) entry.off = entry.next;
            }
          this.file = { fh, path, generation, readers: 0, retired: false };
          this.end = pos;
          this.nextSeq = seq;
          old.retired = true;
          try {
            await fsyncDir(this.location);
          } catch (e) {
            throw this.fail(e);
          }
        });
      } finally {
        old.readers--;
        if (old.retired && old.readers === 0) await old.fh.close().catch(() => undefined);
      }
      await unlink(old.path).catch((e: unknown) => this.log(`Could not remove the old store log ${old.path} (${String(e)}); it is removed at the next start.`));
      this.opts.onCompaction?.('done');
      this.log(`Compacted the store log: ${old.path} (${sizeBefore} bytes) became ${path} (${this.end} bytes).`);
    } catch (e) {
      if (!switched) {
        await fh.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
      }
      throw e;
    }
  }

}

class CompactionStopped extends Error {}

/**
 * Values of entries (pending ones from memory, the others from `file`), each a copy; reads of values
 * that lie close together in the log are made as one.
 */
async function readEntries(file: LogFile, entries: Entry[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array<Uint8Array>(entries.length);
  const reads: { i: number; off: number; len: number }[] = [];
  entries.forEach((e, i) => {
    if (e.value) out[i] = Uint8Array.from(e.value);
    else if (e.len === 0) out[i] = new Uint8Array(0);
    else reads.push({ i, off: e.off, len: e.len });
  });
  reads.sort((a, b) => a.off - b.off);
  for (let s = 0; s < reads.length; ) {
    const from = reads[s]!.off;
    let to = from + reads[s]!.len;
    let e = s + 1;
    while (e < reads.length && reads[e]!.off - to <= COALESCE_GAP && reads[e]!.off + reads[e]!.len - from <= READ_CHUNK) {
      to = Math.max(to, reads[e]!.off + reads[e]!.len);
      e++;
    }
    if (e === s + 1) {
      const v = new Uint8Array(reads[s]!.len);
      await readFully(file.fh, v, from);
      out[reads[s]!.i] = v;
    } else {
      const span = Buffer.allocUnsafe(to - from);
      await readFully(file.fh, span, from);
      for (let k = s; k < e; k++) out[reads[k]!.i] = Uint8Array.from(span.subarray(reads[k]!.off - from, reads[k]!.off - from + reads[k]!.len));
    }
    s = e;
  }
  return out;
}

/** Copies whole frames [from, to) of a log to `fh` at `pos`, numbering them on from `seq`. */
async function copyFrames(src: LogFile, from: number, to: number, fh: FileHandle, pos: number, seq: number): Promise<{ pos: number; seq: number }> {
  const reader = new WindowReader(src.fh, to);
  for (let p = from; p < to; ) {
    const h = await reader.read(p, FRAME_HEADER_BYTES);
    const f = readFrameHeader(h);
    if (!f) throw new Error(`no frame at byte ${p} of ${src.path}`);
    const payload = await reader.read(p + FRAME_HEADER_BYTES, f.len);
    // Frames keep their place in their group: groups are copied whole, at the same distances.
    const header = encodeFrameHeader(seq++, payload, f.group);
    await writeFully(fh, [header, payload], pos);
    pos += header.length + payload.length;
    p += FRAME_HEADER_BYTES + f.len;
  }
  return { pos, seq };
}

/** Reads a log into an index; finds a torn tail, refuses damage. Changes nothing. */
async function replay(fh: FileHandle, path: string, generation: number): Promise<Replayed> {
  const size = (await fh.stat()).size;
  const head = Buffer.alloc(Math.min(size, FILE_HEADER_BYTES));
  await readFully(fh, head, 0);
  const header = decodeFileHeader(head);
  if (!header.ok) {
    if (header.version !== undefined && header.version > 1)
      throw new StoreError('newer_version', path, `The store log ${path} was written by a newer Coulomb (format ${header.version}); run that version, or restore the data directory from a backup made by this one. The file was left untouched.`);
    throw corrupt(path, header.problem);
  }
  if (header.generation !== generation) throw corrupt(path, `its header says generation ${header.generation}, its name ${generation}`);
  const index = new Map<string, Namespace>();
  let live = 0;
  let seq = header.firstSeq;
  const reader = new WindowReader(fh, size);
  let p = FILE_HEADER_BYTES;
  let why: string | undefined;
  while (p < size) {
    if (size - p < FRAME_HEADER_BYTES) {
      why = 'an incomplete record header';
      break;
    }
    const h = await reader.read(p, FRAME_HEADER_BYTES);
    const f = readFrameHeader(h);
    if (!f) {
      why = 'bytes that are not a record';
      break;
    }
    if (p + FRAME_HEADER_BYTES + f.len > size) {
      why = 'an incomplete record';
      break;
    }
    const payload = await reader.read(p + FRAME_HEADER_BYTES, f.len);
    if (!frameChecksumOk(h, payload)) {
      why = 'a record that fails its checksum';
      break;
    }
    if (f.seq !== seq) throw corrupt(path, `the record at byte ${p} has sequence number ${String(f.seq)} where ${seq} belongs (a record is missing or repeated)`);
    let ops;
    try {
      ops = decodePayload(payload);
    } catch (e) {
      throw corrupt(path, `the record at byte ${p} is malformed (${(e as Error).message})`);
    }
    const base = p + FRAME_HEADER_BYTES;
    for (const op of ops) {
      let ns = index.get(op.ns);
      if (!ns) index.set(op.ns, (ns = { map: new Map(), keys: [] }));
      const old = ns.map.get(op.key);
      if (old) live -= recordBytes(op.ns, op.key, old.len);
      if (op.type === 'put') {
        ns.map.set(op.key, { off: base + op.valueAt, len: op.len, value: undefined, next: -1 });
        live += recordBytes(op.ns, op.key, op.len);
      } else {
        ns.map.delete(op.key);
      }
    }
    p += FRAME_HEADER_BYTES + f.len;
    seq++;
  }
  for (const ns of index.values()) ns.keys = [...ns.map.keys()].sort();
  if (why === undefined) return { index, live, end: p, nextSeq: seq };
  const later = await laterGroup(fh, p, size);
  if (later !== undefined) throw corrupt(path, `${why} at byte ${p}, followed by intact records written after it (from byte ${later}), so this is not an unfinished last write`);
  return { index, live, end: p, nextSeq: seq, torn: { at: p, bytes: size - p, why } };
}

/**
 * The offset of the first intact frame after the damage at `bad` that belongs to a later group commit
 * than the damage, if any. Intact frames of the damaged group itself may follow it: that group was
 * never synced (the next is appended only after its sync), and a power cut keeps its pages in any order.
 */
async function laterGroup(fh: FileHandle, bad: number, size: number): Promise<number | undefined> {
  const reader = new WindowReader(fh, size);
  for (let p = bad + 1; p + FRAME_HEADER_BYTES <= size; ) {
    const n = Math.min(READ_CHUNK, size - p);
    const chunk = Buffer.from(await reader.read(p, n));
    let i = chunk.indexOf(FRAME_MAGIC);
    while (i >= 0) {
      const at = p + i;
      if (at + FRAME_HEADER_BYTES <= size) {
        const h = Buffer.from(await reader.read(at, FRAME_HEADER_BYTES));
        const f = readFrameHeader(h)!;
        if (at + FRAME_HEADER_BYTES + f.len <= size && frameChecksumOk(h, await reader.read(at + FRAME_HEADER_BYTES, f.len)) && at - f.group > bad) return at;
      }
      i = chunk.indexOf(FRAME_MAGIC, i + 1);
    }
    if (p + n >= size) break;
    p += n - (FRAME_MAGIC.length - 1);
  }
  return undefined;
}
