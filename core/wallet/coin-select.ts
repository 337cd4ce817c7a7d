/**
 * Coin selection for P2WPKH wallets. Largest coins first until the amount and the fee of the inputs
 * so far are covered; change only when it is worth more than it costs to spend later.
 *
 * Written here rather than taken from a library: the common one (coinselect) sizes inputs as legacy
 * P2PKH, which overpays by about 40% for native segwit inputs.
 */

/** Virtual sizes (vbytes) of native segwit parts. */
export const VSIZE = {
  overhead: 10.5,
  p2wpkhInput: 68,
  p2wpkhOutput: 31,
  p2wshOutput: 43,
  p2trOutput: 43,
} as const;

export function outputVsize(script: Uint8Array): number {
  if (script.length === 22) return VSIZE.p2wpkhOutput;
  if (script.length === 34) return VSIZE.p2wshOutput;
  return 9 + script.length;
}

export interface Candidate {
  key: string;
  value: bigint;
}

export interface Selection<C extends Candidate> {
  inputs: C[];
  fee: bigint;
  /** Zero when no change output is made (the remainder goes to the fee). */
  change: bigint;
}

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

const DUST_CHANGE = 546n;

/** Fee for a size in vbytes: the size rounds up to whole vbytes first, as nodes count it. */
function feeFor(vsize: number, feeRate: number): bigint {
  return BigInt(Math.ceil(Math.ceil(vsize) * feeRate));
}

/** `outputs` are the payment outputs' scripts and values; `feeRate` in sat/vB. */
export function selectCoins<C extends Candidate>(coins: C[], outputs: { script: Uint8Array; value: bigint }[], feeRate: number): Selection<C> {
  const target = outputs.reduce((a, o) => a + o.value, 0n);
  const baseVsize = VSIZE.overhead + outputs.reduce((a, o) => a + outputVsize(o.script), 0);
  const sorted = [...coins].sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : 0));
  const inputs: C[] = [];
  let total = 0n;
  for (const c of sorted) {
    inputs.push(c);
    total += c.value;
    const vsize = baseVsize + inputs.length * VSIZE.p2wpkhInput;
    const feeNoChange = feeFor(vsize, feeRate);
    if (total < target + feeNoChange) continue;
    const feeWithChange = feeFor(vsize + VSIZE.p2wpkhOutput, feeRate);
    const change = total - target - feeWithChange;
    // A change output must be worth more than dust and than what spending it later costs.
    if (change > DUST_CHANGE + BigInt(Math.ceil(VSIZE.p2wpkhInput * feeRate))) return { inputs, fee: feeWithChange, change };
    return { inputs, fee: total - target, change: 0n };
  }
  const have = sorted.reduce((a, c) => a + c.value, 0n);
  throw new SelectionError(`not enough funds: sending ${target} sat plus fees needs more than the ${have} sat spendable`);
}

/** Everything to one output ("send all"): returns the amount that output gets after the fee. */
export function sweepAmount(coins: Candidate[], outScript: Uint8Array, feeRate: number): { amount: bigint; fee: bigint } {
  const vsize = VSIZE.overhead + coins.length * VSIZE.p2wpkhInput + outputVsize(outScript);
  const fee = feeFor(vsize, feeRate);
  const total = coins.reduce((a, c) => a + c.value, 0n);
  if (total - fee <= DUST_CHANGE) throw new SelectionError(`not enough funds: ${total} sat cannot pay a ${fee} sat fee and leave more than dust`);
  return { amount: total - fee, fee };
}
