/**
 * A channel in the terms of the payment-channel idea (getchannel), and every amount that is ours but
 * not spendable yet (pendingfunds). The numbers are the node's: commitment numbers and revocations from
 * the channel's commitments (BOLT 2), each side's delay from open_channel/accept_channel (BOLT 3's
 * to_self_delay), HTLC countdowns from the tip, and the funds from the views the node already gives
 * (walletbalance, listchaintxns, pendingchannels), so the screens only put them in words.
 */
import { Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { ApiError } from '../api/contract.ts';
import type { ApiHandlers, ChannelConstraintsView, ChannelDetailView, ChannelHtlcView, ChannelView, MethodOutput, PendingFund } from '../api/contract.ts';
import { commitmentsOf } from '../channel/updates.ts';
import type { ChannelState, SideParams } from '../channel/types.ts';
import { closeTypeOf } from '../channel/force-close.ts';

/**
 * What binds the side whose own outputs `waiter` names, in lncli's terms: `self` is that side's
 * parameters (its dust limit), `other` the peer's, which set that side's delay, reserve and HTLC limits.
 */
function constraints(self: SideParams, other: SideParams): ChannelConstraintsView {
  return {
    csv_delay: other.toSelfDelay,
    chan_reserve_sat: other.reserveSat.toString(),
    dust_limit_sat: self.dustLimitSat.toString(),
    min_htlc_msat: other.htlcMinimumMsat.toString(),
    max_pending_amt_msat: other.maxHtlcValueInFlightMsat.toString(),
    max_accepted_htlcs: other.maxAcceptedHtlcs,
  };
}

/** getchannel: the channel's commitments, revocations, delays and HTLCs, from its stored state. */
export function channelDetail(st: ChannelState, channel: ChannelView, tip: number): ChannelDetailView {
  if (!st.remote || !st.remoteSigOnLocalCommitment || !st.remoteSecondPoint) {
    throw new ApiError('failed_precondition', 'The channel has no commitment both sides signed yet: its numbers exist once it opens; wait for the funding to confirm');
  }
  const c = commitmentsOf(st);
  // An HTLC is on our commitment, the peer's, or both (while an update goes round): each once.
  const seen = new Set<string>();
  const pending_htlcs: ChannelHtlcView[] = [];
  for (const h of [...c.localSpec.htlcs, ...c.remoteSpec.htlcs, ...(c.remoteNext?.spec.htlcs ?? [])]) {
    const id = `${h.incoming ? 'in' : 'out'}:${h.id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    pending_htlcs.push({
      incoming: h.incoming,
      amount: (h.amountMsat / 1000n).toString(),
      amount_msat: h.amountMsat.toString(),
      hash_lock: hex.encode(h.paymentHash),
      expiration_height: h.cltvExpiry,
      blocks_til_expiry: Math.max(0, h.cltvExpiry - tip),
      htlc_index: h.id.toString(),
    });
  }
  pending_htlcs.sort((a, b) => a.expiration_height - b.expiration_height);
  return {
    channel,
    block_height: tip,
    num_updates: c.localIndex.toString(),
    local_commit_height: c.localIndex.toString(),
    remote_commit_height: c.remoteIndex.toString(),
    // Every commitment before the current one was revoked: ours by the secrets we sent, the peer's by those we hold.
    revoked_local_states: c.localIndex.toString(),
    revoked_remote_states: c.remoteIndex.toString(),
    local_constraints: constraints(st.local, st.remote),
    remote_constraints: constraints(st.remote, st.local),
    pending_htlcs,
    ...(st.phase === 'FORCE_CLOSING' || (st.phase === 'CLOSED' && st.forceClose) ? { close_type: st.forceClose?.txid ? closeTypeOf(st) : '' } : {}),
  };
}

export interface PendingFundsInput {
  tip: number;
  wallet: MethodOutput<'walletbalance'>;
  txns: MethodOutput<'listchaintxns'>;
  pending: MethodOutput<'pendingchannels'>;
  /** Our delay (csv_delay) in a channel, by channel point: what our commitment's to_local waits once it confirms. */
  csvDelay(chanPoint: string): number | undefined;
}

const fund = (f: Partial<PendingFund> & Pick<PendingFund, 'kind' | 'amount_sat' | 'maturity_height' | 'blocks_til_maturity'>): PendingFund => ({
  txid: '',
  remote_pubkey: '',
  channel_point: '',
  close_type: '',
  stage: 0,
  incoming: false,
  ...f,
});

/**
 * pendingfunds: one list of what is ours and not spendable yet. A transaction the wallet sees in the
 * mempool that is the closing of a channel listed here, or spends one of its outputs (a sweep), is
 * counted once, as the channel's.
 */
export function pendingFunds(i: PendingFundsInput): MethodOutput<'pendingfunds'> {
  const { tip, pending } = i;
  const funds: PendingFund[] = [];
  const until = (h: number): number => Math.max(0, h - tip);
  const closingTxids = new Set<string>();
  const closingOutpoints = new Set<string>();

  for (const p of pending.pending_open_channels) {
    if (BigInt(p.channel.local_balance) === 0n) continue;
    // Once in a block, the funding is deep enough at its height plus the depth the channel needs, less one.
    const h = p.confirmations > 0 ? tip - p.confirmations + p.confirmations_needed : 0;
    funds.push(fund({ kind: 'CHANNEL_OPENING', amount_sat: p.channel.local_balance, maturity_height: h, blocks_til_maturity: h ? until(h) : p.confirmations_needed, txid: p.funding_txid, remote_pubkey: p.channel.remote_pubkey, channel_point: p.channel.channel_point }));
  }
  for (const w of pending.waiting_close_channels) {
    if (w.closing_txid) closingTxids.add(w.closing_txid);
    if (BigInt(w.limbo_balance) === 0n) continue;
    funds.push(fund({ kind: 'COOPERATIVE_CLOSE', amount_sat: w.limbo_balance, maturity_height: 0, blocks_til_maturity: 1, txid: w.closing_txid, remote_pubkey: w.channel.remote_pubkey, channel_point: w.channel.channel_point, close_type: 'COOPERATIVE_CLOSE' }));
  }
  for (const f of pending.pending_force_closing_channels) {
    const base = { remote_pubkey: f.channel.remote_pubkey, channel_point: f.channel.channel_point, close_type: f.close_type, txid: f.closing_txid };
    if (f.closing_txid) closingTxids.add(f.closing_txid);
    let htlcSum = 0n;
    for (const h of f.pending_htlcs) {
      htlcSum += BigInt(h.amount);
      closingOutpoints.add(h.outpoint);
      // Before the commitment confirms, an HTLC we received has no height yet: it can be claimed once it does.
      funds.push(fund({ ...base, kind: 'FORCE_CLOSE_HTLC', amount_sat: h.amount, maturity_height: h.maturity_height, blocks_til_maturity: h.maturity_height ? h.blocks_til_maturity : 1, stage: h.stage, incoming: h.incoming }));
    }
    const own = BigInt(f.limbo_balance) - htlcSum;
    if (own <= 0n) continue;
    if (f.close_type) {
      funds.push(fund({ ...base, kind: 'FORCE_CLOSE_OUTPUT', amount_sat: own.toString(), maturity_height: f.maturity_height, blocks_til_maturity: f.blocks_til_maturity }));
    } else {
      // Our commitment waits for its first block; to_local waits our delay after it.
      const delay = i.csvDelay(f.channel.channel_point) ?? 0;
      funds.push(fund({ ...base, kind: 'FORCE_CLOSE_OUTPUT', amount_sat: own.toString(), maturity_height: 0, blocks_til_maturity: 1 + delay }));
    }
  }
  for (const t of i.txns.transactions) {
    if (t.num_confirmations > 0 || BigInt(t.amount) <= 0n || closingTxids.has(t.tx_hash)) continue;
    if (spendsFrom(t.raw_tx_hex, closingTxids, closingOutpoints)) continue;
    funds.push(fund({ kind: 'UNCONFIRMED_RECEIPT', amount_sat: t.amount, maturity_height: 0, blocks_til_maturity: 1, txid: t.tx_hash }));
  }
  for (const m of i.wallet.maturing_coins) {
    funds.push(fund({ kind: 'IMMATURE_COINBASE', amount_sat: m.amount_sat, maturity_height: tip + m.blocks_to_maturity, blocks_til_maturity: m.blocks_to_maturity }));
  }
  const total = funds.reduce((s, f) => s + BigInt(f.amount_sat), 0n);
  return { block_height: tip, total_sat: total.toString(), funds };
}

/** Does this transaction spend an output of a closing transaction, or one of the listed outpoints (an HTLC's)? */
function spendsFrom(rawHex: string, txids: Set<string>, outpoints: Set<string>): boolean {
  if (!rawHex || (txids.size === 0 && outpoints.size === 0)) return false;
  let tx: Transaction;
  try {
    tx = Transaction.fromHex(rawHex);
  } catch {
    return false;
  }
  return tx.ins.some((input) => {
    const txid = Buffer.from(input.hash).reverse().toString('hex');
    return txids.has(txid) || outpoints.has(`${txid}:${input.index}`);
  });
}

export interface DetailDeps {
  tip(): number;
  /** Every stored channel with its peer and API view. */
  channels(): { state: ChannelState; view: () => ChannelView }[];
  handlers(): Pick<ApiHandlers, 'walletbalance' | 'listchaintxns' | 'pendingchannels'>;
}

type DetailMethods = Pick<ApiHandlers, 'getchannel' | 'pendingfunds'>;

export function channelDetailHandlers(d: DetailDeps): DetailMethods {
  const point = (st: ChannelState): string => (st.funding ? `${st.funding.txid}:${st.funding.vout}` : '');
  return {
    getchannel: async ({ chan_point }) => {
      const c = d.channels().find((x) => point(x.state) === chan_point);
      if (!c) throw new ApiError('not_found', `No channel with channel point ${chan_point} (see coulomb listchannels)`);
      return channelDetail(c.state, c.view(), d.tip());
    },
    pendingfunds: async () => {
      const h = d.handlers();
      const [wallet, txns, pending] = await Promise.all([h.walletbalance({}), h.listchaintxns({}), h.pendingchannels({})]);
      const delays = new Map(d.channels().filter((c) => c.state.remote).map((c) => [point(c.state), c.state.remote!.toSelfDelay]));
      return pendingFunds({ tip: d.tip(), wallet, txns, pending, csvDelay: (p) => delays.get(p) });
    },
  };
}
