import { describe, expect, it } from 'vitest';
import { Transaction } from 'bitcoinjs-lib';
import { PlaygroundChain, TxRejected, REGTEST_GENESIS_HASH } from '../../../core/chain/playground/index.ts';
import { newKey, spendP2wpkh, spendP2wsh, p2wsh, bscript, opcodes } from '../../helpers/txbuilder.ts';
import type { Key, Prev } from '../../helpers/txbuilder.ts';
import { tempDir, removeDir } from '../../helpers/daemon.ts';

/** A chain with one mature coinbase paying `key` (block 1), 101 blocks deep. */
async function fundedChain(key: Key, datadir?: string): Promise<{ chain: PlaygroundChain; coin: Prev }> {
  const chain = await PlaygroundChain.open(datadir);
  await chain.mine(1, key.script);
  const other = newKey();
  await chain.mine(100, other.script);
  const cb = chain.entries[1]!.block.transactions![0]!;
  return { chain, coin: { txid: cb.getId(), vout: 0, value: cb.outs[0]!.value } };
}

function reject(fn: () => unknown, reason: RegExp): void {
  expect(fn).toThrow(TxRejected);
  expect(fn).toThrow(reason);
}

describe('playground chain: consensus and relay rules', () => {
  it('starts at the regtest genesis block and mines valid blocks with witness commitments', async () => {
    const chain = await PlaygroundChain.open();
    expect(chain.tip.hash).toBe(REGTEST_GENESIS_HASH);
    const k = newKey();
    const [h] = await chain.mine(1, k.script);
    expect(chain.entryByHash(h!)!.block.checkProofOfWork()).toBe(true);
    expect(chain.entryByHash(h!)!.block.hasWitnessCommit()).toBe(true);
  });

  it('P2WPKH: a valid spend is accepted and mined; a wrong signature or amount is not', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const dest = newKey();
    const good = spendP2wpkh(k, coin, dest.script);
    // The same transaction claiming another key's signature: the interpreter must refuse.
    const forged = Transaction.fromHex(good);
    forged.ins[0]!.witness[0]![10]! ^= 1;
    reject(() => chain.acceptToMempool(forged.toHex()), /mandatory-script-verify-flag-failed/);
    const txid = chain.acceptToMempool(good);
    await chain.mine(1, dest.script);
    expect(chain.txHeight(txid)).toBe(102);
    chain.reverify(102);
  });

  it('no double spends, no spends of missing coins, no immature coinbase', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const a = newKey();
    chain.acceptToMempool(spendP2wpkh(k, coin, a.script, 500n));
    await chain.mine(1, a.script);
    reject(() => chain.acceptToMempool(spendP2wpkh(k, coin, a.script, 800n)), /bad-txns-inputs-missingorspent/);
    // The coinbase of the block just mined is immature.
    const cb = chain.tip.block.transactions![0]!;
    reject(() => chain.acceptToMempool(spendP2wpkh(a, { txid: cb.getId(), vout: 0, value: cb.outs[0]!.value }, k.script)), /premature-spend-of-coinbase/);
  });

  it('minimum relay fee and dust', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    reject(() => chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script, 50n)), /min relay fee not met/);
    reject(() => chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script, 0n, { outValue: 100n })), /dust/);
  });

  it('replace-by-fee: a higher fee replaces, a lower one is refused', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const first = chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script, 1000n));
    reject(() => chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script, 900n)), /insufficient fee/);
    const second = chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script, 5000n));
    expect([...chain.mempool.keys()]).toEqual([second]);
    expect(chain.mempool.has(first)).toBe(false);
  });

  it('P2WSH 2-of-2 multisig (a funding output): both signatures needed, in order', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const [a, b] = [newKey(), newKey()].sort((x, y) => Buffer.compare(Buffer.from(x.pubkey), Buffer.from(y.pubkey)));
    const ms = bscript.compile([opcodes.OP_2, a!.pubkey, b!.pubkey, opcodes.OP_2, opcodes.OP_CHECKMULTISIG]);
    const fundTx = spendP2wpkh(k, coin, p2wsh(ms).output, 1000n);
    const fundId = chain.acceptToMempool(fundTx);
    await chain.mine(1, k.script);
    const prev = { txid: fundId, vout: 0, value: coin.value - 1000n };
    const out = newKey().script;
    reject(() => chain.acceptToMempool(spendP2wsh(ms, prev, out, [a!, b!], ([sa]) => [new Uint8Array(0), sa!, sa!])), /mandatory-script-verify-flag-failed/);
    reject(() => chain.acceptToMempool(spendP2wsh(ms, prev, out, [a!, b!], ([sa, sb]) => [new Uint8Array(0), sb!, sa!])), /mandatory-script-verify-flag-failed/);
    chain.acceptToMempool(spendP2wsh(ms, prev, out, [a!, b!], ([sa, sb]) => [new Uint8Array(0), sa!, sb!]));
  });

  it('CHECKSEQUENCEVERIFY (a to_local delay): not before N blocks, fine after', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const d = newKey();
    const csv = bscript.compile([bscript.number.encode(5), opcodes.OP_CHECKSEQUENCEVERIFY, opcodes.OP_DROP, d.pubkey, opcodes.OP_CHECKSIG]);
    const fundId = chain.acceptToMempool(spendP2wpkh(k, coin, p2wsh(csv).output, 1000n));
    await chain.mine(1, k.script);
    const prev = { txid: fundId, vout: 0, value: coin.value - 1000n };
    const spend = (sequence: number) => spendP2wsh(csv, prev, k.script, [d], ([s]) => [s!], { sequence });
    // Sequence 5 but only 1 confirmation: BIP68 says not yet.
    reject(() => chain.acceptToMempool(spend(5)), /non-BIP68-final/);
    // A smaller sequence passes BIP68 but fails the script's CSV.
    reject(() => chain.acceptToMempool(spend(1)), /mandatory-script-verify-flag-failed/);
    await chain.mine(4, k.script);
    chain.acceptToMempool(spend(5));
  });

  it('CHECKLOCKTIMEVERIFY and nLockTime (an HTLC timeout): not before the height', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const d = newKey();
    const lockAt = chain.height + 5;
    const cltv = bscript.compile([bscript.number.encode(lockAt), opcodes.OP_CHECKLOCKTIMEVERIFY, opcodes.OP_DROP, d.pubkey, opcodes.OP_CHECKSIG]);
    const fundId = chain.acceptToMempool(spendP2wpkh(k, coin, p2wsh(cltv).output, 1000n));
    await chain.mine(1, k.script);
    const prev = { txid: fundId, vout: 0, value: coin.value - 1000n };
    const spend = (locktime: number) => spendP2wsh(cltv, prev, k.script, [d], ([s]) => [s!], { sequence: 0xfffffffe, locktime });
    reject(() => chain.acceptToMempool(spend(lockAt)), /non-final/);
    reject(() => chain.acceptToMempool(spend(lockAt - 5)), /mandatory-script-verify-flag-failed/);
    await chain.mine(lockAt - chain.height, k.script);
    chain.acceptToMempool(spend(lockAt));
  });

  it('invalidateblock reorgs: transactions return to the mempool, coins come back', async () => {
    const k = newKey();
    const { chain, coin } = await fundedChain(k);
    const txid = chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script));
    const [h] = await chain.mine(2, k.script);
    expect(chain.txHeight(txid)).toBe(102);
    await chain.invalidateBlock(h!);
    expect(chain.height).toBe(101);
    expect(chain.txHeight(txid)).toBeUndefined();
    expect(chain.mempool.has(txid)).toBe(true);
    expect(chain.coin(coin.txid, 0)).toBeDefined();
  });

  it('keeps its blocks on disk and comes back after a restart', async () => {
    const dir = await tempDir('pg');
    try {
      const k = newKey();
      const { chain, coin } = await fundedChain(k, dir);
      const txid = chain.acceptToMempool(spendP2wpkh(k, coin, newKey().script));
      await chain.mine(1, k.script);
      const again = await PlaygroundChain.open(dir);
      expect(again.height).toBe(102);
      expect(again.tip.hash).toBe(chain.tip.hash);
      expect(again.txHeight(txid)).toBe(102);
      await again.invalidateBlock(again.tip.hash);
      expect((await PlaygroundChain.open(dir)).height).toBe(101);
    } finally {
      await removeDir(dir);
    }
  });
});
