/**
 * The shell around the channel state machines: routes peer messages to them, executes their actions
 * in order (store before send), funds channels from the wallet, and feeds them funding depth from
 * the chain. Channels live in the node's KvStore (core/node/channel-store.ts): each stored step is
 * one atomic write of that channel alone, durable before anything that depends on it leaves.
 */
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import type { ChannelUpdateMessage, Message, OpenChannelMessage } from '../wire/index.ts';
import { FORWARDING_POLICY, readChannelUpdate, signChannelUpdate } from '../channel/channel-update.ts';
import { secp } from '../crypto/secp256k1.ts';
import { CHAIN_HASHES } from '../wire/index.ts';
import type { Peer } from '../peer/peer.ts';
import type { PeerManager } from '../peer/manager.ts';
import type { Wallet } from '../wallet/wallet.ts';
import type { BitcoindRpc, Broadcaster } from '../chain/index.ts';
import type { BlockMatches, ChainWatch, Outpoint, TxLocation } from '../chain/chain-watch.ts';
import type { Network } from '../keys/node-key.ts';
import { deriveChannelSecrets } from '../keys/channel-keys.ts';
import { openChannel, acceptChannel, step } from '../channel/establish.ts';
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from '../channel/config.ts';
import type { ChannelConfig, ChannelLimits } from '../channel/config.ts';
import type { ChannelAction, ChannelInput, ChannelState, Step } from '../channel/types.ts';
import { canForceClose } from '../channel/force-close.ts';
import { canReestablish, reestablishMessage } from '../channel/reestablish.ts';
import { UPDATE_MESSAGES, commitmentsOf, currentSpec, feeOf, spendableMsat } from '../channel/updates.ts';
import type { Htlc } from '../channel/updates.ts';
import { ChannelStore } from './channel-store.ts';
import type { ChannelRecord } from './channel-store.ts';
import type { KvStore } from '../store/kv/types.ts';
import type { Logger } from '../log/logger.ts';
import { ApiError } from '../api/contract.ts';
import { scidToParts } from '../wire/index.ts';
import { fundingScript, p2wsh } from '../tx/scripts.ts';

export interface ChannelView {
  key: string;
  peer: string;
  state: ChannelState;
  private: boolean;
}

/** What the HTLC switch hears from channels. `channel` is the channel's key. */
export type HtlcEvent =
  | { type: 'locked_in'; channel: string; htlc: Htlc }
  | { type: 'fulfilled'; channel: string; id: bigint; preimage: Uint8Array }
  | { type: 'failed'; channel: string; id: bigint; reason?: Uint8Array; malformed?: { code: number; sha256OfOnion: Uint8Array }; local?: string };

/**
 * How long an add waits for its channel to be reestablished after a reconnect: the exchange takes a
 * round trip and a store write, so this is only ever reached when the peer does not answer.
 */
export const LINK_WAIT_MS = 5_000;

/** What the channels ask of their chain monitors (core/node/monitors.ts). */
export interface MonitorHook {
  /** Publishes our commitment; `refused` says why not (our data is stale, the channel is closed on chain). */
  forceClose(key: string): Promise<{ txid: string } | { refused: string }>;
  /** Why a force close would be refused now, before anything changes; undefined when it would not be. */
  refusal(key: string): string | undefined;
}

export class ChannelManager {
  /** One operation at a time per channel: every step reads the state the previous one left. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** What we ask of channels and accept from peers (defaults in core/channel/config.ts, overridable by flags). */
  readonly config: ChannelConfig;
  readonly limits: ChannelLimits;
  private readonly signSoon = new Set<string>();
  /**
   * Per channel, the effects of commitment updates whose writes are under way (see applyPipelined):
   * their sends and HTLC events, run in step order once the writes they depend on are durable.
   */
  private readonly effects = new Map<string, Promise<void>>();
  private htlcHandler: ((e: HtlcEvent) => Promise<void>) | undefined;
  private monitorHook: MonitorHook | undefined;
  private preimageHandler: ((channel: string, id: bigint, preimage: Uint8Array) => Promise<void>) | undefined;
  private readonly live = new Map<string, { rec: ChannelRecord; state: ChannelState }>();
  /**
   * The connection each channel's commitment updates may go out on: the one the channel was opened
   * on, or the one the peer's channel_reestablish came in on; forgotten when it closes. Until then,
   * update_*, commitment_signed and revoke_and_ack are held back (one produced from the previous
   * connection's traffic must not reach the next connection, before or instead of what the
   * reestablish calls for); nothing is lost: the reestablish step resends what the peer is missing.
   */
  private readonly linkedTo = new Map<string, Peer>();
  /** Adds waiting for their channel to be linked (see whenLinked), woken when it is or its connection closes. */
  private readonly linkWaiters = new Map<string, Set<() => void>>();
  private linkChanges = 0;
  private linkListener: ((key: string, linked: boolean) => void) | undefined;
  private readonly waiters = new Map<string, { resolve: (txid: string) => void; reject: (e: Error) => void }>();
  private readonly unsubscribeChain: () => void;

  private constructor(
    private readonly store: ChannelStore,
    stored: { rec: ChannelRecord; state: ChannelState }[],
    private readonly opts: { seed: Uint8Array; network: Network; peers: PeerManager; wallet: Wallet; rpc: BitcoindRpc; broadcaster: Broadcaster; chainWatch: ChainWatch; feeratePerKw: () => number; log: Logger; config?: Partial<ChannelConfig>; limits?: Partial<ChannelLimits>; nodeSecret?: Uint8Array },
  ) {
    this.config = { ...DEFAULT_CONFIG, ...opts.config };
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    for (const c of stored) this.live.set(c.rec.key, c);
    this.unsubscribeChain = opts.chainWatch.subscribe((m) => this.onChainMatches(m));
    // On every (re)connection, tell the peer where each of our channels with it stands. In the
    // channel's queue: messages that arrived on the previous connection may still be in it, and
    // channel_reestablish must describe the state after them (or the peer resends what we already
    // hold, and we take it for something new).
    opts.peers.on('peer_ready', (peer) => {
      for (const { rec } of this.live.values()) {
        if (rec.peer !== peer.pubkey) continue;
        void this.serial(rec.key, async () => {
          // It describes the state on disk: a restart must look to the peer exactly like this reconnect.
          await this.settled(rec.key);
          const c = this.live.get(rec.key);
          if (c && peer.state === 'ready' && canReestablish(c.state)) peer.send(reestablishMessage(c.state));
        }).catch((e: unknown) => opts.log.error('channel reestablish failed', { error: String(e) }));
      }
    });
    // Updates nobody signed are forgotten when the connection drops (BOLT 2).
    opts.peers.on('peer_closed', (peer) => {
      for (const { rec } of [...this.live.values()]) {
        if (rec.peer !== peer.pubkey) continue;
        if (this.linkedTo.get(rec.key) === peer) {
          this.linkedTo.delete(rec.key);
          this.linkChanges++;
          this.linkListener?.(rec.key, false);
        }
        this.wakeLinkWaiters(rec.key);
        void this.serial(rec.key, async () => {
          const c = this.live.get(rec.key)!;
          await this.apply(rec, step(c.state, { type: 'disconnected' }, this.limits));
        }).catch((e: unknown) => opts.log.error('channel disconnect handling failed', { error: String(e) }));
      }
    });
    opts.peers.onMessage('channel_update', (peer, msg) => void this.onChannelUpdate(peer, msg as ChannelUpdateMessage).catch((e: unknown) => opts.log.warn('channel_update handling failed', { error: String(e) })));
    for (const type of ['open_channel', 'accept_channel', 'funding_created', 'funding_signed', 'channel_ready', 'channel_reestablish', 'shutdown', 'closing_signed', 'error', ...UPDATE_MESSAGES] as const) {
      opts.peers.onMessage(type, (peer, msg) => void this.onMessage(peer, msg).catch((e: unknown) => opts.log.error('channel message failed', { peer: peer.pubkey, type, error: String(e) })));
    }
  }

  /**
   * The channels stored in `kv` (the node's store: its lifetime is the node's, not this manager's),
   * after moving a `channels.json` of an earlier Coulomb from the data directory `dir` into it, once.
   * Secrets are never stored: they are derived again from the seed and checked against the stored keys.
   */
  static async open(kv: KvStore, dir: string, opts: ChannelManager['opts']): Promise<ChannelManager> {
    const { store, channels } = await ChannelStore.open(kv, { dir, seed: opts.seed, network: opts.network, warn: (m) => opts.log.warn(m) });
    return new ChannelManager(store, channels, opts);
  }

  /** Waits for the channel writes under way; the KvStore stays open (the node closes it last). */
  async close(): Promise<void> {
    this.unsubscribeChain();
    await Promise.all([...this.effects.keys()].map((k) => this.settled(k)));
    await this.store.idle();
  }

  /** Changes with every stored change to any channel (the app's change events compare it). */
  get revision(): number {
    return this.store.revision;
  }

  /**
   * Whether the channel takes commitment updates now: its connection is up and is the one it was
   * opened on or the one the peer's channel_reestablish came in on. Between a reconnect and that
   * reestablish the peer is connected but the channel is not usable: an add made then would be held
   * and then forgotten by the reestablish (BOLT 2), failing its payment for nothing.
   */
  isLinked(key: string): boolean {
    const c = this.live.get(key);
    if (!c) return false;
    const peer = this.opts.peers.get(c.rec.peer);
    return !!peer && peer.state === 'ready' && this.linkedTo.get(key) === peer;
  }

  /** Changes whenever a channel becomes linked or stops being (the app's change events compare it). */
  get linkRevision(): number {
    return this.linkChanges;
  }

  /**
   * Tells `fn` of every stored step of a channel (with the state before it) and of every time a channel
   * becomes usable or stops being (linked): the node's channel events come from here.
   */
  onChange(fn: (e: { type: 'saved'; peer: string; state: ChannelState; prev: ChannelState | undefined } | { type: 'link'; key: string; linked: boolean }) => void): void {
    this.store.onSaved = (rec, state, prev) => fn({ type: 'saved', peer: rec.peer, state, prev });
    this.linkListener = (key, linked) => fn({ type: 'link', key, linked });
  }

  private link(key: string, peer: Peer): void {
    this.linkedTo.set(key, peer);
    this.linkChanges++;
    this.linkListener?.(key, true);
    this.wakeLinkWaiters(key);
  }

  private wakeLinkWaiters(key: string): void {
    const waiting = this.linkWaiters.get(key);
    if (!waiting) return;
    this.linkWaiters.delete(key);
    for (const wake of waiting) wake();
  }

  /**
   * Waits, at most `ms`, for an open channel whose peer is connected to be linked (its peer's
   * channel_reestablish handled). Resolves true once it is; false when the time is up, or at once
   * when there is nothing to wait for (the channel is not open, or no connection to its peer is up or
   * being set up).
   */
  private async whenLinked(key: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (this.isLinked(key)) return true;
      const c = this.live.get(key);
      const peer = c && this.opts.peers.get(c.rec.peer);
      const left = until - Date.now();
      if (!c || c.state.phase !== 'NORMAL' || !peer || peer.state === 'closed' || left <= 0) return false;
      await new Promise<void>((resolve) => {
        const waiting = this.linkWaiters.get(key) ?? new Set<() => void>();
        const wake = (): void => {
          clearTimeout(timer);
          waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        waiting.add(wake);
        this.linkWaiters.set(key, waiting);
      });
    }
  }

  list(): ChannelView[] {
    return [...this.live.values()].map(({ rec, state }) => ({ key: rec.key, peer: rec.peer, state, private: rec.private }));
  }

  /** The BIP32 index a channel's keys derive from (core/keys/channel-keys.ts): what its backup records. */
  keyIndex(key: string): number | undefined {
    return this.live.get(key)?.rec.index;
  }

  /** New channels take key indexes from `next` on: those below belong to channels restored from a backup. */
  reserveKeyIndexes(next: number): Promise<void> {
    return this.store.reserveIndexes(next);
  }

  private allocateIndex(): Promise<number> {
    return this.store.allocateIndex();
  }

  private findFor(peer: string, msg: Message): { rec: ChannelRecord; state: ChannelState } | undefined {
    const id = 'temporary_channel_id' in msg ? hex.encode(msg.temporary_channel_id) : 'channel_id' in msg ? hex.encode(msg.channel_id) : undefined;
    if (!id) return undefined;
    for (const c of this.live.values()) {
      if (c.rec.peer !== peer) continue;
      if (c.rec.key === id || (c.state.channelId && hex.encode(c.state.channelId) === id)) return c;
    }
    return undefined;
  }

  private async onMessage(peer: Peer, msg: Message): Promise<void> {
    if (msg.type === 'open_channel') return this.onOpen(peer, msg);
    const found = this.findFor(peer.pubkey, msg);
    if (!found) {
      if (msg.type !== 'error') this.opts.log.warn('message for an unknown channel', { peer: peer.pubkey, type: msg.type });
      return;
    }
    const key = found.rec.key;
    await this.serial(key, async () => {
      const c = this.live.get(key)!;
      // The peer's channel_reestablish opens this connection to commitment updates: what the step
      // resends (and whatever was held back meanwhile) goes out on it.
      if (msg.type === 'channel_reestablish' && peer.state === 'ready') this.link(key, peer);
      const r = step(c.state, { type: 'message', msg }, this.limits);
      if (!(UPDATE_MESSAGES as readonly string[]).includes(msg.type)) return this.apply(c.rec, r);
      // A signature or a revocation from the peer may let us sign at once: our revoke_and_ack and our
      // commitment_signed then share one durable write (and go out together, in that order).
      await this.applyPipelined(c.rec, msg.type === 'commitment_signed' || msg.type === 'revoke_and_ack' ? this.withSign(key, r) : r);
      // After a reconnect the peer hears our policy for the channel again (BOLT 7, private channels).
      if (msg.type === 'channel_reestablish') this.sendChannelUpdate(key);
    });
    // A peer's update or signature may leave something for us to sign, and so may our updates
    // resent after channel_reestablish.
    if ((UPDATE_MESSAGES as readonly string[]).includes(msg.type) || msg.type === 'channel_reestablish') this.scheduleSign(key);
  }

  /** Runs `fn` after every earlier operation on this channel has finished. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }

  /** Signs a new commitment for the peer soon: several updates made together share one signature. */
  scheduleSign(key: string): void {
    if (this.signSoon.has(key)) return;
    this.signSoon.add(key);
    setImmediate(() => {
      this.signSoon.delete(key);
      void this.serial(key, async () => {
        const c = this.live.get(key);
        if (!c) return;
        await this.applyPipelined(c.rec, step(c.state, { type: 'sign' }, this.limits));
      }).catch((e: unknown) => this.opts.log.error('signing a commitment failed', { error: String(e) }));
    });
  }

  /**
   * Where HTLC events go (the switch). Events are delivered after the channel's state is stored. A
   * failure with `local` set is delivered within the channel's step (see emitHtlc): the handler must
   * look up and end the HTLC's origin before its first await, since the HTLC's id may be taken by the
   * channel's next add as soon as the step ends.
   */
  setHtlcHandler(fn: (e: HtlcEvent) => Promise<void>): void {
    this.htlcHandler = fn;
  }

  /**
   * Where the preimage of an outgoing HTLC goes the moment the peer reveals it. Awaited in the
   * channel's queue, before the channel moves on: its next commitments drop the HTLC, and a crash
   * then must not lose the proof of payment (the handler must not wait on this channel).
   */
  setPreimageHandler(fn: (channel: string, id: bigint, preimage: Uint8Array) => Promise<void>): void {
    this.preimageHandler = fn;
  }

  /**
   * Hands an HTLC event to the handler without waiting for it: the handler may act on this channel
   * again, and its calls queue behind the current step.
   *
   * `now`: the handler starts within this step, before the channel's queue moves on. For an add the
   * channel forgot (a drop before any commitment_signed covered it), whose id the next add on the
   * channel takes again: the handler must settle which HTLC the failure is about before that add can
   * run, so it takes the HTLC's origin before its first await.
   */
  private emitHtlc(e: HtlcEvent, now = false): void {
    const fn = this.htlcHandler;
    if (!fn) return;
    const run = (): void => void fn(e).catch((err: unknown) => this.opts.log.error('HTLC handling failed', { channel: e.channel, event: e.type, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
    if (now) run();
    else setImmediate(run);
  }

  /** Tells the channel's peer our forwarding policy for it (a channel_update sent to the peer alone). */
  private sendChannelUpdate(key: string): void {
    const c = this.live.get(key);
    const secret = this.opts.nodeSecret;
    if (!c || !secret || c.state.phase !== 'NORMAL' || c.state.shortChannelId === undefined || !c.state.remote) return;
    const peer = this.opts.peers.get(c.rec.peer);
    if (!peer || peer.state !== 'ready') return;
    const inFlightMax = c.state.remote.maxHtlcValueInFlightMsat;
    const capacity = c.state.capacitySat * 1000n;
    peer.send(
      signChannelUpdate({
        chainHash: CHAIN_HASHES[this.opts.network],
        shortChannelId: c.state.shortChannelId,
        ourNodeId: secp.getPublicKey(secret),
        peerNodeId: hex.decode(c.rec.peer),
        nodeSecret: secret,
        timestamp: Math.floor(Date.now() / 1000),
        policy: {
          feeBaseMsat: Number(FORWARDING_POLICY.feeBaseMsat),
          feeProportionalMillionths: Number(FORWARDING_POLICY.feeProportionalMillionths),
          cltvExpiryDelta: FORWARDING_POLICY.cltvExpiryDelta,
          htlcMinimumMsat: c.state.remote.htlcMinimumMsat > 0n ? c.state.remote.htlcMinimumMsat : 1n,
          htlcMaximumMsat: inFlightMax < capacity ? inFlightMax : capacity,
        },
      }),
    );
  }

  /** The peer's channel_update for one of our channels with it: its policy, kept for our invoices' route hints. */
  private async onChannelUpdate(peer: Peer, m: ChannelUpdateMessage): Promise<void> {
    const c = [...this.live.values()].find(({ rec, state }) => rec.peer === peer.pubkey && state.shortChannelId === m.short_channel_id);
    if (!c || !this.opts.nodeSecret) return; // gossip about channels not ours: this node does not keep a graph
    const policy = readChannelUpdate(m, { chainHash: CHAIN_HASHES[this.opts.network], ourNodeId: secp.getPublicKey(this.opts.nodeSecret), peerNodeId: hex.decode(peer.pubkey) });
    if (typeof policy === 'string') {
      this.opts.log.warn('ignored a channel_update', { peer: peer.pubkey, why: policy });
      return;
    }
    await this.serial(c.rec.key, async () => {
      const now = this.live.get(c.rec.key)!;
      now.rec.remotePolicy = { feeBaseMsat: policy.feeBaseMsat, feeProportionalMillionths: policy.feeProportionalMillionths, cltvExpiryDelta: policy.cltvExpiryDelta };
      await this.store.save(now.rec, now.state);
    });
  }

  /** The peer's forwarding policy for a channel, once its channel_update came. */
  remotePolicy(key: string): ChannelRecord['remotePolicy'] {
    return this.live.get(key)?.rec.remotePolicy;
  }

  /** The open channel with this short channel id, if any. */
  byScid(scid: bigint): ChannelView | undefined {
    const c = [...this.live.values()].find(({ state }) => state.shortChannelId === scid);
    return c ? { key: c.rec.key, peer: c.rec.peer, state: c.state, private: c.rec.private } : undefined;
  }

  get(key: string): ChannelView | undefined {
    const c = this.live.get(key);
    return c ? { key: c.rec.key, peer: c.rec.peer, state: c.state, private: c.rec.private } : undefined;
  }

  /**
   * Offers an HTLC on a channel. `beforeSend` runs with the HTLC's id before anything leaves (the
   * switch records where the HTLC came from there, durably). Resolves with the id, or rejects with the
   * reason the channel cannot carry it.
   *
   * Right after a reconnect the channel is not linked until the peer's channel_reestablish is handled:
   * the add waits for that (at most `LINK_WAIT_MS`) before it queues, so it comes after the
   * reestablish, which would otherwise forget it.
   */
  async addHtlc(key: string, h: { amountMsat: bigint; paymentHash: Uint8Array; cltvExpiry: number; onion: Uint8Array }, beforeSend: (id: bigint) => Promise<void>): Promise<bigint> {
    if (!this.isLinked(key)) await this.whenLinked(key, LINK_WAIT_MS);
    return this.serial(key, async () => {
      const c = this.live.get(key);
      if (!c) throw new ApiError('not_found', 'There is no such channel. Check the channel point (coulomb listchannels).');
      const peer = this.opts.peers.get(c.rec.peer);
      if (!peer || peer.state !== 'ready') throw new ApiError('unavailable', 'The channel peer is not connected');
      if (c.state.phase === 'NORMAL' && !this.isLinked(key)) {
        throw new ApiError('unavailable', `The channel with ${c.rec.peer.slice(0, 16)}… is not usable yet: the peer reconnected but has not reestablished it (no channel_reestablish within ${LINK_WAIT_MS / 1000} s); try again in a moment`);
      }
      const r = step(c.state, { type: 'add_htlc', ...h }, this.limits);
      const refused = r.actions.find((a) => a.type === 'add_refused');
      if (refused?.type === 'add_refused') throw new ApiError('failed_precondition', refused.reason);
      const added = r.actions.find((a) => a.type === 'htlc_added');
      if (added?.type !== 'htlc_added') throw new ApiError('internal', 'The channel did not take the payment, and nothing was sent. Try again.');
      await beforeSend(added.id);
      await this.applyPipelined(c.rec, r);
      this.scheduleSign(key);
      return added.id;
    });
  }

  /** Settles, fails or refuses an incoming HTLC on a channel (then signs soon). */
  resolveHtlc(key: string, input: { type: 'fulfill_htlc'; id: bigint; preimage: Uint8Array } | { type: 'fail_htlc'; id: bigint; reason: Uint8Array } | { type: 'fail_malformed_htlc'; id: bigint; sha256OfOnion: Uint8Array; failureCode: number }): Promise<void> {
    return this.serial(key, async () => {
      const c = this.live.get(key);
      if (!c) return;
      if ((c.state.phase === 'FORCE_CLOSING' || c.state.phase === 'FAILED') && input.type === 'fulfill_htlc') {
        // The channel takes no more updates, but its monitor claims the HTLC on chain with the preimage.
        await this.store.writeMonitorUpdates(key, [{ type: 'preimage', preimage: input.preimage }]);
        this.opts.log.info('a preimage for an HTLC of a channel closing on chain goes to its monitor', { channel: key, id: input.id });
        return;
      }
      const r = step(c.state, input, this.limits);
      const refused = r.actions.find((a) => a.type === 'add_refused');
      if (refused?.type === 'add_refused') this.opts.log.warn('could not resolve an HTLC', { channel: key, id: input.id, reason: refused.reason });
      // A fulfill is stored before it is sent: the preimage must survive a crash. The commitment that
      // carries it is signed at once when it can be, in the same durable write.
      await this.applyPipelined(c.rec, this.withSign(key, { state: r.state, actions: input.type === 'fulfill_htlc' ? [{ type: 'store' }, ...r.actions] : r.actions }));
      this.scheduleSign(key);
    });
  }

  /** Incoming HTLCs committed to us and not being settled or failed: after a restart they are looked at again. */
  unresolvedIncoming(): { channel: string; htlc: Htlc }[] {
    const out: { channel: string; htlc: Htlc }[] = [];
    for (const { rec, state } of this.live.values()) {
      if (!state.commit) continue;
      const c = commitmentsOf(state);
      const removing = new Set([...c.localChanges.proposed, ...c.localChanges.signed, ...c.localChanges.acked].flatMap((u) => ('id' in u ? [u.id] : [])));
      const inTheirs = new Set(c.remoteSpec.htlcs.filter((h) => h.incoming).map((h) => h.id));
      for (const h of c.localSpec.htlcs) if (h.incoming && inTheirs.has(h.id) && !removing.has(h.id)) out.push({ channel: rec.key, htlc: h });
    }
    return out;
  }

  private async onOpen(peer: Peer, msg: OpenChannelMessage): Promise<void> {
    const key = hex.encode(msg.temporary_channel_id);
    if (this.live.has(key)) return;
    return this.serial(key, () => this.accept(peer, msg, key));
  }

  private async accept(peer: Peer, msg: OpenChannelMessage, key: string): Promise<void> {
    if (this.live.has(key)) return;
    const index = await this.allocateIndex();
    const r = acceptChannel(msg, {
      chainHash: CHAIN_HASHES[this.opts.network],
      secrets: deriveChannelSecrets(this.opts.seed, this.opts.network, index),
      config: this.config,
      limits: this.limits,
      acceptTypes: ['anchors', 'static_remotekey'],
    });
    const rec: ChannelRecord = { key, peer: peer.pubkey, index, state: null, private: (msg.channel_flags & 1) === 0 };
    this.link(key, peer);
    await this.apply(rec, r);
  }

  /** Opens a channel to a connected peer; resolves with the funding txid once it is published. */
  async openTo(peerKey: string, capacitySat: bigint, pushMsat: bigint, feeratePerKw: number, fundingSatPerVb: number, isPrivate: boolean): Promise<string> {
    const peer = this.opts.peers.get(peerKey);
    if (!peer || peer.state !== 'ready') throw new ApiError('failed_precondition', `Not connected to ${peerKey}; connect first (coulomb connect <pubkey>@<host>:<port>)`);
    if (capacitySat < this.limits.minFundingSat) throw new ApiError('invalid_argument', `A channel of ${capacitySat} sat is below this node's minimum of ${this.limits.minFundingSat} sat (--minchansize)`);
    if (capacitySat > this.limits.maxFundingSat) throw new ApiError('invalid_argument', `A channel of ${capacitySat} sat is above this node's maximum of ${this.limits.maxFundingSat} sat (--maxchansize)`);
    // Check the wallet can pay before asking anything of the peer.
    const bal = this.opts.wallet.balance();
    if (bal.confirmed - bal.reserved < capacitySat) throw new ApiError('invalid_argument', `Not enough confirmed funds: the channel needs ${capacitySat} sat, the wallet has ${bal.confirmed - bal.reserved} sat`);
    const index = await this.allocateIndex();
    const tempId = new Uint8Array(randomBytes(32));
    const r = openChannel({
      temporaryChannelId: tempId,
      chainHash: CHAIN_HASHES[this.opts.network],
      capacitySat,
      pushMsat,
      feeratePerKw,
      // Offer anchors (fees set at broadcast time, by CPFP) to peers that support them.
      channelType: peer.features?.supports('option_anchors') ? 'anchors' : 'static_remotekey',
      announce: !isPrivate,
      secrets: deriveChannelSecrets(this.opts.seed, this.opts.network, index),
      config: this.config,
    });
    const key = hex.encode(tempId);
    const rec: ChannelRecord = { key, peer: peerKey, index, state: null, private: isPrivate };
    this.link(key, peer);
    const done = new Promise<string>((resolve, reject) => {
      this.waiters.set(key, { resolve, reject });
      setTimeout(() => reject(new ApiError('unavailable', 'The peer did not complete the channel opening within 60 s')), 60_000).unref();
    });
    this.fundingFeeRate.set(key, fundingSatPerVb);
    await this.serial(key, () => this.apply(rec, r));
    return done;
  }

  private readonly fundingFeeRate = new Map<string, number>();

  /**
   * Executes a step's actions in order: persisting comes before the sends that depend on it. The
   * effects of earlier pipelined steps of the channel happen first.
   */
  private async apply(rec: ChannelRecord, s: Step): Promise<void> {
    this.live.set(rec.key, { rec, state: s.state });
    await this.settled(rec.key);
    for (const a of s.actions) await this.execute(rec, a);
  }

  /**
   * A commitment update, without holding the channel's queue while its write reaches the disk (LDK's
   * monitor update "in progress"): the step's state is written now, in step order (the store commits
   * writes in the order they are made, so a durable write also makes every earlier one durable), and
   * its sends and HTLC events run later, in step order, each once the writes before it are durable.
   * The next update of the channel is computed meanwhile, and its write can join the same group
   * commit; nothing leaves the process before the state it depends on is on disk.
   *
   * Sends go out only on the connection the channel was linked to when the step ran: one made for a
   * connection that has since dropped is dropped with it (the reestablish on the next one resends
   * what the peer is missing), never sent on the next one ahead of what the reestablish calls for.
   *
   * Steps with anything else to do (a preimage to hand over, a local failure to deliver within the
   * step, a channel that failed, a phase change) take the plain path, after these effects.
   */
  private async applyPipelined(rec: ChannelRecord, s: Step): Promise<void> {
    const before = this.live.get(rec.key)?.state.phase;
    if (before !== 'NORMAL' || s.state.phase !== 'NORMAL' || !s.actions.every(pipelinable)) return this.apply(rec, s);
    this.live.set(rec.key, { rec, state: s.state });
    const linked = this.linkedTo.get(rec.key);
    let durable: Promise<void> | undefined;
    const later: ChannelAction[] = [];
    for (const a of s.actions) {
      if (a.type !== 'store') {
        later.push(a);
        continue;
      }
      const written = this.store.save(rec, s.state, { durable: !a.lazy });
      if (a.lazy) written.catch(() => undefined);
      else durable = written;
    }
    if (!later.length && !durable) return;
    const prev = this.effects.get(rec.key);
    const run = async (): Promise<void> => {
      await prev;
      await durable;
      for (const a of later) {
        if (a.type === 'send') this.sendUpdate(rec, a.msg, linked);
        else await this.execute(rec, a);
      }
    };
    // A failed write stops the node (the store's onFailure): the effects after it never happen.
    const tail = run().catch((e: unknown) => this.opts.log.error('a channel update was not completed', { channel: rec.key, error: String(e) }));
    this.effects.set(rec.key, tail);
    void tail.then(() => {
      if (this.effects.get(rec.key) === tail) this.effects.delete(rec.key);
    });
  }

  /** Resolves once the effects of the channel's pipelined steps so far have happened. */
  private async settled(key: string): Promise<void> {
    for (let e = this.effects.get(key); e; e = this.effects.get(key)) {
      await e;
      if (this.effects.get(key) === e) return;
    }
  }

  /**
   * A step followed by our commitment_signed when there is something for the peer to sign and we may
   * sign now (no signature of ours waiting for its revocation): both stored in one write, the step's
   * messages first.
   */
  private withSign(key: string, r: Step): Step {
    if (r.state.phase !== 'NORMAL' || !this.isLinked(key) || r.actions.some((a) => a.type === 'failed')) return r;
    const signed = step(r.state, { type: 'sign' }, this.limits);
    if (!signed.actions.length) return r;
    const stores = [...r.actions, ...signed.actions].filter((a) => a.type === 'store');
    const durable = stores.some((a) => a.type === 'store' && !a.lazy);
    const first = r.actions.findIndex((a) => a.type === 'store');
    const rest = signed.actions.filter((a) => a.type !== 'store');
    const store: ChannelAction = durable ? { type: 'store' } : { type: 'store', lazy: true };
    const actions = first < 0 ? [...r.actions, store, ...rest] : [...r.actions.slice(0, first), store, ...r.actions.slice(first + 1).filter((a) => a.type !== 'store'), ...rest];
    return { state: signed.state, actions };
  }

  /** Sends a commitment update on `linked`, if the channel is still linked to it and it is up. */
  private sendUpdate(rec: ChannelRecord, msg: Message, linked: Peer | undefined): void {
    if (!linked || this.linkedTo.get(rec.key) !== linked || linked.state !== 'ready') {
      this.opts.log.debug('commitment update held until channel_reestablish', { peer: rec.peer, type: msg.type });
      return;
    }
    if (!linked.send(msg)) this.opts.log.warn('could not send to peer (not connected)', { peer: rec.peer, type: msg.type });
  }

  private async execute(rec: ChannelRecord, a: ChannelAction): Promise<void> {
    const c = this.live.get(rec.key)!;
    switch (a.type) {
      case 'store':
        await this.store.save(rec, c.state, { durable: !a.lazy });
        // Before anything that could get the funding or closing mined leaves: look for it in every block.
        await this.watchChainFor(rec.key, c.state);
        return;
      case 'send': {
        const peer = this.opts.peers.get(rec.peer);
        if ((UPDATE_MESSAGES as readonly string[]).includes(a.msg.type) && (!peer || this.linkedTo.get(rec.key) !== peer || peer.state !== 'ready')) {
          this.opts.log.debug('commitment update held until channel_reestablish', { peer: rec.peer, type: a.msg.type });
          return;
        }
        if (!peer || !peer.send(a.msg)) this.opts.log.warn('could not send to peer (not connected)', { peer: rec.peer, type: a.msg.type });
        return;
      }
      case 'build_funding': {
        let built;
        try {
          built = this.opts.wallet.buildPayment({ script: a.script, amount: a.amountSat, satPerVb: this.fundingFeeRate.get(rec.key) ?? 2 });
          await this.opts.wallet.reserve(built.inputs);
        } catch (e) {
          this.waiters.get(rec.key)?.reject(new ApiError('invalid_argument', (e as Error).message));
          return;
        }
        rec.fundingTxHex = built.txHex;
        await this.apply(rec, step(c.state, { type: 'funding_built', txid: built.txid, vout: built.vout }, this.limits));
        return;
      }
      case 'publish_funding': {
        await this.opts.wallet.publish(rec.fundingTxHex!, `channel funding with ${rec.peer}`);
        this.waiters.get(rec.key)?.resolve(a.txid);
        this.waiters.delete(rec.key);
        this.opts.log.info('channel funding published', { peer: rec.peer, txid: a.txid });
        return;
      }
      case 'watch_funding':
        return; // onBlock() looks at every channel waiting for depth
      case 'need_shutdown_script': {
        // The peer is closing: we are paid to a fresh address of our wallet.
        const script = this.opts.wallet.scriptFor(await this.opts.wallet.newAddress());
        await this.apply(rec, step(c.state, { type: 'shutdown_script', script, feeratePerKw: this.opts.feeratePerKw() }, this.limits));
        return;
      }
      case 'publish_closing': {
        await this.opts.chainWatch.watchTxids([a.txid], rec.key);
        await this.opts.broadcaster.broadcast(a.txHex);
        this.closeWaiters.get(rec.key)?.resolve(a.txid);
        this.closeWaiters.delete(rec.key);
        this.opts.log.info('cooperative close published', { peer: rec.peer, txid: a.txid });
        return;
      }
      case 'ready':
        this.opts.log.info('channel is open', { peer: rec.peer, channel_id: hex.encode(c.state.channelId!) });
        this.sendChannelUpdate(rec.key);
        return;
      case 'htlc_locked_in':
        this.emitHtlc({ type: 'locked_in', channel: rec.key, htlc: a.htlc });
        return;
      case 'htlc_fulfilled':
        await this.preimageHandler?.(rec.key, a.id, a.preimage);
        this.emitHtlc({ type: 'fulfilled', channel: rec.key, id: a.id, preimage: a.preimage });
        return;
      case 'htlc_failed':
        // A failure of our own (`local`: the add was forgotten or refused) frees its id for the next add at once.
        this.emitHtlc({ type: 'failed', channel: rec.key, id: a.id, ...(a.reason ? { reason: a.reason } : {}), ...(a.malformed ? { malformed: a.malformed } : {}), ...(a.local ? { local: a.local } : {}) }, a.local !== undefined);
        return;
      case 'htlc_added':
      case 'add_refused':
        return;
      case 'failed':
        this.opts.log.warn('channel failed', { peer: rec.peer, reason: a.reason });
        this.waiters.get(rec.key)?.reject(new ApiError('failed_precondition', `The channel could not be opened: ${a.reason}`));
        this.waiters.delete(rec.key);
        this.closeWaiters.get(rec.key)?.reject(new ApiError('failed_precondition', `The channel could not be closed: ${a.reason}`));
        this.closeWaiters.delete(rec.key);
        await this.store.save(rec, c.state);
        // An open channel that failed is closed on chain (BOLT 1: fail the channel; BOLT 5): our
        // commitment goes out, unless our data is stale, and then the monitor waits for the peer's.
        if (c.state.phase === 'FAILED' && c.state.shortChannelId !== undefined && canForceClose(c.state) && !c.state.close?.closingTxid) {
          await this.apply(rec, step(c.state, { type: 'force_close', reason: a.reason }, this.limits));
          const hook = this.monitorHook;
          if (hook) {
            void hook
              .forceClose(rec.key)
              .then((r) => {
                if ('refused' in r) this.opts.log.warn(`the failed channel with ${rec.peer} is not closed with our commitment: ${r.refused}`, { peer: rec.peer });
                else this.opts.log.info(`the failed channel with ${rec.peer} is closed on chain: our commitment ${r.txid} is published`, { peer: rec.peer, txid: r.txid });
              })
              .catch((e: unknown) => this.opts.log.error('publishing our commitment failed', { peer: rec.peer, error: String(e) }));
          }
        }
        return;
    }
  }

  /** Where force closes go: the chain monitors (set once they are started). */
  setMonitorHook(hook: MonitorHook): void {
    this.monitorHook = hook;
  }

  /** The chain monitors' update records, written with the channel steps (core/node/monitor-records.ts). */
  get monitorRecords(): ChannelStore['monitors'] {
    return this.store.monitors;
  }

  /** What the chain monitor found: the funding spent (or no longer), every output settled. */
  onChainInput(key: string, input: Extract<ChannelInput, { type: 'funding_spent' | 'funding_unspent' | 'onchain_closed' }>): Promise<void> {
    return this.serial(key, async () => {
      const c = this.live.get(key);
      if (!c) return;
      const r = step(c.state, input, this.limits);
      if (r.state === c.state) return;
      await this.apply(c.rec, r);
      if (input.type === 'funding_spent') this.opts.log.info(`channel with ${c.rec.peer} is closing on chain: ${input.spentBy} commitment ${input.txid} confirmed at block ${input.height}`, { peer: c.rec.peer });
      if (input.type === 'onchain_closed') this.opts.log.info(`channel with ${c.rec.peer} is closed: every output on chain is settled`, { peer: c.rec.peer, txid: input.txid });
    });
  }

  /**
   * The channel's monitor published our commitment because an HTLC passed its deadline (BOLT 2): the
   * channel is failed (FORCE_CLOSING, so nothing more is added to it) and the peer is told why.
   */
  failForDeadline(key: string, reason: string): Promise<void> {
    return this.serial(key, async () => {
      const c = this.live.get(key);
      if (!c) return;
      const r = step(c.state, { type: 'force_close', reason, errorToPeer: `closing the channel on chain: ${reason}` }, this.limits);
      if (r.state === c.state) return;
      await this.apply(c.rec, r);
      this.closeWaiters.get(key)?.reject(new ApiError('failed_precondition', `The channel was closed on chain before the cooperative close finished: ${reason}`));
      this.closeWaiters.delete(key);
    });
  }

  /**
   * Closes the channel whose funding outpoint is `chanPoint` unilaterally (lncli closechannel --force):
   * our latest commitment, signed by both, is published by the channel's monitor, with a CPFP child
   * through our anchor when the channel has anchors. Resolves with the commitment's txid.
   */
  async forceClose(chanPoint: string): Promise<string> {
    const c = [...this.live.values()].find(({ state }) => state.funding && `${state.funding.txid}:${state.funding.vout}` === chanPoint);
    if (!c) throw new ApiError('not_found', `No channel with channel point ${chanPoint} (see coulomb listchannels)`);
    const hook = this.monitorHook;
    if (!hook) throw new ApiError('unavailable', 'The chain monitors are not running yet; try again in a moment');
    return this.serial(c.rec.key, async () => {
      const now = this.live.get(c.rec.key)!;
      if (now.state.phase === 'CLOSED') throw new ApiError('failed_precondition', 'The channel is closed already');
      if (!canForceClose(now.state)) throw new ApiError('failed_precondition', 'The channel has no commitment both sides signed yet, so there is nothing to publish; it can only be abandoned');
      const refused = hook.refusal(now.rec.key);
      if (refused) throw new ApiError('failed_precondition', `The channel cannot be force-closed: ${refused}`);
      await this.apply(now.rec, step(now.state, { type: 'force_close', reason: 'closed by the user (closechannel --force)' }, this.limits));
      this.closeWaiters.get(now.rec.key)?.reject(new ApiError('failed_precondition', 'The channel was force-closed before the cooperative close finished'));
      this.closeWaiters.delete(now.rec.key);
      const r = await hook.forceClose(now.rec.key);
      if ('refused' in r) throw new ApiError('failed_precondition', `The channel cannot be force-closed: ${r.refused}`);
      this.opts.log.info(`force-closing the channel with ${now.rec.peer}: our commitment ${r.txid} is published`, { peer: now.rec.peer, txid: r.txid });
      return r.txid;
    });
  }

  private readonly closeWaiters = new Map<string, { resolve: (txid: string) => void; reject: (e: Error) => void }>();

  /** Starts a cooperative close of the channel whose funding outpoint is `chanPoint`; resolves with the closing txid. */
  async closeChannel(chanPoint: string): Promise<string> {
    const c = [...this.live.values()].find(({ state }) => state.funding && `${state.funding.txid}:${state.funding.vout}` === chanPoint);
    if (!c) throw new ApiError('not_found', `No channel with channel point ${chanPoint} (see coulomb listchannels)`);
    if (c.state.phase !== 'NORMAL') throw new ApiError('failed_precondition', `The channel is ${c.state.phase.toLowerCase()}, not open`);
    const peer = this.opts.peers.get(c.rec.peer);
    if (!peer || peer.state !== 'ready') throw new ApiError('failed_precondition', 'The peer is not connected; a cooperative close needs it online (connect first)');
    const done = new Promise<string>((resolve, reject) => {
      this.closeWaiters.set(c.rec.key, { resolve, reject });
      setTimeout(() => reject(new ApiError('unavailable', 'The peer did not agree on a closing transaction within 60 s')), 60_000).unref();
    });
    const script = this.opts.wallet.scriptFor(await this.opts.wallet.newAddress());
    await this.serial(c.rec.key, async () => {
      const now = this.live.get(c.rec.key)!;
      await this.apply(now.rec, step(now.state, { type: 'close', script, feeratePerKw: this.opts.feeratePerKw() }, this.limits));
    });
    return done;
  }

  /** Watches the chain for what the stored channels wait on (also those stored before the watch existed). */
  async watchChain(): Promise<void> {
    for (const { rec, state } of [...this.live.values()]) await this.watchChainFor(rec.key, state);
  }

  /**
   * Registers what a channel waits for on chain, under its key: the funding or closing transaction to
   * confirm, and the funding output, whose spend (a close of any kind, or a theft) is recorded with the
   * spending transaction for the channel's monitor. Writes only what is not registered yet.
   */
  private async watchChainFor(key: string, st: ChannelState): Promise<void> {
    const txids = chainWatchOf(st);
    if (txids.length) await this.opts.chainWatch.watchTxids(txids, key);
    const funding = fundingOutpointOf(st);
    if (funding) await this.opts.chainWatch.watchOutpoints([funding], key);
  }

  /**
   * What the chain did to our channels' funding outputs. Only told for now: the chain monitor will act
   * on it (BOLT 5); the spend and the spending transaction are kept in the chain watch for it.
   */
  private onChainMatches(m: BlockMatches): void {
    for (const s of m.spent) {
      for (const owner of this.opts.chainWatch.ownersOf(s.outpoint)) {
        const c = this.live.get(owner);
        if (!c || !sameOutpoint(fundingOutpointOf(c.state), s.outpoint)) continue;
        const channel = c.state.channelId ? hex.encode(c.state.channelId) : owner;
        const fields = { peer: c.rec.peer, funding: `${s.outpoint.txid}:${s.outpoint.vout}`, spending_txid: s.txid, height: s.height };
        if (m.type === 'connected') this.opts.log.info(`the funding output of channel ${channel} was spent by ${s.txid} (block ${s.height})`, fields);
        else this.opts.log.warn(`the spend of channel ${channel}'s funding output by ${s.txid} left the chain in a reorg (block ${s.height}); watching for a spend again`, fields);
      }
    }
  }

  /**
   * Called after each block, with the height of the block just connected: tells waiting channels how
   * deep their funding is, and closing channels that their closing transaction confirmed. Both are
   * found in the blocks the chain source delivers (bitcoind needs no -txindex).
   */
  async onBlock(tipHeight: number): Promise<void> {
    for (const { rec } of [...this.live.values()]) await this.serial(rec.key, () => this.onBlockFor(rec.key, tipHeight));
  }

  /**
   * Where the funding output confirmed, for a funding not seen in a delivered block (one that confirmed
   * before the watch existed): bitcoind's gettxout knows an unspent output's depth without -txindex.
   */
  private async locateFunding(txid: string, vout: number, tipHeight: number): Promise<TxLocation | undefined> {
    const coin = await this.opts.rpc.call<{ confirmations: number; bestblock: string } | null>('gettxout', txid, vout, false).catch(() => null);
    if (!coin?.confirmations) return undefined;
    const best = await this.opts.rpc.call<{ height: number }>('getblockheader', coin.bestblock, true);
    const height = best.height - coin.confirmations + 1;
    if (height > tipHeight) return undefined; // bitcoind is ahead of the blocks we followed: wait for them
    const blockHash = await this.opts.rpc.call<string>('getblockhash', height);
    const block = await this.opts.rpc.call<{ tx: string[] }>('getblock', blockHash, 1);
    const index = block.tx.indexOf(txid);
    return index < 0 ? undefined : { blockHash, height, index };
  }

  private async onBlockFor(key: string, tipHeight: number): Promise<void> {
    {
      const { rec, state } = this.live.get(key)!;
      if (state.phase === 'CLOSING' && state.close?.closingTxid) {
        if (this.opts.chainWatch.confirmations(state.close.closingTxid, tipHeight) > 0) await this.apply(rec, step(state, { type: 'closing_confirmed' }, this.limits));
        return;
      }
      if (state.phase !== 'WAIT_FUNDING_CONFIRMED' && state.phase !== 'WAIT_CHANNEL_READY') return;
      const f = state.funding!;
      const at = this.opts.chainWatch.location(f.txid) ?? (await this.locateFunding(f.txid, f.vout, tipHeight));
      if (!at || at.height > tipHeight) return;
      // bitcoind finds a confirmed transaction when told its block (no -txindex needed).
      const info = await this.opts.rpc.call<{ vout: { value: number; scriptPubKey: { hex: string } }[] }>('getrawtransaction', f.txid, true, at.blockHash).catch(() => undefined);
      if (!info) return;
      // The funding transaction the funder published must pay exactly the 2-of-2 and the amount agreed.
      const out = info.vout[f.vout];
      const expected = hex.encode(p2wsh(fundingScript(state.local.basepoints.fundingPubkey, state.remote!.basepoints.fundingPubkey)));
      if (!out || out.scriptPubKey.hex !== expected || BigInt(Math.round(out.value * 1e8)) !== state.capacitySat) {
        await this.apply(rec, {
          state: { ...state, phase: 'FAILED', failure: 'the funding output does not match the channel (wrong script or amount)' },
          actions: [{ type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode('funding output does not match') } }, { type: 'failed', reason: 'the funding output does not match the channel' }],
        });
        return;
      }
      const scid = (BigInt(at.height) << 40n) | (BigInt(at.index) << 16n) | BigInt(f.vout);
      await this.apply(rec, step(state, { type: 'funding_depth', depth: tipHeight - at.height + 1, shortChannelId: scid }, this.limits));
    }
  }

  /**
   * What each side would get from our current commitment, as lncli shows it: the funder's share is
   * net of the commitment fee.
   */
  balances(view: ChannelView): { localMsat: bigint; remoteMsat: bigint } {
    const st = view.state;
    const spec = currentSpec(st);
    if (!st.funding || !st.remote) return { localMsat: spec.toLocalMsat, remoteMsat: spec.toRemoteMsat };
    // The funder's side is net of the commitment fee (and anchors), as lncli shows it.
    const fee = feeOf(st, spec, st.local.dustLimitSat, 'local');
    const net = (msat: bigint): bigint => (msat > fee ? msat - fee : 0n);
    return st.funder ? { localMsat: net(spec.toLocalMsat), remoteMsat: spec.toRemoteMsat } : { localMsat: spec.toLocalMsat, remoteMsat: net(spec.toRemoteMsat) };
  }

  /** What we could send on this channel now, in msat (see core/channel/updates.ts). */
  spendableMsat(view: ChannelView): bigint {
    return spendableMsat(view.state);
  }
}

/** The transactions a channel waits on to be mined: its funding while opening, its closing while closing. */
/**
 * What a pipelined step may carry (see applyPipelined): its writes, commitment updates to send, and
 * HTLC events that follow a durable state. A preimage learned (handed over before the channel moves
 * on) and a local failure (delivered within the step) need the plain path.
 */
function pipelinable(a: ChannelAction): boolean {
  switch (a.type) {
    case 'store':
    case 'htlc_locked_in':
    case 'htlc_added':
    case 'add_refused':
      return true;
    case 'send':
      return (UPDATE_MESSAGES as readonly string[]).includes(a.msg.type);
    case 'htlc_failed':
      return a.local === undefined;
    default:
      return false;
  }
}

function chainWatchOf(st: ChannelState): string[] {
  if ((st.phase === 'WAIT_FUNDING_CONFIRMED' || st.phase === 'WAIT_CHANNEL_READY') && st.funding) return [st.funding.txid];
  if (st.phase === 'CLOSING' && st.close?.closingTxid) return [st.close.closingTxid];
  return [];
}

/** The channel's funding output, once the funding transaction is built: its spend is watched from then on. */
function fundingOutpointOf(st: ChannelState): Outpoint | undefined {
  return st.funding ? { txid: st.funding.txid, vout: st.funding.vout } : undefined;
}

function sameOutpoint(a: Outpoint | undefined, b: Outpoint): boolean {
  return !!a && a.txid === b.txid && a.vout === b.vout;
}

export function formatScid(scid: bigint | undefined): string {
  if (scid === undefined) return '0';
  const p = scidToParts(scid);
  return `${p.block}x${p.tx}x${p.output}`;
}
