/**
 * Two in-process Coulomb nodes on one playground chain (Alice hosts it, Bob follows it over its RPC),
 * with what the on-chain tests need to drive and read them: mining, the channel's monitor and phase,
 * confirmed wallet balances, and the fee and value of any transaction whose parents are known.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { startTestNode } from './node.ts';
import type { TestNode } from './node.ts';
import { waitFor } from './daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { MonitorState } from '../../core/monitor/monitor.ts';
import type { HtlcEvent } from '../../core/node/channels.ts';
import { commitmentsOf } from '../../core/channel/updates.ts';

export interface CoulombPair {
  alice: TestNode;
  bob: TestNode;
  a(): ApiHandlers;
  b(): ApiHandlers;
  /** Both nodes read the chain's tip now. */
  sync(): Promise<void>;
  mine(n: number): Promise<void>;
  tip(): number;
  monitorOf(t: TestNode): MonitorState;
  phaseOf(t: TestNode): string;
  confirmed(t: TestNode): Promise<bigint>;
  /** Alice, with 3,000,000 sat from the faucet, opens a channel to Bob and both see it active. */
  openChannel(localAmt: number, pushAmt: number): Promise<string>;
  close(): Promise<void>;
}

export async function startCoulombPair(prefix: string, delay: number): Promise<CoulombPair> {
  const channel = { config: { toSelfDelay: delay, minimumDepth: 1 } };
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };
  const alice = await startTestNode(`${prefix}-alice`, peerOptions, undefined, channel);
  const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
  const bob = await startTestNode(`${prefix}-bob`, peerOptions, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie }, channel);
  const p: CoulombPair = {
    alice,
    bob,
    a: () => alice.node.handlers(),
    b: () => bob.node.handlers(),
    async sync() {
      for (const t of [alice, bob]) await t.node.chain.source.poke();
    },
    async mine(n) {
      await p.a().playground_mine({ blocks: n });
      await p.sync();
    },
    tip: () => alice.node.chain.source.status().height,
    monitorOf(t) {
      const m = (t.node as unknown as { unlocked: { monitors: { stateOf(k: string): MonitorState | undefined } } }).unlocked.monitors;
      return m.stateOf(t.node.channels.list()[0]!.key)!;
    },
    phaseOf: (t) => t.node.channels.list()[0]!.state.phase,
    confirmed: async (t) => BigInt((await t.node.handlers().walletbalance({})).confirmed_balance),
    async openChannel(localAmt, pushAmt) {
      const a = p.a();
      await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
      await p.sync();
      await a.connect({ addr: bob.uri });
      await a.openchannel({ node_key: bob.node.nodeId, local_amt: localAmt, push_amt: pushAmt, private: true });
      await p.mine(3);
      await waitFor('the channel to be active on both sides', async () => ((await a.listchannels({})).channels[0]?.active && (await p.b().listchannels({})).channels[0]?.active) || undefined, 30_000);
      return (await a.listchannels({})).channels[0]!.channel_point;
    },
    async close() {
      for (const t of [bob, alice]) await t.close();
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
