/**
 * The shell around the channel state machines: routes peer messages to them, executes their actions
 * in order (store before send), funds channels from the wallet, and feeds them funding depth from
 * the chain. One durable store holds every channel.
 */
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import type { Message, OpenChannelMessage } from '../wire/index.ts';
import { CHAIN_HASHES } from '../wire/index.ts';
import type { Peer } from '../peer/peer.ts';
import type { PeerManager } from '../peer/manager.ts';
import type { Wallet } from '../wallet/wallet.ts';
import type { BitcoindRpc, Broadcaster } from '../chain/index.ts';
import type { Network } from '../keys/node-key.ts';
import { deriveChannelSecrets } from '../keys/channel-keys.ts';
import { openChannel, acceptChannel, step } from '../channel/establish.ts';
import { commitmentFor, initialBalances } from '../channel/commitments.ts';
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from '../channel/config.ts';
import type { ChannelAction, ChannelState, Step } from '../channel/types.ts';
import { toStored, fromStored } from '../channel/codec.ts';
import { canReestablish, reestablishMessage } from '../channel/reestablish.ts';
import { openStore } from '../store/store.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log/logger.ts';
import { ApiError } from '../api/contract.ts';
import { scidToParts } from '../wire/index.ts';
import { fundingScript, p2wsh } from '../tx/scripts.ts';

interface ChannelRecord {
  /** Hex of the temporary id: stable key for the channel's whole life. */
  key: string;
  peer: string;
  index: number;
  state: unknown;
  fundingTxHex?: string;
  private: boolean;
}

interface ChannelsDb {
  nextIndex: number;
  channels: Record<string, ChannelRecord>;
}

export interface ChannelView {
  key: string;
  peer: string;
  state: ChannelState;
  private: boolean;
}

export class ChannelManager {
  private readonly live = new Map<string, { rec: ChannelRecord; state: ChannelState }>();
  private readonly waiters = new Map<string, { resolve: (txid: string) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly db: Store<ChannelsDb>,
    private readonly opts: { seed: Uint8Array; network: Network; peers: PeerManager; wallet: Wallet; rpc: BitcoindRpc; broadcaster: Broadcaster; feeratePerKw: () => number; log: Logger },
  ) {
    for (const rec of Object.values(db.data.channels)) this.live.set(rec.key, { rec: { ...rec } as ChannelRecord, state: fromStored(rec.state) });
    // On every (re)connection, tell the peer where each of our channels with it stands.
    opts.peers.on('peer_ready', (peer) => {
      for (const { rec, state } of this.live.values()) {
        if (rec.peer === peer.pubkey && canReestablish(state)) peer.send(reestablishMessage(state));
      }
    });
    for (const type of ['open_channel', 'accept_channel', 'funding_created', 'funding_signed', 'channel_ready', 'channel_reestablish', 'shutdown', 'closing_signed', 'error'] as const) {
      opts.peers.onMessage(type, (peer, msg) => void this.onMessage(peer, msg).catch((e: unknown) => opts.log.error('channel message failed', { peer: peer.pubkey, type, error: String(e) })));
    }
  }

  static async open(dir: string, opts: ChannelManager['opts']): Promise<ChannelManager> {
    const db = await openStore<ChannelsDb>({ dir, name: 'channels', version: 1, migrations: [], defaults: () => ({ nextIndex: 0, channels: {} }) });
    return new ChannelManager(db, opts);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  list(): ChannelView[] {
    return [...this.live.values()].map(({ rec, state }) => ({ key: rec.key, peer: rec.peer, state, private: rec.private }));
  }

  private async allocateIndex(): Promise<number> {
    const index = this.db.data.nextIndex;
    await this.db.update((d) => void (d.nextIndex = index + 1));
    return index;
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
    const c = this.findFor(peer.pubkey, msg);
    if (!c) {
      if (msg.type !== 'error') this.opts.log.warn('message for an unknown channel', { peer: peer.pubkey, type: msg.type });
      return;
    }
    await this.apply(c.rec, step(c.state, { type: 'message', msg }, DEFAULT_LIMITS));
  }

  private async onOpen(peer: Peer, msg: OpenChannelMessage): Promise<void> {
    const key = hex.encode(msg.temporary_channel_id);
    if (this.live.has(key)) return;
    const index = await this.allocateIndex();
    const r = acceptChannel(msg, {
      chainHash: CHAIN_HASHES[this.opts.network],
      secrets: deriveChannelSecrets(this.opts.seed, this.opts.network, index),
      config: DEFAULT_CONFIG,
      limits: DEFAULT_LIMITS,
      acceptTypes: ['anchors', 'static_remotekey'],
    });
    const rec: ChannelRecord = { key, peer: peer.pubkey, index, state: null, private: (msg.channel_flags & 1) === 0 };
    await this.apply(rec, r);
  }

  /** Opens a channel to a connected peer; resolves with the funding txid once it is published. */
  async openTo(peerKey: string, capacitySat: bigint, pushMsat: bigint, feeratePerKw: number, fundingSatPerVb: number, isPrivate: boolean): Promise<string> {
    const peer = this.opts.peers.get(peerKey);
    if (!peer || peer.state !== 'ready') throw new ApiError('failed_precondition', `not connected to ${peerKey}; connect first (coulomb connect <pubkey>@<host>:<port>)`);
    // Check the wallet can pay before asking anything of the peer.
    const bal = this.opts.wallet.balance();
    if (bal.confirmed - bal.reserved < capacitySat) throw new ApiError('invalid_argument', `not enough confirmed funds: the channel needs ${capacitySat} sat, the wallet has ${bal.confirmed - bal.reserved} sat`);
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
      config: DEFAULT_CONFIG,
    });
    const key = hex.encode(tempId);
    const rec: ChannelRecord = { key, peer: peerKey, index, state: null, private: isPrivate };
    const done = new Promise<string>((resolve, reject) => {
      this.waiters.set(key, { resolve, reject });
      setTimeout(() => reject(new ApiError('unavailable', 'the peer did not complete the channel opening within 60 s')), 60_000).unref();
    });
    this.fundingFeeRate.set(key, fundingSatPerVb);
    await this.apply(rec, r);
    return done;
  }

  private readonly fundingFeeRate = new Map<string, number>();

  /** Executes a step's actions in order: persisting comes before the sends that depend on it. */
  private async apply(rec: ChannelRecord, s: Step): Promise<void> {
    this.live.set(rec.key, { rec, state: s.state });
    for (const a of s.actions) await this.execute(rec, a);
  }

  private async execute(rec: ChannelRecord, a: ChannelAction): Promise<void> {
    const c = this.live.get(rec.key)!;
    switch (a.type) {
      case 'store':
        await this.db.update((d) => void (d.channels[rec.key] = { ...rec, state: toStored(c.state) }));
        return;
      case 'send': {
        const peer = this.opts.peers.get(rec.peer);
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
        await this.apply(rec, step(c.state, { type: 'funding_built', txid: built.txid, vout: built.vout }, DEFAULT_LIMITS));
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
        await this.apply(rec, step(c.state, { type: 'shutdown_script', script, feeratePerKw: this.opts.feeratePerKw() }, DEFAULT_LIMITS));
        return;
      }
      case 'publish_closing': {
        await this.opts.broadcaster.broadcast(a.txHex);
        this.closeWaiters.get(rec.key)?.resolve(a.txid);
        this.closeWaiters.delete(rec.key);
        this.opts.log.info('cooperative close published', { peer: rec.peer, txid: a.txid });
        return;
      }
      case 'ready':
        this.opts.log.info('channel is open', { peer: rec.peer, channel_id: hex.encode(c.state.channelId!) });
        return;
      case 'failed':
        this.opts.log.warn('channel failed', { peer: rec.peer, reason: a.reason });
        this.waiters.get(rec.key)?.reject(new ApiError('failed_precondition', `the channel could not be opened: ${a.reason}`));
        this.waiters.delete(rec.key);
        this.closeWaiters.get(rec.key)?.reject(new ApiError('failed_precondition', `the channel could not be closed: ${a.reason}`));
        this.closeWaiters.delete(rec.key);
        await this.db.update((d) => void (d.channels[rec.key] = { ...rec, state: toStored(c.state) }));
        return;
    }
  }

  private readonly closeWaiters = new Map<string, { resolve: (txid: string) => void; reject: (e: Error) => void }>();

  /** Starts a cooperative close of the channel whose funding outpoint is `chanPoint`; resolves with the closing txid. */
  async closeChannel(chanPoint: string): Promise<string> {
    const c = [...this.live.values()].find(({ state }) => state.funding && `${state.funding.txid}:${state.funding.vout}` === chanPoint);
    if (!c) throw new ApiError('not_found', `no channel with channel point ${chanPoint} (see coulomb listchannels)`);
    if (c.state.phase !== 'NORMAL') throw new ApiError('failed_precondition', `the channel is ${c.state.phase.toLowerCase()}, not open`);
    const peer = this.opts.peers.get(c.rec.peer);
    if (!peer || peer.state !== 'ready') throw new ApiError('failed_precondition', 'the peer is not connected; a cooperative close needs it online (connect first)');
    const done = new Promise<string>((resolve, reject) => {
      this.closeWaiters.set(c.rec.key, { resolve, reject });
      setTimeout(() => reject(new ApiError('unavailable', 'the peer did not agree on a closing transaction within 60 s')), 60_000).unref();
    });
    const script = this.opts.wallet.scriptFor(await this.opts.wallet.newAddress());
    await this.apply(c.rec, step(c.state, { type: 'close', script, feeratePerKw: this.opts.feeratePerKw() }, DEFAULT_LIMITS));
    return done;
  }

  /** Called after each block: tells waiting channels how deep their funding is. */
  async onBlock(): Promise<void> {
    for (const { rec, state } of [...this.live.values()]) {
      if (state.phase === 'CLOSING' && state.close?.closingTxid) {
        const info = await this.opts.rpc.call<{ confirmations?: number }>('getrawtransaction', state.close.closingTxid, true).catch(() => undefined);
        if (info?.confirmations) await this.apply(rec, step(state, { type: 'closing_confirmed' }, DEFAULT_LIMITS));
        continue;
      }
      if (state.phase !== 'WAIT_FUNDING_CONFIRMED' && state.phase !== 'WAIT_CHANNEL_READY') continue;
      const f = state.funding!;
      const info = await this.opts.rpc.call<{ confirmations?: number; blockhash?: string; vout: { value: number; scriptPubKey: { hex: string } }[] }>('getrawtransaction', f.txid, true).catch(() => undefined);
      if (!info?.confirmations || !info.blockhash) continue;
      // The funding transaction the funder published must pay exactly the 2-of-2 and the amount agreed.
      const out = info.vout[f.vout];
      const expected = hex.encode(p2wsh(fundingScript(state.local.basepoints.fundingPubkey, state.remote!.basepoints.fundingPubkey)));
      if (!out || out.scriptPubKey.hex !== expected || BigInt(Math.round(out.value * 1e8)) !== state.capacitySat) {
        await this.apply(rec, {
          state: { ...state, phase: 'FAILED', failure: 'the funding output does not match the channel (wrong script or amount)' },
          actions: [{ type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode('funding output does not match') } }, { type: 'failed', reason: 'the funding output does not match the channel' }],
        });
        continue;
      }
      const block = await this.opts.rpc.call<{ height: number; tx: string[] }>('getblock', info.blockhash, 1);
      const txIndex = block.tx.indexOf(f.txid);
      const scid = (BigInt(block.height) << 40n) | (BigInt(txIndex) << 16n) | BigInt(f.vout);
      await this.apply(rec, step(state, { type: 'funding_depth', depth: info.confirmations, shortChannelId: scid }, DEFAULT_LIMITS));
    }
  }

  /**
   * What each side would get from our current commitment, as lncli shows it: the funder's share is
   * net of the commitment fee.
   */
  balances(view: ChannelView): { localMsat: bigint; remoteMsat: bigint } {
    const st = view.state;
    const b = initialBalances(st);
    const raw = st.funder ? { localMsat: b.funderMsat, remoteMsat: b.fundeeMsat } : { localMsat: b.fundeeMsat, remoteMsat: b.funderMsat };
    if (!st.funding || !st.remote) return raw;
    const c = commitmentFor(st, 'local', st.local.firstPerCommitmentPoint, 0n, b);
    const amount = (kind: string): bigint => (c.outputs.find((o) => o.kind === kind)?.amountSat ?? 0n) * 1000n;
    return { localMsat: amount('to_local'), remoteMsat: amount('to_remote') };
  }
}

export function formatScid(scid: bigint | undefined): string {
  if (scid === undefined) return '0';
  const p = scidToParts(scid);
  return `${p.block}x${p.tx}x${p.output}`;
}
