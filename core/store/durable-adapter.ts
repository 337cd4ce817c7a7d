/**
 * A lowdb adapter that writes durably (temp file, fsync, rename, fsync directory; see durable-file.ts).
 *
 * Writes to one file are serialized: at most one is on its way to disk. Writes that arrive meanwhile
 * coalesce into one pending write carrying the newest data, and every caller's promise resolves only
 * once data at least as new as its own is durable (or rejects if that write failed).
 *
 * Reading never repairs: a file that exists but is not valid UTF-8 JSON (or is JSON `null`, which
 * lowdb would take for "no file") is a StoreError('corrupt'), so nothing ever overwrites it.
 */
import type { Adapter } from 'lowdb';
import { readFileIfExists, writeFileDurable } from './durable-file.ts';
import { StoreError } from './errors.ts';

interface Pending {
  text: string;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class DurableJsonAdapter<T> implements Adapter<T> {
  private writing = false;
  private pending: Pending | undefined;
  private idleWaiters: (() => void)[] = [];
  private latest: string | undefined;
  /** How many writes reached the disk (coalesced writes count once). */
  durableWrites = 0;

  constructor(readonly path: string) {}

  async read(): Promise<T | null> {
    const raw = await readFileIfExists(this.path);
    if (raw === undefined) return null;
    let text: string;
    let value: unknown;
    try {
      // Invalid UTF-8 is damage too: decoding it leniently could still "parse" into wrong data.
      text = utf8.decode(raw);
      value = JSON.parse(text);
    } catch (e) {
      throw corrupt(this.path, e);
    }
    if (value === null) throw corrupt(this.path);
    this.latest ??= text;
    return value as T;
  }

  write(data: T): Promise<void> {
    let text: string;
    try {
      // Serialize now: the caller may change `data` right after this call returns.
      text = JSON.stringify(data);
    } catch (e) {
      return Promise.reject(new StoreError('unserializable', this.path, `cannot save ${this.path}: ${String(e)}`, { cause: e }));
    }
    this.latest = text;
    return new Promise((resolve, reject) => {
      if (this.pending) this.pending.text = text;
      else this.pending = { text, waiters: [] };
      this.pending.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** The newest data handed to write() (or last read), parsed afresh: what the file holds once idle. */
  latestData(): T | null {
    return this.latest === undefined ? null : (JSON.parse(this.latest) as T);
  }

  /** Resolves once no write is in flight or pending. */
  idle(): Promise<void> {
    if (!this.writing && !this.pending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.writing) return;
    const job = this.pending;
    if (!job) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
      return;
    }
    this.pending = undefined;
    this.writing = true;
    writeFileDurable(this.path, job.text)
      .then(
        () => {
          this.durableWrites++;
          job.waiters.forEach((w) => w.resolve());
        },
        (e: unknown) => job.waiters.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.writing = false;
        this.pump();
      });
  }
}

function corrupt(path: string, cause?: unknown): StoreError {
  return new StoreError(
    'corrupt',
    path,
    `${path} is damaged (not readable JSON). Coulomb will not start on it and will not overwrite it: ` +
      `restore it from a backup, or move it aside to start that part afresh.`,
    { cause },
  );
}
