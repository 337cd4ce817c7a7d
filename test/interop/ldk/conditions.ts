/**
 * Promises that resolve when a condition holds, checked whenever the owner says something changed
 * (after each of its calls into LDK, or each event): no polling.
 */
type Waiter = { done: () => boolean; resolve: () => void };

export class Conditions {
  private readonly waiters = new Set<Waiter>();

  /** Resolves once `done()` holds at a check(); rejects with `timeoutMessage()` after `timeoutMs`. */
  until(done: () => boolean, timeoutMs: number, timeoutMessage: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(timeoutMessage()));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Settles every waiter whose condition now holds. */
  check(): void {
    for (const w of this.waiters) {
      if (w.done()) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }
}
