/**
 * The one API contract of a Coulomb node. The CLI (over the local control channel), the Electron IPC
 * bridge and the browser-mode WebSocket bridge all speak it: each method has an input schema (checked
 * before any handler runs) and an output type. Field names follow lncli's JSON so lnd users feel at home.
 */
import { z } from 'zod';

const pubkeyHex = z.string().regex(/^(02|03)[0-9a-fA-F]{64}$/, 'a node public key is 66 hex characters starting with 02 or 03');

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
  channelbalance: z.object({}).strict(),
  decodepayreq: z.object({ pay_req: z.string().min(1).max(8000) }).strict(),
  closechannel: z
    .object({
      chan_point: z.string().regex(/^[0-9a-f]{64}:\d+$/, 'a channel point is <funding txid>:<output index>').optional(),
      funding_txid: z.string().regex(/^[0-9a-f]{64}$/).optional(),
      output_index: z.number().int().min(0).optional(),
    })
    .strict(),
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
  newaddress: { address: string };
  walletbalance: { total_balance: string; confirmed_balance: string; unconfirmed_balance: string; locked_balance: string };
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
  pendingchannels: { pending_open_channels: { channel: ChannelView; confirmations_needed: number; state: string }[] };
  listchannels: { channels: ChannelView[] };
  channelbalance: { balance: string; pending_open_balance: string; local_balance: { sat: string; msat: string }; remote_balance: { sat: string; msat: string } };
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
  playground_mine: { block_hashes: string[] };
  playground_faucet: { txid: string; block_hash: string };
}
export type MethodOutput<M extends MethodName> = MethodOutputs[M];

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
