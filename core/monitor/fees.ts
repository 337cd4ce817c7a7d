/**
 * Fees and assembly for every sweep: a transaction's weight is known before it is signed (each input
 * declares an upper bound of its witness), the fee follows from a feerate never below the relay floor,
 * and what would come back as dust is reported as such. LDK's `chain/package.rs` prices claims the same
 * way, from predicted witness weights.
 */
import { Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { FEERATE_FLOOR_SAT_PER_KW } from '../chain/types.ts';
import { SighashAll } from './sighash.ts';
import type { BuildResult, Built, FixedOutput, NotBuilt, Prevout, SigningContext, SpendInput, WalletCoin, WalletSigner } from './types.ts';

/** Bitcoin Core's MAX_STANDARD_TX_WEIGHT: a larger transaction is not relayed. */
export const MAX_STANDARD_TX_WEIGHT = 400_000;

/** A sequence that enables nLockTime and signals replaceability, for inputs with no relative lock. */
export const SEQUENCE_RBF = 0xfffffffd;

/** A DER signature with its sighash byte, at its longest. */
export const MAX_SIG_SIZE = 73;

/** Witness of a P2WPKH spend: 2 items, a signature and a 33-byte key. */
export const P2WPKH_WITNESS_SIZE = 1 + 1 + MAX_SIG_SIZE + 1 + 33;

export function varIntSize(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Serialized size of a witness stack whose items have these sizes. */
export function witnessSize(itemSizes: readonly number[]): number {
  return itemSizes.reduce((a, n) => a + varIntSize(n) + n, varIntSize(itemSizes.length));
}

/** Non-witness size of one input with an empty scriptSig: outpoint, script length, sequence. */
const INPUT_SIZE = 32 + 4 + 1 + 4;

const outputSize = (script: Uint8Array): number => 8 + varIntSize(script.length) + script.length;

/** Weight of an input, witness included: what adding it to a transaction costs. */
export function inputWeight(maxWitnessSize: number): number {
  return INPUT_SIZE * 4 + maxWitnessSize;
}

/** The weight a transaction with these inputs and outputs has at most once signed. */
export function estimateWeight(witnessSizes: readonly number[], outputScripts: readonly Uint8Array[]): number {
  const base = 4 + varIntSize(witnessSizes.length) + INPUT_SIZE * witnessSizes.length + varIntSize(outputScripts.length) + outputScripts.reduce((a, s) => a + outputSize(s), 0) + 4;
  // Marker and flag, then each input's witness.
  return base * 4 + 2 + witnessSizes.reduce((a, w) => a + w, 0);
}

/** The feerate actually used: never below the relay floor (253 sat/kw, 1.012 sat/vB). */
export function effectiveFeerate(feeratePerKw: number): number {
  return Math.max(FEERATE_FLOOR_SAT_PER_KW, Math.ceil(feeratePerKw));
}

/** The fee for `weight` at a feerate, rounded up so a transaction never falls below its target. */
export function feeForWeight(weight: number, feeratePerKw: number): bigint {
  return BigInt(Math.ceil((effectiveFeerate(feeratePerKw) * weight) / 1000));
}

/** Bitcoin Core's dust limit at its default 3 sat/vB dust relay fee, by output type. */
export function dustLimit(script: Uint8Array): bigint {
  if (script[0] === 0x6a) return 0n; // OP_RETURN
  if (script.length === 22 && script[0] === 0x00) return 294n; // P2WPKH
  if (script.length === 34 && (script[0] === 0x00 || script[0] === 0x51)) return 330n; // P2WSH, P2TR
  if (script.length === 23 && script[0] === 0xa9) return 540n; // P2SH
  return 546n; // P2PKH and the rest
}

/** A transaction with these inputs and outputs, unsigned; nLockTime is the largest any input needs. */
export function assemble(inputs: readonly SpendInput[], outputs: readonly FixedOutput[], locktime = 0): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = Math.max(locktime, ...inputs.map((i) => i.minLocktime));
  for (const i of inputs) tx.addInput(Uint8Array.from(hex.decode(i.outpoint.txid)).reverse(), i.outpoint.vout, i.sequence);
  for (const o of outputs) tx.addOutput(o.script, o.valueSat);
  return tx;
}

/** Witnesses every input of a final transaction. */
export function witnessAll(tx: Transaction, inputs: readonly SpendInput[]): void {
  const prevouts: Prevout[] = inputs.map((i) => ({ script: i.prevScript, valueSat: i.valueSat }));
  const sighash = new SighashAll(tx);
  const ctx: SigningContext = { prevouts, signAll: (index, scriptCode, valueSat, secret) => sighash.sign(index, scriptCode, valueSat, secret) };
  inputs.forEach((input, index) => tx.setWitness(index, input.witness(tx, index, ctx)));
}

function built(tx: Transaction, inputs: readonly SpendInput[], feeratePerKw: number, sweptSat: bigint, skipped?: SpendInput[]): Built {
  const inSum = inputs.reduce((a, i) => a + i.valueSat, 0n);
  const outSum = tx.outs.reduce((a, o) => a + o.value, 0n);
  return { ok: true, tx, txid: tx.getId(), weight: tx.weight(), feeSat: inSum - outSum, feeratePerKw, sweptSat, ...(skipped?.length ? { skipped } : {}) };
}

export interface SweepOptions {
  inputs: readonly SpendInput[];
  /** Where everything after the fee goes (a wallet script). */
  sweepTo: Uint8Array;
  feeratePerKw: number;
  /** nLockTime, when more than the inputs need (anti fee sniping). */
  locktime?: number;
}

/** Every input into one output to the wallet, less the fee at the feerate; `dust` when too little is left. */
export function sweep(o: SweepOptions): BuildResult {
  if (!o.inputs.length) return { ok: false, reason: 'nothing-to-sweep', message: 'no outputs were given to sweep' };
  payable(o.sweepTo, 'a sweep');
  const rate = effectiveFeerate(o.feeratePerKw);
  const fee = feeForWeight(estimateWeight(o.inputs.map((i) => i.maxWitnessSize), [o.sweepTo]), rate);
  const value = o.inputs.reduce((a, i) => a + i.valueSat, 0n) - fee;
  const dust = dustLimit(o.sweepTo);
  if (value < dust) return dustResult(o.inputs, value, fee, dust);
  const tx = assemble(o.inputs, [{ script: o.sweepTo, valueSat: value }], o.locktime);
  witnessAll(tx, o.inputs);
  return built(tx, o.inputs, rate, value);
}

/**
 * An output script our money may go to: never an empty one (anyone could spend it). A builder handed
 * one is a bug in its caller; nothing is built.
 */
function payable(script: Uint8Array, what: string): void {
  if (script.length === 0) throw new Error(`${what} was given no script to pay to`);
}

function dustResult(inputs: readonly SpendInput[], value: bigint, fee: bigint, dust: bigint): NotBuilt {
  const what = inputs.map((i) => i.label).join(', ');
  return {
    ok: false,
    reason: 'dust',
    valueSat: value,
    feeSat: fee,
    dustLimitSat: dust,
    message: `sweeping ${what} would leave ${value} sat after a ${fee} sat fee, below the ${dust} sat dust limit; wait for lower fees or leave it`,
  };
}

/**
 * A transaction whose outputs the protocol fixed (a pre-signed HTLC transaction without anchors): the
 * fee is what the inputs leave, nothing is added.
 */
export function signFixed(inputs: readonly SpendInput[], outputs: readonly FixedOutput[], feeratePerKw: number): Built {
  const tx = assemble(inputs, outputs);
  witnessAll(tx, inputs);
  return built(tx, inputs, feeratePerKw, 0n);
}

export interface FeeInputsOptions {
  /** The inputs that must be spent, in order (an HTLC input stays at the index of its output). */
  inputs: readonly SpendInput[];
  /** Outputs that must stay as they are, first and in order. */
  outputs: readonly FixedOutput[];
  feeratePerKw: number;
  /** Wallet coins to choose from, tried largest first. */
  coins: readonly WalletCoin[];
  changeScript: Uint8Array;
  signer: WalletSigner;
  /**
   * CPFP: the unconfirmed parent this transaction pays for. The fee then brings the package (parent and
   * child) to the feerate, not this transaction alone.
   */
  parent?: { weight: number; feeSat: bigint };
}

/**
 * Adds wallet coins (and a change output when it would not be dust) until the transaction pays its
 * feerate, then signs every input. For anchor outputs and for HTLC transactions the peer signed with
 * SIGHASH_SINGLE|ANYONECANPAY; `insufficient-funds` when the coins cannot pay.
 */
export function attachFeeInputs(o: FeeInputsOptions): BuildResult {
  const rate = effectiveFeerate(o.feeratePerKw);
  const walletInputs = [...o.coins].sort((a, b) => (a.valueSat > b.valueSat ? -1 : a.valueSat < b.valueSat ? 1 : 0)).map((c) => walletInput(c, o.signer));
  const fixedScripts = o.outputs.map((x) => x.script);
  const surplus = o.inputs.reduce((a, i) => a + i.valueSat, 0n) - o.outputs.reduce((a, x) => a + x.valueSat, 0n);
  const feeFor = (weight: number): bigint => {
    if (!o.parent) return feeForWeight(weight, rate);
    // The package's fee at the feerate, less what the parent pays; never under the child's own floor.
    const pkg = feeForWeight(o.parent.weight + weight, rate) - o.parent.feeSat;
    const own = feeForWeight(weight, 0);
    return pkg > own ? pkg : own;
  };
  payable(o.changeScript, 'the change of fee inputs');
  const changeDust = dustLimit(o.changeScript);
  let needed = 0n;
  for (let n = 0; n <= walletInputs.length; n++) {
    const chosen = walletInputs.slice(0, n);
    const inputs = [...o.inputs, ...chosen];
    const available = surplus + chosen.reduce((a, i) => a + i.valueSat, 0n);
    const witnesses = inputs.map((i) => i.maxWitnessSize);
    const feeWithChange = feeFor(estimateWeight(witnesses, [...fixedScripts, o.changeScript]));
    if (available - feeWithChange >= changeDust) {
      const change = available - feeWithChange;
      const tx = assemble(inputs, [...o.outputs, { script: o.changeScript, valueSat: change }]);
      witnessAll(tx, inputs);
      return built(tx, inputs, rate, change);
    }
    const feeAlone = feeFor(estimateWeight(witnesses, fixedScripts));
    // Less than a change output's worth left over: it goes to the fee.
    if (available >= feeAlone && fixedScripts.length) {
      const tx = assemble(inputs, o.outputs);
      witnessAll(tx, inputs);
      return built(tx, inputs, rate, 0n);
    }
    needed = feeWithChange + changeDust - surplus;
  }
  const availableSat = o.coins.reduce((a, c) => a + c.valueSat, 0n);
  return {
    ok: false,
    reason: 'insufficient-funds',
    neededSat: needed,
    availableSat,
    message: `paying ${rate} sat/kw needs about ${needed} sat from the wallet, which offered ${availableSat} sat; add funds to the on-chain wallet`,
  };
}

function walletInput(c: WalletCoin, signer: WalletSigner): SpendInput {
  return {
    label: 'wallet',
    outpoint: c.outpoint,
    valueSat: c.valueSat,
    prevScript: c.script,
    sequence: SEQUENCE_RBF,
    minLocktime: 0,
    maxWitnessSize: c.maxWitnessSize ?? P2WPKH_WITNESS_SIZE,
    witness: (tx, index, ctx) => signer(tx, index, c, ctx.prevouts),
  };
}
