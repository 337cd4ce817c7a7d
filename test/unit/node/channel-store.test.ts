/**
 * The channel store over the storage interface: one write per stored step of one channel, each HTLC
 * onion written once however many commitments hold it and deleted with the first state that no longer
 * refers to it, states read back exactly; and the move of a channels.json (the golden file of schema 2,
 * and one of schema 1 with its secrets) into it, once.
 */
import { afterEach, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { ChannelStore, CHANNELS_NS, ONIONS_NS } from '../../../core/node/channel-store.ts';
import type { ChannelRecord } from '../../../core/node/channel-store.ts';
import { fromStored } from '../../../core/channel/codec.ts';
import { commitmentsOf } from '../../../core/channel/updates.ts';
import type { ChannelInput, ChannelState } from '../../../core/channel/types.ts';
import { deriveChannelSecrets } from '../../../core/keys/channel-keys.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import type { KvOp, KvStore } from '../../../core/store/kv/types.ts';
import { feed, input, onion, openPair, settle } from '../../helpers/channel-pair.ts';
import type { PairSide } from '../../helpers/channel-pair.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';

const FIXTURE = new URL('../../fixtures/channels-v2/channels.json', import.meta.url);
/** The seed the golden channels.json was written with (test/helpers/channel-pair.ts). */
const FIXTURE_SEED = new Uint8Array(64).fill(17);
const SECRET_FIELDS = ['fundingSecret', 'revocationBasepointSecret', 'htlcBasepointSecret', 'paymentBasepointSecret', 'delayedPaymentBasepointSecret', 'commitmentSeed'] as const;

/** A store that keeps every write it was given. */
function recording(inner: KvStore): { kv: KvStore; writes: KvOp[][] } {
  const writes: KvOp[][] = [];
  const kv = new (class extends WatchedKvStore {
    override write(ops: readonly KvOp[], opts?: { durable?: boolean }): Promise<void> {
      writes.push([...ops]);
      return super.write(ops, opts);
    }
  })(inner);
  return { kv, writes };
}

interface Party {
  side: PairSide;
  seed: Uint8Array;
  rec: ChannelRecord;
  kv: KvStore;
  writes: KvOp[][];
  store: ChannelStore;
  dir: string;
}

/** Two ends of a new channel, each with its own store (`open` of a directory under `dir`). */
async function pair(dir: string, open: (dir: string) => Promise<KvStore>): Promise<{ a: Party; b: Party }> {
  const seeds = [new Uint8Array(randomBytes(64)), new Uint8Array(randomBytes(64))] as const;
  const { funder, fundee } = await openPair({ seed: seeds[0], index: 0 }, { seed: seeds[1], index: 0 });
  const party = async (side: PairSide, seed: Uint8Array, peer: string, name: string): Promise<Party> => {
    const { kv, writes } = recording(await open(join(dir, name)));
    const { store } = await ChannelStore.open(kv, { dir, seed, network: 'regtest' });
    const rec: ChannelRecord = { key: hex.encode(side.state.temporaryChannelId), peer, index: await store.allocateIndex(), state: null, private: true };
    const p = { side, seed, rec, kv, writes, store, dir };
    await p.store.save(rec, side.state);
    return p;
  };
  return { a: await party(funder, seeds[0], `02${'aa'.repeat(32)}`, 'a'), b: await party(fundee, seeds[1], `02${'bb'.repeat(32)}`, 'b') };
}

async function reopen(p: Party): Promise<ChannelState> {
  const { channels } = await ChannelStore.open(p.kv, { dir: p.dir, seed: p.seed, network: 'regtest' });
  expect(channels).toHaveLength(1);
  expect(channels[0]!.rec).toEqual({ ...p.rec, state: null });
  return channels[0]!.state;
}

/** How many times each onion record was put. */
function onionPuts(writes: KvOp[][]): Map<string, number> {
  const n = new Map<string, number>();
  for (const op of writes.flat()) if (op.type === 'put' && op.ns === ONIONS_NS) n.set(op.key, (n.get(op.key) ?? 0) + 1);
  return n;
}

const add = (amountMsat: bigint, o: Uint8Array): ChannelInput => ({ type: 'add_htlc', amountMsat, paymentHash: sha256(new Uint8Array(randomBytes(32))), cltvExpiry: 500, onion: o });

describeEachKvBackend('channel store on the $name store', (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('writes each HTLC onion once across every commitment that holds it, deletes it once settled, and reads states back exactly', { timeout: 30_000 }, async () => {
    const dir = await tempDir('channel-store');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    const preimages: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    // Three rounds of HTLCs each way, each round on new commitments that still hold the earlier HTLCs.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        const preimage = new Uint8Array(randomBytes(32));
        const o = onion();
        preimages.push(preimage);
        sent.push(o);
        await input(a, { type: 'add_htlc', amountMsat: 10_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: o });
      }
      await input(b, add(5_000_000n, onion()));
      await settle(a, b);
    }
    for (const p of [a, b]) {
      const c = commitmentsOf(p.side.state);
      expect(c.localSpec.htlcs).toHaveLength(9);
      expect(c.remoteSpec.htlcs).toHaveLength(9);
      // Many states stored, and every one of the nine onions it saw put exactly once.
      expect(p.writes.length).toBeGreaterThan(9);
      const puts = onionPuts(p.writes);
      expect(puts.size).toBe(9);
      for (const [key, n] of puts) expect(n, key).toBe(1);
      // On disk now: the onions the state still keeps (those of incoming HTLCs, to settle or forward
      // them); outgoing ones went once the peer had them.
      const kept = c.localSpec.htlcs.filter((h) => h.onion.length > 0);
      expect(kept.map((h) => h.incoming)).toEqual(kept.map(() => true));
      expect(await p.kv.count(ONIONS_NS)).toBe(p === a ? 3 : 6);
      expect(kept).toHaveLength(p === a ? 3 : 6);
      // Each write holds this channel's record and nothing of another channel.
      for (const w of p.writes.slice(2)) expect(w.filter((op) => op.ns === CHANNELS_NS).map((op) => op.key)).toEqual([p.rec.key]);
      // The record itself holds no onion.
      const record = new TextDecoder().decode((await p.kv.get(CHANNELS_NS, p.rec.key))!);
      for (const o of sent) expect(record).not.toContain(hex.encode(o));
      expect(await reopen(p)).toEqual(p.side.state);
    }
    // b's incoming onions are the ones a sent, under b's `in:` references.
    for (const [i, o] of sent.entries()) expect(await b.kv.get(ONIONS_NS, `${b.rec.key}:in:${String(i).padStart(20, '0')}`)).toEqual(o);

    // b settles everything a offered, a fails everything b offered: every onion goes.
    for (const [i, preimage] of preimages.entries()) await input(b, { type: 'fulfill_htlc', id: BigInt(i), preimage });
    for (const id of [0n, 1n, 2n]) await input(a, { type: 'fail_htlc', id, reason: new Uint8Array(292) });
    await settle(a, b);
    for (const p of [a, b]) {
      expect(commitmentsOf(p.side.state).localSpec.htlcs).toHaveLength(0);
      expect(await p.kv.count(ONIONS_NS)).toBe(0);
      expect(await reopen(p)).toEqual(p.side.state);
    }
  });

  it('an HTLC id that comes back after a disconnect with another onion is stored with the new onion', { timeout: 30_000 }, async () => {
    const dir = await tempDir('channel-store-reuse');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    const first = onion();
    feed(a.side, add(10_000_000n, first));
    // Stored while only proposed (a fulfill or a restart can store such a state), then forgotten
    // at a disconnect whose own store is not awaited here: the id is handed out again.
    await a.store.save(a.rec, a.side.state);
    feed(a.side, { type: 'disconnected' });
    const second = onion();
    feed(a.side, add(10_000_000n, second));
    expect(commitmentsOf(a.side.state).localChanges.proposed).toMatchObject([{ kind: 'add', htlc: { id: 0n } }]);
    await a.store.save(a.rec, a.side.state);
    expect(await a.kv.get(ONIONS_NS, `${a.rec.key}:out:${'0'.padStart(20, '0')}`)).toEqual(second);
    expect(await reopen(a)).toEqual(a.side.state);
    // Stored after the disconnect too: the onion goes with the add it belonged to.
    feed(a.side, { type: 'disconnected' });
    await a.store.save(a.rec, a.side.state);
    expect(await a.kv.count(ONIONS_NS)).toBe(0);
  });

  it('a step that asks twice to store the same state writes once', { timeout: 30_000 }, async () => {
    const dir = await tempDir('channel-store-twice');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    const before = a.writes.length;
    await a.store.save(a.rec, a.side.state);
    expect(a.writes.length).toBe(before);
    // A changed record (the peer's policy arrived) is written though the state is the same.
    a.rec = { ...a.rec, remotePolicy: { feeBaseMsat: 1000, feeProportionalMillionths: 1, cltvExpiryDelta: 40 } };
    await a.store.save(a.rec, a.side.state);
    expect(a.writes.length).toBe(before + 1);
    expect(await reopen(a)).toEqual(a.side.state);
  });

  it('a damaged channel record or a missing onion is refused with the record named and what to do', { timeout: 30_000 }, async () => {
    const dir = await tempDir('channel-store-damaged');
    cleanup.push(() => removeDir(dir));
    const { a, b } = await pair(dir, backend.open);
    cleanup.push(() => a.kv.close(), () => b.kv.close());
    await input(a, add(10_000_000n, onion()));
    await input(a, { type: 'sign' });
    await a.kv.write([{ type: 'delete', ns: ONIONS_NS, key: `${a.rec.key}:out:${'0'.padStart(20, '0')}` }]);
    await expect(ChannelStore.open(a.kv, { dir, seed: a.seed, network: 'regtest' })).rejects.toThrow(/htlc-onions\/[0-9a-f]{64}:out:0{20} in .* is damaged or missing: restore the data directory from a backup/);
    await a.kv.write([{ type: 'put', ns: CHANNELS_NS, key: a.rec.key, value: new TextEncoder().encode('{"key":') }]);
    await expect(ChannelStore.open(a.kv, { dir, seed: a.seed, network: 'regtest' })).rejects.toMatchObject({ name: 'StoreError', code: 'corrupt' });
  });
});

/** What the JSON channel store loaded from a channels.json: each record with its state and the seed's secrets. */
function loadedByJsonStore(doc: { data: { channels: Record<string, ChannelRecord> } }, seed: Uint8Array): { rec: ChannelRecord; state: ChannelState }[] {
  return Object.values(doc.data.channels).map((rec) => ({ rec: { ...rec, state: null }, state: fromStored(rec.state, deriveChannelSecrets(seed, 'regtest', rec.index)) }));
}

/** Every file of the directory, as lower-case latin1 text, to search for secrets stored as hex. */
async function everythingIn(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const f of await readdir(dir)) parts.push((await readFile(join(dir, f))).toString('latin1'));
  return parts.join('\n').toLowerCase();
}

/** Every record of the store, as lower-case text and as hex of its bytes. */
async function everythingInKv(kv: KvStore): Promise<string> {
  const parts: string[] = [];
  for (const ns of ['meta', CHANNELS_NS, ONIONS_NS]) {
    for (const { key, value } of await kv.range(ns)) parts.push(key, Buffer.from(value).toString('latin1'), hex.encode(value));
  }
  return parts.join('\n').toLowerCase();
}

describeEachKvBackend('channels.json moves into the $name store', ({ open }) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  /** A new store, apart from the data directory whose files the tests list; `where` opens it again. */
  const openStore = async (where?: string): Promise<{ kv: KvStore; where: string }> => {
    if (where === undefined) {
      const dir = await tempDir('channels-migrate-store');
      cleanup.push(() => removeDir(dir));
      where = dir;
    }
    const kv = await open(where);
    cleanup.push(() => kv.close());
    return { kv, where };
  };

  it('the golden channels.json of schema 2: the same states, the file kept as channels.json.migrated, and only once', async () => {
    const dir = await tempDir('channels-migrate');
    cleanup.push(() => removeDir(dir));
    const golden = await readFile(FIXTURE);
    await writeFile(join(dir, 'channels.json'), golden);
    const expected = loadedByJsonStore(JSON.parse(golden.toString('utf8')), FIXTURE_SEED);
    expect(expected).toHaveLength(2);
    const opened = await openStore();
    let kv = opened.kv;

    const { store, channels } = await ChannelStore.open(kv, { dir, seed: FIXTURE_SEED, network: 'regtest' });
    const byKey = (cs: { rec: ChannelRecord }[]) => [...cs].sort((x, y) => x.rec.key.localeCompare(y.rec.key));
    expect(byKey(channels)).toEqual(byKey(expected));
    expect(await readdir(dir)).toEqual(['channels.json.migrated']);
    expect(await readFile(join(dir, 'channels.json.migrated'))).toEqual(golden);
    // The onions moved apart, once each; the records refer to them.
    const onions = new Map<string, string>();
    for (const { rec, state } of expected) {
      const c = commitmentsOf(state);
      const adds = (us: typeof c.localChanges.proposed, incoming: boolean) => us.flatMap((u) => (u.kind === 'add' ? [{ ...u.htlc, incoming }] : []));
      const all = [...c.localSpec.htlcs, ...c.remoteSpec.htlcs, ...(c.remoteNext?.spec.htlcs ?? []), ...adds([...c.localChanges.proposed, ...c.localChanges.signed, ...c.localChanges.acked], false), ...adds([...c.remoteChanges.proposed, ...c.remoteChanges.acked, ...c.remoteChanges.signed], true)];
      for (const h of all) if (h.onion.length) onions.set(`${rec.key}:${h.incoming ? 'in' : 'out'}:${String(h.id).padStart(20, '0')}`, hex.encode(h.onion));
    }
    expect(onions.size).toBeGreaterThan(1);
    const moved = await kv.range(ONIONS_NS);
    expect(new Map(moved.map(({ key, value }) => [key, hex.encode(value)]))).toEqual(onions);
    for (const { value } of await kv.range(CHANNELS_NS)) for (const o of onions.values()) expect(Buffer.from(value).toString('latin1')).not.toContain(o);
    expect(await store.allocateIndex()).toBe(2);

    // A second start (the store opened again, where it keeps its records) finds the records and writes nothing.
    if (kv.backend !== 'memory') {
      await kv.close();
      kv = (await openStore(opened.where)).kv;
    }
    const syncs = kv.syncs;
    const again = await ChannelStore.open(kv, { dir, seed: FIXTURE_SEED, network: 'regtest' });
    expect(byKey(again.channels)).toEqual(byKey(expected));
    expect(kv.syncs).toBe(syncs);
    expect(await again.store.allocateIndex()).toBe(3);
  });

  it('a channels.json of schema 1 loses its secrets on the way: none is left in the data directory or the store', async () => {
    const dir = await tempDir('channels-migrate-v1');
    cleanup.push(() => removeDir(dir));
    const doc = JSON.parse(await readFile(FIXTURE, 'utf8')) as { schema_version: number; data: { channels: Record<string, ChannelRecord & { state: Record<string, unknown> }> } };
    const secretsHex: string[] = [];
    for (const rec of Object.values(doc.data.channels)) {
      const secrets = deriveChannelSecrets(FIXTURE_SEED, 'regtest', rec.index);
      rec.state.secrets = Object.fromEntries(SECRET_FIELDS.map((f) => [f, { $b: hex.encode(secrets[f]) }]));
      secretsHex.push(...SECRET_FIELDS.map((f) => hex.encode(secrets[f])));
    }
    doc.schema_version = 1;
    await writeFile(join(dir, 'channels.json'), JSON.stringify(doc));
    for (const s of secretsHex) expect(await everythingIn(dir)).toContain(s);
    const { kv } = await openStore();

    const { channels } = await ChannelStore.open(kv, { dir, seed: FIXTURE_SEED, network: 'regtest' });
    expect(channels).toHaveLength(2);
    for (const { rec, state } of channels) expect(hex.encode(state.secrets.fundingSecret)).toBe(hex.encode(deriveChannelSecrets(FIXTURE_SEED, 'regtest', rec.index).fundingSecret));
    expect(await readdir(dir)).toEqual(['channels.json.migrated']);
    const onDisk = await everythingIn(dir);
    const inKv = await everythingInKv(kv);
    for (const s of secretsHex) {
      expect(onDisk).not.toContain(s);
      expect(inKv).not.toContain(s);
    }
  });

  it('a channels.json of schema 1 whose secrets this seed does not derive is refused, and the file and the store are left as they were', async () => {
    const dir = await tempDir('channels-migrate-v1-other');
    cleanup.push(() => removeDir(dir));
    const doc = JSON.parse(await readFile(FIXTURE, 'utf8')) as { schema_version: number; data: { channels: Record<string, ChannelRecord & { state: Record<string, unknown> }> } };
    for (const rec of Object.values(doc.data.channels)) {
      const secrets = deriveChannelSecrets(FIXTURE_SEED, 'regtest', rec.index);
      rec.state.secrets = Object.fromEntries(SECRET_FIELDS.map((f) => [f, { $b: hex.encode(secrets[f]) }]));
    }
    doc.schema_version = 1;
    const bytes = JSON.stringify(doc);
    await writeFile(join(dir, 'channels.json'), bytes);
    const { kv } = await openStore();
    await expect(ChannelStore.open(kv, { dir, seed: new Uint8Array(64).fill(18), network: 'regtest' })).rejects.toThrow(/does not derive.*restore the data directory from a backup/);
    expect(await readFile(join(dir, 'channels.json'), 'utf8')).toBe(bytes);
    expect(await readdir(dir)).toEqual(['channels.json']);
    expect(await kv.count(CHANNELS_NS)).toBe(0);
  });

  it('a channels.json that is not a channel list is refused with the file named, and nothing moves', async () => {
    const dir = await tempDir('channels-migrate-bad');
    cleanup.push(() => removeDir(dir));
    await writeFile(join(dir, 'channels.json'), JSON.stringify({ schema_version: 2, data: { nextIndex: 1, channels: { x: { key: 'x' } } } }));
    const { kv } = await openStore();
    await expect(ChannelStore.open(kv, { dir, seed: FIXTURE_SEED, network: 'regtest' })).rejects.toThrow(/channels\.json: the channel x in it is not a channel record; Coulomb will not overwrite it/);
    expect(await readdir(dir)).toEqual(['channels.json']);
    expect(await kv.count('meta')).toBe(0);
  });
});
