/**
 * A real LDK Lightning node (the `lightningdevkit` WebAssembly build) running inside this Node
 * process, reachable over real TCP: an independent peer for interop tests.
 *
 * Chain, persistence and fees are in-memory stand-ins; blocks are fed by whoever needs channels.
 * The bindings hold every JS-implemented trait object weakly, so each one is kept in `refs`.
 */
import { createServer, connect as netConnect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as ldk from 'lightningdevkit';
import { initLdkWasm } from './wasm.ts';
import { parseNodeId, nodeIdHex } from './keys.ts';
import { leFlagsToWire } from './features.ts';
import { LdkSocket } from './socket.ts';
import { Conditions } from './conditions.ts';
import { channelHandlerWithInit } from './custom-init.ts';
import type { InitOverride } from './custom-init.ts';

export type LdkLogLevel = 'gossip' | 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LdkLogLevel, ldk.Level> = {
  gossip: ldk.Level.LDKLevel_Gossip,
  trace: ldk.Level.LDKLevel_Trace,
  debug: ldk.Level.LDKLevel_Debug,
  info: ldk.Level.LDKLevel_Info,
  warn: ldk.Level.LDKLevel_Warn,
  error: ldk.Level.LDKLevel_Error,
};
const LEVEL_NAMES = ['GOSSIP', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Regtest genesis block hash as shown by bitcoind (display order is byte-reversed). */
export const REGTEST_GENESIS_HASH = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';
const MAX_LOG_LINES = 5000;
const PEER_TICK_MS = 10_000;
const CHANNEL_TICK_MS = 60_000;

export interface LdkNodeOptions {
  /** 32-byte seed for LDK's KeysManager; random when absent. */
  seed?: Uint8Array;
  network?: 'regtest';
  /** Only used in log lines, to tell two nodes apart. */
  alias?: string;
  /** Lowest level kept in `logs` (default 'debug'). */
  logLevel?: LdkLogLevel;
  /** Also receives every kept log line (e.g. to print it). */
  onLog?: (line: string) => void;
  /** Run the periodic PeerManager/ChannelManager ticks (default true). Tests that need exact ping
   *  timing turn this off and call `tick()` themselves. */
  timers?: boolean;
  /** Answer to every fee estimate, sat per 1000 weight (default 253, the floor). */
  feerateSatPerKw?: number;
  /** Adjust LDK's default UserConfig before the ChannelManager is built. */
  configure?: (config: ldk.UserConfig) => void;
  /** Send this `init` instead of LDK's own (to probe how a peer judges it). */
  initOverride?: InitOverride;
  /**
   * Every LDK event (ChannelManager and ChainMonitor), handed over whenever LDK signals it has some.
   * Called after LDK's own `process_pending_events` has returned, so the handler may call back into
   * LDK (claim_funds, process_pending_htlc_forwards…). Without it, events stay queued in LDK until
   * someone processes them (e.g. `fundPendingChannel`).
   */
  onEvent?: (event: ldk.Event, node: LdkNode) => void;
}

export interface LdkNode {
  readonly nodeId: string;
  readonly alias: string;
  listen(port?: number, host?: string): Promise<number>;
  connect(pubkeyHex: string, host: string, port: number, timeoutMs?: number): Promise<void>;
  listPeers(): string[];
  waitForPeer(pubkeyHex: string, timeoutMs?: number): Promise<void>;
  waitForPeerGone(pubkeyHex: string, timeoutMs?: number): Promise<void>;
  disconnect(pubkeyHex: string): void;
  tick(): void;
  /** Wire-order (big-endian) `init` features the peer sent us, if it is connected. */
  peerInitFeatures(pubkeyHex: string): Uint8Array | undefined;
  /** Wire-order features this node puts in its own `init` (the ChannelManager's; the other
   *  handlers are ignoring ones that add none). */
  ownInitFeatures(): Uint8Array;
  /** Runs PeerManager.process_events now (after driving the ChannelManager by hand). */
  processEvents(): void;
  /** Hands pending LDK events to `onEvent` now (it also happens on every wake-up); returns how many. */
  handleEvents(): number;
  /** Feeds LDK (ChannelManager and ChainMonitor) every block after `fedHeight` up to `height`, in
   *  order, none skipped; `block(h)` gives a block's raw bytes. */
  syncTo(height: number, block: (h: number) => Uint8Array): void;
  /** The height of the last block fed through `syncTo`. */
  readonly fedHeight: number;
  /**
   * Tells LDK (ChannelManager and ChainMonitor) that the blocks fed above `height` are gone, tip first,
   * with the headers it was fed (a reorganization: feed the new blocks with `syncTo` after it).
   */
  rewindTo(height: number): void;
  readonly logs: string[];
  readonly broadcasted: Uint8Array[];
  /**
   * Every state of each channel's ChannelMonitor as the persister was handed it, serialized, oldest
   * first, by funding outpoint (`txid:vout`, txid in display order): a real persister's files, kept
   * so a test can bring an old one back (as a node restored from a stale backup would).
   */
  readonly monitorHistory: Map<string, Uint8Array[]>;
  /** While true, inbound connections are closed at once (the node is unreachable). */
  refuseInbound: boolean;
  /**
   * Reads a serialized ChannelMonitor (e.g. an old one from `monitorHistory`) on its own, outside the
   * ChainMonitor, and has it broadcast the holder commitment it knows as latest, with its HTLC
   * transactions: what a node restored from that monitor does when it force-closes.
   */
  broadcastFromMonitor(serialized: Uint8Array): void;
  readonly channelManager: ldk.ChannelManager;
  readonly peerManager: ldk.PeerManager;
  readonly chainMonitor: ldk.ChainMonitor;
  readonly keysManager: ldk.KeysManager;
  readonly networkGraph: ldk.NetworkGraph;
  stop(): Promise<void>;
}

export async function startLdkNode(opts: LdkNodeOptions = {}): Promise<LdkNode> {
  await initLdkWasm();
  return new LdkNodeImpl(opts);
}


class LdkNodeImpl implements LdkNode {
  readonly nodeId: string;
  readonly alias: string;
  readonly logs: string[] = [];
  readonly broadcasted: Uint8Array[] = [];
  readonly monitorHistory = new Map<string, Uint8Array[]>();
  refuseInbound = false;
  readonly channelManager: ldk.ChannelManager;
  readonly peerManager: ldk.PeerManager;
  readonly chainMonitor: ldk.ChainMonitor;
  readonly keysManager: ldk.KeysManager;
  readonly networkGraph: ldk.NetworkGraph;

  /** Strong references to everything LDK only holds weakly (see module comment). */
  private readonly refs: object[] = [];
  private readonly sockets = new Set<LdkSocket>();
  private readonly servers = new Set<Server>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly conditions = new Conditions();
  private wakeScheduled = false;
  /** The armed wake-up; replaced on every re-arm so only the live one is kept alive. */
  private wake: { future: ldk.Future; callback: ldk.FutureCallback } | undefined;
  private stopped = false;
  private readonly onEvent: LdkNodeOptions['onEvent'];
  private readonly io: { broadcaster: ldk.BroadcasterInterface; feeEstimator: ldk.FeeEstimator; logger: ldk.Logger };
  fedHeight = 0;
  /** The 80-byte header of each block fed, by height (what `rewindTo` hands back to LDK). */
  private readonly fedHeaders = new Map<number, Uint8Array>();

  constructor(opts: LdkNodeOptions) {
    if ((opts.network ?? 'regtest') !== 'regtest') throw new Error('only regtest is supported');
    const seed = opts.seed ?? randomBytes(32);
    if (seed.length !== 32) throw new Error('seed must be 32 bytes');
    const minLevel = LEVELS[opts.logLevel ?? 'debug'];
    const feerate = opts.feerateSatPerKw ?? 253;
    this.onEvent = opts.onEvent;
    const network = ldk.Network.LDKNetwork_Regtest;

    const logger = ldk.Logger.new_impl({
      log: (record) => {
        const level = record.get_level();
        if (level < minLevel) return;
        const line = `${LEVEL_NAMES[level] ?? level} ${record.get_module_path()}: ${record.get_args()}`;
        this.logs.push(line);
        if (this.logs.length > MAX_LOG_LINES) this.logs.splice(0, this.logs.length - MAX_LOG_LINES);
        opts.onLog?.(line);
      },
    });
    const feeEstimator = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => feerate });
    const broadcaster = ldk.BroadcasterInterface.new_impl({
      broadcast_transactions: (txs) => {
        for (const tx of txs) this.broadcasted.push(Uint8Array.from(tx));
      },
    });
    const completed = ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
    const keep = (outpoint: ldk.OutPoint, monitor: ldk.ChannelMonitor): ldk.ChannelMonitorUpdateStatus => {
      const key = `${Buffer.from(outpoint.get_txid()).reverse().toString('hex')}:${outpoint.get_index()}`;
      const list = this.monitorHistory.get(key) ?? [];
      list.push(monitor.write());
      this.monitorHistory.set(key, list);
      return completed;
    };
    const persister = ldk.Persist.new_impl({
      persist_new_channel: (outpoint, monitor) => keep(outpoint, monitor),
      update_persisted_channel: (outpoint, _update, monitor) => keep(outpoint, monitor),
      archive_persisted_channel: () => {},
    });
    this.refs.push(logger, feeEstimator, broadcaster, persister);
    this.io = { broadcaster, feeEstimator, logger };

    const now = Date.now();
    this.keysManager = ldk.KeysManager.constructor_new(seed, BigInt(Math.floor(now / 1000)), (now % 1000) * 1e6);
    this.chainMonitor = ldk.ChainMonitor.constructor_new(
      ldk.Option_FilterZ.constructor_none(),
      broadcaster,
      logger,
      feeEstimator,
      persister,
    );
    this.networkGraph = ldk.NetworkGraph.constructor_new(network, logger);
    const scorer = ldk.ProbabilisticScorer.constructor_new(
      ldk.ProbabilisticScoringDecayParameters.constructor_default(),
      this.networkGraph,
      logger,
    );
    const lockableScore = ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score());
    const entropy = this.keysManager.as_EntropySource();
    const router = ldk.DefaultRouter.constructor_new(
      this.networkGraph,
      logger,
      entropy,
      lockableScore.as_LockableScore(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
    );
    const messageRouter = ldk.DefaultMessageRouter.constructor_new(this.networkGraph, entropy);
    const config = ldk.UserConfig.constructor_default();
    opts.configure?.(config);
    // BestBlock takes the hash in internal byte order, the reverse of bitcoind's display order.
    const genesis = Uint8Array.from(Buffer.from(REGTEST_GENESIS_HASH, 'hex')).reverse();
    const params = ldk.ChainParameters.constructor_new(network, ldk.BestBlock.constructor_new(genesis, 0));
    this.channelManager = ldk.ChannelManager.constructor_new(
      feeEstimator,
      this.chainMonitor.as_Watch(),
      broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      logger,
      entropy,
      this.keysManager.as_NodeSigner(),
      this.keysManager.as_SignerProvider(),
      config,
      params,
      Math.floor(now / 1000),
    );
    const ignoring = ldk.IgnoringMessageHandler.constructor_new();
    const channelHandler = opts.initOverride
      ? channelHandlerWithInit(this.channelManager, opts.initOverride)
      : this.channelManager.as_ChannelMessageHandler();
    this.peerManager = ldk.PeerManager.constructor_new(
      channelHandler,
      ignoring.as_RoutingMessageHandler(),
      ignoring.as_OnionMessageHandler(),
      ignoring.as_CustomMessageHandler(),
      Math.floor(now / 1000),
      entropy.get_secure_random_bytes(),
      logger,
      this.keysManager.as_NodeSigner(),
    );
    this.refs.push(scorer, lockableScore, router, messageRouter, config, params, ignoring, channelHandler);

    this.nodeId = nodeIdHex(this.channelManager.get_our_node_id());
    this.alias = opts.alias ?? this.nodeId.slice(0, 8);
    this.armWakeup();

    if (opts.timers ?? true) {
      this.timers.push(setInterval(() => this.tick(), PEER_TICK_MS).unref());
      this.timers.push(
        setInterval(() => {
          if (!this.stopped) this.channelManager.timer_tick_occurred();
        }, CHANNEL_TICK_MS).unref(),
      );
    }
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.assertRunning();
    const server = createServer((socket) => this.accept(socket));
    this.servers.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('server has no TCP address'));
      });
    });
  }

  async connect(pubkeyHex: string, host: string, port: number, timeoutMs = 10_000): Promise<void> {
    this.assertRunning();
    const theirId = parseNodeId(pubkeyHex);
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      let glue: LdkSocket | undefined;
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onEarlyClose = () => fail(new Error(`connection to ${pubkeyHex}@${host}:${port} closed before init`));
      const cleanup = () => {
        socket.off('close', onEarlyClose);
        socket.off('error', fail);
      };
      socket.once('error', fail);
      socket.once('close', onEarlyClose);
      socket.once('connect', () => {
        if (this.stopped) return fail(new Error('node stopped'));
        glue = this.adopt(socket);
        const res = this.peerManager.new_outbound_connection(theirId, glue.descriptor, glue.remoteAddress());
        if (!(res instanceof ldk.Result_CVec_u8ZPeerHandleErrorZ_OK)) {
          return fail(new Error(`LDK refused outbound connection to ${pubkeyHex}`));
        }
        // BOLT 8: act one goes out first; LDK hands it back rather than calling send_data.
        glue.writeInitial(res.res);
        this.waitForPeer(pubkeyHex, timeoutMs).then(
          () => {
            cleanup();
            resolve();
          },
          (err: Error) => fail(err),
        );
      });
    });
  }

  listPeers(): string[] {
    if (this.stopped) return [];
    return this.peerManager.list_peers().map((p) => nodeIdHex(p.get_counterparty_node_id()));
  }

  waitForPeer(pubkeyHex: string, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.listPeers().includes(pubkeyHex), timeoutMs, `peer ${pubkeyHex} to connect`);
  }

  waitForPeerGone(pubkeyHex: string, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => !this.listPeers().includes(pubkeyHex), timeoutMs, `peer ${pubkeyHex} to go away`);
  }

  disconnect(pubkeyHex: string): void {
    this.assertRunning();
    this.peerManager.disconnect_by_node_id(parseNodeId(pubkeyHex));
    this.conditions.check();
  }

  tick(): void {
    if (this.stopped) return;
    this.peerManager.timer_tick_occurred();
    this.processEvents();
  }

  peerInitFeatures(pubkeyHex: string): Uint8Array | undefined {
    if (this.stopped) return undefined;
    const peer = this.peerManager.list_peers().find((p) => nodeIdHex(p.get_counterparty_node_id()) === pubkeyHex);
    return peer ? leFlagsToWire(peer.get_init_features().le_flags()) : undefined;
  }

  ownInitFeatures(): Uint8Array {
    const handler = this.channelManager.as_ChannelMessageHandler();
    return leFlagsToWire(handler.provided_init_features(this.channelManager.get_our_node_id()).le_flags());
  }

  processEvents(): void {
    if (this.stopped) return;
    this.peerManager.process_events();
    this.conditions.check();
  }

  handleEvents(): number {
    const onEvent = this.onEvent;
    if (this.stopped || !onEvent) return 0;
    const events: ldk.Event[] = [];
    const collect = ldk.EventHandler.new_impl({
      handle_event: (e) => {
        events.push(e);
        return ldk.Result_NoneReplayEventZ.constructor_ok();
      },
    });
    this.channelManager.as_EventsProvider().process_pending_events(collect);
    this.chainMonitor.as_EventsProvider().process_pending_events(collect);
    for (const e of events) {
      try {
        onEvent(e, this);
      } catch (err) {
        // One bad event must not lose the others (LDK already considers them handled).
        this.logs.push(`HARNESS ${this.alias}: onEvent threw on ${e.constructor.name}: ${String(err)}`);
      }
    }
    if (events.length) this.processEvents();
    return events.length;
  }

  syncTo(height: number, block: (h: number) => Uint8Array): void {
    this.assertRunning();
    for (let h = this.fedHeight + 1; h <= height; h++) {
      const raw = block(h);
      this.fedHeaders.set(h, raw.slice(0, 80));
      this.channelManager.as_Listen().block_connected(raw, h);
      this.chainMonitor.as_Listen().block_connected(raw, h);
    }
    if (height > this.fedHeight) this.fedHeight = height;
    this.processEvents();
    this.handleEvents();
  }

  rewindTo(height: number): void {
    this.assertRunning();
    for (; this.fedHeight > height; this.fedHeight--) {
      const header = this.fedHeaders.get(this.fedHeight);
      if (!header) throw new Error(`no header kept for block ${this.fedHeight}: it was not fed through syncTo`);
      this.fedHeaders.delete(this.fedHeight);
      // Both must forget the block before either hears of the one below it.
      this.chainMonitor.as_Listen().block_disconnected(header, this.fedHeight);
      this.channelManager.as_Listen().block_disconnected(header, this.fedHeight);
    }
    this.processEvents();
    this.handleEvents();
  }

  broadcastFromMonitor(serialized: Uint8Array): void {
    this.assertRunning();
    const r = ldk.UtilMethods.constructor_C2Tuple_ThirtyTwoBytesChannelMonitorZ_read(serialized, this.keysManager.as_EntropySource(), this.keysManager.as_SignerProvider());
    if (!(r instanceof ldk.Result_C2Tuple_ThirtyTwoBytesChannelMonitorZDecodeErrorZ_OK)) throw new Error(`${this.alias}: cannot read the ChannelMonitor`);
    r.res.get_b().broadcast_latest_holder_commitment_txn(this.io.broadcaster, this.io.feeEstimator, this.io.logger);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const t of this.timers) clearInterval(t);
    this.peerManager.disconnect_all_peers();
    this.stopped = true;
    for (const glue of this.sockets) glue.destroy();
    this.sockets.clear();
    await Promise.all([...this.servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.clear();
    this.conditions.check();
  }

  private accept(socket: Socket): void {
    if (this.stopped || this.refuseInbound) {
      socket.destroy();
      return;
    }
    const glue = this.adopt(socket);
    const res = this.peerManager.new_inbound_connection(glue.descriptor, glue.remoteAddress());
    if (!res.is_ok()) glue.destroy();
  }

  private adopt(socket: Socket): LdkSocket {
    const glue = new LdkSocket(socket, this.peerManager, {
      afterBatch: () => this.processEvents(),
      onClosed: (g) => this.sockets.delete(g),
      log: (line) => this.logs.push(`HARNESS ${this.alias}: ${line}`),
    });
    this.sockets.add(glue);
    return glue;
  }

  /**
   * The ChannelManager signals through a one-shot Future when it has messages or events pending
   * (e.g. after a timer tick or an API call); flush them to peers, then re-arm. The callback runs
   * inside LDK, so the work is deferred to a fresh turn of the event loop.
   */
  private armWakeup(): void {
    if (this.stopped) return;
    const future = this.channelManager.get_event_or_persistence_needed_future();
    const callback = ldk.FutureCallback.new_impl({
      call: () => {
        if (this.wakeScheduled) return;
        this.wakeScheduled = true;
        setImmediate(() => {
          this.wakeScheduled = false;
          if (this.stopped) return;
          this.channelManager.get_and_clear_needs_persistence();
          this.handleEvents();
          this.processEvents();
          this.armWakeup();
        });
      },
    });
    this.wake = { future, callback };
    future.register_callback_fn(callback);
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return this.conditions.until(done, timeoutMs, () => `${this.alias}: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  private assertRunning(): void {
    if (this.stopped) throw new Error(`${this.alias}: node stopped`);
  }
}
