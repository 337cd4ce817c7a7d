/**
 * Channels closing on chain, and money not spendable yet, in plain words, without React: the force
 * close's confirmation, each amount pendingfunds lists, a breach. Every number comes from the node
 * (delays, heights, blocks left); here they only become sentences. A block comes about every 10
 * minutes, so times are estimates and say "about".
 */
import type { ClosedChannelView, PendingFund } from '../core/api/contract.ts';
import { formatSats } from './format.ts';
import type { Unit } from './format.ts';

/** The average time between blocks that the estimates assume. */
export const BLOCK_MINUTES = 10;

export const blocksText = (n: number): string => `${n.toLocaleString('en-US')} block${n === 1 ? '' : 's'}`;

/** How long `blocks` blocks take, roughly: "about 10 minutes", "about 14 hours", "about 3 days". */
export function aboutTime(blocks: number): string {
  const min = Math.max(0, blocks) * BLOCK_MINUTES;
  if (min < 60) return `about ${Math.max(min, BLOCK_MINUTES)} minutes`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `about ${hours} hour${hours === 1 ? '' : 's'}`;
  return `about ${Math.round(hours / 24)} days`;
}

export const heightText = (h: number): string => h.toLocaleString('en-US');

export interface ForceCloseFacts {
  /** Our side and theirs, in sat (listchannels). */
  local: string;
  remote: string;
  /** The blocks our side waits after our commitment confirms (getchannel's local_constraints.csv_delay). */
  csvDelay: number;
  /** Payments in flight on the channel. */
  htlcs: number;
}

/** What a force close does, for the confirmation: what is published, who gets what when, what it costs. */
export function forceCloseText(f: ForceCloseFacts, unit: Unit): string[] {
  const lines = [
    'Coulomb publishes its latest commitment transaction, the one both of you signed, without asking the other node.',
    `Their side, ${formatSats(f.remote, unit)}, is theirs as soon as a block confirms it.`,
    `Your side, ${formatSats(f.local, unit)}, comes back to your on-chain wallet ${blocksText(f.csvDelay)} after that (${aboutTime(f.csvDelay)}), less the network fees of the closing: the delay gives the other node time to prove that a state is old, and locks your coins until then.`,
  ];
  if (f.htlcs > 0) lines.push(`${f.htlcs === 1 ? 'The payment' : `The ${f.htlcs} payments`} in flight ${f.htlcs === 1 ? 'is' : 'are'} settled on chain: each is claimed with its secret, or refunded once it expires.`);
  lines.push('Use it only when the other node is gone or does not answer: “Close channel” is faster and cheaper while it is online.');
  return lines;
}

/** A channel's counterpart, as people know it. */
export type NameOf = (pubkey: string) => string;

/** One amount of pendingfunds, as a sentence: where it is, how much, and when it is spendable. */
export function pendingFundText(f: PendingFund, name: NameOf, unit: Unit): string {
  const amount = formatSats(f.amount_sat, unit);
  const when = f.maturity_height > 0 ? `spendable at block ${heightText(f.maturity_height)}, in ${f.blocks_til_maturity === 0 ? 'the next block' : aboutTime(f.blocks_til_maturity)}` : undefined;
  const who = f.remote_pubkey ? name(f.remote_pubkey) : '';
  switch (f.kind) {
    case 'FORCE_CLOSE_OUTPUT':
      if (f.close_type === 'BREACH_CLOSE') return `Taken back from the channel with ${who}, whose node published an old state: ${amount}, ${when ?? 'once a block confirms the penalty'}`;
      if (!when) return `Coming back from the force-closed channel with ${who}: ${amount}, once a block confirms the closing transaction and ${blocksText(f.blocks_til_maturity - 1)} after it (${aboutTime(f.blocks_til_maturity)})`;
      return `Coming back from the force-closed channel with ${who}: ${amount}, ${when}`;
    case 'FORCE_CLOSE_HTLC': {
      const what = `A payment ${f.incoming ? 'to you' : 'you sent'} that was in flight in the force-closed channel with ${who}: ${amount}`;
      if (f.stage === 2) return `${what}, claimed on chain and ${when ?? 'waiting for its delay'}`;
      return `${what}, settled on chain ${f.maturity_height > 0 ? `from block ${heightText(f.maturity_height)} (${f.blocks_til_maturity === 0 ? 'now' : `in ${aboutTime(f.blocks_til_maturity)}`})` : 'once the closing transaction confirms'}`;
    }
    case 'COOPERATIVE_CLOSE':
      return `Coming back from the channel with ${who}, closing by agreement: ${amount}, once a block confirms the closing transaction (${aboutTime(1)})`;
    case 'CHANNEL_OPENING':
      return `In the channel opening with ${who}: ${amount}, usable ${f.maturity_height > 0 ? `at block ${heightText(f.maturity_height)}, in ${aboutTime(f.blocks_til_maturity)}` : `once ${blocksText(f.blocks_til_maturity)} confirm its funding (${aboutTime(f.blocks_til_maturity)})`}`;
    case 'UNCONFIRMED_RECEIPT':
      return `Received, waiting for its first block: ${amount} (${aboutTime(1)})`;
    case 'IMMATURE_COINBASE':
      return `From mining: ${amount}, ${when ?? `spendable in ${blocksText(f.blocks_til_maturity)}`}`;
  }
}

/** How a closed channel ended, as its label and a sentence (closedchannels' close_type). */
export function closedWords(c: ClosedChannelView, unit: Unit): { label: string; note?: string } {
  switch (c.close_type) {
    case 'COOPERATIVE_CLOSE':
      return { label: 'Closed' };
    case 'LOCAL_FORCE_CLOSE':
      return { label: 'Force-closed by you', note: 'Your commitment was published without the other node; your side came back after its delay, less the network fees.' };
    case 'REMOTE_FORCE_CLOSE':
      return { label: 'Force-closed by the other node', note: 'The other node published its commitment without you; your side was yours at once, less the fee of sweeping it.' };
    case 'BREACH_CLOSE':
      return {
        label: 'Breach: the penalty took their side',
        note: `The other node tried to cheat: it published an old state of the channel, one it had revoked. Coulomb caught it in time and the penalty took their side too: ${formatSats(c.settled_balance, unit)} recovered to your on-chain wallet.`,
      };
    case 'ABANDONED':
      return { label: 'Failed after it opened' };
    case 'FUNDING_CANCELED':
      return { label: 'Did not open' };
  }
}
