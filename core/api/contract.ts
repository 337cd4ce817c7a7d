/**
 * The one API contract of a Coulomb node. The CLI (over the local control channel), the Electron IPC
 * bridge and the browser-mode WebSocket bridge all speak it: each method has an input schema (checked
 * before any handler runs) and an output type. Field names follow lncli's JSON so lnd users feel at home.
 */
import { z } from 'zod';
import type { PaymentDiagnosis } from '../payments/diagnosis.ts';

export type { PaymentDiagnosis };

const pubkeyHex = z.string().regex(/^(02|03)[0-9a-fA-F]{64}$/, 'a node public key is 66 hex characters starting with 02 or 03');
const hex32 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'a hash is 64 hex characters');

const payRequest = z
  .object({
    pay_req: z.string().min(1).max(8000),
    /** For an invoice without an amount: what to pay, in sat. */
    amt: z.number().int().positive().optional(),
    amt_msat: z.number().int().positive().optional(),
    /** How long to wait for the outcome (default 60 s); the payment itself is never abandoned. */
    timeout_seconds: z.number().int().min(1).max(3600).optional(),
    fee_limit_sat: z.number().int().min(0).optional(),
  })
  .strict();

export const methodSchemas = {
  getinfo: z.object({}).strict(),
  connect: z
    .object({
      /** `<pubkey>@<host>[:<port>]` */
      addr: z.string().min(1).max(600),
      /** Keep reconnecting to this peer when the connection drops (lncli's --perm). */
      perm: z.boolean().optional(),
      timeout_ms: z.number().int().min(100).max(600_000).optional(),
    })
    .strict(),
  disconnect: z.object({ pub_key: pubkeyHex }).strict(),
  listpeers: z.object({}).strict(),
  stop: z.object({}).strict(),
  /** New recovery words (nothing is stored): the first step of creating a wallet. */
  genseed: z.object({}).strict(),
  create: z
    .object({
      password: z.string().min(8, 'choose a password of at least 8 characters').max(1024),
      /** The 24 words: from genseed for a new wallet, or the user's for a restore. */
      words: z.string().min(1).max(1000),
      passphrase: z.string().max(1024).optional(),
      /** true for words fresh from genseed: no history to look for, so scanning starts at the tip. */
      new_wallet: z.boolean().optional(),
      /** Restore: the height to rescan from (default 0, the whole chain). */
      birthday_height: z.number().int().min(0).optional(),
    })
    .strict(),
  unlock: z.object({ password: z.string().min(1).max(1024) }).strict(),
  /** The 24 recovery words, again, after the password: for writing them down once more. */
  revealseed: z.object({ password: z.string().min(1).max(1024) }).strict(),
  /** A new password for the wallet (lncli changepassword): the current one first. */
  changepassword: z
    .object({ current_password: z.string().min(1).max(1024), new_password: z.string().min(8, 'choose a password of at least 8 characters').max(1024) })
    .strict(),
  /** A forgotten password: the wallet's 24 words unlock it and a new password replaces the old one. */
  unlockwithwords: z
    .object({ words: z.string().min(1).max(1000), passphrase: z.string().max(1024).optional(), new_password: z.string().min(8, 'choose a password of at least 8 characters').max(1024) })
    .strict(),
  newaddress: z.object({ type: z.enum(['p2wkh']).optional() }).strict(),
  walletbalance: z.object({}).strict(),
  sendcoins: z
    .object({
      addr: z.string().min(1).max(200),
      amt: z.number().int().positive().optional(),
      sat_per_vbyte: z.number().positive().max(10_000).optional(),
      sweepall: z.boolean().optional(),
      label: z.string().max(500).optional(),
    })
    .strict()
    .refine((v) => (v.amt !== undefined) !== (v.sweepall === true), 'give either amt or sweepall, not both'),
  /** What a sendcoins would cost, without sending: the fee for this address and amount at a rate (or the node's estimates). */
  estimatefee: z
    .object({
      addr: z.string().min(1).max(200),
      amt: z.number().int().positive().optional(),
      sweepall: z.boolean().optional(),
      sat_per_vbyte: z.number().positive().max(10_000).optional(),
    })
    .strict()
    .refine((v) => (v.amt !== undefined) !== (v.sweepall === true), 'give either amt or sweepall, not both'),
  bumpfee: z.object({ txid: z.string().regex(/^[0-9a-f]{64}$/), sat_per_vbyte: z.number().positive().max(10_000) }).strict(),
  listunspent: z.object({ min_confs: z.number().int().min(0).optional() }).strict(),
  listchaintxns: z.object({}).strict(),
  openchannel: z
    .object({
      node_key: pubkeyHex,
      local_amt: z.number().int().positive(),
      push_amt: z.number().int().min(0).optional(),
      private: z.boolean().optional(),
      sat_per_vbyte: z.number().positive().max(10_000).optional(),
    })
    .strict(),
  pendingchannels: z.object({}).strict(),
  listchannels: z.object({}).strict(),
  /** Channels that are over: closed cooperatively, or failed (with the reason). */
  closedchannels: z.object({}).strict(),
  channelbalance: z.object({}).strict(),
  /**
   * One channel in the terms of the payment-channel idea (any phase, by its channel point): each side's
   * commitment number, how many old states each side revoked, the delay that protects each side, and
   * every HTLC in flight with the block it expires at.
   */
  getchannel: z.object({ chan_point: z.string().regex(/^[0-9a-f]{64}:\d+$/, 'a channel point is <funding txid>:<output index>') }).strict(),
  /** Every amount that is ours but not spendable yet, and what it waits for (a block, a delay, a confirmation). */
  pendingfunds: z.object({}).strict(),
  /**
   * What opening a channel allows and costs, without opening one: the largest channel the confirmed
   * coins can fund (after the funding transaction's fee), the node's smallest, and the fee for
   * local_amt (or for the largest) at a rate (or the node's usual rate).
   */
  estimateopen: z.object({ local_amt: z.number().int().positive().optional(), sat_per_vbyte: z.number().positive().max(10_000).optional() }).strict(),
  decodepayreq: z.object({ pay_req: z.string().min(1).max(8000) }).strict(),
  closechannel: z
    .object({
      chan_point: z.string().regex(/^[0-9a-f]{64}:\d+$/, 'a channel point is <funding txid>:<output index>').optional(),
      funding_txid: z.string().regex(/^[0-9a-f]{64}$/).optional(),
      output_index: z.number().int().min(0).optional(),
      /** Close unilaterally (lncli's --force): publish our commitment without the peer. */
      force: z.boolean().optional(),
    })
    .strict(),
  /**
   * The encrypted static channel backup (what <datadir>/channel.backup holds), of every channel or of
   * one (chan_point): with the wallet's 24 words it recovers the channels' funds with the peers' help.
   */
  exportchanbackup: z
    .object({
      chan_point: z.string().regex(/^[0-9a-f]{64}:\d+$/, 'a channel point is <funding txid>:<output index>').optional(),
      all: z.boolean().optional(),
    })
    .strict(),
  /** Checks that a channel backup (hex) opens with this wallet's seed and belongs to this node. */
  verifychanbackup: z.object({ multi_chan_backup: z.string().min(2).max(4_000_000) }).strict(),
  /** Recovers the channels of a backup (hex) this node does not have: each peer is asked to force-close. */
  restorechanbackup: z.object({ multi_chan_backup: z.string().min(2).max(4_000_000) }).strict(),
  /** The watchtower built into this node (lncli tower info): its key and the URIs clients add. */
  towerinfo: z.object({}).strict(),
  /** A watchtower to back up every revoked state to, `<pubkey>@<host>[:<port>]` (lncli wtclient add). */
  wtclient_add: z.object({ uri: z.string().min(1).max(600) }).strict(),
  /** The towers added, and their sessions (lncli wtclient towers). */
  wtclient_towers: z.object({}).strict(),
  /** Backups sent, waiting and failed, and sessions (lncli wtclient stats). */
  wtclient_stats: z.object({}).strict(),
  /** A new invoice: an amount in sats (value) or msat (value_msat), or neither (0) to let the payer choose. */
  addinvoice: z
    .object({
      memo: z.string().max(639).optional(),
      value: z.number().int().min(0).max(2_100_000_000_000_000).optional(),
      value_msat: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      /** SHA-256 of a description kept elsewhere (it replaces the memo in the invoice). */
      description_hash: hex32.optional(),
      /** Seconds the invoice stays payable (default 86400). */
      expiry: z.number().int().min(1).max(31_536_000).optional(),
      /** min_final_cltv_expiry_delta (default 80). */
      cltv_expiry: z.number().int().min(18).max(2016).optional(),
      /** Route hints for our channels (default: yes, as this node announces none; false leaves them out). */
      private: z.boolean().optional(),
    })
    .strict()
    .refine((v) => v.value === undefined || v.value_msat === undefined, 'give the amount in value or value_msat, not both'),
  listinvoices: z
    .object({
      /** Only invoices still payable (OPEN) or being paid (ACCEPTED). */
      pending_only: z.boolean().optional(),
      /** add_index to page from (exclusive); 0 for the start, or the end when reversed. */
      index_offset: z.number().int().min(0).optional(),
      num_max_invoices: z.number().int().min(1).max(10_000).optional(),
      /** Page backwards from index_offset. */
      reversed: z.boolean().optional(),
    })
    .strict(),
  lookupinvoice: z.object({ r_hash: hex32 }).strict(),
  /** An outgoing payment by its payment hash (as listpayments shows it), e.g. to see that an invoice was paid already. */
  lookuppayment: z.object({ payment_hash: hex32 }).strict(),
  cancelinvoice: z.object({ payment_hash: hex32 }).strict(),
  listpayments: z
    .object({
      /** payment_index to page from (exclusive); 0 for the start, or the end when reversed. */
      index_offset: z.number().int().min(0).optional(),
      /** At most this many (every payment when absent). */
      max_payments: z.number().int().min(1).max(10_000).optional(),
      /** Page backwards from index_offset (the page is still oldest first). */
      reversed: z.boolean().optional(),
      /** Payments in flight and failed ones too (default true; false lists only the succeeded, as lncli does without it). */
      include_incomplete: z.boolean().optional(),
    })
    .strict(),
  /**
   * What paying an invoice would cost, the way the node would pay it (lncli estimateroutefee with a
   * payment request, without probing): the routing fee, or why no channel can take it. amt_sat for an
   * invoice that leaves the amount to the payer.
   */
  estimateroutefee: z.object({ payment_request: z.string().min(1).max(8000), amt_sat: z.number().int().positive().optional() }).strict(),
  /** Pays a BOLT 11 invoice and waits for the outcome (lncli sendpayment --pay_req). */
  sendpayment: payRequest,
  /** The same as sendpayment (lncli payinvoice). */
  payinvoice: payRequest,
  /** Playground only: mine blocks (to the given address, or to the playground's own). */
  playground_mine: z.object({ blocks: z.number().int().min(1).max(1000), addr: z.string().max(200).optional() }).strict(),
  /** Playground only: test coins to an address, mined into a block at once. */
  playground_faucet: z.object({ addr: z.string().min(1).max(200), amt: z.number().int().positive().max(100_000_000_000) }).strict(),
} as const;

export type MethodName = keyof typeof methodSchemas;
export type MethodInput<M extends MethodName> = z.infer<(typeof methodSchemas)[M]>;

export interface FeatureView {
  name: string;
  is_required: boolean;
  is_known: boolean;
}

export type WalletState = 'NO_WALLET' | 'LOCKED' | 'READY';

export interface GetInfoResponse {
  version: string;
  /** Empty until the wallet is unlocked: the node key descends from the wallet's seed. */
  identity_pubkey: string;
  wallet_state: WalletState;
  synced_to_chain: boolean;
  block_height: number;
  block_hash: string;
  /** What the chain source is, and what is wrong with it if anything. */
  chain_backend: string;
  chain_error?: string;
  alias: string;
  num_peers: number;
  uris: string[];
  network: string;
  chains: { chain: 'bitcoin'; network: string }[];
  features: Record<string, FeatureView>;
}

export interface PeerView {
  pub_key: string;
  address: string;
  inbound: boolean;
  bytes_sent: string;
  bytes_recv: string;
  /** Round trip of the last ping, in microseconds (as lncli prints it); "0" before the first pong. */
  ping_time: string;
  /** Seconds since the connection completed init. */
  connected_seconds: number;
  features: Record<string, FeatureView>;
  perm: boolean;
}

export interface ChannelView {
  remote_pubkey: string;
  channel_point: string;
  /** The short channel id, BxTxO, or "" before it confirms. */
  chan_id: string;
  capacity: string;
  local_balance: string;
  remote_balance: string;
  active: boolean;
  initiator: boolean;
  private: boolean;
  commitment_type: 'STATIC_REMOTE_KEY' | 'ANCHORS';
  state: string;
  /** The commitment transaction's fee, in sat, paid by the opener out of its balance (lncli's commit_fee). */
  commit_fee: string;
  /** With anchors: the two anchor outputs (330 sat each) the opener pays for, in sat; "0" otherwise. */
  anchor_sat: string;
  /** Payments in flight either way, in sat: neither side's until they settle or fail. */
  unsettled_balance: string;
  /** What we must keep in the channel: the reserve the peer asked of us, in sat. */
  local_chan_reserve_sat: string;
  /** What the peer must keep: the reserve we asked of it, in sat. */
  remote_chan_reserve_sat: string;
  /** What one more payment out can take over this channel now, in msat: our balance above our reserve and, as the opener, the fees. */
  spendable_msat: string;
  /** What one more payment in can bring over this channel now, in msat. */
  receivable_msat: string;
}

export interface PendingOpenChannel {
  channel: ChannelView;
  /** "" until the funding transaction is built. */
  funding_txid: string;
  /** How many blocks confirm the funding transaction so far (0 while it waits in the mempool). */
  confirmations: number;
  /** How many the channel needs before it opens (the acceptor's minimum_depth). */
  confirmations_needed: number;
  state: string;
}

export interface WaitingCloseChannel {
  channel: ChannelView;
  /** Our share, in sats, until the closing transaction confirms: what the closing transaction pays us once it exists. */
  limbo_balance: string;
  /** "" until both sides have signed the closing transaction. */
  closing_txid: string;
  state: string;
}

/** An HTLC of a channel closing on chain, as lncli shows it. */
export interface PendingHtlcView {
  incoming: boolean;
  amount: string;
  outpoint: string;
  maturity_height: number;
  blocks_til_maturity: number;
  /** 1: an output of the commitment; 2: the output of our HTLC transaction, waiting for its delay. */
  stage: number;
}

/** A channel closing on chain (force-closed by either side, or breached), as lncli shows it. */
export interface PendingForceClosingChannel {
  channel: ChannelView;
  /** The commitment that spent the funding output, or ours while it waits for a block. */
  closing_txid: string;
  /** What is still on its way back to the wallet, in sats. */
  limbo_balance: string;
  /** The block our own output (to_local after its delay, or to_remote) can be swept at; 0 when none waits. */
  maturity_height: number;
  blocks_til_maturity: number;
  /** What already came back to the wallet, in sats. */
  recovered_balance: string;
  pending_htlcs: PendingHtlcView[];
  /** LOCAL_FORCE_CLOSE, REMOTE_FORCE_CLOSE or BREACH_CLOSE; "" while our commitment waits for a block. */
  close_type: string;
}

/**
 * How a channel ended, as lncli names it. COOPERATIVE_CLOSE: both sides signed a closing transaction
 * and a block confirmed it. LOCAL_FORCE_CLOSE / REMOTE_FORCE_CLOSE: our commitment, or the peer's,
 * reached the chain and every output was swept. BREACH_CLOSE: the peer published a revoked commitment
 * and the penalty took everything. FUNDING_CANCELED: the channel failed before it opened. ABANDONED:
 * it failed after it opened with no commitment to publish.
 */
export type CloseType = 'COOPERATIVE_CLOSE' | 'LOCAL_FORCE_CLOSE' | 'REMOTE_FORCE_CLOSE' | 'BREACH_CLOSE' | 'FUNDING_CANCELED' | 'ABANDONED';

export interface ClosedChannelView {
  channel_point: string;
  chan_id: string;
  remote_pubkey: string;
  capacity: string;
  /** "" when the channel failed without a closing transaction. */
  closing_tx_hash: string;
  /** What the close paid to our wallet, in sats. */
  settled_balance: string;
  time_locked_balance: string;
  close_type: CloseType;
  open_initiator: 'INITIATOR_LOCAL' | 'INITIATOR_REMOTE';
  /** Why the channel failed (close types other than COOPERATIVE_CLOSE). */
  failure_reason?: string;
}

/**
 * What binds one side of a channel, as lncli's local_constraints / remote_constraints: csv_delay is the
 * number of blocks this side waits for its own balance after publishing its commitment (the other
 * side's to_self_delay), chan_reserve_sat what it must keep in the channel, and the HTLC limits it must
 * respect when it offers HTLCs.
 */
export interface ChannelConstraintsView {
  csv_delay: number;
  chan_reserve_sat: string;
  dust_limit_sat: string;
  min_htlc_msat: string;
  max_pending_amt_msat: string;
  max_accepted_htlcs: number;
}

/** An HTLC on a channel's commitments, as lncli's pending_htlcs, with its countdown from the node's tip. */
export interface ChannelHtlcView {
  incoming: boolean;
  /** In sat. */
  amount: string;
  amount_msat: string;
  /** The payment hash, hex. */
  hash_lock: string;
  expiration_height: number;
  /** Blocks from the node's tip until the HTLC expires (0: expired). */
  blocks_til_expiry: number;
  htlc_index: string;
}

/** One channel, as getchannel shows it (BOLT 2 and 3: commitment numbers, revocation, to_self_delay). */
export interface ChannelDetailView {
  channel: ChannelView;
  /** The node's tip, which the countdowns count from. */
  block_height: number;
  /** lncli's num_updates: how many times our commitment was replaced (our commitment number). */
  num_updates: string;
  /** The commitment number of our current commitment, and of the peer's. */
  local_commit_height: string;
  remote_commit_height: string;
  /** Our old commitments we revoked (gave the peer their secrets), and the peer's (we hold their secrets: publishing one loses the peer everything). */
  revoked_local_states: string;
  revoked_remote_states: string;
  local_constraints: ChannelConstraintsView;
  remote_constraints: ChannelConstraintsView;
  pending_htlcs: ChannelHtlcView[];
  /** Closing on chain: where it stands (pendingchannels has the amounts); absent otherwise. */
  close_type?: string;
}

/**
 * Why an amount is not spendable yet. UNCONFIRMED_RECEIPT: a payment to the wallet waiting for its
 * first block. IMMATURE_COINBASE: a mining reward (100 confirmations). CHANNEL_OPENING: our side of a
 * channel whose funding is not yet deep enough. COOPERATIVE_CLOSE: our side of a channel closing by
 * agreement, until the closing transaction confirms. FORCE_CLOSE_OUTPUT: our balance in a channel
 * closed on chain (to_local after its delay, or to_remote). FORCE_CLOSE_HTLC: an HTLC of such a channel,
 * until it is claimed (stage 1) or its second-stage output's delay runs out (stage 2).
 */
export type PendingFundKind = 'UNCONFIRMED_RECEIPT' | 'IMMATURE_COINBASE' | 'CHANNEL_OPENING' | 'COOPERATIVE_CLOSE' | 'FORCE_CLOSE_OUTPUT' | 'FORCE_CLOSE_HTLC';

export interface PendingFund {
  kind: PendingFundKind;
  amount_sat: string;
  /** The block it becomes spendable at; 0 while that depends on a transaction not yet in a block. */
  maturity_height: number;
  /** Blocks until then from the node's tip; while maturity_height is 0, counted as if that transaction confirmed in the next block. */
  blocks_til_maturity: number;
  /** The transaction it waits on (the receipt, the funding, the closing transaction or commitment). */
  txid: string;
  /** The channel's, or "" for the wallet's own coins. */
  remote_pubkey: string;
  channel_point: string;
  /** For channel closes: lncli's close type ("" while our commitment waits for its first block). */
  close_type: string;
  /** FORCE_CLOSE_HTLC: 1 on the commitment, 2 the output of our HTLC transaction. */
  stage: number;
  incoming: boolean;
}

export type InvoiceStateName = 'OPEN' | 'ACCEPTED' | 'SETTLED' | 'CANCELED';

/** An invoice as lncli shows it; amounts and times are decimal strings, hashes hex. */
export interface InvoiceView {
  memo: string;
  /** Our own node's preimage, shown even before the invoice is paid. */
  r_preimage: string;
  r_hash: string;
  value: string;
  value_msat: string;
  settled: boolean;
  creation_date: string;
  settle_date: string;
  /** settle_date to the millisecond (in ns, as payments' creation_time_ns): orders events within a second. */
  settle_time_ns: string;
  payment_request: string;
  description_hash: string;
  expiry: string;
  cltv_expiry: string;
  private: boolean;
  add_index: string;
  settle_index: string;
  amt_paid: string;
  amt_paid_sat: string;
  amt_paid_msat: string;
  state: InvoiceStateName;
  payment_addr: string;
  htlcs: { htlc_id: string; amt_msat: string; mpp_total_amt_msat: string; accept_time: string; expiry_height: number; state: 'ACCEPTED' | 'SETTLED' | 'CANCELED' }[];
}

export interface PaymentHopView {
  chan_id: string;
  pub_key: string;
  amt_to_forward: string;
  amt_to_forward_msat: string;
  fee: string;
  fee_msat: string;
  expiry: number;
}

/** An outgoing payment as lncli's listpayments shows it. */
export interface PaymentView {
  payment_hash: string;
  value: string;
  value_sat: string;
  value_msat: string;
  payment_preimage: string;
  payment_request: string;
  status: 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
  fee: string;
  fee_sat: string;
  fee_msat: string;
  creation_date: string;
  creation_time_ns: string;
  payment_index: string;
  failure_reason: string;
  /** A failed payment's diagnosis (core/payments/diagnosis.ts): what happened and what to do, and the node whose answer failed it. */
  failure_detail?: PaymentDiagnosis;
  htlcs: {
    attempt_id: string;
    status: 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
    route: { total_time_lock: number; total_fees: string; total_fees_msat: string; total_amt: string; total_amt_msat: string; hops: PaymentHopView[] };
    attempt_time_ns: string;
    resolve_time_ns: string;
    failure: { code: string; failure_source_index: number } | null;
    preimage: string;
  }[];
}

export interface MethodOutputs {
  getinfo: GetInfoResponse;
  connect: Record<string, never>;
  disconnect: Record<string, never>;
  listpeers: { peers: PeerView[] };
  stop: { status: string };
  genseed: { mnemonic: string[] };
  create: { identity_pubkey: string };
  unlock: { identity_pubkey: string };
  revealseed: { mnemonic: string[] };
  changepassword: Record<string, never>;
  unlockwithwords: { identity_pubkey: string };
  newaddress: { address: string };
  walletbalance: {
    /** confirmed_balance + unconfirmed_balance, as lnd counts it: immature coins are apart. */
    total_balance: string;
    /** Confirmed and spendable: a coinbase output counts once it is mature (100 confirmations). */
    confirmed_balance: string;
    unconfirmed_balance: string;
    locked_balance: string;
    /** Coinbase outputs (mining rewards) that cannot be spent yet; lnd leaves them out of every field. */
    immature_balance: string;
    /** The immature balance by the number of blocks still to be mined before it is spendable, soonest first. */
    maturing_coins: { blocks_to_maturity: number; amount_sat: string }[];
  };
  sendcoins: { txid: string };
  estimatefee: {
    fee_sat: string;
    sat_per_vbyte: string;
    /** What the recipient gets (with sweepall: everything minus the fee). */
    amount_sat: string;
    /** The node's current rates for the usual targets, sat/vB: fast (~2 blocks), normal (~6), slow (~1 day). */
    rates: { fast: number; normal: number; slow: number };
  };
  bumpfee: { txid: string };
  listunspent: { utxos: { address_type: string; address: string; amount_sat: string; outpoint: string; confirmations: string }[] };
  listchaintxns: {
    transactions: { tx_hash: string; amount: string; num_confirmations: number; block_height: number; time_stamp: string; total_fees: string; raw_tx_hex: string; label: string }[];
  };
  openchannel: { funding_txid: string };
  pendingchannels: {
    /** What is waiting in channels that are closing, in sats (the sum of their limbo_balance). */
    total_limbo_balance: string;
    pending_open_channels: PendingOpenChannel[];
    /** Channels closing cooperatively: shutdown sent, fee being negotiated, or the closing transaction waiting for a block. */
    waiting_close_channels: WaitingCloseChannel[];
    /** Channels closing on chain: their outputs are being swept back (some after a delay). */
    pending_force_closing_channels: PendingForceClosingChannel[];
  };
  listchannels: { channels: ChannelView[] };
  closedchannels: { channels: ClosedChannelView[] };
  channelbalance: {
    balance: string;
    pending_open_balance: string;
    local_balance: { sat: string; msat: string };
    remote_balance: { sat: string; msat: string };
    /** The most one payment can send now: what the active channel with the most room can send (a payment goes over one channel). */
    can_send: { sat: string; msat: string };
    /** The most one payment can bring now: what the active channel with the most room can receive. */
    can_receive: { sat: string; msat: string };
    /** What channels closing (cooperatively or on chain) still owe the wallet, in sats. */
    limbo_balance: string;
  };
  getchannel: ChannelDetailView;
  pendingfunds: {
    block_height: number;
    /** The sum of every amount below, in sat. */
    total_sat: string;
    funds: PendingFund[];
  };
  estimateopen: {
    /** The largest channel the confirmed coins can fund at this rate, within the node's maximum; "0" when even the smallest does not fit. */
    max_local_amt: string;
    /** The node's smallest channel. */
    min_local_amt: string;
    /** The funding transaction's fee for local_amt (or for the largest), in sat; "" when the coins cannot fund it. */
    fee_sat: string;
    sat_per_vbyte: string;
    /** Confirmed coins not set aside for a transaction under way, in sat: what channels are funded from. */
    confirmed_balance: string;
  };
  closechannel: { closing_txid: string };
  decodepayreq: {
    destination: string;
    payment_hash: string;
    num_satoshis: string;
    num_msat: string;
    timestamp: string;
    expiry: string;
    expired: boolean;
    description: string;
    description_hash: string;
    cltv_expiry: string;
    payment_addr: string;
    network: string;
    route_hints: { hop_hints: { node_id: string; chan_id: string; fee_base_msat: number; fee_proportional_millionths: number; cltv_expiry_delta: number }[] }[];
    features: Record<string, FeatureView>;
  };
  addinvoice: { r_hash: string; payment_request: string; add_index: string; payment_addr: string };
  listinvoices: { invoices: InvoiceView[]; first_index_offset: string; last_index_offset: string };
  lookupinvoice: InvoiceView;
  lookuppayment: PaymentView;
  cancelinvoice: Record<string, never>;
  listpayments: { payments: PaymentView[]; first_index_offset: string; last_index_offset: string };
  estimateroutefee: {
    /** The fee of the way the node would try first, in msat. */
    routing_fee_msat: string;
    /** The most the fees could be over every way the node might try, in msat. */
    max_routing_fee_msat: string;
    /** Blocks the payment could be locked for at most (the route's time lock from the tip). */
    time_lock_delay: string;
    /** FAILURE_REASON_NONE, or why no channel can take it (FAILURE_REASON_NO_ROUTE, FAILURE_REASON_INSUFFICIENT_BALANCE). */
    failure_reason: string;
    /** direct: over our channel to the payee; hint: through a node the invoice names; "" when none. */
    via: 'direct' | 'hint' | '';
    /** The first node after us on that way. */
    first_hop_pubkey: string;
    /** When no channel can take it: what a payment would fail with, and what to do. */
    failure_detail?: PaymentDiagnosis;
  };
  sendpayment: PaymentView & { payment_error: string };
  payinvoice: PaymentView & { payment_error: string };
  exportchanbackup: { multi_chan_backup: { chan_points: string[]; multi_chan_backup: string }; created_at_ms: number };
  verifychanbackup: { chan_points: string[]; created_at_ms: number; node_id: string };
  restorechanbackup: { restored_chan_points: string[]; already_known: string[] };
  towerinfo: { pubkey: string; listeners: string[]; uris: string[]; active: boolean; num_sessions: number; num_updates: number; num_justice_published: number };
  wtclient_add: Record<string, never>;
  wtclient_towers: { towers: WtTowerView[] };
  wtclient_stats: { num_backups: number; num_pending_backups: number; num_failed_backups: number; num_sessions_acquired: number; num_sessions_exhausted: number };
  playground_mine: { block_hashes: string[] };
  playground_faucet: { txid: string; block_hash: string };
}
export type MethodOutput<M extends MethodName> = MethodOutputs[M];

/** A watchtower the client backs up to (lncli wtclient towers), with `num_backlog` backups waiting for it. */
export interface WtTowerView {
  pubkey: string;
  addresses: string[];
  active_session_candidate: boolean;
  num_sessions: number;
  sessions: { num_backups: number; num_pending_backups: number; max_backups: number; sweep_sat_per_vbyte: number }[];
  num_backlog: number;
  last_error?: string;
}

/** A channel as its events name it. */
export interface ChannelEventView {
  remote_pubkey: string;
  /** "" before the funding transaction exists. */
  channel_point: string;
  /** The short channel id, or "" before it confirms. */
  chan_id: string;
  capacity: string;
  /** Where the channel stands (listchannels' state). */
  state: string;
}

/**
 * What the node tells its front ends as it happens (lnd's SubscribeChannelEvents, SubscribeInvoices,
 * TrackPayments and block notifications in one stream; LDK's event queue). Each is told once the
 * change it reports is stored. Events name what changed; a front end that wants the whole picture
 * asks the usual methods again.
 */
export type NodeEvent =
  | { type: 'wallet_state'; state: WalletState }
  /** The chain source's state changed: reachable or not, how far the node has followed the chain. */
  | { type: 'chain_status'; synced: boolean; height: number; best_height: number; error?: string }
  | { type: 'block_connected'; height: number; hash: string }
  | { type: 'block_disconnected'; height: number; hash: string }
  /** The wallet's on-chain history changed outside a block: a send, a receive seen in the mempool, a replacement. */
  | { type: 'chain_transactions'; unconfirmed: number }
  | { type: 'peer_online'; pub_key: string }
  | { type: 'peer_offline'; pub_key: string; reason: string }
  /** A new channel (its first stored state), or one whose state moved on in a way other than below. */
  | { type: 'channel_state_changed'; channel: ChannelEventView; previous_state: string }
  /** The channel is open: its funding is deep enough and both sides said channel_ready. */
  | { type: 'channel_opened'; channel: ChannelEventView }
  /** The channel is over: closed (its closing transaction confirmed) or failed. */
  | { type: 'channel_closed'; channel: ChannelEventView }
  /** The channel can carry payments now (its peer connected and reestablished it), or no longer can. */
  | { type: 'channel_active'; channel: ChannelEventView }
  | { type: 'channel_inactive'; channel: ChannelEventView }
  /**
   * An open channel's commitment moved on (a payment added, settled or failed on both sides, a fee
   * changed): its balances are new. Told once for each new commitment of ours.
   */
  | { type: 'channel_updated'; channel: ChannelEventView; local_commit_height: string }
  | { type: 'payment_in_flight'; payment_hash: string; value_sat: string }
  | { type: 'payment_settled'; payment_hash: string; value_sat: string; fee_sat: string }
  | { type: 'payment_failed'; payment_hash: string; value_sat: string; failure_reason: string }
  | { type: 'invoice_added'; r_hash: string; memo: string; value_sat: string }
  /** Its HTLCs arrived and are held (a multi-part payment being gathered). */
  | { type: 'invoice_accepted'; r_hash: string; memo: string; value_sat: string }
  | { type: 'invoice_paid'; r_hash: string; memo: string; value_sat: string; amt_paid_sat: string }
  | { type: 'invoice_canceled'; r_hash: string; memo: string; value_sat: string };

export type NodeEventType = NodeEvent['type'];

/** What went wrong, as data. `code` tells a client what kind of problem it is; `message` is for people. */
export type ApiErrorCode = 'invalid_argument' | 'not_found' | 'already_exists' | 'unavailable' | 'failed_precondition' | 'internal' | 'unauthenticated';

export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export type ApiResult<T> = { ok: true; result: T } | { ok: false; error: { code: ApiErrorCode; message: string } };

export type ApiHandlers = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methodSchemas, name);
}
