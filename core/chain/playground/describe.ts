/**
 * bitcoind's JSON shapes for blocks and transactions (getblock, getrawtransaction verbose), so clients
 * written against bitcoind read the playground unchanged.
 */
import { address as baddress, networks } from 'bitcoinjs-lib';
import type { Block , Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { isCoinbase, prevTxid } from './rules.ts';

export function btc(sats: bigint): number {
  return Number(sats) / 1e8;
}

export function scriptType(script: Uint8Array): string {
  if (script.length === 22 && script[0] === 0 && script[1] === 20) return 'witness_v0_keyhash';
  if (script.length === 34 && script[0] === 0 && script[1] === 32) return 'witness_v0_scripthash';
  if (script.length === 34 && script[0] === 0x51 && script[1] === 32) return 'witness_v1_taproot';
  if (script.length === 25 && script[0] === 0x76) return 'pubkeyhash';
  if (script.length === 23 && script[0] === 0xa9) return 'scripthash';
  if (script[0] === 0x6a) return 'nulldata';
  return 'nonstandard';
}

export function describeTx(tx: Transaction, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const coinbase = isCoinbase(tx);
  return {
    txid: tx.getId(),
    hash: hex.encode(Uint8Array.from(tx.getHash(true)).reverse()),
    version: tx.version,
    size: tx.byteLength(),
    vsize: tx.virtualSize(),
    weight: tx.weight(),
    locktime: tx.locktime,
    vin: tx.ins.map((i) =>
      coinbase
        ? { coinbase: hex.encode(i.script), txinwitness: i.witness.map((w) => hex.encode(w)), sequence: i.sequence }
        : {
            txid: prevTxid(i),
            vout: i.index,
            scriptSig: { asm: '', hex: hex.encode(i.script) },
            ...(i.witness.length ? { txinwitness: i.witness.map((w) => hex.encode(w)) } : {}),
            sequence: i.sequence,
          },
    ),
    vout: tx.outs.map((o, n) => {
      let address: string | undefined;
      try {
        address = baddress.fromOutputScript(o.script, networks.regtest);
      } catch {
        address = undefined;
      }
      return { value: btc(o.value), n, scriptPubKey: { asm: '', hex: hex.encode(o.script), ...(address ? { address } : {}), type: scriptType(o.script) } };
    }),
    hex: tx.toHex(),
    ...extra,
  };
}

export function describeHeader(block: Block, height: number, confirmations: number, mtp: number, next?: string): Record<string, unknown> {
  const prev = hex.encode(Uint8Array.from(block.prevHash!).reverse());
  return {
    hash: block.getId(),
    confirmations,
    height,
    version: block.version,
    versionHex: (block.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: hex.encode(Uint8Array.from(block.merkleRoot!).reverse()),
    time: block.timestamp,
    mediantime: mtp,
    nonce: block.nonce,
    bits: block.bits.toString(16).padStart(8, '0'),
    difficulty: 4.656542373906925e-10,
    chainwork: (height + 1).toString(16).padStart(64, '0'),
    nTx: block.transactions?.length ?? 0,
    ...(height > 0 ? { previousblockhash: prev } : {}),
    ...(next ? { nextblockhash: next } : {}),
  };
}
