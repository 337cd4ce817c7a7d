/**
 * The chain monitor's records in a running node: after payments between two in-process nodes (the
 * embedded store, durable writes), each node's records read back as the channel stands — our
 * commitment with the peer's signatures, the peer's current one with its txid, every secret it gave
 * up (a restart of the store is covered in monitor-records.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import { commitmentsOf, buildFromSpec, isQuiet } from '../../../core/channel/updates.ts';
import { loadMonitor } from '../../../core/node/monitor-records.ts';
import { revealedSecret } from '../../../core/monitor/state.ts';

describe('chain monitor records in a node', () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    alice = await startTestNode('monitor-alice');
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    bob = await startTestNode('monitor-bob', undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
  }, 60_000);

  afterAll(async () => {
    await bob?.close();
    await alice?.close();
  });

  it('read back as the channel stands after payments', { timeout: 60_000 }, async () => {
    const a = alice.node.handlers();
    const b = bob.node.handlers();
    await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
    await alice.node.chain.source.poke();
    await a.connect({ addr: bob.uri });
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, private: true });
    await a.playground_mine({ blocks: 6 });
    await bob.node.chain.source.poke();
    await waitFor('the channel to be active on both sides', async () => ((await a.listchannels({})).channels.some((c) => c.active) && (await b.listchannels({})).channels.some((c) => c.active) ? true : undefined), 30_000);
    for (let i = 0; i < 3; i++) {
      const r = await a.sendpayment({ pay_req: (await b.addinvoice({ value: 5_000 + i })).payment_request, timeout_seconds: 30 });
      expect(r.status).toBe('SUCCEEDED');
    }
    await waitFor('both to be quiet', () => ([alice, bob].every((t) => t.node.channels.list().every((c) => isQuiet(c.state))) ? true : undefined), 10_000);
    for (const t of [alice, bob]) {
      const [ch] = t.node.channels.list();
      const c = commitmentsOf(ch!.state);
      const d = (await loadMonitor(t.node.kv, ch!.key))!;
      expect(d.local).toMatchObject({ number: c.localIndex, remoteSig: c.localSig, remoteHtlcSigs: c.localHtlcSigs });
      expect(d.remote.number).toBe(c.remoteIndex);
      expect(d.remote.txid).toBe(buildFromSpec(ch!.state, 'remote', c.remoteSpec, c.remoteIndex, c.remotePoint).tx.getId());
      expect(d.remoteNext).toBeUndefined();
      // Three payments, each two commitments of the peer's revoked: every secret kept.
      expect(c.remoteIndex).toBeGreaterThanOrEqual(6n);
      for (let n = 0n; n < c.remoteIndex; n++) expect(revealedSecret(d, n), `secret ${n}`).toBeDefined();
      expect(d.revokedHtlcs).toHaveLength(3);
      expect(d.params.funding.txid).toBe(ch!.state.funding!.txid);
    }
  });
});
