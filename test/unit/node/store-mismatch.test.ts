/**
 * A node whose data directory's records moved into one store is not started on another (a new
 * PostgreSQL database, a mistyped DSN, the other backend, a `store/` directory moved away): it would
 * find nothing left to move and run without its channels. Here the embedded store is moved away and an
 * empty one takes its place; the unlock is refused with the reason, and succeeds once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';

describe('a node started on a store its data directory did not move into', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode('store-mismatch');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('refuses to unlock, saying which store to use, and unlocks on the right one', { timeout: 60_000 }, async () => {
    const dir = t.node.config.datadir;
    const invoice = await t.node.handlers().addinvoice({ value: 1000 });
    await t.node.stop();
    // As an earlier Coulomb left it: payments.json moved into the store (its marker there), kept as a backup.
    await writeFile(join(dir, 'payments.json.migrated'), JSON.stringify({ schema_version: 1, data: { lastPaymentIndex: 0, lastAttemptId: 0, payments: {} } }));
    const { openKvStore } = await import('../../../core/store/kv/open.ts');
    const kv = await openKvStore({ backend: 'embedded', dir: join(dir, 'store') });
    await kv.write([{ type: 'put', ns: 'meta', key: 'migrated:payments', value: new TextEncoder().encode('then') }]);
    await kv.close();
    await rename(join(dir, 'store'), join(dir, 'store.elsewhere'));

    await expect(t.restart()).rejects.toThrow(/is not the store this data directory's records moved into: .* holds payments\.json\.migrated.*start it with the store it used before/);
    await t.node.stop();
    await rename(join(dir, 'store'), join(dir, 'store.empty'));
    await rename(join(dir, 'store.elsewhere'), join(dir, 'store'));
    await t.restart();
    expect((await t.node.handlers().lookupinvoice({ r_hash: invoice.r_hash })).state).toBe('OPEN');
    expect(JSON.parse(await readFile(join(dir, 'payments.json.migrated'), 'utf8'))).toMatchObject({ schema_version: 1 });
  });
});
