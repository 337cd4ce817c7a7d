/**
 * Channel keys at rest: the channel store holds each channel's key index and public data, never its
 * secrets. A channels.json of schema 1 (secrets in plaintext) moves into the node's store only when its
 * secrets are the ones the seed derives, and without them; otherwise it is refused and left exactly as
 * it was.
 */
import { afterEach, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { ChannelManager } from '../../../core/node/channels.ts';
import { ChainWatch } from '../../../core/chain/chain-watch.ts';
import { PeerManager } from '../../../core/peer/manager.ts';
import { openChannel } from '../../../core/channel/establish.ts';
import { DEFAULT_CONFIG } from '../../../core/channel/config.ts';
import { deriveChannelSecrets } from '../../../core/keys/channel-keys.ts';
import type { ChannelSecrets } from '../../../core/keys/channel-keys.ts';
import { deriveNodeKeys } from '../../../core/keys/node-key.ts';
import { CHAIN_HASHES } from '../../../core/wire/index.ts';
import { ourInitFeatures } from '../../../core/node/features.ts';
import { silentLogger } from '../../../core/log/logger.ts';
import type { KvStore } from '../../../core/store/kv/types.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { describeEachKvBackend } from '../../helpers/kv.ts';

const SECRET_FIELDS = ['fundingSecret', 'revocationBasepointSecret', 'htlcBasepointSecret', 'paymentBasepointSecret', 'delayedPaymentBasepointSecret', 'commitmentSeed'] as const;

/** What Coulomb wrote before: the whole channel state, secrets included, bytes as { $b: hex }. */
function storedV1(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b: hex.encode(v) } : typeof v === 'bigint' ? { $n: v.toString() } : v)));
}

async function writeV1Store(dir: string, seed: Uint8Array, index: number): Promise<{ secrets: ChannelSecrets; key: string }> {
  const secrets = deriveChannelSecrets(seed, 'regtest', index);
  const tempId = new Uint8Array(randomBytes(32));
  const { state } = openChannel({ temporaryChannelId: tempId, chainHash: CHAIN_HASHES.regtest, capacitySat: 500_000n, pushMsat: 0n, feeratePerKw: 2500, channelType: 'anchors', announce: false, secrets, config: DEFAULT_CONFIG });
  const key = hex.encode(tempId);
  const rec = { key, peer: `02${'33'.repeat(32)}`, index, state: storedV1(state), private: true };
  await writeFile(join(dir, 'channels.json'), JSON.stringify({ schema_version: 1, data: { nextIndex: index + 1, channels: { [key]: rec } } }));
  return { secrets, key };
}

async function openChannels(kv: KvStore, dir: string, seed: Uint8Array): Promise<{ channels: ChannelManager; peers: PeerManager }> {
  const peers = new PeerManager({ nodeSecret: deriveNodeKeys(seed, 'regtest').nodeSecret, policy: { features: ourInitFeatures(), chainHash: CHAIN_HASHES.regtest }, log: silentLogger });
  try {
    const chainWatch = await ChainWatch.open(kv);
    const channels = await ChannelManager.open(kv, dir, { seed, network: 'regtest', peers, chainWatch, feeratePerKw: () => 2500, log: silentLogger } as unknown as Parameters<typeof ChannelManager.open>[2]);
    return { channels, peers };
  } catch (e) {
    await peers.close();
    throw e;
  }
}

/** Every file of the directory, as one string of hex, to search for a secret in any encoding stored as hex. */
async function everythingIn(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const f of await readdir(dir)) parts.push((await readFile(join(dir, f))).toString('latin1'));
  return parts.join('\n').toLowerCase();
}

/** Every record of the node's store, as text and as hex of its bytes. */
async function everythingInStore(kv: KvStore): Promise<string> {
  const parts: string[] = [];
  for (const ns of ['meta', 'channels', 'htlc-onions']) for (const { key, value } of await kv.range(ns)) parts.push(key, Buffer.from(value).toString('latin1'), hex.encode(value));
  return parts.join('\n').toLowerCase();
}

describeEachKvBackend('channel keys at rest, the node on the $name store', ({ open }) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  /** A new store, apart from the data directory whose files the tests read. */
  const openStore = async (): Promise<KvStore> => {
    const where = await tempDir('keys-store');
    cleanup.push(() => removeDir(where));
    return open(where);
  };

  it('a schema-1 channel store loses its secrets once they are checked against the seed; the channel keeps its keys', async () => {
    const dir = await tempDir('keys-v1');
    cleanup.push(() => removeDir(dir));
    const kv = await openStore();
    cleanup.push(() => kv.close());
    const seed = new Uint8Array(randomBytes(64));
    const { secrets, key } = await writeV1Store(dir, seed, 7);
    const before = await everythingIn(dir);
    for (const f of SECRET_FIELDS) expect(before).toContain(hex.encode(secrets[f]));

    const { channels, peers } = await openChannels(kv, dir, seed);
    const view = channels.get(key)!;
    for (const f of SECRET_FIELDS) expect(hex.encode(view.state.secrets[f])).toBe(hex.encode(secrets[f]));
    await channels.close();
    await peers.close();

    const after = await everythingIn(dir);
    const stored = await everythingInStore(kv);
    for (const f of SECRET_FIELDS) {
      expect(after, f).not.toContain(hex.encode(secrets[f]));
      expect(stored, f).not.toContain(hex.encode(secrets[f]));
    }
    // What is left of the file is the backup of the move, of schema 2.
    const doc = JSON.parse(await readFile(join(dir, 'channels.json.migrated'), 'utf8')) as { schema_version: number; data: { channels: Record<string, { index: number; state: Record<string, unknown> }> } };
    expect(doc.schema_version).toBe(2);
    expect(doc.data.channels[key]!.index).toBe(7);
    expect(doc.data.channels[key]!.state.secrets).toBeUndefined();

    // Opened again, the keys come from the seed alone.
    const again = await openChannels(kv, dir, seed);
    expect(hex.encode(again.channels.get(key)!.state.secrets.fundingSecret)).toBe(hex.encode(secrets.fundingSecret));
    await again.channels.close();
    await again.peers.close();
  });

  it('stored secrets that the seed does not derive are refused, and the store is left as it was', async () => {
    const dir = await tempDir('keys-mismatch');
    cleanup.push(() => removeDir(dir));
    await writeV1Store(dir, new Uint8Array(randomBytes(64)), 0);
    const before = await readFile(join(dir, 'channels.json'));
    const kv = await openStore();
    cleanup.push(() => kv.close());
    await expect(openChannels(kv, dir, new Uint8Array(randomBytes(64)))).rejects.toThrow(/holds a fundingSecret that this wallet's seed does not derive.*restore the data directory from a backup/);
    expect(await readFile(join(dir, 'channels.json'))).toEqual(before);
  });

  it("a schema-2 store whose public keys are not this seed's is refused too", async () => {
    const dir = await tempDir('keys-other-seed');
    cleanup.push(() => removeDir(dir));
    const seed = new Uint8Array(randomBytes(64));
    await writeV1Store(dir, seed, 0);
    const kv = await openStore();
    cleanup.push(() => kv.close());
    const first = await openChannels(kv, dir, seed);
    await first.channels.close();
    await first.peers.close();
    await expect(openChannels(kv, dir, new Uint8Array(randomBytes(64)))).rejects.toThrow(/holds a fundingPubkey that this wallet's seed does not derive/);
  });
});
