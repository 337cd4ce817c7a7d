/**
 * Coinbase maturity, as Bitcoin Core's consensus checks it (Consensus::CheckTxInputs): an output of a
 * coinbase mined at height H may be spent only by a transaction in a block at height H + 100 or
 * above. A transaction entering the mempool is checked as if it were in the next block (tip + 1), so
 * the coin is spendable once it has 100 confirmations.
 */
export const COINBASE_MATURITY = 100;

/**
 * Blocks still to be mined before a coinbase output mined at `height` can be spent with the chain at
 * `tip`: 0 once a transaction spending it can enter the next block.
 */
export function blocksToMaturity(height: number, tip: number): number {
  return Math.max(0, height + COINBASE_MATURITY - (tip + 1));
}
