/**
 * A node whose data directory's records moved into one store is not started on another (a new
 * PostgreSQL database, a mistyped DSN, the other backend, a `store/` directory moved away): it would
 * find nothing left to move and run without its channels. Here, on the embedded store and on
 * PostgreSQL, the node is pointed at an empty store of the same backend; the unlock is refused with the
 * reason, and succeeds once it is pointed back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KvBackendConfig } from '../../../core/store/kv/types.ts';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';

describeEachKvBackend('a node started on a store of the $name backend its data directory did not move into', (backend) => {
  let t: TestNode;
  let stores: string;
  /** The node's store setting, read at each (re)start. */
  const db: { db?: KvBackendConfig } = {};
  beforeAll(async () => {
    stores = await tempDir('store-mismatch-stores');
    db.db = await backend.config!(join(stores, 'used'));
    t = await startTestNode('store-mismatch', undefined, undefined, undefined, db);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (stores) await removeDir(stores);
  });

  it('refuses to unlock, saying which store to use, and unlocks on the right one', { timeout: 60_000 }, async () => {
    const dir = t.node.config.datadir;
    const invoice = await t.node.handlers().addinvoice({ value: 1000 });
    await t.node.stop();
    // As an earlier Coulomb left it: payments.json moved into the store (its marker there), kept as a backup.
    await writeFile(join(dir, 'payments.json.migrated'), JSON.stringify({ schema_version: 1, data: { lastPaymentIndex: 0, lastAttemptId: 0, payments: {} } }));
    const kv = await backend.open(join(stores, 'used'));
    await kv.write([{ type: 'put', ns: 'meta', key: 'migrated:payments', value: new TextEncoder().encode('then') }]);
    await kv.close();

    db.db = await backend.config!(join(stores, 'empty'));
    await expect(t.restart()).rejects.toThrow(/is not the store this data directory's records moved into: .* holds payments\.json\.migrated.*start it with the store it used before/);
    await t.node.stop();
    db.db = await backend.config!(join(stores, 'used'));
    await t.restart();
    expect((await t.node.handlers().lookupinvoice({ r_hash: invoice.r_hash })).state).toBe('OPEN');
    expect(JSON.parse(await readFile(join(dir, 'payments.json.migrated'), 'utf8'))).toMatchObject({ schema_version: 1 });
  });
}, { backends: ['embedded', 'postgres'] });
