/**
 * A lowdb adapter that writes durably (temp file, fsync, rename, fsync directory). Writes to one file
 * are serialized; writes that arrive while one is in flight coalesce into the newest data, and every
 * caller's promise resolves only once data at least as new as its own is on disk.
 */
import type { Adapter } from 'lowdb';
import { readFileIfExists, writeFileDurable } from './durable-file.ts';
import { StoreError } from './errors.ts';

interface Job {
  text: string;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class DurableJsonAdapter<T> implements Adapter<T> {
  private inFlight = false;
  private next: Job | undefined;

  constructor(readonly path: string) {}

  async read(): Promise<T | null> {
    const raw = await readFileIfExists(this.path);
    if (raw === undefined) return null;
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch {
      throw new StoreError('corrupt', this.path, `${this.path} is not valid JSON. Coulomb will not overwrite it: restore it from a backup or move it aside.`);
    }
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    return new Promise((resolve, reject) => {
      if (this.next) this.next.text = text;
      else this.next = { text, waiters: [] };
      this.next.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || !this.next) return;
    const job = this.next;
    this.next = undefined;
    this.inFlight = true;
    writeFileDurable(this.path, job.text)
      .then(
        () => job.waiters.forEach((w) => w.resolve()),
        (e: unknown) => job.waiters.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }
}
