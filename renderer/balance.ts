/** The on-chain balance for the Home screen, without React: what cannot be spent yet, in plain words. */
import type { MethodOutput } from '../core/api/contract.ts';
import { formatSats } from './format.ts';
import type { Unit } from './format.ts';

const blocks = (n: number): string => `${n} block${n === 1 ? '' : 's'}`;

/**
 * Mining rewards not yet spendable, as a sentence ("5 000 sat from mining, spendable in 3 blocks"), or
 * undefined when there are none. Rewards maturing at different heights say when the first and the
 * last become spendable.
 */
export function immatureSentence(b: Pick<MethodOutput<'walletbalance'>, 'immature_balance' | 'maturing_coins'>, unit: Unit): string | undefined {
  const m = b.maturing_coins;
  if (BigInt(b.immature_balance) === 0n || !m.length) return undefined;
  const total = formatSats(b.immature_balance, unit);
  const last = m[m.length - 1]!.blocks_to_maturity;
  if (m.length === 1) return `${total} from mining, spendable in ${blocks(last)}`;
  const first = m[0]!;
  return `${total} from mining, spendable over the next ${blocks(last)} (the first ${formatSats(first.amount_sat, unit)} in ${blocks(first.blocks_to_maturity)})`;
}
