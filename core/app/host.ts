/**
 * The app host: what the desktop shell (electron/) and browser mode (web-server.ts) both run. It keeps
 * the user's network choice, starts one Coulomb node for it (and, on the playground, the chain and a
 * counterparty node), answers every front-end call through one validated dispatcher, and passes the
 * node's domain events on to the front ends, each with what it changed on the screens (no polling).
 *
 * Layout of the app's directory:
 *   settings.json                  the network choice
 *   networks/<network>/            the node's data directory (wallet, channels, log, control.json)
 *   networks/playground-counterparty/   the playground's second node
 */
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { z } from 'zod';
import { CoulombNode } from '../node/node.ts';
import type { NodeOptions } from '../node/node.ts';
import type { NodeConfig } from '../node/config.ts';
import { DEFAULT_BITCOIND_RPC_PORT, DEFAULT_PEER_PORT } from '../node/config.ts';
import { createDispatcher } from '../api/dispatch.ts';
import type { Dispatcher } from '../api/dispatch.ts';
import type { ApiHandlers, ApiResult, MethodOutput, NodeEvent } from '../api/contract.ts';
import { ApiError } from '../api/contract.ts';
import { startControlServer } from '../api/control-server.ts';
import type { ControlServer } from '../api/control-server.ts';
import { lockDatadir } from '../store/lock.ts';
import type { FileLock } from '../store/lock.ts';
import { createLogger } from '../log/logger.ts';
import type { Logger, LogSink } from '../log/logger.ts';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import { BitcoindRpc } from '../chain/index.ts';
import { CHAIN_NAMES } from '../chain/bitcoind/chain-source.ts';
import { checkCookieUse } from '../chain/bitcoind/cookie-file.ts';
import { formatHostPort, parseHostPort } from '../peer/address.ts';
import { appMethodSchemas, isAppMethod, networkChoice, topicsOf } from './contract.ts';
import type { AppEvent, AppMethodInput, AppMethodName, AppMethodOutputs, AppStatus, BitcoindSettings, NetworkChoice, SyncSnapshot } from './contract.ts';
import { Counterparty } from './counterparty.ts';
import { Shop } from './shop.ts';
import type { DEFAULT_SCRYPT } from '../wallet/vault.ts';

export const SETTINGS_FILE = 'settings.json';

export interface AppHostOptions {
  /** The app's own directory (default: the platform's app-data folder). */
  appDir: string;
  /** Copy log lines to stderr too. */
  logToStderr?: boolean;
  /** Tests lower the password-hashing cost through this. */
  scryptCost?: typeof DEFAULT_SCRYPT;
  /** Tests shorten peer timers through this. */
  peerOptions?: NodeOptions['peerOptions'];
  /** Peer port on real networks (default 9735). */
  peerPort?: number;
  /**
   * Playground only: while something waits for a block, mine one about this often (default 5000 ms;
   * 0 turns the auto-miner off, and blocks come only from `playground mine`).
   */
  playgroundBlockIntervalMs?: number;
}

export const DEFAULT_PLAYGROUND_BLOCK_INTERVAL_MS = 5000;

const settingsFile = z.object({ version: z.literal(1), choice: z.unknown() });

interface Running {
  choice: NetworkChoice;
  node: CoulombNode;
  dispatch: Dispatcher;
  control: ControlServer;
  /** The data directory's lock: no daemon runs on it while the app does. */
  lock: FileLock;
  logFile: WriteStream;
  counterparty?: Counterparty;
  /** The playground's pixel shop (a third node, paid through the counterparty). */
  shop?: Shop;
  miner?: AutoMiner;
  /** Stops passing the node's events on. */
  unsubscribe: () => void;
}

/** The playground's auto-miner: its timer, and since when something has been waiting for a block. */
interface AutoMiner {
  timer: NodeJS.Timeout;
  intervalMs: number;
  waitingSince?: number;
  busy: boolean;
}

function choiceNetwork(c: NetworkChoice): string {
  return c.kind === 'playground' ? 'playground' : c.bitcoind.network;
}

/** bitcoind's RPC address as host:port, the network's port when none is given (as the daemon's --bitcoind.rpchost). */
function rpcHostPort(s: BitcoindSettings): string {
  try {
    const hp = parseHostPort(s.host.trim().replace(/^https?:\/\//, '').replace(/\/+$/, ''), DEFAULT_BITCOIND_RPC_PORT[s.network]);
    return formatHostPort(hp.host, hp.port);
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
}

export class AppHost {
  private choice: NetworkChoice | undefined;
  private running: Running | undefined;
  private nodeError: string | undefined;
  private starting: Promise<void> | undefined;
  private readonly listeners = new Set<(e: AppEvent) => void>();
  /** The chain's numbers as the node last told them (the sync bar's). */
  private chainSeen: SyncSnapshot | undefined;
  private readonly log: Logger;
  readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly opts: AppHostOptions) {
    const sinks: LogSink[] = [];
    if (opts.logToStderr) sinks.push((l) => process.stderr.write(l + '\n'));
    this.log = createLogger(sinks, 'info', 'APP');
  }

  get appDir(): string {
    return this.opts.appDir;
  }

  /** The node of the chosen network, when it runs (tests look inside through this). */
  get node(): CoulombNode | undefined {
    return this.running?.node;
  }

  get shop(): Shop | undefined {
    return this.running?.shop;
  }

  get counterparty(): Counterparty | undefined {
    return this.running?.counterparty;
  }

  async start(): Promise<void> {
    await mkdir(this.opts.appDir, { recursive: true, mode: 0o700 });
    this.loopDelay.enable();
    const raw = await readFileIfExists(join(this.opts.appDir, SETTINGS_FILE));
    if (raw) {
      try {
        const doc = settingsFile.parse(JSON.parse(raw.toString('utf8')));
        this.choice = networkChoice.parse(doc.choice);
      } catch {
        this.log.warn('settings.json is not readable; asking for the network again');
      }
    }
    if (this.choice) await this.startNode(this.choice).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.loopDelay.disable();
    await this.stopNode();
  }

  onEvent(fn: (e: AppEvent) => void): () => void {
    this.listeners.add(fn);
    // A new front end gets the sync numbers at once instead of waiting for the next change.
    setImmediate(() => {
      if (this.listeners.has(fn)) fn({ type: 'changed', what: [], sync: this.sync() });
    });
    return () => this.listeners.delete(fn);
  }

  /** Pushes an event to every front end (the shell uses it for `lightning:` links). */
  emit(e: AppEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch (err) {
        this.log.warn('event listener failed', { error: String(err) });
      }
    }
  }

  /** One call from a front end. Untrusted input: validated before anything runs. */
  async call(method: unknown, params: unknown): Promise<ApiResult<unknown>> {
    if (typeof method !== 'string') return { ok: false, error: { code: 'invalid_argument', message: 'the method must be a string' } };
    if (isAppMethod(method)) {
      const parsed = appMethodSchemas[method].safeParse(params ?? {});
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
        return { ok: false, error: { code: 'invalid_argument', message: `invalid ${method} request: ${why}` } };
      }
      try {
        const result = await this.appCall(method, parsed.data);
        return { ok: true, result };
      } catch (e) {
        if (e instanceof ApiError) return { ok: false, error: { code: e.code, message: e.message } };
        this.log.error('app call failed', { method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        return { ok: false, error: { code: 'internal', message: `internal error in ${method}: ${(e as Error).message}` } };
      }
    }
    const r = this.running;
    if (!r) {
      return { ok: false, error: { code: 'unavailable', message: this.nodeError ?? (this.choice ? 'the node is starting; try again in a moment' : 'choose a network first (the playground, or your bitcoind)') } };
    }
    const result = await r.dispatch(method, params);
    if (result.ok && (method === 'create' || method === 'unlock')) void this.afterUnlock(r);
    return result;
  }

  private async appCall(method: AppMethodName, input: unknown): Promise<AppMethodOutputs[AppMethodName]> {
    switch (method) {
      case 'app_status':
        return this.status();
      case 'app_test_bitcoind':
        return this.testBitcoind(input as BitcoindSettings);
      case 'app_choose_network': {
        const choice = input as NetworkChoice;
        if (this.running) throw new ApiError('failed_precondition', `The node is running on ${choiceNetwork(this.running.choice)}; go back to the network choice first`);
        if (choice.kind === 'bitcoind') await this.testBitcoind(choice.bitcoind);
        await this.startNode(choice);
        await this.saveChoice(choice);
        return this.status();
      }
      case 'app_forget_network':
        await this.stopNode();
        this.choice = undefined;
        this.nodeError = undefined;
        await rm(join(this.opts.appDir, SETTINGS_FILE), { force: true });
        this.emit({ type: 'changed', what: ['status'], sync: this.sync() });
        return this.status();
      case 'app_lock': {
        const r = this.running;
        if (!r) throw new ApiError('failed_precondition', 'The node is not running, so there is nothing to lock');
        if (r.node.state !== 'READY') return this.status();
        // Keys live in the running node only: a node started again holds none until the password.
        await this.stopNode();
        await this.startNode(r.choice);
        this.log.info('wallet locked');
        return this.status();
      }
      case 'app_counterparty_address': {
        const cp = this.running?.counterparty;
        if (!cp) throw new ApiError('failed_precondition', 'There is a counterparty only on the playground');
        return { address: await cp.node.wallet.newAddress() };
      }
      case 'app_counterparty_invoice': {
        const { amt, memo } = input as AppMethodInput<'app_counterparty_invoice'>;
        const inv = await this.asCounterparty('make an invoice', (h) => h.addinvoice({ value: amt, ...(memo !== undefined ? { memo } : {}), private: true }));
        return { payment_request: inv.payment_request, r_hash: inv.r_hash };
      }
      case 'app_counterparty_pay': {
        const { pay_req, amt } = input as AppMethodInput<'app_counterparty_pay'>;
        const paid = await this.asCounterparty('pay', (h) => h.sendpayment({ pay_req, ...(amt !== undefined ? { amt } : {}) }));
        if (paid.status === 'FAILED') {
          const why = paid.failure_reason.replace(/^FAILURE_REASON_/, '').replace(/_/g, ' ').toLowerCase();
          throw new ApiError('failed_precondition', `The playground counterparty could not pay: the payment failed (${why})`);
        }
        return paid;
      }
      case 'app_counterparty_open_channel': {
        const { amt } = input as AppMethodInput<'app_counterparty_open_channel'>;
        const r = this.running;
        const ours = r?.node.state === 'READY' ? r.node.nodeId : '';
        if (r?.counterparty && !ours) throw new ApiError('failed_precondition', 'Unlock the wallet first: the channel is opened to your node');
        return this.asCounterparty('open a channel', async (h, cp) => {
          if (cp.node.peers.get(ours)?.state !== 'ready') throw new ApiError('unavailable', 'It is not connected to your node yet; try again in a few seconds');
          await this.topUpCounterparty(r!, cp, BigInt(amt));
          return h.openchannel({ node_key: ours, local_amt: amt, private: true });
        });
      }
    }
  }

  /**
   * The counterparty's coins may all be in channels or in change still waiting for a block (the shop's
   * channel comes from it too): then the faucet gives it more, mined at once, before it opens another.
   */
  private async topUpCounterparty(r: Running, cp: Counterparty, needSat: bigint): Promise<void> {
    const b = cp.node.wallet.balance();
    // The margin pays the funding transaction's fee.
    if (b.confirmed - b.reserved >= needSat + 10_000n) return;
    const pg = r.node.chain.playground;
    if (!pg) return;
    await r.node.chain.rpc.call('sendtoaddress', await cp.node.wallet.newAddress(), 1);
    await r.node.chain.rpc.call('generatetoaddress', 1, pg.faucet.address);
    await cp.node.chain.source.poke();
    if (r.node.state === 'READY') await r.node.chain.source.poke();
  }

  /**
   * Runs one of the playground counterparty's own API calls, for the playground helpers; its refusals
   * come back as sentences that say who refused.
   */
  private async asCounterparty<T>(what: string, fn: (h: ApiHandlers, cp: Counterparty) => Promise<T>): Promise<T> {
    const cp = this.running?.counterparty;
    if (!cp) throw new ApiError('failed_precondition', 'There is a counterparty only on the playground');
    if (!cp.ready) throw new ApiError('unavailable', 'The playground counterparty is still starting; try again in a few seconds');
    try {
      return await fn(cp.node.handlers(), cp);
    } catch (e) {
      if (e instanceof ApiError) throw new ApiError(e.code, `The playground counterparty could not ${what}: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`);
      throw e;
    }
  }

  status(): AppStatus {
    const r = this.running;
    const c = r?.choice ?? this.choice;
    return {
      configured: !!c,
      network: c ? choiceNetwork(c) : '',
      backend: c?.kind ?? '',
      datadir: c ? this.datadirFor(c) : '',
      node_running: !!r,
      ...(this.nodeError ? { node_error: this.nodeError } : {}),
      ...(r?.counterparty?.ready
        ? {
            playground: {
              counterparty_pubkey: r.counterparty.node.nodeId,
              counterparty_uri: r.counterparty.node.uris()[0] ?? '',
              ...(r.shop?.ready ? { shop_url: r.shop.url, shop_pubkey: r.shop.node.node.nodeId } : {}),
            },
          }
        : {}),
    };
  }

  private datadirFor(c: NetworkChoice): string {
    return join(this.opts.appDir, 'networks', choiceNetwork(c));
  }

  private async saveChoice(choice: NetworkChoice): Promise<void> {
    this.choice = choice;
    await writeFileDurable(join(this.opts.appDir, SETTINGS_FILE), JSON.stringify({ version: 1, choice }, null, 2) + '\n', 0o600);
  }

  /** Asks a bitcoind the questions the node will ask, and turns each failure into a sentence. */
  private async testBitcoind(s: BitcoindSettings): Promise<AppMethodOutputs['app_test_bitcoind']> {
    const url = `http://${rpcHostPort(s)}`;
    if (!s.cookie && !s.user) throw new ApiError('invalid_argument', "Give bitcoind's RPC user and password, or the path of its .cookie file");
    if (s.cookie) {
      // Only bitcoind's own cookie, and only to a bitcoind on this computer; its content is checked when read.
      try {
        checkCookieUse(s.cookie, url);
      } catch (e) {
        throw new ApiError('invalid_argument', (e as Error).message);
      }
    }
    const rpc = s.cookie ? new BitcoindRpc({ url, cookieFile: s.cookie, retries: 0, timeoutMs: 5000 }) : new BitcoindRpc({ url, user: s.user ?? '', password: s.pass ?? '', retries: 0, timeoutMs: 5000 });
    let info: { chain: string; blocks: number; headers: number; verificationprogress: number; initialblockdownload: boolean };
    let version = '';
    try {
      info = await rpc.call('getblockchaininfo');
      const net = await rpc.call<{ subversion: string }>('getnetworkinfo').catch(() => ({ subversion: '' }));
      version = net.subversion;
    } catch (e) {
      throw new ApiError('unavailable', `${(e as Error).message} (${url})`);
    }
    const theirs = CHAIN_NAMES[info.chain] ?? info.chain;
    if (theirs !== s.network) throw new ApiError('failed_precondition', `That bitcoind is on ${theirs}, not ${s.network}: pick ${theirs} or point at a ${s.network} bitcoind`);
    return { chain: theirs, blocks: info.blocks, headers: info.headers, verification_progress: info.verificationprogress, initial_block_download: info.initialblockdownload, version };
  }

  private startNode(choice: NetworkChoice): Promise<void> {
    this.starting ??= this.doStartNode(choice).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStartNode(choice: NetworkChoice): Promise<void> {
    if (this.running) return;
    this.nodeError = undefined;
    const datadir = this.datadirFor(choice);
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const lock = await lockDatadir(datadir).catch((e: unknown) => {
      this.nodeError = (e as Error).message;
      throw new ApiError('unavailable', this.nodeError);
    });
    const logFile = createWriteStream(join(datadir, 'coulomb.log'), { flags: 'a', mode: 0o600 });
    const sinks: LogSink[] = [(l) => logFile.write(l + '\n')];
    if (this.opts.logToStderr) sinks.push((l) => process.stderr.write(l + '\n'));
    const log = createLogger(sinks, 'info');
    const playground = choice.kind === 'playground';
    const config: NodeConfig = {
      datadir,
      network: playground ? 'regtest' : choice.bitcoind.network,
      chain: playground
        ? { kind: 'playground', rpcListen: { host: '127.0.0.1', port: 0 } }
        : {
            kind: 'bitcoind',
            rpcHost: rpcHostPort(choice.bitcoind),
            ...(choice.bitcoind.cookie ? { rpcCookie: choice.bitcoind.cookie } : { rpcUser: choice.bitcoind.user ?? '', rpcPass: choice.bitcoind.pass ?? '' }),
          },
      alias: 'coulomb',
      // The playground's nodes talk on loopback; on a real network others dial our usual port.
      listen: [playground ? { host: '127.0.0.1', port: 0 } : { host: '0.0.0.0', port: this.opts.peerPort ?? DEFAULT_PEER_PORT }],
      rpcListen: { host: '127.0.0.1', port: 0 },
      externalIps: [],
      logLevel: 'info',
      logToStderr: false,
      // On the playground our node runs a watchtower on loopback, and the counterparty backs its
      // channels up to it (afterUnlock): the tower has a client to watch for from the start.
      ...(playground ? { watchtower: { active: true, listen: [{ host: '127.0.0.1', port: 0 }] } } : {}),
    };
    const node = new CoulombNode({ config, log, ...(this.opts.scryptCost ? { scryptCost: this.opts.scryptCost } : {}), ...(this.opts.peerOptions ? { peerOptions: this.opts.peerOptions } : {}) });
    try {
      await node.start();
      const dispatch = createDispatcher(node.handlers(), log.child('APP'));
      // The node's control channel too, so `coulomb --datadir <this datadir> getinfo` reaches the app's node.
      const control = await startControlServer({ datadir, dispatch, log: log.child('RPC') });
      const running: Running = { choice, node, dispatch, control, lock, logFile, unsubscribe: node.events.add((e) => this.onNodeEvent(running, e)) };
      this.running = running;
      node.onStop(() => {
        if (this.running === running) void this.stopNode();
      });
      if (playground) {
        const intervalMs = this.opts.playgroundBlockIntervalMs ?? DEFAULT_PLAYGROUND_BLOCK_INTERVAL_MS;
        if (intervalMs > 0) {
          const timer = setInterval(() => void this.autoMine(running), Math.min(1000, Math.max(50, intervalMs / 4)));
          timer.unref();
          running.miner = { timer, intervalMs, busy: false };
        }
        running.counterparty = new Counterparty({ appDir: this.opts.appDir, playgroundDir: datadir, rpc: node.chain.rpc, faucetAddress: node.chain.playground!.faucet.address, log: this.log });
        // The counterparty comes up in the background: the user's screens do not wait for it.
        void running.counterparty
          .start()
          .then(() => {
            if (this.running === running) this.emit({ type: 'changed', what: ['status'], sync: this.sync() });
            return this.afterUnlock(running);
          })
          .then(async () => {
            // Then the shop, whose channel comes from the counterparty.
            if (this.running !== running) return;
            running.shop = new Shop({ appDir: this.opts.appDir, playgroundDir: datadir, rpc: node.chain.rpc, faucetAddress: node.chain.playground!.faucet.address, log: this.log, counterparty: running.counterparty! });
            await running.shop.start();
            this.emit({ type: 'changed', what: ['status'], sync: this.sync() });
          })
          .catch((e: unknown) => this.log.warn('playground counterparty or shop did not start', { error: String(e) }));
      }
      this.log.info('node started', { network: choiceNetwork(choice), datadir });
    } catch (e) {
      await node.stop().catch(() => undefined);
      logFile.end();
      await lock.release();
      this.nodeError = `the node could not start: ${(e as Error).message}`;
      this.log.error(this.nodeError);
      throw new ApiError('unavailable', this.nodeError);
    } finally {
      this.emit({ type: 'changed', what: ['status'], sync: this.sync() });
    }
  }

  /**
   * On the playground, once our node has keys: the counterparty takes our node's watchtower as its own
   * (at its address of this start; its port changes at each), and our node keeps a connection to the
   * counterparty.
   */
  private async afterUnlock(r: Running): Promise<void> {
    const cp = r.counterparty;
    if (!cp?.ready || r.node.state !== 'READY') return;
    await this.towerForCounterparty(r, cp);
    const uri = cp.node.uris()[0];
    if (!uri || r.node.peers.get(cp.node.nodeId)?.state === 'ready') return;
    const [pub, hostPort] = uri.split('@') as [string, string];
    const port = Number(hostPort.split(':').pop());
    await r.node.peers.connect(pub, '127.0.0.1', port, { perm: true, timeoutMs: 10_000 }).catch((e: unknown) => this.log.warn('could not connect to the playground counterparty', { error: String(e) }));
    this.emit({ type: 'changed', what: ['status', 'peers'], sync: this.sync() });
  }

  /**
   * The playground runs a watchtower for its counterparty: our node's. Every state the counterparty
   * revokes is backed up to it (an encrypted blob our tower can open only if that state is published,
   * and then publishes the justice transaction), so `coulomb tower info` shows the tower at work.
   */
  private async towerForCounterparty(r: Running, cp: Counterparty): Promise<void> {
    try {
      const uri = (await r.node.handlers().towerinfo({})).uris[0];
      if (uri && cp.ready) await cp.node.handlers().wtclient_add({ uri });
    } catch (e) {
      this.log.warn('the playground counterparty could not take our watchtower', { error: String(e) });
    }
  }

  /**
   * The playground has no miners of its own, so without this a newcomer's transactions would never
   * confirm. Once something has waited for a block for about one interval, mine one to the faucet;
   * then one more each interval for as long as something still waits. Waiting means: a transaction
   * in the mempool (a send, a channel's funding or closing), or one of our channels whose funding is
   * confirmed but not yet as deep as the channel needs (minimum_depth) — by then the mempool is empty
   * again, and the channel would otherwise never open. Nothing waits: no blocks.
   */
  private async autoMine(r: Running): Promise<void> {
    const m = r.miner;
    if (!m || m.busy || this.running !== r) return;
    m.busy = true;
    try {
      const pg = r.node.chain.playground;
      if (!pg) return;
      const mempool = await r.node.chain.rpc.call<string[]>('getrawmempool');
      const waiting = mempool.length > 0 || (await this.channelWaitsForDepth(r));
      if (!waiting) {
        m.waitingSince = undefined;
        return;
      }
      const now = Date.now();
      m.waitingSince ??= now;
      if (now - m.waitingSince < m.intervalMs) return;
      await r.node.chain.rpc.call('generatetoaddress', 1, pg.faucet.address);
      m.waitingSince = Date.now();
      if (r.node.state === 'READY') await r.node.chain.source.poke();
    } catch (e) {
      if (this.running === r) this.log.warn('playground auto-miner: could not mine', { error: String(e) });
    } finally {
      m.busy = false;
    }
  }

  private async channelWaitsForDepth(r: Running): Promise<boolean> {
    // The shop's channel (from the counterparty) counts too: the shop opens for business once it is deep enough.
    if (await r.shop?.channelWaits().catch(() => false)) return true;
    if (r.node.state !== 'READY') return false;
    const res = await r.dispatch('pendingchannels', {});
    if (!res.ok) return false;
    const { pending_open_channels } = res.result as MethodOutput<'pendingchannels'>;
    return pending_open_channels.some((p) => p.confirmations > 0 && p.confirmations < p.confirmations_needed);
  }

  private async stopNode(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    r.unsubscribe();
    this.chainSeen = undefined;
    if (r.miner) clearInterval(r.miner.timer);
    await r.shop?.stop().catch(() => undefined);
    await r.counterparty?.stop().catch(() => undefined);
    await r.control.close();
    await r.node.stop();
    await new Promise<void>((res) => r.logFile.end(res));
    await r.lock.release();
    this.emit({ type: 'changed', what: ['status'], sync: this.sync() });
  }

  /** The sync bar's numbers: the node's last chain_status, or the chain source's own before the first. */
  private sync(): SyncSnapshot {
    const node = this.running?.node;
    if (!node || node.state !== 'READY') return { height: 0, best_height: 0, synced: false };
    if (this.chainSeen) return this.chainSeen;
    const s = node.chain.source.status();
    return { height: Math.max(0, s.height), best_height: Math.max(0, s.bestHeight, s.height), synced: s.synced, ...(s.error ? { error: s.error } : {}) };
  }

  /** A node event goes to every front end with what it changes on the screens. */
  private onNodeEvent(r: Running, e: NodeEvent): void {
    if (this.running !== r) return;
    if (e.type === 'chain_status') this.chainSeen = { height: e.height, best_height: e.best_height, synced: e.synced, ...(e.error ? { error: e.error } : {}) };
    // A block moves the sync numbers too (the next chain_status may come a poll later).
    if ((e.type === 'block_connected' || e.type === 'block_disconnected') && this.chainSeen) this.chainSeen = { ...this.chainSeen, height: e.height, best_height: Math.max(this.chainSeen.best_height, e.height) };
    this.emit({ type: 'changed', what: topicsOf(e), sync: this.sync(), event: e });
  }
}
