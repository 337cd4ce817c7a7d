/**
 * On mainnet this node accepts and opens channels (it enforces them on chain: test/interop/force-close,
 * breach, ldk-force-close): a peer's open_channel, sent over a real BOLT 8 connection on mainnet's
 * chain hash, is answered with accept_channel, as on any network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { PeerManager } from '../../core/peer/manager.ts';
import type { Peer } from '../../core/peer/peer.ts';
import { ChannelManager } from '../../core/node/channels.ts';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { ChainWatch } from '../../core/chain/chain-watch.ts';
import { openChannel } from '../../core/channel/establish.ts';
import { DEFAULT_CONFIG } from '../../core/channel/config.ts';
import { deriveChannelSecrets } from '../../core/keys/channel-keys.ts';
import { deriveNodeKeys } from '../../core/keys/node-key.ts';
import { CHAIN_HASHES } from '../../core/wire/index.ts';
import type { AcceptChannelMessage, Message } from '../../core/wire/index.ts';
import { ourInitFeatures } from '../../core/node/features.ts';
import { memoryLogger, silentLogger } from '../../core/log/logger.ts';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.ts';

/** Anything accepting an open_channel must not need (wallet, chain): touching it fails the test. */
const untouchable = <T,>(what: string): T =>
  new Proxy({}, {
    get: (_t, p) => {
      throw new Error(`accepting an open_channel must not need the ${what} (${String(p)})`);
    },
  }) as T;

describe('channels on mainnet', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it("a peer's open_channel is answered with accept_channel", { timeout: 30_000 }, async () => {
    const dir = await tempDir('mainnet-channels');
    cleanup.push(() => removeDir(dir));
    const seed = new Uint8Array(randomBytes(64));
    const ours = deriveNodeKeys(seed, 'mainnet');
    const policy = { features: ourInitFeatures(), chainHash: CHAIN_HASHES.mainnet };
    const log = memoryLogger('debug');
    const peers = new PeerManager({ nodeSecret: ours.nodeSecret, policy, log });
    cleanup.push(() => peers.close());
    const kv = MemoryKvStore.open();
    cleanup.push(() => kv.close());
    const channels = await ChannelManager.open(kv, dir, {
      seed,
      network: 'mainnet',
      peers,
      wallet: untouchable('wallet'),
      rpc: untouchable('chain'),
      broadcaster: untouchable('broadcaster'),
      chainWatch: await ChainWatch.open(kv),
      feeratePerKw: () => 2500,
      log,
      nodeSecret: ours.nodeSecret,
    } as Parameters<typeof ChannelManager.open>[2]);
    cleanup.push(() => channels.close());
    const at = await peers.listen('127.0.0.1', 0);

    // The opener: another mainnet node, over TCP and BOLT 8, sending a well-formed open_channel.
    const theirs = deriveNodeKeys(new Uint8Array(randomBytes(64)), 'mainnet');
    const opener = new PeerManager({ nodeSecret: theirs.nodeSecret, policy, log: silentLogger });
    cleanup.push(() => opener.close());
    const heard: Message[] = [];
    opener.onMessage('accept_channel', (_p, m) => heard.push(m));
    opener.onMessage('error', (_p, m) => heard.push(m));
    const peer: Peer = await opener.connect(hex.encode(ours.nodeId), at.host, at.port);
    const tempId = new Uint8Array(randomBytes(32));
    const open = openChannel({
      temporaryChannelId: tempId,
      chainHash: CHAIN_HASHES.mainnet,
      capacitySat: 500_000n,
      pushMsat: 0n,
      feeratePerKw: 2500,
      channelType: 'anchors',
      announce: false,
      secrets: deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'mainnet', 0),
      config: DEFAULT_CONFIG,
    });
    const msg = open.actions.find((a) => a.type === 'send');
    if (msg?.type !== 'send') throw new Error('expected open_channel');
    peer.send(msg.msg);

    const answer = await waitFor('the answer to open_channel', () => heard[0]);
    expect(answer.type).toBe('accept_channel');
    expect(hex.encode((answer as AcceptChannelMessage).temporary_channel_id)).toBe(hex.encode(tempId));
    expect(log.lines.some((l) => /declined/.test(l))).toBe(false);
    expect(peer.state).toBe('ready');
  });
});
