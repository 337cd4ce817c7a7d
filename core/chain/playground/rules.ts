/**
 * Consensus and relay rules the playground chain enforces, as pure functions over a transaction and
 * a view of the coins it spends. Script evaluation is bitcore-lib's interpreter (a port of Bitcoin
 * Core's), run with the standard segwit flags.
 */
import bitcore from 'bitcore-lib';
import type { Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';

export const COINBASE_MATURITY = 100;
export const MIN_RELAY_SAT_PER_VB = 1;
export const MAX_MONEY = 21_000_000n * 100_000_000n;
const SEQUENCE_FINAL = 0xffffffff;
const LOCKTIME_THRESHOLD = 500_000_000;

const I = bitcore.Script.Interpreter;
/**
 * Bitcoin Core's standard verification flags for segwit v0 (taproot spends are not evaluated here).
 * CLEANSTACK is left out: bitcore-lib applies it to witness spends too, where the witness rules already
 * require a clean stack.
 */
export const SCRIPT_FLAGS =
  I.SCRIPT_VERIFY_P2SH | I.SCRIPT_VERIFY_STRICTENC | I.SCRIPT_VERIFY_DERSIG | I.SCRIPT_VERIFY_LOW_S |
  I.SCRIPT_VERIFY_NULLDUMMY | I.SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY | I.SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  I.SCRIPT_VERIFY_WITNESS | I.SCRIPT_VERIFY_MINIMALIF | I.SCRIPT_VERIFY_NULLFAIL | I.SCRIPT_VERIFY_WITNESS_PUBKEYTYPE |
  I.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM;

/** A rejection, with Bitcoin Core's reject reason and the RPC error code bitcoind would answer with. */
export class TxRejected extends Error {
  constructor(readonly reason: string, readonly rpcCode: number, detail?: string) {
    super(detail ? `${reason} (${detail})` : reason);
    this.name = 'TxRejected';
  }
}

export interface Coin {
  value: bigint;
  script: Uint8Array;
  height: number;
  coinbase: boolean;
}

export type CoinView = (txid: string, vout: number) => Coin | undefined;

export interface ChainContext {
  /** Height of the block the transaction would be in. */
  height: number;
  /** Median time past of the tip (the previous block of `height`). */
  mtp: number;
  /** Median time past of the block before the one at `height` (for BIP68 time locks). */
  mtpAt: (height: number) => number;
}

export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

export function prevTxid(input: Transaction['ins'][number]): string {
  return hex.encode(Uint8Array.from(input.hash).reverse());
}

export function isCoinbase(tx: Transaction): boolean {
  return tx.ins.length === 1 && tx.ins[0]!.hash.every((b) => b === 0) && tx.ins[0]!.index === 0xffffffff;
}

/** BIP 113 / nLockTime: final when zero, in the past, or every input opts out with a final sequence. */
export function isFinal(tx: Transaction, ctx: ChainContext): boolean {
  if (tx.locktime === 0) return true;
  const limit = tx.locktime < LOCKTIME_THRESHOLD ? ctx.height : ctx.mtp;
  if (tx.locktime < limit) return true;
  return tx.ins.every((i) => i.sequence === SEQUENCE_FINAL);
}

/** BIP 68 relative lock-times, in blocks (and in 512-second units when the type flag is set). */
export function checkSequenceLocks(tx: Transaction, coins: Coin[], ctx: ChainContext): boolean {
  if (tx.version < 2) return true;
  for (let i = 0; i < tx.ins.length; i++) {
    const seq = tx.ins[i]!.sequence;
    if (seq & 0x80000000) continue; // disable flag
    const coin = coins[i]!;
    const value = seq & 0xffff;
    if (seq & 0x00400000) {
      const since = ctx.mtpAt(Math.max(coin.height - 1, 0));
      if (since + value * 512 - 1 >= ctx.mtp) return false;
    } else if (coin.height + value - 1 >= ctx.height) {
      return false;
    }
  }
  return true;
}

export function dustThreshold(script: Uint8Array): bigint {
  if (script[0] === 0x6a) return 0n; // OP_RETURN
  if (script.length === 22 && script[0] === 0) return 294n; // P2WPKH
  if (script.length === 34 && script[0]! <= 0x60) return 330n; // P2WSH / P2TR
  return 546n;
}

export interface CheckedTx {
  fee: bigint;
  vsize: number;
  coins: Coin[];
}

/**
 * Everything but conflicts with other unconfirmed transactions: structure, inputs, maturity, locks,
 * amounts, scripts; and, when `relay` is set, the relay policies (fee floor, dust).
 */
export function checkTransaction(tx: Transaction, view: CoinView, ctx: ChainContext, relay: boolean): CheckedTx {
  if (tx.ins.length === 0) throw new TxRejected('bad-txns-vin-empty', -26);
  if (tx.outs.length === 0) throw new TxRejected('bad-txns-vout-empty', -26);
  if (isCoinbase(tx)) throw new TxRejected('coinbase', -26);
  const seen = new Set<string>();
  const coins: Coin[] = [];
  let inSum = 0n;
  for (const input of tx.ins) {
    const key = outpointKey(prevTxid(input), input.index);
    if (seen.has(key)) throw new TxRejected('bad-txns-inputs-duplicate', -26);
    seen.add(key);
    const coin = view(prevTxid(input), input.index);
    if (!coin) throw new TxRejected('bad-txns-inputs-missingorspent', -25);
    if (coin.coinbase && ctx.height - coin.height < COINBASE_MATURITY) {
      throw new TxRejected('bad-txns-premature-spend-of-coinbase', -26, `tried to spend coinbase at depth ${ctx.height - coin.height}`);
    }
    coins.push(coin);
    inSum += coin.value;
  }
  let outSum = 0n;
  for (const o of tx.outs) {
    if (o.value < 0n || o.value > MAX_MONEY) throw new TxRejected('bad-txns-vout-toolarge', -26);
    outSum += o.value;
    if (relay && o.value < dustThreshold(o.script)) throw new TxRejected('dust', -26);
  }
  if (outSum > inSum) throw new TxRejected('bad-txns-in-belowout', -26, `value in ${inSum} < value out ${outSum}`);
  if (!isFinal(tx, ctx)) throw new TxRejected('non-final', -26);
  if (!checkSequenceLocks(tx, coins, ctx)) throw new TxRejected('non-BIP68-final', -26);
  const fee = inSum - outSum;
  const vsize = tx.virtualSize();
  if (relay && fee < BigInt(vsize * MIN_RELAY_SAT_PER_VB)) throw new TxRejected('min relay fee not met', -26, `${fee} < ${vsize * MIN_RELAY_SAT_PER_VB}`);
  verifyScripts(tx, coins);
  return { fee, vsize, coins };
}

/** Every input's script and witness, checked by the interpreter with the amount it spends. */
export function verifyScripts(tx: Transaction, coins: Coin[]): void {
  const btx = new bitcore.Transaction(tx.toHex());
  for (let i = 0; i < tx.ins.length; i++) {
    const input = tx.ins[i]!;
    const interp = new I();
    const ok = interp.verify(
      new bitcore.Script(Buffer.from(input.script)),
      new bitcore.Script(Buffer.from(coins[i]!.script)),
      btx,
      i,
      SCRIPT_FLAGS,
      input.witness.map((w) => Buffer.from(w)),
      Number(coins[i]!.value),
    );
    if (!ok) throw new TxRejected('mandatory-script-verify-flag-failed', -26, `input ${i}: ${interp.errstr || 'script failed'}`);
  }
}
