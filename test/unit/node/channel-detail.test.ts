/**
 * getchannel and pendingfunds as the node computes them (core/node/channel-detail.ts), and the words
 * the app puts them in (renderer/channel-words.ts): commitment numbers and revocations, whose delay is
 * whose, HTLC countdowns; every amount not spendable yet, a sweep in the mempool counted once; the
 * force close's confirmation, a breach, and the refusals.
 */
import { Transaction } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { channelDetail, pendingFunds } from '../../../core/node/channel-detail.ts';
import type { ChannelState, SideParams } from '../../../core/channel/types.ts';
import type { ChannelView, MethodOutput, PendingForceClosingChannel } from '../../../core/api/contract.ts';
import { aboutTime, closedWords, forceCloseText, pendingFundText } from '../../../renderer/channel-words.ts';
import { fromNode } from '../../../renderer/errors.ts';

const PEER = '02' + '11'.repeat(32);
const POINT = `${'ab'.repeat(32)}:0`;
const CLOSING = 'cd'.repeat(32);

const side = (toSelfDelay: number, reserveSat: bigint): SideParams => ({ toSelfDelay, reserveSat, dustLimitSat: 546n, htlcMinimumMsat: 1n, maxHtlcValueInFlightMsat: 1_000_000n, maxAcceptedHtlcs: 30 }) as SideParams;
const view = { remote_pubkey: PEER, channel_point: POINT, local_balance: '400000', remote_balance: '90000', private: false } as ChannelView;
const htlc = (id: bigint, incoming: boolean, cltvExpiry: number) => ({ id, incoming, cltvExpiry, amountMsat: 2_500_000n, paymentHash: new Uint8Array(32).fill(7), onion: new Uint8Array() });

describe('getchannel', () => {
  it('gives both commitment numbers, the states each side revoked, whose delay is whose, and each HTLC once with its countdown', () => {
    const st = {
      phase: 'NORMAL',
      // We impose 720 blocks on the peer; the peer imposes 144 on us.
      local: side(720, 5000n),
      remote: side(144, 4000n),
      remoteSigOnLocalCommitment: new Uint8Array(64),
      remoteSecondPoint: new Uint8Array(33),
      commit: {
        localIndex: 7n,
        remoteIndex: 6n,
        // An outgoing HTLC on both commitments, an incoming one only on the peer's next (being signed).
        localSpec: { htlcs: [htlc(3n, false, 900)] },
        remoteSpec: { htlcs: [htlc(3n, false, 900)] },
        remoteNext: { spec: { htlcs: [htlc(3n, false, 900), htlc(0n, true, 850)] } },
      },
    } as unknown as ChannelState;
    const d = channelDetail(st, view, 800);
    expect(d).toMatchObject({ num_updates: '7', local_commit_height: '7', remote_commit_height: '6', revoked_local_states: '7', revoked_remote_states: '6', block_height: 800 });
    expect(d.local_constraints).toMatchObject({ csv_delay: 144, chan_reserve_sat: '4000' });
    expect(d.remote_constraints).toMatchObject({ csv_delay: 720, chan_reserve_sat: '5000' });
    expect(d.pending_htlcs).toEqual([
      { incoming: true, amount: '2500', amount_msat: '2500000', hash_lock: '07'.repeat(32), expiration_height: 850, blocks_til_expiry: 50, htlc_index: '0' },
      { incoming: false, amount: '2500', amount_msat: '2500000', hash_lock: '07'.repeat(32), expiration_height: 900, blocks_til_expiry: 100, htlc_index: '3' },
    ]);
    expect(d.close_type).toBeUndefined();
  });

  it('refuses a channel with no commitment both sides signed, in words', () => {
    expect(() => channelDetail({ phase: 'WAIT_ACCEPT', local: side(144, 1n) } as unknown as ChannelState, view, 800)).toThrow(/no commitment both sides signed yet/);
  });
});

const wallet = { maturing_coins: [{ blocks_to_maturity: 12, amount_sat: '5000000000' }] } as MethodOutput<'walletbalance'>;

function sweepOf(txid: string): string {
  const tx = new Transaction();
  tx.addInput(Buffer.from(txid, 'hex').reverse(), 0);
  tx.addOutput(Buffer.alloc(22, 1), 470_000n);
  return tx.toHex();
}

describe('pendingfunds', () => {
  const closing = (over: Partial<PendingForceClosingChannel>): PendingForceClosingChannel => ({
    channel: view,
    closing_txid: CLOSING,
    limbo_balance: '482500',
    maturity_height: 944,
    blocks_til_maturity: 144,
    recovered_balance: '0',
    pending_htlcs: [{ incoming: false, amount: '2500', outpoint: `${CLOSING}:2`, maturity_height: 900, blocks_til_maturity: 100, stage: 1 }],
    close_type: 'LOCAL_FORCE_CLOSE',
    ...over,
  });
  const txns = (t: Partial<MethodOutput<'listchaintxns'>['transactions'][number]>[]) => ({ transactions: t.map((x) => ({ tx_hash: 'ee'.repeat(32), amount: '0', num_confirmations: 0, block_height: 0, time_stamp: '0', total_fees: '0', raw_tx_hex: '', label: '', ...x })) });

  it('lists our side of a force close apart from its HTLCs, a receipt in the mempool, and mining rewards, each with its block', () => {
    const r = pendingFunds({
      tip: 800,
      wallet,
      txns: txns([{ tx_hash: 'ff'.repeat(32), amount: '30000' }, { tx_hash: '99'.repeat(32), amount: '470000', raw_tx_hex: sweepOf(CLOSING) }, { amount: '7', num_confirmations: 2 }]),
      pending: { total_limbo_balance: '482500', pending_open_channels: [], waiting_close_channels: [], pending_force_closing_channels: [closing({})] },
      csvDelay: () => 144,
    });
    expect(r.funds.map((f) => [f.kind, f.amount_sat, f.maturity_height, f.blocks_til_maturity])).toEqual([
      ['FORCE_CLOSE_HTLC', '2500', 900, 100],
      ['FORCE_CLOSE_OUTPUT', '480000', 944, 144],
      // The sweep of the closing transaction in the mempool is the channel's, counted once.
      ['UNCONFIRMED_RECEIPT', '30000', 0, 1],
      ['IMMATURE_COINBASE', '5000000000', 812, 12],
    ]);
    expect(r.total_sat).toBe(String(2500 + 480000 + 30000 + 5_000_000_000));
  });

  it('before our commitment is in a block, our side waits one block and then our delay', () => {
    const r = pendingFunds({ tip: 800, wallet: { maturing_coins: [] } as unknown as MethodOutput<'walletbalance'>, txns: txns([]), pending: { total_limbo_balance: '0', pending_open_channels: [], waiting_close_channels: [], pending_force_closing_channels: [closing({ close_type: '', maturity_height: 0, blocks_til_maturity: 0, pending_htlcs: [] })] }, csvDelay: () => 144 });
    expect(r.funds).toMatchObject([{ kind: 'FORCE_CLOSE_OUTPUT', amount_sat: '482500', maturity_height: 0, blocks_til_maturity: 145 }]);
    expect(pendingFundText(r.funds[0]!, () => 'Carol', 'sat')).toBe('Coming back from the force-closed channel with Carol: 482\u202f500 sat, once a block confirms the closing transaction and 144 blocks after it (about 24 hours)');
  });
});

describe('the words', () => {
  it('estimates time at 10 minutes a block', () => {
    expect([aboutTime(1), aboutTime(6), aboutTime(84), aboutTime(144), aboutTime(2016)]).toEqual(['about 10 minutes', 'about 1 hour', 'about 14 hours', 'about 24 hours', 'about 14 days']);
  });

  it('says what a force close does and where the money is', () => {
    const text = forceCloseText({ local: '412000', remote: '90000', csvDelay: 144, htlcs: 2 }, 'btc').join(' ');
    expect(text).toContain('Their side, 0.00090000 BTC, is theirs as soon as a block confirms it.');
    expect(text).toContain('Your side, 0.00412000 BTC, comes back to your on-chain wallet 144 blocks after that (about 24 hours)');
    expect(text).toContain('The 2 payments in flight are settled on chain');
    const f = { kind: 'FORCE_CLOSE_OUTPUT', amount_sat: '412000', maturity_height: 812345, blocks_til_maturity: 84, txid: CLOSING, remote_pubkey: PEER, channel_point: POINT, close_type: 'LOCAL_FORCE_CLOSE', stage: 0, incoming: false } as const;
    expect(pendingFundText(f, () => 'Carol', 'btc')).toBe('Coming back from the force-closed channel with Carol: 0.00412000 BTC, spendable at block 812,345, in about 14 hours');
  });

  it('tells a breach as what it is, with what was recovered', () => {
    const w = closedWords({ close_type: 'BREACH_CLOSE', settled_balance: '498000' } as MethodOutput<'closedchannels'>['channels'][number], 'sat');
    expect(w.label).toBe('Breach: the penalty took their side');
    expect(w.note).toBe('The other node tried to cheat: it published an old state of the channel, one it had revoked. Coulomb caught it in time and the penalty took their side too: 498\u202f000 sat recovered to your on-chain wallet.');
  });

  it('puts the force close refusals in words', () => {
    expect(fromNode('failed_precondition', 'the channel cannot be force-closed: the peer proved our channel data out of date: publishing our commitment could publish a revoked one and lose the channel; wait for the peer to close it').text).toMatch(/^Coulomb did not force-close: the other node proved that this wallet’s copy of the channel is out of date.*Wait for the other node to close/);
    expect(fromNode('failed_precondition', 'the channel has no commitment both sides signed yet, so there is nothing to publish; it can only be abandoned').text).toMatch(/^This channel has nothing to publish yet/);
  });
});
