/**
 * Two in-process Coulomb nodes on one playground chain (Alice hosts it, Bob follows it over its RPC),
 * with what the on-chain tests need to drive and read them: mining, the channel's monitor and phase,
 * confirmed wallet balances, and the fee and value of any transaction whose parents are known.
 *
 * With `{ chain: 'standalone' }` the playground runs on its own (test/helpers/chain.ts) and both nodes
 * follow it over RPC, so either node can restart; the test can then also reorganize the chain, drop
 * transactions from its mempool, and read every transaction ever sent to it.
 *
 * With `{ chain: 'bitcoind', rpcChain }` both nodes and the pair reach the chain only through bitcoind's
 * standard JSON-RPC (test/helpers/rpc-chain.ts: Bitcoin Core, or a playground answering as it does):
 * blocks are mined with generatetoaddress to an address no one holds, and a wallet is funded with a
 * coinbase of its own followed by 100 blocks for it to mature.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { startTestNode } from './node.ts';
import { startTestChain } from './chain.ts';
import type { TestChain } from './chain.ts';
import type { TestNode } from './node.ts';
import { waitFor } from './daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';
import type { HtlcEvent } from '../../core/node/channels.ts';
import { commitmentsOf } from '../../core/channel/updates.ts';
import { COINBASE_MATURITY } from '../../core/chain/playground/index.ts';
import type { RpcChain } from './rpc-chain.ts';
import { newKey } from './txbuilder.ts';

export interface CoulombPair {
  alice: TestNode;
  bob: TestNode;
  /** The standalone chain, when the pair was started with one. */
  chain?: StandaloneChain;
  /** The chain reached only over bitcoind's RPC, when the pair was started with one. */
  rpcChain?: RpcChain;
  a(): ApiHandlers;
  b(): ApiHandlers;
  /** Both nodes read the chain's tip now. */
  sync(): Promise<void>;
  mine(n: number): Promise<void>;
  tip(): number;
  monitorOf(t: TestNode): MonitorState;
  phaseOf(t: TestNode): string;
  confirmed(t: TestNode): Promise<bigint>;
  /**
   * Restarts `t` when its channel's monitor planned or saw something new since its last restart here
   * (true then), and fails unless the monitor comes back as it was: the same claims as the same
   * transactions, the same funding spend and spends. `step` names the moment in a failure.
   */
  restartOnChange(t: TestNode, step: string): Promise<boolean>;
  /** `sat` from the faucet to `t`'s wallet, confirmed (over RPC only: a mature coinbase of 25 BTC or more). */
  faucet(t: TestNode, sat: number): Promise<void>;
  /** `from` pays `amt` sat to the other over the channel, and the payment succeeds. */
  pay(from: 'a' | 'b', amt: number): Promise<void>;
  /** Alice dials Bob again and both see the channel active. */
  reconnect(): Promise<void>;
  /** Alice, with 3,000,000 sat from the faucet, opens a channel to Bob and both see it active. */
  openChannel(localAmt: number, pushAmt: number): Promise<string>;
  close(): Promise<void>;
}

/** A playground chain outside both nodes: it outlives their restarts, and the test drives it directly. */
export interface StandaloneChain {
  test: TestChain;
  /** Every transaction sent to the chain (accepted or not), in order, once per txid. */
  sent: Transaction[];
  /** The txid of every send to the chain, in order, repeats included. */
  attempts: string[];
  /** Disconnects the blocks from `height` up (bitcoind's invalidateblock); their transactions go back to the mempool. */
  invalidateFrom(height: number): Promise<void>;
  /** Drops every transaction from the mempool, as a node that restarted without its mempool would. */
  clearMempool(): void;
  mempool(): string[];
  /** Fails if two different transactions ever sent spend the same outpoint (`except`: outpoints allowed to). */
  sentSpendsOnce(except?: (outpoint: string) => boolean): void;
}

export type PairOptions =
  /** `hosted` (default): Alice's node hosts the playground; `standalone`: it runs apart from both. */
  | { chain?: 'hosted' | 'standalone' }
  /** A chain reached only over bitcoind's RPC, started by the caller and stopped by close(). */
  | { chain: 'bitcoind'; rpcChain: RpcChain };

async function startStandaloneChain(): Promise<StandaloneChain> {
  const test = await startTestChain();
  const sent: Transaction[] = [];
  const attempts: string[] = [];
  const ids = new Set<string>();
  const pg = test.pg.chain;
  const accept = pg.acceptToMempool.bind(pg);
  pg.acceptToMempool = (txHex: string) => {
    const tx = Transaction.fromHex(txHex);
    attempts.push(tx.getId());
    if (!ids.has(tx.getId())) {
      ids.add(tx.getId());
      sent.push(tx);
    }
    return accept(txHex);
  };
  return {
    test,
    sent,
    attempts,
    async invalidateFrom(height) {
      const hash = await test.rpc.call<string>('getblockhash', height);
      await test.rpc.call('invalidateblock', hash);
    },
    clearMempool() {
      for (const id of [...pg.mempool.keys()]) pg.evict(id);
    },
    mempool: () => [...pg.mempool.keys()],
    sentSpendsOnce(except = () => false) {
      const spentBy = new Map<string, string>();
      for (const tx of sent)
        for (const i of tx.ins) {
          const k = `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;
          const prev = spentBy.get(k);
          if (prev !== undefined && prev !== tx.getId() && !except(k)) throw new Error(`${k} spent by two transactions sent: ${prev} and ${tx.getId()}`);
          spentBy.set(k, tx.getId());
        }
    },
  };
}

/** What a monitor planned and saw: each claim's id and transaction, the funding spend, the spends. */
export function monitorPicture(m: MonitorState): string {
  const claims = Object.values(m.chain.claims).map((c) => `${c.id} ${c.txid}`).sort();
  const spends = Object.entries(m.chain.spends).map(([k, sp]) => `${k} ${sp.txid}`).sort();
  return JSON.stringify({ claims, fundingSpend: m.chain.fundingSpend?.txid, spends });
}

export async function startCoulombPair(prefix: string, delay: number, opts: PairOptions = {}): Promise<CoulombPair> {
  const channel = { config: { toSelfDelay: delay, minimumDepth: 1 } };
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };
  const standalone = opts.chain === 'standalone' ? await startStandaloneChain() : undefined;
  const rpcChain = opts.chain === 'bitcoind' ? opts.rpcChain : undefined;
  /** Over RPC only: the tip when last synced, and where mined coins go. */
  let rpcTip = 0;
  const burn = newKey().address;
  let alice: TestNode;
  let bob: TestNode;
  if (rpcChain) {
    alice = await startTestNode(`${prefix}-alice`, peerOptions, rpcChain.follow, channel);
    bob = await startTestNode(`${prefix}-bob`, peerOptions, rpcChain.follow, channel);
  } else if (standalone) {
    const { pg } = standalone.test;
    const follow = { kind: 'bitcoind' as const, rpcHost: pg.url.replace('http://', ''), rpcUser: pg.rpcuser, rpcPass: pg.rpcpassword };
    alice = await startTestNode(`${prefix}-alice`, peerOptions, follow, channel);
    bob = await startTestNode(`${prefix}-bob`, peerOptions, follow, channel);
  } else {
    alice = await startTestNode(`${prefix}-alice`, peerOptions, undefined, channel);
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    bob = await startTestNode(`${prefix}-bob`, peerOptions, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie }, channel);
  }
  const lastRestart = new Map<TestNode, string>();
  const p: CoulombPair = {
    alice,
    bob,
    ...(standalone ? { chain: standalone } : {}),
    ...(rpcChain ? { rpcChain } : {}),
    a: () => alice.node.handlers(),
    b: () => bob.node.handlers(),
    async sync() {
      if (rpcChain) rpcTip = await rpcChain.rpc.call<number>('getblockcount');
      for (const t of [alice, bob]) await t.node.chain.source.poke();
    },
    async mine(n) {
      if (rpcChain) await rpcChain.rpc.call('generatetoaddress', n, burn);
      else if (standalone) await standalone.test.mine(n);
      else await p.a().playground_mine({ blocks: n });
      await p.sync();
    },
    tip: () => (rpcChain ? rpcTip : standalone ? standalone.test.pg.chain.height : alice.node.chain.source.status().height),
    monitorOf(t) {
      const m = (t.node as unknown as { unlocked: { monitors: { stateOf(k: string): MonitorState | undefined } } }).unlocked.monitors;
      return m.stateOf(t.node.channels.list()[0]!.key)!;
    },
    phaseOf: (t) => t.node.channels.list()[0]!.state.phase,
    confirmed: async (t) => BigInt((await t.node.handlers().walletbalance({})).confirmed_balance),
    async openChannel(localAmt, pushAmt) {
      const a = p.a();
      await p.faucet(alice, 3_000_000);
      await a.connect({ addr: bob.uri });
      await a.openchannel({ node_key: bob.node.nodeId, local_amt: localAmt, push_amt: pushAmt, private: true });
      await p.mine(3);
      await waitFor('the channel to be active on both sides', async () => ((await a.listchannels({})).channels[0]?.active && (await p.b().listchannels({})).channels[0]?.active) || undefined, 30_000);
      return (await a.listchannels({})).channels[0]!.channel_point;
    },
    async restartOnChange(t, step) {
      const before = monitorPicture(p.monitorOf(t));
      if (lastRestart.get(t) === before) return false;
      lastRestart.set(t, before);
      await t.restart();
      const after = monitorPicture(p.monitorOf(t));
      if (after !== before) throw new Error(`${t.node.config.alias}'s monitor after a restart (${step}) is not what it was:\nbefore ${before}\nafter  ${after}`);
      return true;
    },
    async faucet(t, sat) {
      const addr = (await t.node.handlers().newaddress({})).address;
      if (rpcChain) {
        const before = await p.confirmed(t);
        await rpcChain.rpc.call('generatetoaddress', 1, addr);
        await p.mine(COINBASE_MATURITY);
        await waitFor(`the coinbase to ${t.node.config.alias} to be mature`, async () => ((await p.confirmed(t)) - before >= BigInt(sat) ? true : undefined), 30_000);
      } else if (standalone) {
        await standalone.test.rpc.call('sendtoaddress', addr, sat / 1e8);
        await p.mine(1);
      } else {
        await p.a().playground_faucet({ addr, amt: sat });
        await p.sync();
      }
    },
    async pay(from, amt) {
      const [payer, payee] = from === 'a' ? [p.a(), p.b()] : [p.b(), p.a()];
      const inv = await payee.addinvoice({ value: amt });
      const r = await payer.sendpayment({ pay_req: inv.payment_request, timeout_seconds: 60 });
      if (r.status !== 'SUCCEEDED') throw new Error(`a payment of ${amt} sat from ${from === 'a' ? 'Alice' : 'Bob'} ended ${r.status}: ${r.payment_error}`);
    },
    async reconnect() {
      await p.a().connect({ addr: bob.uri });
      await waitFor('the channel to be active again on both sides', async () => ((await p.a().listchannels({})).channels[0]?.active && (await p.b().listchannels({})).channels[0]?.active) || undefined, 30_000);
    },
    async close() {
      for (const t of [bob, alice]) await t.close();
      await standalone?.test.stop();
      await rpcChain?.stop();
    },
  };
  return p;
}

/** The payee's locked_in events, held back from its switch until released. */
export interface HeldHtlcs {
  events: HtlcEvent[];
  /** While true, new locked_in events are held. */
  hold: boolean;
  release(pred: (e: HtlcEvent) => boolean): void;
}

export function holdIncoming(t: TestNode): HeldHtlcs {
  const cm = t.node.channels as unknown as { htlcHandler: (e: HtlcEvent) => Promise<void> };
  const orig = cm.htlcHandler;
  const h: HeldHtlcs = {
    events: [],
    hold: true,
    release(pred) {
      const go = h.events.filter(pred);
      h.events = h.events.filter((e) => !pred(e));
      for (const e of go) void orig(e);
    },
  };
  cm.htlcHandler = async (e) => {
    if (h.hold && e.type === 'locked_in') {
      h.events.push(e);
      return;
    }
    return orig(e);
  };
  return h;
}

/** Both commitments of `t`'s first channel hold `n` HTLCs and nothing is being changed. */
export function settled(t: TestNode, n: number): boolean {
  const c = commitmentsOf(t.node.channels.list()[0]!.state);
  const changes = [...Object.values(c.localChanges), ...Object.values(c.remoteChanges)] as unknown[][];
  return c.localSpec.htlcs.length === n && c.remoteSpec.htlcs.length === n && !c.remoteNext && changes.every((l) => l.length === 0);
}

/** Transactions by txid, to read values of outputs and fees of transactions whose parents are in it. */
export class TxBook {
  readonly txs = new Map<string, Transaction>();
  add(tx: Transaction | string): Transaction {
    const t = typeof tx === 'string' ? Transaction.fromHex(tx) : tx;
    this.txs.set(t.getId(), t);
    return t;
  }
  valueOf(txid: string, vout: number): bigint {
    const t = this.txs.get(txid);
    if (!t) throw new Error(`no parent ${txid}`);
    return t.outs[vout]!.value;
  }
  inputsOf(tx: Transaction): bigint {
    return tx.ins.reduce((s, i) => s + this.valueOf(Buffer.from(i.hash).reverse().toString('hex'), i.index), 0n);
  }
  feeOf(tx: Transaction): bigint {
    return this.inputsOf(tx) - tx.outs.reduce((s, o) => s + o.value, 0n);
  }
  /** Fails if any outpoint is spent by two different transactions in the book. */
  spentOnce(): void {
    const spentBy = new Map<string, string>();
    for (const [id, tx] of this.txs)
      for (const i of tx.ins) {
        const k = `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`;
        const prev = spentBy.get(k);
        if (prev !== undefined && prev !== id) throw new Error(`${k} spent twice: by ${prev} and ${id}`);
        spentBy.set(k, id);
      }
  }
}
