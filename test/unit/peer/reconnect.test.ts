/**
 * Reconnecting at start: the peer book keeps the addresses we dialled and the permanent peers, and a
 * new peer manager on the same data directory dials the peers it is to keep (channel peers, permanent
 * ones) with no `connect`; a peer that only ever dialled us is waited for; others are forgotten.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { PeerManager } from '../../../core/peer/manager.ts';
import { PeerBook } from '../../../core/peer/book.ts';
import { deriveNodeKeys } from '../../../core/keys/node-key.ts';
import { CHAIN_HASHES } from '../../../core/wire/index.ts';
import { ourInitFeatures } from '../../../core/node/features.ts';
import { memoryLogger } from '../../../core/log/logger.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';

const policy = { features: ourInitFeatures(), chainHash: CHAIN_HASHES.regtest };

interface Node {
  id: string;
  secret: Uint8Array;
  dir: string;
  peers: PeerManager;
  logs: string[];
}

describe('reconnecting to peers at start', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function node(name: string): Promise<Node> {
    const keys = deriveNodeKeys(new Uint8Array(randomBytes(64)), 'regtest');
    const dir = await tempDir(name);
    cleanup.push(() => removeDir(dir));
    const n = { id: hex.encode(keys.nodeId), secret: keys.nodeSecret, dir, peers: undefined as unknown as PeerManager, logs: [] as string[] };
    await start(n);
    return n;
  }

  /** (Re)starts a node's peer manager on its data directory, as the node does when unlocked. */
  async function start(n: Node, keep: (pk: string) => boolean = () => false): Promise<void> {
    const log = memoryLogger('debug');
    n.logs = log.lines;
    n.peers = new PeerManager({ nodeSecret: n.secret, policy, log, book: await PeerBook.open(n.dir), backoff: { initialMs: 50, maxMs: 400 } });
    const pm = n.peers;
    cleanup.push(() => pm.close());
    n.peers.keepConnectedTo(keep);
  }

  const ready = (n: Node, other: Node) => () => n.peers.get(other.id)?.state === 'ready' || undefined;

  it('the dialler redials a kept peer at the address it dialled; the dialled side waits, then takes the connection', async () => {
    const alice = await node('rc-alice');
    const bob = await node('rc-bob');
    const bobAt = await bob.peers.listen('127.0.0.1', 0);
    await alice.peers.connect(bob.id, bobAt.host, bobAt.port);
    await waitFor('bob to see alice', ready(bob, alice));

    // Both restart; each keeps the other (as with a channel between them).
    await alice.peers.close();
    await bob.peers.close();
    await start(bob, (pk) => pk === alice.id);
    await bob.peers.listen(bobAt.host, bobAt.port);
    await bob.peers.reconnectAll();
    await start(alice, (pk) => pk === bob.id);
    await alice.peers.reconnectAll();
    await waitFor('alice to reach bob again by herself', ready(alice, bob), 20_000);
    await waitFor('bob to have alice back', ready(bob, alice), 20_000);
    expect(alice.peers.get(bob.id)!.inbound).toBe(false);
    // Bob never dialled: alice's init told him only how she sees him, not where she listens.
    expect(bob.logs.some((l) => /will reconnect to persistent peer/.test(l))).toBe(false);

    // Bob drops again (a restart on his side): alice redials with backoff until he is back.
    await bob.peers.close();
    await waitFor('alice to see bob gone', () => alice.peers.get(bob.id) === undefined || undefined);
    await start(bob, (pk) => pk === alice.id);
    await bob.peers.listen(bobAt.host, bobAt.port);
    await waitFor('alice to reach bob after his restart', ready(alice, bob), 20_000);
  });

  it('a permanent peer is redialled after a restart without a channel; an unneeded one is forgotten', async () => {
    const alice = await node('rc-perm');
    const bob = await node('rc-perm-bob');
    const carol = await node('rc-perm-carol');
    const bobAt = await bob.peers.listen('127.0.0.1', 0);
    const carolAt = await carol.peers.listen('127.0.0.1', 0);
    await alice.peers.connect(bob.id, bobAt.host, bobAt.port, { perm: true });
    await alice.peers.connect(carol.id, carolAt.host, carolAt.port);
    await alice.peers.close();
    await waitFor('carol to see alice gone', () => carol.peers.get(alice.id) === undefined || undefined);

    await start(alice);
    await alice.peers.reconnectAll();
    await waitFor('alice to reach her permanent peer', ready(alice, bob), 20_000);
    expect(alice.peers.isPersistent(bob.id)).toBe(true);
    expect(carol.peers.get(alice.id)).toBeUndefined();
    await alice.peers.close();
    const book = await PeerBook.open(alice.dir);
    expect(book.list().map((e) => e.pubkey)).toEqual([bob.id]);
    expect(book.addresses(bob.id)).toEqual([{ host: bobAt.host, port: bobAt.port }]);
    await book.close();
  });
});
