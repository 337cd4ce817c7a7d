/**
 * A set of listeners for one kind of change. A listener that throws is that listener's problem: the
 * others still hear of the change, and the code that made it carries on.
 */
export class Listeners<T> {
  private readonly fns = new Set<(e: T) => void>();

  /** Adds a listener; returns the function that removes it. */
  add(fn: (e: T) => void): () => void {
    this.fns.add(fn);
    return () => void this.fns.delete(fn);
  }

  get size(): number {
    return this.fns.size;
  }

  emit(e: T): void {
    for (const fn of [...this.fns]) {
      try {
        fn(e);
      } catch {
        // See above: a listener's failure stays with it.
      }
    }
  }
}
