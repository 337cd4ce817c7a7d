/**
 * A PostgreSQL server that stops answering mid-query (SIGSTOPped: its connections stay open, nothing
 * comes back) must not hang the node: with a query timeout, the write in flight fails the store with
 * StoreError('unreachable') and its failure listeners hear it (the node stops on that), a read rejects
 * with the same, and the store closes without the server. The server is resumed after.
 *
 * Needs PostgreSQL's server programs (Debian: apt-get install postgresql); skipped with the reason
 * otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresKvStore } from '../../../core/store/kv/postgres.ts';
import { StoreError } from '../../../core/store/errors.ts';
import { findPostgres, startPostgres } from '../../helpers/postgres.ts';
import type { PgCluster } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/daemon.ts';

const found = findPostgres();
const skipReason = 'reason' in found ? found.reason : undefined;
if (skipReason) {
  console.log(`Skipping the PostgreSQL timeout test (test/unit/store/kv-postgres-timeout.test.ts): ${skipReason}. To run it, install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR.`);
}

const put = (key: string, value: string) => ({ type: 'put' as const, ns: 'notes', key, value: new TextEncoder().encode(value) });
/** How long the test's store waits for an answer: short, so the test is quick; nothing else bounds it. */
const TIMEOUT_MS = 1_500;

describe.skipIf(skipReason !== undefined)('a PostgreSQL server that stops answering', () => {
  let pg: PgCluster;
  let paused = false;
  beforeAll(async () => {
    pg = await startPostgres((found as { bindir: string }).bindir);
  }, 120_000);
  afterAll(async () => {
    if (paused) pg.resume();
    await pg?.destroy();
  });

  it('fails the write in flight as unreachable, tells the failure listeners, rejects reads, and closes', { timeout: 60_000 }, async () => {
    const store = await PostgresKvStore.open(await pg.createDatabase('stalls'), { queryTimeoutMs: TIMEOUT_MS });
    const failures: StoreError[] = [];
    store.onFailure((e) => failures.push(e));
    await store.write([put('a', 'before')]);
    // A read now leaves a read connection open, so the read below waits on a query, not on a connect.
    expect(new TextDecoder().decode(await store.get('notes', 'a'))).toBe('before');

    pg.pause();
    paused = true;
    const started = Date.now();
    const write = await store.write([put('b', 'never answered')]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = Date.now() - started;
    expect(write).toBeInstanceOf(StoreError);
    expect((write as StoreError).code).toBe('unreachable');
    expect((write as StoreError).message).toMatch(/did not answer a write within 1\.5 s; whether it committed is unknown/);
    // The server's own statement_timeout cannot fire while it is stopped: the client's wait ended it.
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(waited).toBeLessThan(TIMEOUT_MS + 20_000);
    await expect.poll(() => failures.map((f) => f.code)).toEqual(['unreachable']);
    // The store takes no more writes, and a read does not wait forever either.
    await expect(store.write([put('c', 'after')])).rejects.toMatchObject({ code: 'unreachable' });
    await expect(store.get('notes', 'a')).rejects.toMatchObject({ code: 'unreachable', message: expect.stringMatching(/did not answer a read within 1\.5 s/) });
    // Closing does not wait for the server either (the node closes its store as it stops).
    await store.close();

    pg.resume();
    paused = false;
    // What was acknowledged is there; the next open takes the writer lock again.
    // (once the server, running again, has seen the old connections go and released their lock).
    const again = await waitFor('the store to open again', () => PostgresKvStore.open(pg.dsn('stalls'), { queryTimeoutMs: TIMEOUT_MS }), 30_000);
    try {
      expect(new TextDecoder().decode(await again.get('notes', 'a'))).toBe('before');
    } finally {
      await again.close();
    }
  });
});
