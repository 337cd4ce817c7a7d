/**
 * A Coulomb node and an LDK node on one playground chain, for on-chain tests (BOLT 5) between them:
 * LDK's broadcasts are moved into the chain's mempool before and after every block, LDK is fed every
 * block, and the Coulomb node's channels and monitors are read by channel point. The Coulomb node
 * (`us`) may restart: everything here reads its current node.
 */
import { Transaction } from 'bitcoinjs-lib';
import type { CoulombPair } from '../../helpers/coulomb-pair.ts';
import { monitorPicture } from '../../helpers/coulomb-pair.ts';
import type { TestNode } from '../../helpers/node.ts';
import { waitFor } from '../../helpers/daemon.ts';
import type { LdkNode } from './node.ts';
import type { LdkEventDriver } from './events.ts';
import type { Message } from '../../../core/wire/index.ts';
import type { Peer } from '../../../core/peer/peer.ts';
import { commitmentsOf } from '../../../core/channel/updates.ts';
import type { MonitorState } from '../../../core/monitor/monitor.ts';
import type { ChannelState } from '../../../core/channel/types.ts';

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const txidOf = (i: { hash: Uint8Array }): string => Buffer.from(i.hash).reverse().toString('hex');

/**
 * Moves LDK's broadcasts into the chain's mempool, as bitcoind would take them from its broadcaster: a
 * timelocked or conflicting one is refused, and noted in `rejected` (txid and inputs) for failure
 * messages.
 */
export function pumpLdkBroadcasts(ldk: LdkNode, chain: { acceptToMempool(txHex: string): unknown }, rejected: string[]): void {
  for (const tx of ldk.broadcasted.splice(0)) {
    try {
      chain.acceptToMempool(hexOf(tx));
    } catch (e) {
      const t = Transaction.fromBuffer(Buffer.from(tx));
      rejected.push(`${t.getId().slice(0, 8)} [${t.ins.map((i) => `${txidOf(i).slice(0, 8)}:${i.index}`).join(' ')}]: ${(e as Error).message}`);
    }
  }
}

/**
 * Drops the channel messages between `t` and `peer` both ways while `on` (pings and pongs still
 * pass, so the connection stays up): updates each side makes are not heard by the other. It holds
 * for `t`'s current node only (a restart ends it).
 */
export function cutLink(t: TestNode, peer: string): { on: boolean } {
  const cut = { on: true };
  const mgr = t.node.peers as unknown as { route: (p: Peer, msg: Message) => void };
  const route = mgr.route.bind(t.node.peers);
  mgr.route = (p, msg) => {
    if (cut.on && p.pubkey === peer) return;
    route(p, msg);
  };
  const p = t.node.peers.get(peer);
  if (!p) throw new Error('not connected');
  const send = p.send.bind(p);
  p.send = (msg: Message): boolean => (cut.on && msg.type !== 'ping' && msg.type !== 'pong' ? true : send(msg));
  return cut;
}

export interface LdkOnChainOptions {
  /** The pair whose Alice hosts the playground chain. */
  p: CoulombPair;
  /** The Coulomb node facing LDK. */
  us: TestNode;
  ldk: LdkNode;
  d: LdkEventDriver;
  /** Where LDK listens. */
  ldkPort: number;
}

export type LdkOnChain = ReturnType<typeof ldkOnChain>;

export function ldkOnChain({ p, us, ldk, d, ldkPort }: LdkOnChainOptions) {
  const pg = () => p.alice.node.chain.playground!.chain;
  const blockAt = (h: number): Uint8Array => pg().entries[h]!.block.toBuffer();
  const tip = (): number => pg().height;
  /** LDK's broadcasts the chain refused (timelocked, conflicting), for failure messages. */
  const rejected: string[] = [];
  /** Every transaction Coulomb's nodes sent to the chain (accepted or not), in order, once per txid. */
  const coulombSent: Transaction[] = [];
  const seen = new Set<string>();
  /** While true, what reaches the mempool is not Coulomb's (LDK's broadcasts, the chain's own re-admissions). */
  let fromLdk = false;
  const accept = pg().acceptToMempool.bind(pg());
  pg().acceptToMempool = (txHex: string) => {
    if (!fromLdk) {
      const tx = Transaction.fromHex(txHex);
      if (!seen.has(tx.getId())) {
        seen.add(tx.getId());
        coulombSent.push(tx);
      }
    }
    return accept(txHex);
  };

  /** LDK's broadcasts go to the chain's mempool (not counted as Coulomb's). */
  const pump = (): void => {
    fromLdk = true;
    try {
      pumpLdkBroadcasts(ldk, pg(), rejected);
    } finally {
      fromLdk = false;
    }
  };
  /** Mines `n` blocks; both Coulomb nodes and LDK see each one. */
  const mine = async (n: number): Promise<void> => {
    pump();
    await p.mine(n);
    ldk.syncTo(tip(), blockAt);
    pump();
  };
  /**
   * A reorganization back past `from`: the blocks from `from` up are disconnected (their transactions
   * dropped with the rest of the mempool, as a node restarted without its mempool would), LDK is told
   * of each, tip first, and our nodes read the shorter chain. New blocks then come with `mine` (or
   * `p.mine` and `ldk.syncTo`, to keep LDK's broadcasts out of them).
   */
  const reorg = async (from: number): Promise<void> => {
    pump();
    const entry = pg().entries[from];
    if (!entry) throw new Error(`no block at ${from} (tip ${tip()})`);
    // The chain puts the disconnected blocks' transactions back itself: nobody sent them.
    fromLdk = true;
    try {
      await pg().invalidateBlock(entry.hash);
    } finally {
      fromLdk = false;
    }
    for (const id of [...pg().mempool.keys()]) pg().evict(id);
    ldk.rewindTo(from - 1);
    await p.sync();
  };
  const txOnChain = (txid: string): Transaction | undefined => {
    const h = pg().txHeight(txid);
    return h === undefined ? undefined : pg().entries[h]!.block.transactions!.find((t) => t.getId() === txid);
  };
  /** Transactions confirmed from `from` on that spend an output of `txid`. */
  const spendersOf = (txid: string, from: number): Transaction[] => {
    const out: Transaction[] = [];
    for (let h = from; h <= tip(); h++) for (const t of pg().entries[h]!.block.transactions!) if (t.ins.some((i) => txidOf(i) === txid)) out.push(t);
    return out;
  };
  /** The confirmed transactions that spend `txid:vout`. */
  const takersOf = (txid: string, vout: number, from: number): Transaction[] => spendersOf(txid, from).filter((t) => t.ins.some((i) => txidOf(i) === txid && i.index === vout));

  const chanOf = (point: string) => {
    const c = us.node.channels.list().find((x) => {
      const f = (x.state as ChannelState).funding;
      return f && `${f.txid}:${f.vout}` === point;
    });
    if (!c) throw new Error(`no channel ${point}`);
    return c;
  };
  const monitorOf = (point: string): MonitorState => {
    const m = (us.node as unknown as { unlocked: { monitors: { stateOf(k: string): MonitorState | undefined } } }).unlocked.monitors;
    return m.stateOf(chanOf(point).key)!;
  };
  const phaseOf = (point: string): string => (chanOf(point).state as ChannelState).phase;
  /** Both commitments of the channel hold `n` HTLCs and nothing is being changed. */
  const quiet = (point: string, n: number): boolean => {
    const c = commitmentsOf(chanOf(point).state as ChannelState);
    const changes = [...Object.values(c.localChanges), ...Object.values(c.remoteChanges)] as unknown[][];
    return c.localSpec.htlcs.length === n && c.remoteSpec.htlcs.length === n && !c.remoteNext && changes.every((l) => l.length === 0);
  };
  /** The latest expiry of the HTLCs in our commitment. */
  const lastExpiry = (point: string): number => Math.max(...monitorOf(point).data.local.htlcs.map((h) => h.cltvExpiry));
  const ldkChannel = (point: string) => ldk.channelManager.list_channels().find((c) => `${Buffer.from(c.get_funding_txo().get_txid()).reverse().toString('hex')}:${c.get_funding_txo().get_index()}` === point);
  const ldkBalances = () => ldk.chainMonitor.get_claimable_balances([]);
  /** The commitment LDK broadcast for the channel, if it did. */
  const ldkCommitment = (point: string): Transaction | undefined => {
    const fundingTxid = point.split(':')[0]!;
    return ldk.broadcasted.map((t) => Transaction.fromBuffer(Buffer.from(t))).find((t) => t.ins.some((i) => txidOf(i) === fundingTxid));
  };

  const describe = (point: string): string => `ours ${phaseOf(point)} claims [${Object.values(monitorOf(point).chain.claims).map((c) => `${c.label} ${c.txid.slice(0, 8)}${txOnChain(c.txid) ? ' mined' : ''}`).join(', ')}] spends [${Object.entries(monitorOf(point).chain.spends).map(([k, v]) => `${k.slice(0, 8)}${k.slice(64)}<-${v.txid.slice(0, 8)}@${v.height}`).join(' ')}] logs ${us.logs.filter((l) => /WARN|ERROR/.test(l)).slice(-4).join(' | ')}; LDK logs ${ldk.logs.filter((l) => /WARN|ERROR/.test(l)).slice(-4).join(' | ')}; LDK balances ${ldkBalances().map((x) => x.constructor.name).join(', ')}, errors ${d.errors.join('; ')}; rejected ${rejected.slice(-5).join('; ')}`;

  /**
   * Mines until both sides are done with the channel: ours CLOSED, LDK with no balance left to claim
   * and every sweep it built since `sweepsFrom` mined (at least one unless `ldkSweeps` is false).
   * Blocks come 10 at a time up to `quietUntil` (nothing is due before it), then two at a time;
   * `onBlock` runs after each batch (e.g. to restart our node).
   */
  const untilBothDone = async (point: string, commitHeight: number, limit: number, sweepsFrom: number, opts: { quietUntil?: number; ldkSweeps?: boolean; onBlock?: () => Promise<void> } = {}): Promise<void> => {
    const ldkSweeps = opts.ldkSweeps ?? true;
    const ldkDone = (): boolean => ldkBalances().length === 0 && (!ldkSweeps || d.sweeps.length > sweepsFrom) && d.sweeps.slice(sweepsFrom).every((s) => txOnChain(Transaction.fromBuffer(Buffer.from(s)).getId()));
    while (phaseOf(point) !== 'CLOSED' || !ldkDone()) {
      if (tip() > limit) throw new Error(`not done at ${tip()} (commitment at ${commitHeight}): ${describe(point)}; LDK sweeps ${d.sweeps.length - sweepsFrom}`);
      await mine(tip() + 10 < (opts.quietUntil ?? 0) ? 10 : 2);
      await waitFor('our channel to catch up with its monitor', () => (phaseOf(point) === 'CLOSED' || !monitorOf(point).chain.told.includes('closed') ? true : undefined), 10_000);
      await opts.onBlock?.();
    }
  };

  /** Coulomb opens a channel of `capacity` to LDK, pushing `push` to it; resolves with the channel point once both use it. */
  const openToLdk = async (capacity: number, push: number): Promise<string> => {
    const b = us.node.handlers();
    if (us.node.peers.get(ldk.nodeId)?.state !== 'ready') await b.connect({ addr: `${ldk.nodeId}@127.0.0.1:${ldkPort}` });
    const { funding_txid } = await b.openchannel({ node_key: ldk.nodeId, local_amt: capacity, push_amt: push, private: true });
    // LDK asks for six confirmations.
    await mine(6);
    const point = (await waitFor('the channel to be active on our side', async () => (await us.node.handlers().listchannels({})).channels.find((c) => c.channel_point.startsWith(funding_txid) && c.active), 20_000)).channel_point;
    await waitFor('LDK to use the channel', () => (ldkChannel(point)?.get_is_usable() ? true : undefined), 20_000);
    return point;
  };

  /** Fails if two different transactions Coulomb sent spend the same outpoint. */
  const coulombSpentOnce = (): void => {
    const spentBy = new Map<string, string>();
    for (const tx of coulombSent)
      for (const i of tx.ins) {
        const k = `${txidOf(i)}:${i.index}`;
        const prev = spentBy.get(k);
        if (prev !== undefined && prev !== tx.getId()) throw new Error(`${k} spent by two transactions we sent: ${prev} and ${tx.getId()}`);
        spentBy.set(k, tx.getId());
      }
  };

  const lastRestart = new Map<string, string>();
  /**
   * Restarts our node when the channel's monitor planned or saw something new since its last restart
   * here (true then), and fails unless the monitor comes back as it was. `step` names the moment.
   */
  const restartOnChange = async (point: string, step: string): Promise<boolean> => {
    const before = monitorPicture(monitorOf(point));
    if (lastRestart.get(point) === before) return false;
    lastRestart.set(point, before);
    await us.restart();
    const after = monitorPicture(monitorOf(point));
    if (after !== before) throw new Error(`our monitor after a restart (${step}) is not what it was:\nbefore ${before}\nafter  ${after}`);
    return true;
  };

  return { pg, blockAt, tip, rejected, coulombSent, pump, mine, reorg, txOnChain, spendersOf, takersOf, chanOf, monitorOf, phaseOf, quiet, lastExpiry, ldkChannel, ldkBalances, ldkCommitment, describe, untilBothDone, openToLdk, coulombSpentOnce, restartOnChange };
}
