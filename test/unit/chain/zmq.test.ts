/**
 * New blocks announced by ZMQ (`--bitcoind.zmqpubrawblock`): a publisher here plays bitcoind's
 * `rawblock` notifications. Each one makes the node poll at once (its timer is a minute away, so only
 * the notification can explain the block being followed); a bad endpoint only logs and leaves polling.
 *
 * ZMQ drops what is published before a subscriber has connected, so the tests publish again until
 * what they wait for happens, as bitcoind simply announces the next block.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { subscribeRawBlocks } from '../../../core/chain/bitcoind/zmq.ts';
import { startTestChain } from '../../helpers/chain.ts';
import type { TestChain } from '../../helpers/chain.ts';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';

async function publisher(): Promise<{ pub: Publisher; endpoint: string; announce: (raw: Uint8Array) => Promise<void> }> {
  const pub = new Publisher();
  await pub.bind('tcp://127.0.0.1:0');
  let seq = 0;
  const announce = async (raw: Uint8Array): Promise<void> => {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(seq++);
    // bitcoind's three frames: the topic, the serialized block, a little-endian sequence number.
    await pub.send(['rawblock', Buffer.from(raw), n]);
  };
  return { pub, endpoint: pub.lastEndpoint!, announce };
}

describe('ZMQ block notifications', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it('poke the chain source for each rawblock, and ignore other topics', async () => {
    const { pub, endpoint, announce } = await publisher();
    cleanup.push(() => pub.close());
    let pokes = 0;
    const logs: string[] = [];
    const sub = await subscribeRawBlocks(endpoint, { poke: async () => void pokes++, info: (m) => logs.push(m), warn: (m) => logs.push(`WARN ${m}`) });
    cleanup.push(() => sub.stop());
    expect(logs).toEqual([expect.stringContaining(`listening for new blocks on ${endpoint}`)]);
    await waitFor('a poke after a rawblock notification', async () => {
      await announce(new Uint8Array([1, 2, 3]));
      return pokes > 0 || undefined;
    });
    const before = pokes;
    await pub.send(['rawtx', Buffer.alloc(10), Buffer.alloc(4)]);
    await announce(new Uint8Array([4]));
    await waitFor('the next rawblock to poke', () => pokes > before || undefined);
    await sub.stop();
    expect(logs.filter((l) => l.startsWith('WARN'))).toEqual([]);
  });

  it('fall back to polling, saying why, when the endpoint is not one', async () => {
    const logs: string[] = [];
    const sub = await subscribeRawBlocks('not-an-endpoint', { poke: async () => undefined, info: (m) => logs.push(m), warn: (m) => logs.push(m) });
    await sub.stop();
    expect(logs).toEqual([expect.stringMatching(/^ZMQ block notifications from not-an-endpoint are not used \(.*tcp:\/\/host:port.*\); following bitcoind by polling$/)]);
  });

  it('make a node follow a new block at once, with its polling timer a minute away', { timeout: 60_000 }, async () => {
    const chain: TestChain = await startTestChain();
    cleanup.push(() => chain.stop());
    const { pub, endpoint, announce } = await publisher();
    cleanup.push(() => pub.close());
    const t: TestNode = await startTestNode('zmq', undefined, { kind: 'bitcoind', rpcHost: chain.pg.url.replace('http://', ''), rpcUser: 'u', rpcPass: 'p', zmqPubRawBlock: endpoint });
    cleanup.push(() => t.close());
    expect(t.logs.some((l) => l.includes(`listening for new blocks on ${endpoint}`))).toBe(true);
    const source = t.node.chain.source;
    const start = source.status().height;
    const [hash] = await chain.mine(1);
    const raw = chain.pg.chain.entryByHash(hash!)!.block.toBuffer();
    // The test node polls every 60 s (test/helpers/node.ts): only the notification gets the block in.
    await waitFor('the node to follow the announced block', async () => {
      if (source.status().height > start) return true;
      await announce(raw);
      return undefined;
    }, 20_000, 200);
    expect(source.status()).toMatchObject({ height: start + 1, hash });
  });
});
