/**
 * The on-chain wallet: BIP84 keys from the BIP39 seed, coins found by scanning blocks (never by asking
 * bitcoind's wallet), coin selection, PSBT signing with bitcoinjs-lib, send, send-all, fee bumps (RBF),
 * and coins reserved for channel funding. State lives in two places: the coins, addresses and scan
 * progress in a small JSON store (`wallet.json`), and the history in the node's KvStore, one record per
 * transaction (namespace `wallet-txs`, keyed by txid), each change written as only the records it touches.
 */
import { Psbt, Transaction, address as baddress, script as bscript } from 'bitcoinjs-lib';
import type { Block } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { Bip84Account, btcNetwork } from './bip84.ts';
import type { Chain } from './bip84.ts';
import { selectCoins, sweepAmount, SelectionError } from './coin-select.ts';
import { blocksToMaturity } from './maturity.ts';
import { openStore } from '../store/store.ts';
import type { Store } from '../store/store.ts';
import { migrateJsonStore } from '../store/kv/migrate.ts';
import { kvJson } from '../store/kv/types.ts';
import type { KvOp, KvStore } from '../store/kv/types.ts';
import { tinyBackend } from '../crypto/secp256k1.ts';
import type { Network } from '../keys/node-key.ts';
import type { Broadcaster, ChainEvent, ChainPoint } from '../chain/types.ts';

export const GAP_LIMIT = 20;

interface CoinRecord {
  txid: string;
  vout: number;
  value: string;
  chain: Chain;
  index: number;
  /** Block height, or null while unconfirmed. */
  height: number | null;
  /**
   * Paid by a coinbase transaction: spendable only once mature (see maturity.ts). Absent from records
   * stored before it was kept; the wallet fills it in from the history when it opens.
   */
  coinbase?: boolean;
  spentBy?: string;
  reserved?: boolean;
}

interface WalletState {
  birthday: number;
  /** The last blocks scanned, newest last (enough to step back over a reorg). */
  recent: ChainPoint[];
  /** Receive addresses handed out so far, and the highest index seen used on each chain. */
  issued: number;
  used: [number, number];
  coins: Record<string, CoinRecord>;
}

interface TxRecord {
  height: number | null;
  time: number;
  hex: string;
  label?: string;
  /** Signed by this wallet (kept and re-broadcast until mined), as opposed to seen in a mempool. */
  own?: boolean;
  /**
   * Unconfirmed transactions of others it spends from (our commitment, for an anchor's CPFP child), as
   * hex: a conflict of one of them confirming makes this one dead too.
   */
  parents?: string[];
}

/** The history as `wallet_history.json` held it (before it moved into the KvStore). */
export interface HistoryState {
  txs: Record<string, TxRecord>;
}

/** The wallet's transactions in the node's KvStore: one record per transaction, keyed by txid. */
export const WALLET_TXS_NS = 'wallet-txs';

const txPut = (txid: string, rec: TxRecord): KvOp => ({ type: 'put', ns: WALLET_TXS_NS, key: txid, value: kvJson.encode(rec) });
const txDelete = (txid: string): KvOp => ({ type: 'delete', ns: WALLET_TXS_NS, key: txid });

/** The records that hold a `wallet_history.json` in the KvStore (its move, once: see migrate.ts). */
export function walletHistoryJsonOps(h: HistoryState): KvOp[] {
  return Object.entries(h.txs).map(([txid, rec]) => txPut(txid, rec));
}

export class WalletError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletError';
  }
}

export interface Balance {
  /** Confirmed and spendable: mined, and mature when paid by a coinbase. */
  confirmed: bigint;
  unconfirmed: bigint;
  /** confirmed + unconfirmed (immature coins are apart, as in lnd). */
  total: bigint;
  reserved: bigint;
  /** Coinbase outputs (mining rewards) not yet spendable. */
  immature: bigint;
  /** The immature amount by when it becomes spendable, soonest first. */
  maturing: { blocks: number; amount: bigint }[];
}

export interface HistoryEntry {
  txid: string;
  /** Net change to the wallet in sats (negative for payments out). */
  amount: bigint;
  fee: bigint | undefined;
  height: number | null;
  confirmations: number;
  time: number;
  label?: string;
  hex: string;
}

const key = (txid: string, vout: number): string => `${txid}:${vout}`;
const txidOf = (input: Transaction['ins'][number]): string => hex.encode(Uint8Array.from(input.hash).reverse());

export class Wallet {
  private readonly scripts = new Map<string, { chain: Chain; index: number }>();
  private readonly derived: [number, number] = [0, 0];
  private unflushed = 0;
  /** The first failure of a write not awaited (scanning's), told at the next flush. */
  private lazyFailure: unknown;

  private constructor(
    readonly account: Bip84Account,
    readonly network: Network,
    private readonly state: Store<WalletState>,
    private readonly kv: KvStore,
    /** The history, as in the KvStore (every change is made here and written there together). */
    private readonly txs: Map<string, TxRecord>,
    private readonly broadcaster: Broadcaster,
  ) {
    this.extendLookahead();
  }

  /**
   * Opens the wallet: its state from `<dir>/wallet.json`, its history from the node's `kv` (open
   * first; the wallet does not close it). A `wallet_history.json` of an earlier version moves into
   * `kv` once, kept as `wallet_history.json.migrated`.
   */
  static async open(opts: { dir: string; kv: KvStore; seed: Uint8Array; network: Network; birthday: number; broadcaster: Broadcaster; warn?: (message: string) => void }): Promise<Wallet> {
    const state = await openStore<WalletState>({
      dir: opts.dir,
      name: 'wallet',
      version: 1,
      migrations: [],
      defaults: () => ({ birthday: opts.birthday, recent: [], issued: 0, used: [-1, -1], coins: {} }),
    });
    const { kv } = opts;
    const txs = new Map<string, TxRecord>();
    try {
      await migrateJsonStore<HistoryState>(kv, { dir: opts.dir, name: 'wallet_history', version: 1, migrations: [], toOps: walletHistoryJsonOps, warn: opts.warn });
      for (const { key: txid, value } of await kv.range(WALLET_TXS_NS)) txs.set(txid, kvJson.decode<TxRecord>(value, `${WALLET_TXS_NS}/${txid} in ${kv.location}`));
    } catch (e) {
      await state.close();
      throw e;
    }
    const wallet = new Wallet(new Bip84Account(opts.seed, opts.network), opts.network, state, kv, txs, opts.broadcaster);
    await wallet.markCoinbases();
    return wallet;
  }

  /** Tells coinbase coins in records stored before that was kept, from the transactions in the history. */
  private async markCoinbases(): Promise<void> {
    if (Object.values(this.state.data.coins).every((c) => c.coinbase !== undefined)) return;
    await this.state.update((s) => {
      for (const c of Object.values(s.coins)) {
        if (c.coinbase !== undefined) continue;
        const rec = this.txs.get(c.txid);
        c.coinbase = rec ? Transaction.fromHex(rec.hex).isCoinbase() : false;
      }
    });
  }

  /** Flushes and closes the wallet's own file; the KvStore stays open (the node closes it). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.state.close();
    }
  }

  /** Applies changes to the history in memory and writes the same records: durably (awaited), or lazily. */
  private writeTxs(ops: KvOp[], durable: boolean): Promise<void> | undefined {
    if (!ops.length) return durable ? Promise.resolve() : undefined;
    for (const op of ops) {
      if (op.type === 'put') this.txs.set(op.key, kvJson.decode<TxRecord>(op.value));
      else this.txs.delete(op.key);
    }
    if (durable) return this.kv.write(ops);
    this.kv.write(ops, { durable: false }).catch((e: unknown) => void (this.lazyFailure ??= e));
    return undefined;
  }

  /** Where scanning should resume: the last block seen, or just before the birthday. */
  get scanFrom(): ChainPoint | undefined {
    const r = this.state.data.recent;
    return r[r.length - 1];
  }

  get birthday(): number {
    return this.state.data.birthday;
  }

  /** Derives scripts up to GAP_LIMIT past the last used (or issued) address on each chain. */
  private extendLookahead(): boolean {
    let grew = false;
    for (const chain of [0, 1] as Chain[]) {
      const s = this.state.data;
      const want = Math.max(s.used[chain], chain === 0 ? s.issued - 1 : -1) + 1 + GAP_LIMIT;
      while (this.derived[chain] < want) {
        const a = this.account.address(chain, this.derived[chain]);
        this.scripts.set(hex.encode(a.script), { chain, index: a.index });
        this.derived[chain]++;
        grew = true;
      }
    }
    return grew;
  }

  async newAddress(): Promise<string> {
    const index = this.state.data.issued;
    await this.state.update((s) => void (s.issued = index + 1));
    this.extendLookahead();
    return this.account.address(0, index).address;
  }

  /**
   * The wallet's next unused change script (BIP 84 internal chain): where the change of a transaction
   * the node builds around wallet coins goes (an anchor's CPFP child, fee inputs of HTLC transactions).
   */
  nextChangeScript(): Uint8Array {
    return this.changeScript().script;
  }

  private changeScript(): { script: Uint8Array; index: number } {
    const index = this.state.data.used[1] + 1;
    return { script: this.account.address(1, index).script, index };
  }

  // ---- scanning ------------------------------------------------------------------------------

  /** Applies a chain event. Blocks must come in order (see ChainSource). */
  async onChainEvent(e: ChainEvent): Promise<void> {
    if (e.type === 'connected') await this.connectBlock(e.block, e.height, e.hash);
    else await this.disconnectBlock(e.height, e.hash);
  }

  private async connectBlock(block: Block, height: number, hash: string): Promise<void> {
    const txs = block.transactions ?? [];
    const mine: Transaction[] = [];
    const dead = this.conflictedBy(txs);
    const apply = (s: WalletState): void => {
      for (;;) {
        let found = false;
        for (const tx of txs) {
          const txid = tx.getId();
          for (const input of tx.ins) {
            const c = s.coins[key(txidOf(input), input.index)];
            if (c && c.spentBy !== txid) {
              c.spentBy = txid;
              found = true;
            }
            if (c && !mine.includes(tx)) mine.push(tx);
          }
          tx.outs.forEach((o, vout) => {
            const owner = this.scripts.get(hex.encode(o.script));
            if (!owner) return;
            const k = key(txid, vout);
            const existing = s.coins[k];
            if (!mine.includes(tx)) mine.push(tx);
            if (existing && existing.height === height) return;
            s.coins[k] = { ...(existing ?? {}), txid, vout, value: o.value.toString(), chain: owner.chain, index: owner.index, height, coinbase: tx.isCoinbase() };
            if (owner.index > s.used[owner.chain]) s.used[owner.chain] = owner.index;
            found = true;
          });
        }
        // A coin at the edge of the lookahead may reveal more addresses; scan the block again for them.
        if (!found || !this.extendLookahead()) break;
      }
      this.forget(s, dead);
      s.recent.push({ hash, height });
      if (s.recent.length > 100) s.recent.shift();
    };
    // Scanning results are persisted lazily: a crash loses only scan progress, and scanning a block
    // again is harmless. flush() (at the chain tip, and every 100 blocks during a rescan) makes it
    // durable; what the wallet itself signs is always made durable before it is broadcast.
    this.state.updateLazy(apply);
    this.writeTxs(
      [
        ...mine.map((tx) => {
          const id = tx.getId();
          const { parents: _done, ...rec } = this.txs.get(id) ?? { time: block.timestamp, hex: tx.toHex() };
          return txPut(id, { ...rec, height });
        }),
        ...[...dead.keys()].map(txDelete),
      ],
      false,
    );
    if (++this.unflushed >= 100) await this.flush();
  }

  /**
   * Unconfirmed transactions from the mempool: payments to us show as unconfirmed balance; one that
   * leaves the mempool without being mined (replaced, evicted) is forgotten. Our own sends stay: they
   * are re-broadcast until mined.
   */
  async onMempool(added: { txid: string; tx: Transaction }[], removed: string[]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    for (const { txid, tx } of added) {
      if (this.txs.has(txid)) continue;
      let relevant = false;
      this.state.updateLazy((s) => {
        for (const input of tx.ins) {
          const c = s.coins[key(txidOf(input), input.index)];
          if (c && !c.spentBy) {
            c.spentBy = txid;
            relevant = true;
          }
        }
        tx.outs.forEach((o, vout) => {
          const owner = this.scripts.get(hex.encode(o.script));
          if (!owner || s.coins[key(txid, vout)]) return;
          s.coins[key(txid, vout)] = { txid, vout, value: o.value.toString(), chain: owner.chain, index: owner.index, height: null, coinbase: false };
          if (owner.index > s.used[owner.chain]) s.used[owner.chain] = owner.index;
          relevant = true;
        });
      });
      if (relevant) {
        this.extendLookahead();
        this.writeTxs([txPut(txid, { height: null, time: now, hex: tx.toHex() })], false);
      }
    }
    for (const txid of removed) {
      const rec = this.txs.get(txid);
      if (!rec || rec.height !== null || rec.own) continue;
      const tx = Transaction.fromHex(rec.hex);
      this.state.updateLazy((s) => {
        tx.outs.forEach((_o, vout) => delete s.coins[key(txid, vout)]);
        for (const input of tx.ins) {
          const c = s.coins[key(txidOf(input), input.index)];
          if (c?.spentBy === txid) c.spentBy = undefined;
        }
      });
      this.writeTxs([txDelete(txid)], false);
    }
    await this.flush();
  }

  /** Makes the scanning state durable. */
  async flush(): Promise<void> {
    this.unflushed = 0;
    await this.state.flush();
    await this.kv.flush();
    if (this.lazyFailure !== undefined) throw this.lazyFailure;
  }

  private async disconnectBlock(height: number, hash: string): Promise<void> {
    this.state.updateLazy((s) => {
      // Transactions of a disconnected block go back to the mempool: their coins become unconfirmed.
      // A coinbase exists only in its block: its coins are gone with it.
      for (const [k, c] of Object.entries(s.coins)) {
        if (c.height !== height) continue;
        if (c.coinbase) delete s.coins[k];
        else c.height = null;
      }
      if (s.recent[s.recent.length - 1]?.hash === hash) s.recent.pop();
    });
    const ops: KvOp[] = [];
    for (const [txid, t] of this.txs) {
      if (t.height !== height) continue;
      ops.push(Transaction.fromHex(t.hex).isCoinbase() ? txDelete(txid) : txPut(txid, { ...t, height: null }));
    }
    this.writeTxs(ops, false);
  }

  // ---- views ---------------------------------------------------------------------------------

  private unspent(): CoinRecord[] {
    return Object.values(this.state.data.coins).filter((c) => !c.spentBy);
  }

  /**
   * Blocks before a coin can be spent, with the chain where this wallet has scanned to: 0 for coins
   * that are not from a coinbase.
   */
  private blocksToMaturity(c: CoinRecord): number {
    if (!c.coinbase || c.height === null) return 0;
    return blocksToMaturity(c.height, this.scanFrom?.height ?? 0);
  }

  balance(): Balance {
    let confirmed = 0n;
    let unconfirmed = 0n;
    let reserved = 0n;
    let immature = 0n;
    const maturing = new Map<number, bigint>();
    for (const c of this.unspent()) {
      const v = BigInt(c.value);
      const wait = this.blocksToMaturity(c);
      if (wait > 0) {
        immature += v;
        maturing.set(wait, (maturing.get(wait) ?? 0n) + v);
        continue;
      }
      if (c.height === null) unconfirmed += v;
      else confirmed += v;
      if (c.reserved) reserved += v;
    }
    return {
      confirmed,
      unconfirmed,
      total: confirmed + unconfirmed,
      reserved,
      immature,
      maturing: [...maturing].sort(([a], [b]) => a - b).map(([blocks, amount]) => ({ blocks, amount })),
    };
  }

  /** Why coins from mining cannot help yet, to follow a refusal for want of funds; empty when there are none. */
  private immatureNote(): string {
    const { immature, maturing } = this.balance();
    if (immature === 0n) return '';
    const last = maturing[maturing.length - 1]!.blocks;
    const when = maturing.length === 1 ? `in ${last} block${last === 1 ? '' : 's'}` : `over the next ${last} blocks`;
    return `; ${immature} sat more from mining becomes spendable ${when}`;
  }

  /** Spendable coins; immature coinbase outputs are left out until they mature, as lnd lists them. */
  listUnspent(tipHeight: number, minConf = 0): { txid: string; vout: number; value: bigint; address: string; confirmations: number; reserved: boolean }[] {
    return this.unspent()
      .filter((c) => this.blocksToMaturity(c) === 0)
      .map((c) => ({
        txid: c.txid,
        vout: c.vout,
        value: BigInt(c.value),
        address: this.account.address(c.chain, c.index).address,
        confirmations: c.height === null ? 0 : tipHeight - c.height + 1,
        reserved: !!c.reserved,
      }))
      .filter((u) => u.confirmations >= minConf)
      .sort((a, b) => b.confirmations - a.confirmations || (a.txid < b.txid ? -1 : 1));
  }

  listTransactions(tipHeight: number): HistoryEntry[] {
    const coins = this.state.data.coins;
    return [...this.txs]
      .map(([txid, t]) => {
        const tx = Transaction.fromHex(t.hex);
        let fromUs = 0n;
        let allInputsOurs = true;
        for (const i of tx.ins) {
          const c = coins[key(txidOf(i), i.index)];
          if (c) fromUs += BigInt(c.value);
          else allInputsOurs = false;
        }
        let toUs = 0n;
        tx.outs.forEach((_o, vout) => {
          const c = coins[key(txid, vout)];
          if (c) toUs += BigInt(c.value);
        });
        const outSum = tx.outs.reduce((a, o) => a + o.value, 0n);
        return {
          txid,
          amount: toUs - fromUs,
          fee: allInputsOurs && fromUs > 0n ? fromUs - outSum : undefined,
          height: t.height,
          confirmations: t.height === null ? 0 : tipHeight - t.height + 1,
          time: t.time,
          hex: t.hex,
          ...(t.label ? { label: t.label } : {}),
        };
      })
      .sort((a, b) => (a.height ?? Infinity) - (b.height ?? Infinity) || a.time - b.time || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : 0));
  }

  // ---- spending ------------------------------------------------------------------------------

  /** The output script for an address, or a WalletError saying why it is not one for this network. */
  scriptFor(address: string): Uint8Array {
    try {
      return baddress.toOutputScript(address.trim(), btcNetwork(this.network));
    } catch {
      const other = (['mainnet', 'testnet', 'regtest'] as Network[]).find((n) => {
        try {
          baddress.toOutputScript(address.trim(), btcNetwork(n));
          return true;
        } catch {
          return false;
        }
      });
      throw new WalletError(other ? `${address} is a ${other} address; this wallet is on ${this.network}` : `"${address}" is not a valid bitcoin address`);
    }
  }

  /**
   * Pays `amount` (or everything, with `all`) to `address` at `satPerVb`. Checks everything before
   * signing; signs; records; broadcasts. Returns the txid.
   */
  async send(opts: { address: string; amount?: bigint; all?: boolean; satPerVb: number; label?: string }): Promise<string> {
    const out = this.scriptFor(opts.address);
    const { txHex } = this.buildPayment({ script: out, ...(opts.amount !== undefined ? { amount: opts.amount } : {}), ...(opts.all ? { all: true } : {}), satPerVb: opts.satPerVb });
    return this.commit(txHex, opts.label);
  }

  /**
   * Builds and signs (without publishing) a transaction paying `script`; everything is checked first.
   * The payment output's index is returned for callers that need the outpoint (channel funding).
   */
  buildPayment(opts: { script: Uint8Array; amount?: bigint; all?: boolean; satPerVb: number }): { txHex: string; txid: string; vout: number; inputs: string[] } {
    const out = opts.script;
    if (!(opts.satPerVb >= 1)) throw new WalletError('the fee rate must be at least 1 sat/vB');
    if (opts.satPerVb > 10_000) throw new WalletError(`a fee rate of ${opts.satPerVb} sat/vB is absurd; refusing`);
    // Never a reserved coin, nor a coinbase output before it matures (the network would refuse the spend).
    const spendable = this.unspent()
      .filter((c) => !c.reserved && this.blocksToMaturity(c) === 0)
      .map((c) => ({ ...c, key: key(c.txid, c.vout), v: BigInt(c.value) }));
    const candidates = spendable.map((c) => ({ key: c.key, value: c.v, rec: c }));
    const psbt = new Psbt({ network: btcNetwork(this.network) });
    psbt.setVersion(2);
    let inputs: typeof candidates;
    try {
      if (opts.all) {
        if (!candidates.length) throw new SelectionError('the wallet has no spendable coins to send');
        const { amount } = sweepAmount(candidates, out, opts.satPerVb);
        inputs = candidates;
        psbt.addOutput({ script: out, value: amount });
      } else {
        if (!opts.amount || opts.amount <= 0n) throw new WalletError('give an amount in satoshis, or send everything with --sweepall');
        if (opts.amount < 294n) throw new WalletError(`${opts.amount} sat is below the dust limit; send at least 294 sat`);
        const sel = selectCoins(candidates, [{ script: out, value: opts.amount }], opts.satPerVb);
        inputs = sel.inputs;
        psbt.addOutput({ script: out, value: opts.amount });
        if (sel.change > 0n) psbt.addOutput({ script: this.changeScript().script, value: sel.change });
      }
    } catch (e) {
      if (e instanceof SelectionError) throw new WalletError(e.message + this.immatureNote());
      throw e;
    }
    const txHex = this.sign(psbt, inputs.map((i) => i.rec));
    return { txHex, txid: Transaction.fromHex(txHex).getId(), vout: 0, inputs: inputs.map((i) => i.key) };
  }

  /** Records and broadcasts a transaction built by buildPayment. */
  publish(txHex: string, label?: string): Promise<string> {
    return this.commit(txHex, label);
  }

  private sign(psbt: Psbt, inputs: CoinRecord[]): string {
    for (const c of inputs) {
      const a = this.account.address(c.chain, c.index);
      // nSequence below 0xfffffffe signals replaceability (BIP 125), so the send can be bumped.
      psbt.addInput({ hash: c.txid, index: c.vout, sequence: 0xfffffffd, witnessUtxo: { script: a.script, value: BigInt(c.value) } });
    }
    inputs.forEach((c, i) => {
      const secret = this.account.privateKey(c.chain, c.index);
      psbt.signInput(i, { publicKey: tinyBackend.getPublicKey(secret), sign: (h: Uint8Array) => tinyBackend.sign(h, secret) });
    });
    psbt.finalizeAllInputs();
    return psbt.extractTransaction().toHex();
  }

  /** Records a signed transaction as unconfirmed (durably), then broadcasts it. */
  private async commit(txHex: string, label?: string): Promise<string> {
    const txid = await this.record(txHex, label);
    await this.broadcaster.broadcast(txHex);
    return txid;
  }

  /**
   * Records a transaction that spends coins of this wallet or pays it, signed and published by someone
   * else in the node (a chain monitor's sweep with fee inputs): its coins are spent, its outputs ours,
   * from now on, so no other transaction of ours picks the same coins.
   */
  async recordOwn(txHex: string, label?: string, opts: { parents?: string[] } = {}): Promise<string> {
    return this.record(txHex, label, opts.parents);
  }

  /** The value of a coin this wallet has or had, spent or not. */
  coinValue(txid: string, vout: number): bigint | undefined {
    const c = this.state.data.coins[key(txid, vout)];
    return c ? BigInt(c.value) : undefined;
  }

  /** Is this output script one of this wallet's addresses (issued or within the lookahead)? */
  isMine(script: Uint8Array): boolean {
    return this.scripts.has(hex.encode(script));
  }

  /**
   * Confirmed coins nothing else holds, with their output scripts: offered to pay the fees of a
   * transaction the node builds around them (anchor CPFP, HTLC transactions of anchors channels).
   */
  feeCoins(tipHeight: number): { txid: string; vout: number; value: bigint; script: Uint8Array }[] {
    return this.unspent()
      .filter((c) => !c.reserved && c.height !== null && tipHeight - c.height + 1 >= 1 && this.blocksToMaturity(c) === 0)
      .map((c) => ({ txid: c.txid, vout: c.vout, value: BigInt(c.value), script: this.account.address(c.chain, c.index).script }));
  }

  /** The witness of a P2WPKH coin of this wallet spent by input `index` of `tx` (BIP 143, SIGHASH_ALL). */
  witnessFor(tx: Transaction, index: number, coin: { txid: string; vout: number; value: bigint }): Uint8Array[] {
    const c = this.state.data.coins[key(coin.txid, coin.vout)];
    if (!c) throw new WalletError(`${coin.txid}:${coin.vout} is not a coin of this wallet`);
    const secret = this.account.privateKey(c.chain, c.index);
    const pubkey = tinyBackend.getPublicKey(secret);
    const a = this.account.address(c.chain, c.index);
    // BIP 143: a P2WPKH input's scriptCode is the P2PKH script of its key hash (the program's 20 bytes).
    const scriptCode = Uint8Array.from([0x76, 0xa9, 0x14, ...a.script.subarray(2), 0x88, 0xac]);
    const digest = tx.hashForWitnessV0(index, scriptCode, coin.value, Transaction.SIGHASH_ALL);
    return [bscript.signature.encode(tinyBackend.sign(digest, secret), Transaction.SIGHASH_ALL), pubkey];
  }

  private async record(txHex: string, label?: string, parents?: string[]): Promise<string> {
    const tx = Transaction.fromHex(txHex);
    const txid = tx.getId();
    // Unconfirmed transactions of ours it conflicts with are replaced by it (BIP 125): gone for good.
    const spends = new Set(tx.ins.map((i) => key(txidOf(i), i.index)));
    const replaced = new Map<string, Transaction>();
    for (const [id, rec] of this.txs) {
      if (id === txid || rec.height !== null) continue;
      const other = Transaction.fromHex(rec.hex);
      if (other.ins.some((i) => spends.has(key(txidOf(i), i.index)))) replaced.set(id, other);
    }
    const dead = this.withDescendants(replaced);
    await this.state.update((s) => {
      this.forget(s, dead);
      for (const i of tx.ins) {
        const c = s.coins[key(txidOf(i), i.index)];
        if (c) c.spentBy = txid;
      }
      tx.outs.forEach((o, vout) => {
        const owner = this.scripts.get(hex.encode(o.script));
        if (!owner) return;
        s.coins[key(txid, vout)] = { txid, vout, value: o.value.toString(), chain: owner.chain, index: owner.index, height: null, coinbase: false };
        if (owner.index > s.used[owner.chain]) s.used[owner.chain] = owner.index;
      });
    });
    this.extendLookahead();
    const had = this.txs.get(txid);
    const pending = (parents ?? []).filter((p) => !this.txs.get(Transaction.fromHex(p).getId())?.height);
    await this.writeTxs(
      [...[...dead.keys()].map(txDelete), txPut(txid, { height: had?.height ?? null, time: had?.time ?? Math.floor(Date.now() / 1000), hex: txHex, own: true, ...(label ? { label } : {}), ...(pending.length && had?.height == null ? { parents: pending } : {}) })],
      true,
    );
    return txid;
  }

  /**
   * Our unconfirmed transactions a block makes dead: one of its inputs, or of the unconfirmed parents
   * it was recorded with, spent by another transaction of the block (the peer's commitment instead of
   * ours under our CPFP child; an older version of a replaced claim). With what spends from them.
   */
  private conflictedBy(block: readonly Transaction[]): Map<string, Transaction> {
    const spentBy = new Map<string, string>();
    for (const t of block) {
      const id = t.getId();
      for (const i of t.ins) spentBy.set(key(txidOf(i), i.index), id);
    }
    const dead = new Map<string, Transaction>();
    if (!spentBy.size) return dead;
    const conflicts = (t: Transaction): boolean => {
      const id = t.getId();
      return t.ins.some((i) => {
        const by = spentBy.get(key(txidOf(i), i.index));
        return by !== undefined && by !== id;
      });
    };
    for (const [txid, rec] of this.txs) {
      if (rec.height !== null) continue;
      const tx = Transaction.fromHex(rec.hex);
      if (conflicts(tx) || (rec.parents ?? []).some((p) => conflicts(Transaction.fromHex(p)))) dead.set(txid, tx);
    }
    return this.withDescendants(dead);
  }

  /** These transactions and every unconfirmed one of the wallet spending from them. */
  private withDescendants(roots: Map<string, Transaction>): Map<string, Transaction> {
    const out = new Map(roots);
    for (let grew = out.size > 0; grew; ) {
      grew = false;
      for (const [txid, rec] of this.txs) {
        if (out.has(txid) || rec.height !== null) continue;
        const tx = Transaction.fromHex(rec.hex);
        if (tx.ins.some((i) => out.has(txidOf(i)))) {
          out.set(txid, tx);
          grew = true;
        }
      }
    }
    return out;
  }

  /** Takes dead transactions out of the coins: their outputs never were, their inputs are ours again. */
  private forget(s: WalletState, dead: Map<string, Transaction>): void {
    for (const [txid, tx] of dead) {
      tx.outs.forEach((_o, vout) => delete s.coins[key(txid, vout)]);
      for (const i of tx.ins) {
        const c = s.coins[key(txidOf(i), i.index)];
        if (c?.spentBy === txid) c.spentBy = undefined;
      }
    }
  }

  /** Replaces an unconfirmed send of ours with one paying `satPerVb`, taking the extra fee from change. */
  async bumpFee(txid: string, satPerVb: number): Promise<string> {
    const rec = this.txs.get(txid);
    if (!rec) throw new WalletError(`transaction ${txid} is not in this wallet`);
    if (rec.height !== null) throw new WalletError(`transaction ${txid} is already confirmed`);
    const old = Transaction.fromHex(rec.hex);
    const coins = old.ins.map((i) => this.state.data.coins[key(txidOf(i), i.index)]);
    if (coins.some((c) => !c)) throw new WalletError('only transactions that spend this wallet\'s coins alone can be bumped');
    const changeIdx = old.outs.findIndex((o) => this.scripts.get(hex.encode(o.script))?.chain === 1);
    if (changeIdx < 0) throw new WalletError('that transaction has no change output to pay a higher fee from');
    const inSum = coins.reduce((a, c) => a + BigInt(c!.value), 0n);
    const outSum = old.outs.reduce((a, o) => a + o.value, 0n);
    const oldFee = inSum - outSum;
    const newFee = BigInt(Math.ceil(old.virtualSize() * satPerVb));
    // BIP 125: the replacement pays more in total and at least the relay fee for its own size on top.
    const needFee = oldFee + BigInt(old.virtualSize());
    const fee = newFee > needFee ? newFee : needFee;
    const change = old.outs[changeIdx]!.value - (fee - oldFee);
    if (change < 294n) throw new WalletError('the change output is too small to pay that fee');
    const psbt = new Psbt({ network: btcNetwork(this.network) });
    psbt.setVersion(2);
    old.outs.forEach((o, i) => psbt.addOutput({ script: o.script, value: i === changeIdx ? change : o.value }));
    // Release the inputs from the old transaction so they can be signed again.
    await this.state.update((s) => {
      for (const c of coins) if (c) s.coins[key(c.txid, c.vout)]!.spentBy = undefined;
      old.outs.forEach((_o, vout) => delete s.coins[key(txid, vout)]);
    });
    await this.writeTxs([txDelete(txid)], true);
    return this.commit(this.sign(psbt, coins as CoinRecord[]), rec.label);
  }

  /** Holds coins for a channel funding transaction so a send cannot spend them meanwhile. */
  async reserve(outpoints: string[], reserved = true): Promise<void> {
    await this.state.update((s) => {
      for (const o of outpoints) {
        const c = s.coins[o];
        if (!c || c.spentBy) throw new WalletError(`${o} is not an unspent coin of this wallet`);
        c.reserved = reserved || undefined;
      }
    });
  }
}
