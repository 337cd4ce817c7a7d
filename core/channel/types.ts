/**
 * The channel as a pure state machine: step(state, input) → { state, actions }. The node shell
 * executes actions in order — a `store` always before the `send` that depends on it.
 */
import type { Message } from '../wire/index.ts';
import type { ChannelBasepoints, ChannelSecrets } from '../keys/channel-keys.ts';
import type { Commitments, UpdateAction, UpdateInput } from './updates.ts';

export type ChannelTypeName = 'static_remotekey' | 'anchors';

/** One side's parameters, as announced in open_channel or accept_channel. */
export interface SideParams {
  basepoints: ChannelBasepoints;
  dustLimitSat: bigint;
  /** Reserve this side requires of the other. */
  reserveSat: bigint;
  htlcMinimumMsat: bigint;
  maxHtlcValueInFlightMsat: bigint;
  maxAcceptedHtlcs: number;
  /** Delay this side imposes on the other's to_local. */
  toSelfDelay: number;
  firstPerCommitmentPoint: Uint8Array;
}

export type Phase =
  | 'WAIT_ACCEPT'
  | 'WAIT_FUNDING_TX'
  | 'WAIT_FUNDING_CREATED'
  | 'WAIT_FUNDING_SIGNED'
  | 'WAIT_FUNDING_CONFIRMED'
  | 'WAIT_CHANNEL_READY'
  | 'NORMAL'
  /** shutdown sent or received; waiting for the other's shutdown or the first closing_signed. */
  | 'SHUTDOWN'
  | 'NEGOTIATING'
  /** The mutual close transaction is signed by both and published. */
  | 'CLOSING'
  /**
   * Closed unilaterally (BOLT 5): our commitment was published, or the peer's reached the chain, or
   * the channel failed and waits for the peer's. Its chain monitor takes what is ours; no update.
   */
  | 'FORCE_CLOSING'
  | 'CLOSED'
  | 'FAILED';

export interface ChannelState {
  phase: Phase;
  funder: boolean;
  temporaryChannelId: Uint8Array;
  channelId?: Uint8Array;
  channelType: ChannelTypeName;
  capacitySat: bigint;
  pushMsat: bigint;
  feeratePerKw: number;
  minimumDepth: number;
  secrets: ChannelSecrets;
  local: SideParams;
  remote?: SideParams;
  funding?: { txid: string; vout: number };
  /** The peer's signature on our commitment number 0 (what lets us publish it). */
  remoteSigOnLocalCommitment?: Uint8Array;
  sentChannelReady?: boolean;
  remoteSecondPoint?: Uint8Array;
  shortChannelId?: bigint;
  failure?: string;
  /**
   * The peer proved our state out of date at channel_reestablish (option_data_loss_protect): our
   * commitment must never be published (it may be revoked); we wait for the peer's (BOLT 2).
   */
  staleData?: true;
  /** How the channel is closing on chain, once it is (core/channel/force-close.ts). */
  forceClose?: ForceClose;
  /** Commitment updates (HTLCs, fees) once the channel is open: core/channel/updates.ts. */
  commit?: Commitments;
  /** Cooperative close: both shutdown scripts, the fee we last offered, the final transaction. */
  close?: {
    localScript?: Uint8Array;
    remoteScript?: Uint8Array;
    sentShutdown?: boolean;
    lastOfferedFee?: bigint;
    feeRange?: { min: bigint; max: bigint };
    closingTxHex?: string;
    closingTxid?: string;
  };
}

/**
 * A unilateral close (BOLT 5). `initiator`: who went to the chain first as far as we know (`local`: we
 * published, or failed the channel and meant to); `spentBy`: what the chain monitor found spending the
 * funding output, once a block holds it (core/monitor/view.ts FundingSpendKind).
 */
export interface ForceClose {
  initiator: 'local' | 'remote';
  reason: string;
  txid?: string;
  spentBy?: 'local' | 'remote' | 'revoked' | 'remote_unknown' | 'other' | 'cooperative';
  /** The block height the chain monitor last found the funding spend at, for the views. */
  height?: number;
}

export type ChannelInput =
  | { type: 'message'; msg: Message }
  /** Funder: the wallet built (not yet published) the funding transaction. */
  | { type: 'funding_built'; txid: string; vout: number }
  /** The funding transaction has this many confirmations (and its position, once in a block). */
  | { type: 'funding_depth'; depth: number; shortChannelId: bigint }
  /** The user asks for a cooperative close, paying our side to `script`. */
  | { type: 'close'; script: Uint8Array; feeratePerKw: number }
  /** Our shutdown script, for when the peer starts the close (the shell gives a fresh wallet address). */
  | { type: 'shutdown_script'; script: Uint8Array; feeratePerKw: number }
  | { type: 'closing_confirmed' }
  /**
   * The user, a failure of an open channel, or an HTLC past its deadline (BOLT 2) closes it on chain:
   * the monitor publishes our commitment. `errorToPeer`: we fail the channel, and the peer is told why
   * in an error (BOLT 1).
   */
  | { type: 'force_close'; reason: string; errorToPeer?: string }
  /** The chain monitor found the funding output spent by a commitment (or a closing) in a block. */
  | { type: 'funding_spent'; txid: string; spentBy: NonNullable<ForceClose['spentBy']>; height: number }
  /** The funding spend left the chain in a reorg. */
  | { type: 'funding_unspent' }
  /** The chain monitor has every output settled and final. */
  | { type: 'onchain_closed'; txid: string }
  | UpdateInput;

export type ChannelAction =
  | { type: 'send'; msg: Message }
  /**
   * Store the state before the actions after this one. `lazy`: the write need not reach the disk
   * before the channel goes on, only before the node's next durable write (the store commits in
   * call order); for a step whose loss in a crash the protocol recovers from on its own (see onRevoke
   * in updates.ts), and on which no message leaves before a durable write.
   */
  | { type: 'store'; lazy?: true }
  /** Funder: build a funding transaction paying this P2WSH script. */
  | { type: 'build_funding'; script: Uint8Array; amountSat: bigint }
  /** Funder: publish the funding transaction (the peer has signed our commitment). */
  | { type: 'publish_funding'; txid: string }
  | { type: 'watch_funding'; txid: string; vout: number; minimumDepth: number }
  | { type: 'ready' }
  /** The peer started a cooperative close: give us a script to be paid to (answer with shutdown_script). */
  | { type: 'need_shutdown_script' }
  | { type: 'publish_closing'; txHex: string; txid: string }
  | { type: 'failed'; reason: string }
  | UpdateAction;

export interface Step {
  state: ChannelState;
  actions: ChannelAction[];
}
