/**
 * The chain monitor's records: each channel step's monitor updates go in the same write as the state
 * that comes from it (so they are durable before the step's messages leave), stay small, fold into a
 * snapshot every COMPACT_EVERY updates with the folded records deleted in that write, and read back
 * (after a restart) as exactly what the channel knows: its commitments, the peer's secrets, the HTLCs
 * of every revoked commitment.
 */
import { afterEach, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { ChannelStore, CHANNELS_NS } from '../../../core/node/channel-store.ts';
import type { ChannelRecord } from '../../../core/node/channel-store.ts';
import { COMPACT_EVERY, decodeRecord, loadMonitor, MONITOR_ARCHIVE_NS, MONITOR_UPDATES_NS, MONITORS_NS } from '../../../core/node/monitor-records.ts';
import { buildFromSpec, commitmentsOf } from '../../../core/channel/updates.ts';
import type { MonitorUpdate } from '../../../core/monitor/state.ts';
import { revealedSecret, revokedHtlcsAt } from '../../../core/monitor/state.ts';
import { perCommitmentSecret, FIRST_INDEX } from '../../../core/tx/shachain.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import type { KvOp, KvStore } from '../../../core/store/kv/types.ts';
import { feed, input, onion, openPair, settle } from '../../helpers/channel-pair.ts';
import type { PairSide } from '../../helpers/channel-pair.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';

interface Party {
  side: PairSide;
  seed: Uint8Array;
  rec: ChannelRecord;
  kv: WatchedKvStore;
  store: ChannelStore;
  dir: string;
}

/** Two ends of a new channel, each with its own store (`open` of a directory under `dir`). */
async function pair(dir: string, open: (dir: string) => Promise<KvStore>): Promise<{ a: Party; b: Party }> {
  const seeds = [new Uint8Array(randomBytes(64)), new Uint8Array(randomBytes(64))] as const;
  const { funder, fundee } = await openPair({ seed: seeds[0], index: 0 }, { seed: seeds[1], index: 0 });
  const party = async (side: PairSide, seed: Uint8Array, peer: string, name: string): Promise<Party> => {
    const kv = new WatchedKvStore(await open(join(dir, name)));
    const { store } = await ChannelStore.open(kv, { dir, seed, network: 'regtest' });
    const rec: ChannelRecord = { key: hex.encode(side.state.temporaryChannelId), peer, index: await store.allocateIndex(), state: null, private: true };
    const p = { side, seed, rec, kv, store, dir };
    await p.store.save(rec, side.state);
    return p;
  };
  return { a: await party(funder, seeds[0], `02${'aa'.repeat(32)}`, 'a'), b: await party(fundee, seeds[1], `02${'bb'.repeat(32)}`, 'b') };
}

/** The monitor updates a write carries, in order. */
function updatesIn(ops: readonly KvOp[]): MonitorUpdate[] {
  return ops.flatMap((op) => (op.type === 'put' && op.ns === MONITOR_UPDATES_NS ? [decodeRecord<{ u: MonitorUpdate }>(op.value).u] : []));
}

/** One payment a → b, settled: HTLC added, signed both ways, fulfilled, signed both ways. */
async function pay(a: Party, b: Party, amountMsat: bigint): Promise<Uint8Array> {
  const preimage = new Uint8Array(randomBytes(32));
  await input(a, { type: 'add_htlc', amountMsat, paymentHash: sha256(preimage), cltvExpiry: 600, onion: onion() });
  await settle(a, b);
  const id = commitmentsOf(b.side.state).localSpec.htlcs.find((h) => h.incoming && h.amountMsat === amountMsat)!.id;
  // The node stores a fulfill before it is sent (core/node/channels.ts).
  feed(b.side, { type: 'fulfill_htlc', id, preimage });
  await b.store.save(b.rec, b.side.state);
  await settle(a, b);
  return preimage;
}

// On the two backends a node runs on (the in-memory store would only repeat the embedded one's run).
describeEachKvBackend('chain monitor records on the $name store', (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('go in the write of the state they come from, small, and read back as what the channel knows', { timeout: 60_000 }, async () => {
    const dir = await tempDir('monitor-records');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    // The channel's first stored funded state started each monitor with everything as it stood.
    for (const p of [a, b]) expect(updatesIn(p.kv.writes.flatMap((w) => w.ops)).map((u) => u.type)).toEqual(['open']);

    const preimage = await pay(a, b, 20_000_000n);
    for (const p of [a, b]) {
      for (const w of p.kv.writes) {
        const ups = updatesIn(w.ops);
        if (!ups.length) continue;
        // Every write with monitor updates is a write of this channel's state: they are durable together.
        expect(w.ops.some((op) => op.ns === CHANNELS_NS && op.key === p.rec.key)).toBe(true);
        // Past the first (the channel's parameters), each record is a few hundred bytes.
        for (const op of w.ops) if (op.type === 'put' && op.ns === MONITOR_UPDATES_NS && ups[0]!.type !== 'open') expect(op.value.length).toBeLessThan(900);
      }
    }
    // a signed b's commitments 1 (with the HTLC) and 2 (without): each record's txid is that commitment's.
    const aUpdates = a.kv.writes.flatMap((w) => updatesIn(w.ops));
    const remote = aUpdates.filter((u) => u.type === 'remote_commitment').map((u) => (u as Extract<MonitorUpdate, { type: 'remote_commitment' }>).commitment);
    expect(remote.map((c) => c.number)).toEqual([1n, 2n]);
    expect(remote[0]!.htlcs).toMatchObject([{ id: 0n, incoming: false, amountMsat: 20_000_000n, cltvExpiry: 600 }]);
    expect(remote[0]!.htlcs[0]!.vout).not.toBeNull();
    const s = a.side.state;
    const c = commitmentsOf(s);
    const rebuilt = buildFromSpec(s, 'remote', c.remoteSpec, c.remoteIndex, c.remotePoint);
    expect(remote[1]!.txid).toBe(rebuilt.tx.getId());
    // The revocations of b's commitments 0 and 1, and the preimage, learned and released.
    expect(aUpdates.filter((u) => u.type === 'revocation').map((u) => (u as { number: bigint }).number)).toEqual([0n, 1n]);
    expect(aUpdates.filter((u) => u.type === 'preimage')).toEqual([{ type: 'preimage', preimage }]);
    expect(b.kv.writes.flatMap((w) => updatesIn(w.ops)).filter((u) => u.type === 'preimage')).toEqual([{ type: 'preimage', preimage }]);

    for (const p of [a, b]) {
      const d = (await loadMonitor(p.kv, p.rec.key))!;
      const pc = commitmentsOf(p.side.state);
      expect(d).toEqual(p.store.monitors.data(p.rec.key));
      expect(d.local).toMatchObject({ number: pc.localIndex, remoteSig: pc.localSig, htlcs: [] });
      expect(d.remote.number).toBe(pc.remoteIndex);
      expect(d.remoteNext).toBeUndefined();
      // The HTLC lived in the peer's commitment 1, revoked now: kept for the penalty, with its secret.
      const peerSeed = (p === a ? b : a).side.state.secrets.commitmentSeed;
      expect(revealedSecret(d, 1n)).toEqual(perCommitmentSecret(peerSeed, FIRST_INDEX - 1n));
      expect(revokedHtlcsAt(d, 1n)).toMatchObject([{ id: 0n, incoming: p === b, amountMsat: 20_000_000n }]);
      expect(revokedHtlcsAt(d, 0n)).toEqual([]);
      // Settled and out of every commitment: its preimage is no longer kept.
      expect(d.preimages).toEqual([]);
    }
  });

  it('fold into a snapshot every COMPACT_EVERY updates, archive what can grow no more, and go on after a restart', { timeout: 120_000 }, async () => {
    const dir = await tempDir('monitor-compact');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    // A long-lived HTLC each way, in every commitment from here on, and payments around them.
    await input(a, { type: 'add_htlc', amountMsat: 7_000_000n, paymentHash: sha256(new Uint8Array(32).fill(1)), cltvExpiry: 700, onion: onion() });
    await settle(a, b);
    const payments = Math.ceil(COMPACT_EVERY / 4) + 2;
    for (let i = 0; i < payments; i++) await pay(a, b, 10_000_000n + BigInt(i) * 1000n);
    const before = (await loadMonitor(a.kv, a.rec.key))!;
    // In memory the store keeps only the ranges that can still grow; the rest is in the archive.
    expect({ ...a.store.monitors.data(a.rec.key)!, revokedHtlcs: [] }).toEqual({ ...before, revokedHtlcs: [] });
    expect(await a.kv.get(MONITORS_NS, a.rec.key)).toBeDefined();
    expect(await a.kv.count(MONITOR_UPDATES_NS)).toBeLessThan(COMPACT_EVERY);
    expect(await a.kv.count(MONITOR_ARCHIVE_NS)).toBeGreaterThan(0);
    // A compaction deletes the records it folded in its own write.
    const compaction = a.kv.writes.find((w) => w.ops.some((op) => op.ns === MONITORS_NS))!;
    expect(compaction.ops.filter((op) => op.type === 'delete' && op.ns === MONITOR_UPDATES_NS).length).toBe(COMPACT_EVERY);
    // The long-lived HTLC is one range over every revoked commitment; each payment's HTLC one more.
    const c = commitmentsOf(a.side.state);
    expect(before.revokedHtlcs.length).toBe(1 + payments);
    const long = before.revokedHtlcs.filter((r) => r.htlc.amountMsat === 7_000_000n);
    expect(long).toMatchObject([{ from: 1n, to: c.remoteIndex - 1n }]);
    for (let n = 1n; n < c.remoteIndex; n++) expect(revokedHtlcsAt(before, n).some((h) => h.amountMsat === 7_000_000n)).toBe(true);
    // The last payment's HTLC was in the last revoked commitment; commitment 0 had none.
    expect(revokedHtlcsAt(before, c.remoteIndex - 1n).map((h) => h.amountMsat)).toContain(10_000_000n + BigInt(payments - 1) * 1000n);
    expect(revokedHtlcsAt(before, 0n)).toEqual([]);

    // Restart: the store reads its records and the next steps' updates follow on (the store itself
    // opened again where the backend keeps records).
    if (backend.persistent) {
      await a.kv.close();
      a.kv = new WatchedKvStore(await backend.open(join(dir, 'a')));
    }
    const reopened = await ChannelStore.open(a.kv, { dir, seed: a.seed, network: 'regtest' });
    a.store = reopened.store;
    a.side.state = reopened.channels[0]!.state;
    await pay(a, b, 12_345_000n);
    const after = (await loadMonitor(a.kv, a.rec.key))!;
    expect(after.remote.number).toBe(commitmentsOf(a.side.state).remoteIndex);
    expect(after.revokedHtlcs.length).toBe(2 + payments);
    expect(revokedHtlcsAt(after, after.remote.number - 1n).map((h) => h.amountMsat)).toEqual([7_000_000n, 12_345_000n]);
  });
}, { backends: ['embedded', 'postgres'] });
