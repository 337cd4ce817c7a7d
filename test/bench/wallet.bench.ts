/**
 * Rescan speed: the wallet scanning 2,000 playground blocks holding many transactions through the real
 * client stack (JSON-RPC, chain source), against fetching the same blocks with no wallet at all, and
 * the heap the wallet process holds afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt, networks } from 'bitcoinjs-lib';
import { startPlayground } from '../../core/chain/playground/index.ts';
import { BitcoindRpc, BitcoindChainSource, BitcoindBroadcaster } from '../../core/chain/index.ts';
import { Wallet } from '../../core/wallet/wallet.ts';
import { MemoryKvStore } from '../../core/store/kv/memory.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import { createMnemonic, mnemonicToSeed } from '../../core/wallet/mnemonic.ts';
import { newKey, signerFor } from '../helpers/txbuilder.ts';
import { table, timeAsync } from './harness.ts';

const BLOCKS = 2000;
const TXS_PER_BLOCK = 3;
const OUTPUTS_PER_TX = 20;

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coulomb-bench-wallet-'));
  const pg = await startPlayground({ rpcuser: 'u', rpcpassword: 'p' });
  try {
    const rpc = new BitcoindRpc({ url: pg.url, user: 'u', password: 'p' });
    const words = createMnemonic();
    const seed = mnemonicToSeed(words);
    // Addresses of the wallet that some outputs pay, so the scan finds coins as it goes.
    const probeKv = MemoryKvStore.open();
    const probe = await Wallet.open({ dir: join(dir, 'probe'), kv: probeKv, seed, network: 'regtest', birthday: 0, broadcaster: new BitcoindBroadcaster(rpc) });
    const ours = Array.from({ length: 15 }, (_, i) => probe.account.address(0, i).script);
    await probe.close();
    await probeKv.close();

    process.stdout.write(`building ${BLOCKS} blocks with ${TXS_PER_BLOCK} transactions of ${OUTPUTS_PER_TX} outputs each…\n`);
    const k = newKey();
    await pg.chain.mine(101, k.script);
    let coin = { txid: pg.chain.entries[1]!.block.transactions![0]!.getId(), vout: 0, value: pg.chain.entries[1]!.block.transactions![0]!.outs[0]!.value };
    const others = Array.from({ length: 50 }, () => newKey().script);
    let n = 0;
    for (let b = 0; b < BLOCKS; b++) {
      for (let t = 0; t < TXS_PER_BLOCK; t++) {
        const psbt = new Psbt({ network: networks.regtest });
        psbt.addInput({ hash: coin.txid, index: coin.vout, witnessUtxo: { script: k.script, value: coin.value } });
        const each = 10_000n;
        for (let o = 0; o < OUTPUTS_PER_TX; o++) psbt.addOutput({ script: n++ % 97 === 0 ? ours[n % ours.length]! : others[o % others.length]!, value: each });
        const change = coin.value - each * BigInt(OUTPUTS_PER_TX) - 2_000n;
        psbt.addOutput({ script: k.script, value: change });
        psbt.signInput(0, signerFor(k));
        psbt.finalizeAllInputs();
        const tx = psbt.extractTransaction(true);
        coin = { txid: pg.chain.acceptToMempool(tx.toHex()), vout: OUTPUTS_PER_TX, value: change };
      }
      await pg.chain.mine(1, others[0]!);
    }
    const tip = pg.chain.height;

    // Reference: fetch every block over JSON-RPC and parse it, nothing else.
    const fetchMs = await timeAsync(async () => {
      const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 3_600_000 });
      await src.start(() => undefined, { height: 0, hash: pg.chain.entries[0]!.hash });
      await src.stop();
    });

    const kv = await openKvStore({ backend: 'embedded', dir: join(dir, 'w', 'store') });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const wallet = await Wallet.open({ dir: join(dir, 'w'), kv, seed, network: 'regtest', birthday: 0, broadcaster: new BitcoindBroadcaster(rpc) });
    const scanMs = await timeAsync(async () => {
      const src = new BitcoindChainSource(rpc, { network: 'regtest', pollMs: 3_600_000 });
      await src.start((e) => wallet.onChainEvent(e), { height: 0, hash: pg.chain.entries[0]!.hash });
      await src.stop();
    });
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    const found = wallet.listUnspent(tip).length;
    table(`Rescan of ${tip} blocks (${BLOCKS * TXS_PER_BLOCK} transactions; the wallet found ${found} coins)`, [
      ['', 'blocks/s', 'ratio'],
      ['fetch and parse only (reference)', (tip * 1000) / fetchMs, 1],
      ['wallet rescan', (tip * 1000) / scanMs, fetchMs / scanMs],
    ]);
    table('Wallet memory after the rescan (heap held by the open wallet, after GC)', [['MB'], [(heapAfter - heapBefore) / 1e6]]);
    await wallet.close();
    await kv.close();
  } finally {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
