/**
 * Three in-process Coulomb nodes on one playground chain, for forwards that end on chain: Alice hosts
 * the chain, Bob and Carol follow it over its RPC. Channels are found by the node at their other end,
 * so a node with two channels (Bob) is read one channel at a time; a link between two nodes can be cut
 * (every message between them dropped, and kept to look at).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from './node.ts';
import type { TestNode } from './node.ts';
import { waitFor } from './daemon.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';
import type { ChannelView } from '../../core/node/channels.ts';
import type { Message } from '../../core/wire/index.ts';
import type { Peer } from '../../core/peer/peer.ts';
import { commitmentsOf } from '../../core/channel/updates.ts';

export interface CoulombTrio {
  alice: TestNode;
  bob: TestNode;
  carol: TestNode;
  /** Every node reads the chain's tip now. */
  sync(): Promise<void>;
  mine(n: number): Promise<void>;
  tip(): number;
  /** The transaction waits in the chain's mempool (it goes into the next block mined). */
  inMempool(txid: string): boolean;
  /** `t`'s channel with `peer`. */
  channel(t: TestNode, peer: TestNode): ChannelView;
  monitorOf(t: TestNode, peer: TestNode): MonitorState | undefined;
  phaseOf(t: TestNode, peer: TestNode): string;
  /** `t`'s balance in its channel with `peer`, to the millisatoshi. */
  localMsat(t: TestNode, peer: TestNode): bigint;
  confirmed(t: TestNode): Promise<bigint>;
  /** One faucet coin of `sat` per amount to `t`'s wallet, confirmed. */
  faucet(t: TestNode, ...sat: number[]): Promise<void>;
  /** `from` opens a channel to `to` with coins it has, and both see it active with each other's forwarding policy. */
  openChannel(from: TestNode, to: TestNode, localAmt: number, pushAmt: number): Promise<string>;
  /** Drops every message between `x` and `y` from now on; what each received is kept by type. */
  cut(x: TestNode, y: TestNode): { dropped: Map<TestNode, Message[]> };
  close(): Promise<void>;
}

export async function startCoulombTrio(prefix: string, delay: number): Promise<CoulombTrio> {
  const channel = { config: { toSelfDelay: delay, minimumDepth: 1 } };
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };
  const alice = await startTestNode(`${prefix}-alice`, peerOptions, undefined, channel);
  const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  const follow = { kind: 'bitcoind' as const, rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie };
  const bob = await startTestNode(`${prefix}-bob`, peerOptions, follow, channel);
  const carol = await startTestNode(`${prefix}-carol`, peerOptions, follow, channel);
  const nodes = [alice, bob, carol];
  const find = (t: TestNode, peer: TestNode): ChannelView | undefined => t.node.channels.list().find((c) => c.peer === peer.node.nodeId);
  const monitors = (t: TestNode) => (t.node as unknown as { unlocked: { monitors: { stateOf(k: string): MonitorState | undefined } } }).unlocked.monitors;
  const trio: CoulombTrio = {
    alice,
    bob,
    carol,
    async sync() {
      for (const t of nodes) await t.node.chain.source.poke();
    },
    async mine(n) {
      await alice.node.handlers().playground_mine({ blocks: n });
      await trio.sync();
    },
    tip: () => alice.node.chain.source.status().height,
    inMempool: (txid) => alice.node.chain.playground!.chain.mempool.has(txid),
    channel(t, peer) {
      const c = find(t, peer);
      if (!c) throw new Error(`${t.node.config.alias} has no channel with ${peer.node.config.alias}`);
      return c;
    },
    monitorOf: (t, peer) => monitors(t).stateOf(trio.channel(t, peer).key),
    phaseOf: (t, peer) => trio.channel(t, peer).state.phase,
    localMsat: (t, peer) => t.node.channels.balances(trio.channel(t, peer)).localMsat,
    confirmed: async (t) => BigInt((await t.node.handlers().walletbalance({})).confirmed_balance),
    async faucet(t, ...sat) {
      const before = await trio.confirmed(t);
      for (const amt of sat) await alice.node.handlers().playground_faucet({ addr: (await t.node.handlers().newaddress({})).address, amt });
      await trio.mine(1);
      const want = before + BigInt(sat.reduce((a, b) => a + b, 0));
      await waitFor(`${t.node.config.alias}'s faucet coins to confirm`, async () => ((await trio.confirmed(t)) >= want ? true : undefined), 15_000);
    },
    async openChannel(from, to, localAmt, pushAmt) {
      const f = from.node.handlers();
      await f.connect({ addr: to.uri });
      await f.openchannel({ node_key: to.node.nodeId, local_amt: localAmt, push_amt: pushAmt, private: true });
      await trio.mine(3);
      const active = async (x: TestNode, y: TestNode): Promise<boolean> => !!(await x.node.handlers().listchannels({})).channels.find((c) => c.remote_pubkey === y.node.nodeId)?.active;
      // Each side's invoices name the other's forwarding policy once its channel_update came.
      const policy = (x: TestNode, y: TestNode): boolean => !!find(x, y) && x.node.channels.remotePolicy(find(x, y)!.key) !== undefined;
      await waitFor(`the channel ${from.node.config.alias}–${to.node.config.alias} to be active with both policies`, async () => ((await active(from, to)) && (await active(to, from)) && policy(from, to) && policy(to, from)) || undefined, 30_000);
      const view = trio.channel(from, to).state.funding!;
      return `${view.txid}:${view.vout}`;
    },
    cut(x, y) {
      const dropped = new Map<TestNode, Message[]>([
        [x, []],
        [y, []],
      ]);
      for (const [at, from] of [
        [x, y],
        [y, x],
      ] as const) {
        const peers = at.node.peers as unknown as { route: (peer: Peer, msg: Message) => void };
        const route = peers.route.bind(at.node.peers);
        peers.route = (peer, msg) => {
          if (peer.pubkey === from.node.nodeId) dropped.get(at)!.push(msg);
          else route(peer, msg);
        };
      }
      return { dropped };
    },
    async close() {
      for (const t of [carol, bob, alice]) await t.close();
    },
  };
  return trio;
}

/** Both commitments of `t`'s channel with `peer` hold `n` HTLCs and nothing is being changed. */
export function quiet(trio: CoulombTrio, t: TestNode, peer: TestNode, n: number): boolean {
  const c = commitmentsOf(trio.channel(t, peer).state);
  const changes = [...Object.values(c.localChanges), ...Object.values(c.remoteChanges)] as unknown[][];
  return c.localSpec.htlcs.length === n && c.remoteSpec.htlcs.length === n && !c.remoteNext && changes.every((l) => l.length === 0);
}
