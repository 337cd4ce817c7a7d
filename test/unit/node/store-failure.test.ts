/**
 * A node whose store stops taking writes (here: the embedded store's file closed behind its back, as a
 * disk that goes away) stops at once, with a log line that says why and what to do, instead of going on
 * with state in memory ahead of what is stored. The write that met the failure is refused, and a
 * restart continues from what the store holds. One in-process node on its own playground.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileHandle } from 'node:fs/promises';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';

describe('a node whose store fails', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode('store-failure');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('stops at once with a clear log line, and a restart continues from the store', async () => {
    const api = t.node.handlers();
    const kept = await api.addinvoice({ value: 1000 });
    let stopped = false;
    t.node.onStop(() => (stopped = true));
    await (t.node.kv as unknown as { file: { fh: FileHandle } }).file.fh.close();

    await expect(api.addinvoice({ value: 2000 })).rejects.toThrow();
    await waitFor('the node to stop', () => stopped || undefined);
    expect(t.node.failure).toMatchObject({ code: 'write_failed' });
    const line = t.logs.find((l) => l.includes("the node's store failed"));
    expect(line, t.logs.slice(-20).join('\n')).toMatch(/the node stops now.*start Coulomb again.*Could not write to the store log/s);

    await t.restart();
    const again = t.node.handlers();
    expect((await again.lookupinvoice({ r_hash: kept.r_hash })).state).toBe('OPEN');
    const next = await again.addinvoice({ value: 3000 });
    expect((await again.lookupinvoice({ r_hash: next.r_hash })).value).toBe('3000');
  });
});
