/**
 * The app's own methods, beside the node's API (core/api/contract.ts): choosing a network, testing a
 * bitcoind, the playground's counterparty. The desktop shell and browser mode expose both through one
 * `call(method, params)`; these are validated here exactly as the node's are.
 */
import { z } from 'zod';
import type { MethodName, MethodOutput, NodeEvent } from '../api/contract.ts';

/** Channel sizes nodes accept without the large-channel option: at least 20 000 sat, below 2^24 sat. */
const MIN_PLAYGROUND_CHANNEL_SAT = 20_000;
const MAX_PLAYGROUND_CHANNEL_SAT = 16_777_215;

const bitcoindNetwork = z.enum(['mainnet', 'testnet', 'testnet4', 'signet', 'regtest']);

export const bitcoindSettings = z
  .object({
    network: bitcoindNetwork,
    /** host:port of bitcoind's RPC; the port defaults to the network's. */
    host: z.string().min(1, 'give the host of bitcoind (e.g. 127.0.0.1)').max(300),
    user: z.string().max(300).optional(),
    pass: z.string().max(300).optional(),
    /** Path of bitcoind's .cookie file, instead of user and password. */
    cookie: z.string().max(4096).optional(),
  })
  .strict();
export type BitcoindSettings = z.infer<typeof bitcoindSettings>;

export const networkChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('playground') }).strict(),
  z.object({ kind: z.literal('bitcoind'), bitcoind: bitcoindSettings }).strict(),
]);
export type NetworkChoice = z.infer<typeof networkChoice>;

export const appMethodSchemas = {
  /** Where the app is: has a network been chosen, is the node up, what the playground offers. */
  app_status: z.object({}).strict(),
  /** Tries a bitcoind with these settings and says exactly what is wrong, without saving anything. */
  app_test_bitcoind: bitcoindSettings,
  /** Saves the network choice and starts the node on it. */
  app_choose_network: networkChoice,
  /** Stops the node and goes back to the network choice; nothing on disk is deleted. */
  app_forget_network: z.object({}).strict(),
  /** Locks the wallet now: the node stops and starts again locked, its keys gone from memory until the password. */
  app_lock: z.object({}).strict(),
  /** Playground only: a fresh address of the counterparty node's wallet, to send coins to. */
  app_counterparty_address: z.object({}).strict(),
  /**
   * Playground only: an invoice of the counterparty node, for `amt` sat (0: the payer chooses), with
   * route hints for its private channels, so there is something to pay over Lightning.
   */
  app_counterparty_invoice: z
    .object({
      amt: z.number().int().min(0).max(MAX_PLAYGROUND_CHANNEL_SAT),
      memo: z.string().max(639).optional(),
    })
    .strict(),
  /** Playground only: the counterparty pays an invoice (ours), and the call returns with the outcome. */
  app_counterparty_pay: z
    .object({
      pay_req: z.string().min(1).max(8000),
      /** For an invoice without an amount: what the counterparty pays, in sat. */
      amt: z.number().int().positive().max(MAX_PLAYGROUND_CHANNEL_SAT).optional(),
    })
    .strict(),
  /** Playground only: the counterparty opens a private channel of `amt` sat to our node, which gives us room to receive. */
  app_counterparty_open_channel: z.object({ amt: z.number().int().min(MIN_PLAYGROUND_CHANNEL_SAT).max(MAX_PLAYGROUND_CHANNEL_SAT) }).strict(),
} as const;

export type AppMethodName = keyof typeof appMethodSchemas;
export type AppMethodInput<M extends AppMethodName> = z.infer<(typeof appMethodSchemas)[M]>;

export interface AppStatus {
  /** false until the user has chosen the playground or a bitcoind. */
  configured: boolean;
  network: string;
  /** 'playground' or 'bitcoind'. */
  backend: '' | 'playground' | 'bitcoind';
  /** Where this network's node keeps its data. */
  datadir: string;
  node_running: boolean;
  /** Set when the node could not start (a bitcoind that went away, a port in use): for people. */
  node_error?: string;
  playground?: { counterparty_pubkey: string; counterparty_uri: string; shop_url?: string; shop_pubkey?: string };
}

export interface AppMethodOutputs {
  app_status: AppStatus;
  app_test_bitcoind: { chain: string; blocks: number; headers: number; verification_progress: number; initial_block_download: boolean; version: string };
  app_choose_network: AppStatus;
  app_forget_network: AppStatus;
  app_lock: AppStatus;
  app_counterparty_address: { address: string };
  app_counterparty_invoice: { payment_request: string; r_hash: string };
  app_counterparty_pay: MethodOutput<'sendpayment'>;
  app_counterparty_open_channel: { funding_txid: string };
}

/** Every method the app's front end may call: the node's and the app's. */
export type AnyMethod = MethodName | AppMethodName;
export type AnyOutput<M extends AnyMethod> = M extends AppMethodName ? AppMethodOutputs[M] : M extends MethodName ? MethodOutput<M> : never;

export function isAppMethod(name: string): name is AppMethodName {
  return Object.prototype.hasOwnProperty.call(appMethodSchemas, name);
}

/** What a screen shows, by what it asks the node: a `changed` event names those to ask again. */
export type AppTopic = 'status' | 'wallet' | 'sync' | 'balance' | 'peers' | 'channels' | 'transactions' | 'invoices' | 'payments';

/**
 * What the back end pushes to the front end. `changed` names what to fetch again and carries the
 * node's event that caused it, if one did (a screen waiting for a channel to open reads it); the
 * snapshot gives the sync numbers directly so a progress bar needs no extra call.
 */
export type AppEvent =
  | { type: 'changed'; what: AppTopic[]; sync: SyncSnapshot; event?: NodeEvent }
  /** A `lightning:` or `bitcoin:` link the system handed to the app. */
  | { type: 'open_uri'; uri: string };

export interface SyncSnapshot {
  height: number;
  best_height: number;
  synced: boolean;
  error?: string;
}

/** One request from a front end, as it arrives from IPC or the WebSocket: untrusted until parsed. */
export const callRequest = z.object({ method: z.string().min(1).max(64), params: z.unknown().optional() }).strict();

/** What a node event changes on the screens: the topics whose data to fetch again. */
export function topicsOf(e: NodeEvent): AppTopic[] {
  switch (e.type) {
    case 'wallet_state':
      return ['wallet', 'status', 'balance', 'transactions', 'channels', 'peers', 'payments', 'invoices'];
    case 'chain_status':
      return ['sync'];
    // Confirmations, coins that matured, channels deeper in the chain.
    case 'block_connected':
    case 'block_disconnected':
      return ['sync', 'balance', 'transactions', 'channels'];
    case 'chain_transactions':
      return ['balance', 'transactions'];
    case 'peer_online':
    case 'peer_offline':
      return ['peers', 'channels'];
    // A channel's funding, closing and balance move coins between the wallet and the channels.
    case 'channel_state_changed':
    case 'channel_opened':
    case 'channel_closed':
      return ['channels', 'balance', 'transactions'];
    case 'channel_active':
    case 'channel_inactive':
      return ['channels'];
    // The balances moved: the channel's and the Lightning total.
    case 'channel_updated':
      return ['channels', 'balance'];
    case 'payment_in_flight':
    case 'payment_settled':
    case 'payment_failed':
      return ['payments', 'channels'];
    case 'invoice_added':
    case 'invoice_accepted':
    case 'invoice_paid':
    case 'invoice_canceled':
      return ['invoices', 'channels'];
  }
}
