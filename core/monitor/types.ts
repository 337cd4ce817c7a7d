/**
 * The vocabulary of the chain monitor's transaction builders (BOLT 5): what a spendable output is, how
 * an input is priced before it is signed and witnessed after, and what a builder answers. Every
 * builder here is pure: outputs, keys and a feerate in; a signed transaction, or the reason there is
 * none, out.
 */
import type { Transaction } from 'bitcoinjs-lib';

/** A feerate in satoshis per 1000 weight units (BOLT 3's unit), a whole number. */
export type FeeratePerKw = number & { readonly __unit: 'sat/kw' };

/** Checks and brands a feerate; the relay floor is applied where fees are computed, not here. */
export function feeratePerKw(n: number): FeeratePerKw {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`a feerate must be a whole number of sat/kw, not ${n}`);
  return n as FeeratePerKw;
}

/** An output of a transaction on chain (txid as shown, big-endian hex). */
export interface OutPoint {
  txid: string;
  vout: number;
}

/** What a signer needs of every coin the transaction spends (taproot signatures commit to all of them). */
export interface Prevout {
  script: Uint8Array;
  valueSat: bigint;
}

/**
 * One input of a sweep, before the transaction is final: what it spends, what it costs in weight, and
 * how to witness it once every input and output is in place (SIGHASH_ALL signatures cover them all).
 */
export interface SpendInput {
  /** What this input is, for logs and results ("to_local", "htlc 7 (offered)", "wallet"). */
  label: string;
  outpoint: OutPoint;
  valueSat: bigint;
  /** The spent output's script (scriptPubKey). */
  prevScript: Uint8Array;
  sequence: number;
  /** The transaction's nLockTime this input needs at least (an HTLC's cltv_expiry), 0 when none. */
  minLocktime: number;
  /** An upper bound of the witness's serialized size in bytes (= weight units), signatures counted at 73. */
  maxWitnessSize: number;
  witness(tx: Transaction, index: number, ctx: SigningContext): Uint8Array[];
}

/** What witnessing an input of a final transaction is given: every spent coin, and SIGHASH_ALL signing. */
export interface SigningContext {
  prevouts: readonly Prevout[];
  /** A DER signature with its SIGHASH_ALL byte over input `index` (BIP 143; transaction-wide hashes computed once). */
  signAll(index: number, scriptCode: Uint8Array, valueSat: bigint, secret: Uint8Array): Uint8Array;
}

/** An output whose amount is fixed by the protocol (an HTLC transaction's output 0). */
export interface FixedOutput {
  script: Uint8Array;
  valueSat: bigint;
}

/** Fees, as decided by a builder: the target, and the weight and fee of what was signed. */
export interface Built {
  ok: true;
  tx: Transaction;
  txid: string;
  /** The signed transaction's weight. */
  weight: number;
  feeSat: bigint;
  /** The feerate the fee was computed at (at least the relay floor). */
  feeratePerKw: number;
  /** What goes back to the wallet (the sweep or change output), 0 when nothing does. */
  sweptSat: bigint;
  /** Inputs left out because each cost more to spend than it holds (justice batches only). */
  skipped?: SpendInput[];
}

/**
 * Why no transaction was built. These are outcomes the monitor plans around (try again at a lower
 * feerate, wait for more wallet coins, give the output up), never crashes:
 * - `dust`: what would come back after the fee is below the output's dust limit;
 * - `insufficient-funds`: the wallet coins offered cannot pay the fee;
 * - `nothing-to-sweep`: the output pays our wallet already, or there are no inputs.
 */
export type NotBuilt =
  | { ok: false; reason: 'dust'; valueSat: bigint; feeSat: bigint; dustLimitSat: bigint; message: string }
  | { ok: false; reason: 'insufficient-funds'; neededSat: bigint; availableSat: bigint; message: string }
  | { ok: false; reason: 'nothing-to-sweep'; message: string };

export type BuildResult = Built | NotBuilt;

/** A coin of the on-chain wallet offered to pay fees (anchors: CPFP, HTLC transactions). */
export interface WalletCoin {
  outpoint: OutPoint;
  valueSat: bigint;
  script: Uint8Array;
  /** Upper bound of its witness size; P2WPKH (109) when absent. */
  maxWitnessSize?: number;
}

/**
 * Signs one wallet input of a final transaction and returns its witness stack. The monitor holds no
 * wallet keys: the wallet answers this.
 */
export type WalletSigner = (tx: Transaction, index: number, coin: WalletCoin, prevouts: readonly Prevout[]) => Uint8Array[];

/**
 * A builder was handed inconsistent data (a key that does not match the script, an output that is not
 * the kind the builder spends): a bug in the caller, named with what did not match.
 */
export class SweepInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepInputError';
  }
}
