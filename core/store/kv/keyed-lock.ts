/**
 * One change at a time per record: a change that reads a record from the store, decides, and writes it
 * back must not interleave with another change of the same record (both would start from the same
 * value and one would be lost). Changes of other records go on meanwhile, so their writes still share
 * a commit.
 *
 * Hold the lock only while reading and deciding, up to the call of `kv.write`; await the write's
 * durability after releasing it (the store keeps writes in call order, and reads see every write
 * called before them).
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
