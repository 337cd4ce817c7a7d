/**
 * On mainnet this node neither opens nor accepts channels yet (it cannot enforce them on chain): a
 * peer's open_channel, sent over a real BOLT 8 connection, is answered with an error for that
 * temporary channel id that says why, and the connection stays up; our own openchannel is refused
 * with the same reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { PeerManager } from '../../core/peer/manager.ts';
import type { Peer } from '../../core/peer/peer.ts';
import { ChannelManager } from '../../core/node/channels.ts';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { ChainWatch } from '../../core/chain/chain-watch.ts';
import { CoulombNode } from '../../core/node/node.ts';
import { openChannel } from '../../core/channel/establish.ts';
import { DEFAULT_CONFIG } from '../../core/channel/config.ts';
import { deriveChannelSecrets } from '../../core/keys/channel-keys.ts';
import { deriveNodeKeys } from '../../core/keys/node-key.ts';
import { CHAIN_HASHES } from '../../core/wire/index.ts';
import type { ErrorMessage, Message } from '../../core/wire/index.ts';
import { ourInitFeatures } from '../../core/node/features.ts';
import { memoryLogger, silentLogger } from '../../core/log/logger.ts';
import { removeDir, tempDir, waitFor } from '../helpers/daemon.ts';

const REASON = /does not accept channels on mainnet yet because it cannot yet enforce them on chain/;

/** Anything the refusal must not need (wallet, chain): touching it fails the test. */
const untouchable = <T,>(what: string): T =>
  new Proxy({}, {
    get: (_t, p) => {
      throw new Error(`declining an open_channel must not need the ${what} (${String(p)})`);
    },
  }) as T;

describe('channels on mainnet', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it("a peer's open_channel is declined with an error for its temporary id; the connection stays", { timeout: 30_000 }, async () => {
    const dir = await tempDir('mainnet-refusal');
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
      // Nothing is registered: no channel is stored here.
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

    const error = (await waitFor('the error answering open_channel', () => heard[0])) as ErrorMessage;
    expect(hex.encode(error.channel_id)).toBe(hex.encode(tempId));
    const text = new TextDecoder().decode(error.data);
    expect(text).toMatch(REASON);
    expect(text).toMatch(/^[A-Z]/);
    expect(log.lines.some((l) => /declined a channel the peer opened/.test(l) && REASON.test(l))).toBe(true);
    // Nothing was kept of it.
    expect(channels.list()).toEqual([]);
    // The connection is still up, on both sides: a ping is answered.
    expect(peer.state).toBe('ready');
    expect(peers.get(hex.encode(theirs.nodeId))?.state).toBe('ready');
    peer.pingNow();
    await waitFor('a pong over the same connection', () => peer.pongs > 0 || undefined);
    expect(peer.state).toBe('ready');
  });

  it('our own openchannel is refused with the same reason, before anything else is asked', async () => {
    const dir = await tempDir('mainnet-open');
    cleanup.push(() => removeDir(dir));
    const node = new CoulombNode({
      config: {
        datadir: dir,
        network: 'mainnet',
        chain: { kind: 'bitcoind', rpcHost: '127.0.0.1:1' },
        alias: 'mainnet',
        listen: [],
        rpcListen: { host: '127.0.0.1', port: 0 },
        externalIps: [],
        logLevel: 'debug',
        logToStderr: false,
      },
      log: silentLogger,
    });
    await expect(node.handlers().openchannel({ node_key: `02${'11'.repeat(32)}`, local_amt: 500_000 })).rejects.toThrow(REASON);
  });
});
