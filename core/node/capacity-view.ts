/**
 * The API's view of what the channels and the wallet allow now: each channel's shares and what it can
 * send and receive, the most one payment can send or bring, and what a channel opening can hold and
 * costs. The numbers come from core/channel/capacity.ts and core/wallet/funding-estimate.ts, the same
 * arithmetic the node then applies, so the screens never compute them themselves.
 */
import { channelNumbers } from '../channel/capacity.ts';
import { fundingEstimate } from '../wallet/funding-estimate.ts';
import type { ChannelLimits } from '../channel/config.ts';
import type { ChannelState } from '../channel/types.ts';
import type { Wallet } from '../wallet/wallet.ts';
import type { ChannelManager } from './channels.ts';
import type { ChannelView, MethodOutput } from '../api/contract.ts';
import { satText } from '../util/amount-text.ts';

type NumbersFields = Pick<ChannelView, 'commit_fee' | 'anchor_sat' | 'unsettled_balance' | 'local_chan_reserve_sat' | 'remote_chan_reserve_sat' | 'spendable_msat' | 'receivable_msat'>;

/** A channel's shares for listchannels and pendingchannels. */
export function channelNumbersView(st: ChannelState): NumbersFields {
  const n = channelNumbers(st);
  return {
    commit_fee: n.commitFeeSat.toString(),
    anchor_sat: n.anchorSat.toString(),
    unsettled_balance: n.inFlightSat.toString(),
    local_chan_reserve_sat: n.localReserveSat.toString(),
    remote_chan_reserve_sat: n.remoteReserveSat.toString(),
    spendable_msat: n.spendableMsat.toString(),
    receivable_msat: n.receivableMsat.toString(),
  };
}

const both = (msat: bigint): { sat: string; msat: string } => ({ sat: (msat / 1000n).toString(), msat: msat.toString() });

/** The most one payment can send or bring now: the active channel with the most room each way (a payment goes over one channel). */
export function paymentRoom(channels: ChannelManager): Pick<MethodOutput<'channelbalance'>, 'can_send' | 'can_receive'> {
  let send = 0n;
  let receive = 0n;
  for (const c of channels.list()) {
    if (c.state.phase !== 'NORMAL' || !channels.isLinked(c.key)) continue;
    const n = channelNumbers(c.state);
    if (n.spendableMsat > send) send = n.spendableMsat;
    if (n.receivableMsat > receive) receive = n.receivableMsat;
  }
  return { can_send: both(send), can_receive: both(receive) };
}

/** What opening a channel of `amountSat` (or the largest) allows and costs at `satPerVb`, from the confirmed coins. */
export function estimateOpen(opts: { wallet: Wallet; tipHeight: number; satPerVb: number; amountSat?: bigint; limits: ChannelLimits }): MethodOutput<'estimateopen'> {
  const coins = opts.wallet
    .listUnspent(opts.tipHeight, 1)
    .filter((u) => !u.reserved)
    .map((u) => ({ key: `${u.txid}:${u.vout}`, value: u.value }));
  const e = fundingEstimate({ coins, satPerVb: opts.satPerVb, minFundingSat: opts.limits.minFundingSat, maxFundingSat: opts.limits.maxFundingSat, ...(opts.amountSat !== undefined ? { amountSat: opts.amountSat } : {}) });
  return {
    max_local_amt: e.maxSat.toString(),
    min_local_amt: opts.limits.minFundingSat.toString(),
    fee_sat: e.feeSat?.toString() ?? '',
    sat_per_vbyte: String(opts.satPerVb),
    confirmed_balance: coins.reduce((t, c) => t + c.value, 0n).toString(),
  };
}

/** Why a channel of `amountSat` cannot be opened with these coins, for people; undefined when it can. */
export function openRefusal(est: MethodOutput<'estimateopen'>, amountSat: bigint): string | undefined {
  if (est.fee_sat !== '' && amountSat <= BigInt(est.max_local_amt)) return undefined;
  const max = BigInt(est.max_local_amt);
  if (max === 0n) {
    return `Your confirmed balance (${satText(BigInt(est.confirmed_balance))}) cannot fund a channel: the smallest is ${satText(BigInt(est.min_local_amt))} plus the network fee. Receive more bitcoin first, and wait for a block to confirm it.`;
  }
  return `A channel of ${satText(amountSat)} is more than your confirmed balance can fund: you can open up to ${satText(max)} now (${satText(BigInt(est.confirmed_balance))} confirmed, less the network fee). To open a larger one, receive more bitcoin first.`;
}
