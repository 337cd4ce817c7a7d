/**
 * The wallet's history in the node's KvStore, on the in-memory, the embedded and the PostgreSQL backends:
 * - a data directory of an earlier version (test/fixtures/wallet-v1: wallet.json and wallet_history.json
 *   as the JSON stores wrote them, made through Wallet at commit 3050969 from synthetic blocks: coinbase,
 *   payments in, a labelled send mined, a payment and a send still unconfirmed) moves in exactly, once,
 *   leaving `wallet_history.json.migrated`, and lists the same transactions as it did then
 *   (list-transactions-tip-3.json, also written by that code);
 * - a restart gives back the same history, and a history file put back by hand is left alone;
 * - each change is one write of only the records it touches.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet, WALLET_TXS_NS } from '../../../core/wallet/wallet.ts';
import { mnemonicToSeed } from '../../../core/wallet/mnemonic.ts';
import { kvJson } from '../../../core/store/kv/types.ts';
import type { KvOp } from '../../../core/store/kv/types.ts';
import type { Broadcaster } from '../../../core/chain/types.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';
import { WatchedKvStore, describeEachKvBackend } from '../../helpers/kv.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/wallet-v1', import.meta.url));
const WORDS = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art';
const SINK = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

interface TxJson {
  height: number | null;
  time: number;
  hex: string;
  label?: string;
  own?: boolean;
}
type HistoryJson = { schema_version: number; data: { txs: Record<string, TxJson> } };
type ListedJson = { txid: string; amount: string; fee?: string; height: number | null; confirmations: number; time: number; label?: string; hex: string };

const listed = (w: Wallet, tip: number): ListedJson[] =>
  JSON.parse(JSON.stringify(w.listTransactions(tip), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as ListedJson[];
const byTxid = <T extends { txid: string }>(l: T[]): T[] => [...l].sort((a, b) => (a.txid < b.txid ? -1 : 1));

describeEachKvBackend('the wallet history in the $name store', ({ name, open }) => {
  let dir: string;
  let kv: WatchedKvStore;
  let wallet: Wallet | undefined;
  const broadcast: string[] = [];
  const broadcaster = { broadcast: async (h: string) => void broadcast.push(h) } as unknown as Broadcaster;
  const warnings: string[] = [];
  const openWallet = async (): Promise<Wallet> => (wallet = await Wallet.open({ dir, kv, seed: mnemonicToSeed(WORDS), network: 'regtest', birthday: 1, broadcaster, warn: (m) => warnings.push(m) }));
  const restart = async (): Promise<void> => {
    await wallet?.close();
    wallet = undefined;
    if (kv.backend !== 'memory') {
      await kv.close();
      kv = new WatchedKvStore(await open(dir));
    }
    await openWallet();
  };

  beforeEach(async () => {
    dir = await tempDir(`wallet-kv-${name}`);
    for (const f of ['wallet', 'wallet_history']) await copyFile(join(FIXTURE, `${f}.json`), join(dir, `${f}.json`));
    kv = new WatchedKvStore(await open(dir));
    warnings.length = 0;
  });
  afterEach(async () => {
    await wallet?.close();
    wallet = undefined;
    await kv.close();
    await removeDir(dir);
  });

  it('moves wallet_history.json in exactly, once, keeping the file as a backup', async () => {
    const original = await readFile(join(FIXTURE, 'wallet_history.json'));
    const hj = JSON.parse(original.toString('utf8')) as HistoryJson;
    const before = JSON.parse(await readFile(join(FIXTURE, 'list-transactions-tip-3.json'), 'utf8')) as ListedJson[];
    expect(Object.keys(hj.data.txs)).toHaveLength(6);

    const w = await openWallet();
    // One record per transaction, each the same as in the file, and nothing else.
    const recs = await kv.range(WALLET_TXS_NS);
    expect(recs.map((r) => r.key)).toEqual(Object.keys(hj.data.txs).sort());
    for (const r of recs) expect(kvJson.decode<TxJson>(r.value)).toStrictEqual(hj.data.txs[r.key]);
    // The move was one write, with its marker.
    const move = kv.writes.filter((wr) => wr.ops.some((o) => o.ns === WALLET_TXS_NS));
    expect(move).toHaveLength(1);
    expect(move[0]!.ops.map((o) => `${o.type} ${o.ns}/${o.key}`).sort()).toEqual([...Object.keys(hj.data.txs).map((k) => `put ${WALLET_TXS_NS}/${k}`), 'put meta/migrated:wallet_history'].sort());
    // The file is kept aside, byte for byte; wallet.json stays where it is.
    await expect(stat(join(dir, 'wallet_history.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'wallet_history.json.migrated'))).toEqual(original);
    expect((await stat(join(dir, 'wallet.json'))).isFile()).toBe(true);

    // What the app and `listchaintxns` show is what the earlier version showed (ties in height and time now by txid).
    const after = listed(w, 3);
    expect(byTxid(after)).toEqual(byTxid(before));
    expect(after.map((t) => t.txid)).toEqual([...before].sort((a, b) => (a.height ?? Infinity) - (b.height ?? Infinity) || a.time - b.time || (a.txid < b.txid ? -1 : 1)).map((t) => t.txid));
    expect(after.find((t) => t.label)?.label).toBe('rent, "march" ünïcode');

    // A restart reads the store; it moves nothing again.
    const writes = kv.writes.length;
    await restart();
    expect(byTxid(listed(wallet!, 3))).toEqual(byTxid(before));
    expect(kv.writes.slice(kv.backend === 'memory' ? writes : 0).filter((wr) => wr.ops.some((o) => o.ns === WALLET_TXS_NS))).toEqual([]);

    // A history file put back by hand is left alone, and said so.
    await copyFile(join(FIXTURE, 'wallet_history.json'), join(dir, 'wallet_history.json'));
    await restart();
    expect(warnings.some((m) => m.includes('wallet_history.json is ignored'))).toBe(true);
    expect(await readFile(join(dir, 'wallet_history.json'))).toEqual(original);
    expect(await kv.count(WALLET_TXS_NS)).toBe(6);
  });

  it('writes each change as one write of only the records it touches', async () => {
    const w = await openWallet();
    const before = new Map((await kv.range(WALLET_TXS_NS)).map((r) => [r.key, kvJson.decode<TxJson>(r.value)]));
    const ofHistory = () => kv.writes.filter((wr) => wr.ops.some((o) => o.ns === WALLET_TXS_NS));
    const described = (ops: readonly KvOp[]) => ops.map((o) => `${o.type} ${o.key}`);
    const minedSend = [...before].find(([, t]) => t.own && t.height === 3)![0];
    const pendingIn = [...before].find(([, t]) => !t.own && t.height === null)![0];

    // Block 3 leaves the chain: our send in it goes back to unconfirmed, the rest is untouched.
    kv.writes = [];
    await w.onChainEvent({ type: 'disconnected', height: 3, hash: w.scanFrom!.hash });
    await w.flush();
    expect(ofHistory().map((wr) => described(wr.ops))).toEqual([[`put ${minedSend}`]]);
    expect(kvJson.decode<TxJson>((await kv.get(WALLET_TXS_NS, minedSend))!)).toStrictEqual({ ...before.get(minedSend)!, height: null });

    // A payment to us leaves the mempool unmined: its record alone goes.
    kv.writes = [];
    await w.onMempool([], [pendingIn]);
    expect(ofHistory().map((wr) => described(wr.ops))).toEqual([[`delete ${pendingIn}`]]);
    expect(await kv.get(WALLET_TXS_NS, pendingIn)).toBeUndefined();

    // A send is stored durably, as one record, before it is broadcast.
    kv.writes = [];
    broadcast.length = 0;
    const txid = await w.send({ address: SINK, amount: 100_000n, satPerVb: 2, label: 'gift' });
    expect(ofHistory()).toEqual([{ ops: [expect.objectContaining({ type: 'put', ns: WALLET_TXS_NS, key: txid })], durable: true }]);
    expect(broadcast).toHaveLength(1);
    expect(kvJson.decode<TxJson>((await kv.get(WALLET_TXS_NS, txid))!)).toMatchObject({ height: null, own: true, label: 'gift', hex: broadcast[0] });

    // A fee bump: the replaced send's record goes, then the replacement's is written.
    kv.writes = [];
    const bumped = await w.bumpFee(txid, 5);
    expect(ofHistory().map((wr) => [described(wr.ops), wr.durable])).toEqual([
      [[`delete ${txid}`], true],
      [[`put ${bumped}`], true],
    ]);

    // All of it survives a restart.
    const now = byTxid(listed(w, 2));
    await restart();
    expect(byTxid(listed(wallet!, 2))).toEqual(now);
    expect(now.map((t) => t.txid)).toContain(bumped);
    expect(now.map((t) => t.txid)).not.toContain(pendingIn);
  });
});
