/**
 * A Coulomb node: composes the chain backend, the wallet, identity and the peer manager, and answers
 * the API. It is the one place that awaits I/O on behalf of the protocol layers; the daemon and the
 * desktop app both host one.
 *
 * Lifecycle: start() connects to the chain and serves the API. Keys come from the wallet's seed, so
 * the node joins the network (peers, scanning) only once a wallet is created or unlocked.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveNodeKeys } from '../keys/node-key.ts';
import { checkDatadirNetwork } from './datadir.ts';
import type { NodeConfig } from './config.ts';
import { openChainBackend } from './chain-backend.ts';
import { ChainWatch } from '../chain/chain-watch.ts';
import type { ChainBackend } from './chain-backend.ts';
import { readVaultFile, writeVaultFile } from './vault-file.ts';
import { PeerManager, ConnectError } from '../peer/manager.ts';
import { PeerBook } from '../peer/book.ts';
import type { PeerManagerOptions } from '../peer/manager.ts';
import { parsePeerAddress, formatHostPort } from '../peer/address.ts';
import { CHAIN_HASHES } from '../wire/index.ts';
import { ourInitFeatures, describeFeatures } from './features.ts';
import { ApiError } from '../api/contract.ts';
import type { MethodInput, MethodOutput, ApiHandlers, PeerView, WalletState } from '../api/contract.ts';
import type { Logger } from '../log/logger.ts';
import { VERSION } from '../version.ts';
import { hex } from '../util/bytes.ts';
import { Wallet, WalletError } from '../wallet/wallet.ts';
import { createMnemonic, mnemonicToSeed, normalizeMnemonic } from '../wallet/mnemonic.ts';
import { sealVault, openVault, DEFAULT_SCRYPT } from '../wallet/vault.ts';
import { WalletError as VaultError } from '../wallet/errors.ts';
import { satPerKwToSatPerVb } from '../chain/types.ts';
import { Transaction } from 'bitcoinjs-lib';
import { ChannelManager, formatScid } from './channels.ts';
import { decodeInvoice, isExpired, payableInvoice } from '../invoice/bolt11.ts';
import type { Invoice } from '../invoice/bolt11.ts';
import { InvoiceRegistry, InvoiceRegistryError, invoiceNetwork, privateRouteHints } from '../payments/invoices.ts';
import { PaymentStore } from '../payments/payments.ts';
import { HtlcSwitch } from './htlc-switch.ts';
import { ChainMonitors } from './monitors.ts';
import { backupHandlers, openBackupServices, recoveringViews } from './backup-api.ts';
import { rpcLookup } from './recovery.ts';
import type { ChannelRecovery } from './recovery.ts';
import { channelDetailHandlers } from './channel-detail.ts';
import type { BackupServices } from './backup-api.ts';
import { closeTowerServices, openTowerServices, towerHandlers } from './tower-api.ts';
import type { TowerServices } from './tower-api.ts';
import { openKvStore } from '../store/kv/open.ts';
import { checkMovedInto } from '../store/kv/migrate.ts';
import type { KvStore } from '../store/kv/types.ts';
import { StoreError } from '../store/errors.ts';
import { invoiceView, paymentView } from '../payments/views.ts';
import type { ChannelView as ChannelRow } from './channels.ts';
import type { ChannelView, ClosedChannelView, PendingForceClosingChannel } from '../api/contract.ts';
import { closeTypeOf } from '../channel/force-close.ts';
import { forceCloseReport } from './force-close-view.ts';
import { loadMonitorState } from './monitor-records.ts';
import type { ChannelState, Phase } from '../channel/types.ts';
import { channelNumbersView, estimateOpen, openRefusal, paymentRoom } from './capacity-view.ts';
import { invoiceApiError } from './invoice-errors.ts';
import { paymentHandlers } from './payment-api.ts';
import { satText } from '../util/amount-text.ts';
import { Listeners } from '../util/listeners.ts';
import type { NodeEvent } from '../api/contract.ts';
import { wireNodeEvents } from './node-events.ts';
import { changePassword, resealWithWords, revealWords } from './account.ts';

/** Channel phases that pendingchannels lists as opening, and as waiting for their close. */
const OPENING_PHASES: Phase[] = ['WAIT_ACCEPT', 'WAIT_FUNDING_TX', 'WAIT_FUNDING_CREATED', 'WAIT_FUNDING_SIGNED', 'WAIT_FUNDING_CONFIRMED', 'WAIT_CHANNEL_READY'];
const CLOSING_PHASES: Phase[] = ['SHUTDOWN', 'NEGOTIATING', 'CLOSING'];

/** What the signed closing transaction pays to our shutdown script, in sats; undefined before there is one. */
function closingPayout(st: ChannelState): bigint | undefined {
  const c = st.close;
  if (!c?.closingTxHex || !c.localScript) return undefined;
  const ours = hex.encode(c.localScript);
  return Transaction.fromHex(c.closingTxHex)
    .outs.filter((o) => hex.encode(o.script) === ours)
    .reduce((sum, o) => sum + BigInt(o.value), 0n);
}

export interface NodeOptions {
  config: NodeConfig;
  log: Logger;
  /** Tests shorten timers through this. */
  peerOptions?: Partial<Omit<PeerManagerOptions, 'nodeSecret' | 'policy' | 'log'>>;
  /** Tests lower the password-hashing cost through this. */
  scryptCost?: typeof DEFAULT_SCRYPT;
}

interface Unlocked {
  nodeId: string;
  /** The node's store (core/store/kv): opened at unlock, closed last at shutdown. */
  kv: KvStore;
  /** What the channels watch on chain (txids, funding outputs), matched in every block: in the store. */
  chainWatch: ChainWatch;
  peers: PeerManager;
  wallet: Wallet;
  channels: ChannelManager;
  invoices: InvoiceRegistry;
  payments: PaymentStore;
  htlcSwitch: HtlcSwitch;
  /** One chain monitor per channel (BOLT 5): core/node/monitors.ts. */
  monitors: ChainMonitors;
  /** Channel backups, peer storage and recovery from a backup (core/node/backup-api.ts). */
  backup: BackupServices;
  /** The watchtower (when active) and the watchtower client (core/node/tower-api.ts). */
  towers: TowerServices;
}

export class CoulombNode {
  readonly config: NodeConfig;
  readonly log: Logger;
  chain!: ChainBackend;
  private walletState: WalletState = 'NO_WALLET';
  private unlocked: Unlocked | undefined;
  private unlocking: Promise<void> | undefined;
  private listening: { host: string; port: number }[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stopListeners: (() => void)[] = [];
  /** Why the node stopped on its own: its store failed (a daemon then exits non-zero). */
  failure: StoreError | undefined;
  /** The node's domain events (core/node/node-events.ts), as things happen: what the app and notifications follow. */
  readonly events = new Listeners<NodeEvent>();
  /** The wallet's history as last told (its size and which transactions wait for a block). */
  private walletSeen = '';
  private progressToldAt = 0;

  constructor(private readonly opts: NodeOptions) {
    this.config = opts.config;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    const { config } = this;
    await mkdir(config.datadir, { recursive: true, mode: 0o700 });
    await checkDatadirNetwork(config.datadir, config.chain.kind === 'playground' ? 'playground' : config.network);
    this.chain = await openChainBackend(config, this.log.child('CHAIN'));
    this.walletState = (await readVaultFile(config.datadir)) ? 'LOCKED' : 'NO_WALLET';
    this.log.info(this.walletState === 'LOCKED' ? 'wallet is locked; waiting for unlock' : 'no wallet yet; waiting for create', { network: config.network });
  }

  get nodeId(): string {
    return this.unlocked?.nodeId ?? '';
  }

  /** The peer manager; only there once the wallet is unlocked. */
  get peers(): PeerManager {
    return this.ready().peers;
  }

  /** The node's store, shared by everything that keeps state in it; only there once unlocked. */
  get kv(): KvStore {
    return this.ready().kv;
  }

  /** The chain watch registry (core/chain/chain-watch.ts); only there once unlocked. */
  get chainWatch(): ChainWatch {
    return this.ready().chainWatch;
  }

  /** The channels; only there once the wallet is unlocked. */
  get channels(): ChannelManager {
    return this.ready().channels;
  }

  get wallet(): Wallet {
    return this.ready().wallet;
  }

  /** The invoices this node issued (the receive side of payments); only there once unlocked. */
  get invoices(): InvoiceRegistry {
    return this.ready().invoices;
  }

  /** The outgoing payments' ledger; only there once unlocked. */
  get payments(): PaymentStore {
    return this.ready().payments;
  }

  get state(): WalletState {
    return this.walletState;
  }

  private ready(): Unlocked {
    if (this.unlocked) return this.unlocked;
    throw new ApiError(
      'failed_precondition',
      this.walletState === 'LOCKED' ? 'The wallet is locked; unlock it first (coulomb unlock)' : 'There is no wallet yet; create one first (coulomb create)',
    );
  }

  /** Turns the seed into a running node: keys, wallet scanning, peers. */
  private async bringUp(seed: Uint8Array, birthday: number): Promise<void> {
    const { config } = this;
    const keys = deriveNodeKeys(seed, config.network);
    const kv = await this.openStore();
    kv.onFailure((e) => this.storeFailed(e));
    const chainWatch = await ChainWatch.open(kv, { dir: config.datadir, warn: (m) => this.log.warn(m) }).catch(async (e: unknown) => {
      await kv.close();
      throw e;
    });
    const wallet = await Wallet.open({ dir: config.datadir, kv, seed, network: config.network, birthday, broadcaster: this.chain.broadcaster, warn: (m) => this.log.warn(m) }).catch(async (e: unknown) => {
      await kv.close();
      throw e;
    });
    const book = await PeerBook.open(config.datadir).catch(async (e: unknown) => {
      await wallet.close();
      await kv.close();
      throw e;
    });
    const peers = new PeerManager({
      ...this.opts.peerOptions,
      book,
      nodeSecret: keys.nodeSecret,
      policy: { features: ourInitFeatures(), chainHash: CHAIN_HASHES[config.network] },
      log: this.log.child('PEER'),
    });
    const nodeId = hex.encode(keys.nodeId);
    const channels = await ChannelManager.open(kv, config.datadir, {
      seed,
      network: config.network,
      peers,
      wallet,
      rpc: this.chain.rpc,
      broadcaster: this.chain.broadcaster,
      chainWatch,
      feeratePerKw: () => this.chain.fees.feerateSatPerKw('normal'),
      log: this.log.child('CHAN'),
      ...(config.channel?.config ? { config: config.channel.config } : {}),
      ...(config.channel?.limits ? { limits: config.channel.limits } : {}),
      nodeSecret: keys.nodeSecret,
    }).catch(async (e: unknown) => {
      // A channel store this seed cannot open (another wallet's, or damaged) stops the unlock here.
      await peers.close();
      await wallet.close();
      await kv.close();
      throw new ApiError('failed_precondition', `Could not open the channels: ${(e as Error).message}`);
    });
    // Peers we have a channel with (until it is closed) are kept connected, across restarts too.
    // And peers of channels recovering from a backup, until they closed them.
    let backup: BackupServices | undefined;
    peers.keepConnectedTo((pk) => channels.list().some((c) => c.peer === pk && c.state.phase !== 'CLOSED' && c.state.phase !== 'FAILED') || !!backup?.recovery.isRecovering(pk));
    let invoices: InvoiceRegistry | undefined;
    let payments: PaymentStore | undefined;
    let htlcSwitch: HtlcSwitch | undefined;
    let monitors: ChainMonitors | undefined;
    let towers: TowerServices | undefined;
    try {
      invoices = await InvoiceRegistry.open(kv, { dir: config.datadir, nodeSecret: keys.nodeSecret, network: config.network, warn: (m) => this.log.warn(m) });
      payments = await PaymentStore.open(kv, { dir: config.datadir, warn: (m) => this.log.warn(m) });
      htlcSwitch = await HtlcSwitch.open({ kv, dir: config.datadir, channels, invoices, payments, nodeSecret: keys.nodeSecret, nodeId, height: () => this.tipHeight(), log: this.log.child('HTLC') });
      const sw = htlcSwitch;
      monitors = await ChainMonitors.open({
        kv,
        chainWatch,
        channels,
        wallet,
        broadcaster: this.chain.broadcaster,
        feeratePerKw: () => this.chain.fees.feerateSatPerKw('normal'),
        feerates: () => ({ urgent: this.chain.fees.feerateSatPerKw('urgent'), normal: this.chain.fees.feerateSatPerKw('normal'), economy: this.chain.fees.feerateSatPerKw('economy') }),
        tipHeight: () => this.tipHeight(),
        log: this.log.child('CHMON'),
        onHtlc: (o) => sw.onChainOutcome(o),
      });
      // Before the chain and the peers start: its handlers must hear the first block and connection.
      const sweeper = {
        sweepScript: async () => wallet.scriptFor(await wallet.newAddress()),
        feeratePerKw: () => this.chain.fees.feerateSatPerKw('normal'),
        tipHeight: () => this.tipHeight(),
        broadcast: (txHex: string) => this.chain.broadcaster.broadcast(txHex),
      };
      backup = await openBackupServices({ kv, datadir: config.datadir, seed, network: config.network, nodeId, channels, peers, chainWatch, addressesOf: (pk) => book.addresses(pk), log: this.log.child('BACKUP'), sweeper, lookup: rpcLookup(this.chain.rpc) });
      towers = await openTowerServices({
        kv,
        seed,
        network: config.network,
        chainHash: CHAIN_HASHES[config.network],
        config: config.watchtower ?? { active: false },
        broadcast: (txHex: string) => this.chain.broadcaster.broadcast(txHex),
        channels,
        sweepScript: async () => wallet.scriptFor(await wallet.newAddress()),
        feeratePerKw: () => this.chain.fees.feerateSatPerKw('normal'),
        log: this.log,
      });
      await this.startServices(wallet, peers, channels, chainWatch, birthday, monitors, backup.recovery, towers);
      htlcSwitch.resume();
      await peers.reconnectAll();
    } catch (e) {
      // Leave nothing half-started: the user can fix the cause and unlock again.
      await peers.close();
      if (towers) await closeTowerServices(towers);
      backup?.recovery.close();
      await backup?.backups.close();
      await monitors?.close();
      await htlcSwitch?.close();
      await channels.close();
      await invoices?.close();
      await payments?.close();
      await wallet.close();
      await kv.close();
      this.listening = [];
      throw e instanceof ApiError ? e : new ApiError('unavailable', `Could not start the node: ${(e as Error).message}`);
    }
    this.unlocked = { nodeId, kv, chainWatch, peers, wallet, channels, invoices, payments, htlcSwitch, monitors: monitors!, backup: backup!, towers: towers! };
    this.walletState = 'READY';
    wireNodeEvents({ peers, channels, payments, invoices }, (e) => this.events.emit(e));
    this.events.emit({ type: 'wallet_state', state: 'READY' });
    this.walletChanged();
    this.log.info('wallet unlocked; node is up', { node_id: nodeId });
    if (config.network === 'mainnet') this.log.warn('Coulomb is new software: on mainnet, put into channels only what you could afford to lose, and keep the node running (or a watchtower watching) so that it can answer on chain');
  }

  /**
   * The node's store: the embedded one in the data directory's `store/` unless configured otherwise.
   * A store that cannot be opened (another Coulomb holds it, damaged, a newer format, a database out of
   * reach), or that is not the one the data directory's records moved into, stops the unlock with its
   * reason; nothing else was opened yet.
   */
  private async openStore(): Promise<KvStore> {
    const { config } = this;
    let kv: KvStore | undefined;
    try {
      kv = await openKvStore(config.db ?? { backend: 'embedded', dir: join(config.datadir, 'store') }, { log: (msg) => this.log.warn(msg) });
      // The data directory's records may have moved into another store: starting on this one would start empty.
      await checkMovedInto(kv, config.datadir);
      return kv;
    } catch (e) {
      await kv?.close().catch(() => undefined);
      if (!(e instanceof StoreError)) throw e;
      throw new ApiError(e.code === 'unreachable' ? 'unavailable' : 'failed_precondition', `Could not open the node's store: ${e.message}`);
    }
  }

  private async startServices(wallet: Wallet, peers: PeerManager, channels: ChannelManager, chainWatch: ChainWatch, birthday: number, monitors: ChainMonitors, recovery: ChannelRecovery, towers?: TowerServices): Promise<void> {
    for (const l of this.config.listen) this.listening.push(await peers.listen(l.host, l.port));
    const { source, rpc, broadcaster, fees } = this.chain;
    const from = wallet.scanFrom ?? (await (async () => {
      const h = Math.max(0, birthday - 1);
      return { height: h, hash: await rpc.call<string>('getblockhash', h) };
    })());
    await fees.refresh().catch(() => undefined);
    await channels.watchChain();
    source.onStatus?.(() => this.tellChainStatus());
    await source.start(async (e) => {
      // What channels wait on is matched first: durable before the wallet's scan point passes the block.
      await chainWatch.onChainEvent(e);
      // Every block goes to every chain monitor (timelocks count every height), its decisions durable
      // before the wallet's scan point passes the block.
      await monitors.onChainEvent(e, e.height >= source.status().bestHeight);
      if (e.type === 'connected') broadcaster.confirmed(e.block);
      // The watchtower looks for its clients' revoked commitments in every block, rescans included.
      if (e.type === 'connected') await towers?.tower?.onBlock(e.block, e.height).catch((err: unknown) => this.log.warn('the watchtower failed on a block', { error: String(err) }));
      await wallet.onChainEvent(e);
      // Near the tip (not during a rescan), re-send our pending transactions and refresh fee estimates.
      if (e.height >= source.status().bestHeight) await wallet.flush();
      if (e.type === 'connected' && e.height >= source.status().bestHeight) {
        await channels.onBlock(e.height).catch((err: unknown) => this.log.warn('channel depth check failed', { error: String(err) }));
        await recovery.onBlock(e.height).catch((err: unknown) => this.log.warn('sweeping a recovered channel failed', { error: String(err) }));
        await broadcaster.onBlock().catch((err: unknown) => this.log.warn('rebroadcast failed', { error: String(err) }));
        await fees.refresh().catch(() => undefined);
      }
      // Told once the wallet and the channels have taken the block in; during a rescan, only near the
      // tip, and the progress about once a second.
      if (e.height >= source.status().bestHeight - 1) {
        this.events.emit({ type: e.type === 'connected' ? 'block_connected' : 'block_disconnected', height: e.height, hash: e.hash });
        this.walletSeen = this.walletSignature(wallet);
      } else if (Date.now() - this.progressToldAt >= 1000) {
        this.progressToldAt = Date.now();
        this.tellChainStatus();
      }
    }, from, async (added, removed) => {
      await wallet.onMempool(added, removed);
      this.walletChanged(wallet);
    });

    this.log.info('following the chain', { scanning_from: from.height });
    // Sweeps of recovered channels that no block holds yet go out again.
    await recovery.onBlock(this.tipHeight()).catch((err: unknown) => this.log.warn('sweeping a recovered channel failed', { error: String(err) }));
  }

  private tellChainStatus(): void {
    const s = this.chain.source.status();
    this.events.emit({ type: 'chain_status', synced: s.synced, height: Math.max(0, s.height), best_height: Math.max(0, s.bestHeight, s.height), ...(s.error ? { error: s.error } : {}) });
  }

  /** The wallet's history in short: how many transactions, and which wait for a block. */
  private walletSignature(wallet: Wallet): string {
    const txs = wallet.listTransactions(this.tipHeight());
    return `${txs.length}:${txs.filter((t) => t.confirmations === 0).map((t) => t.txid).join(',')}`;
  }

  /** Tells of a change to the wallet's history that no block brought (a send, a receive seen in the mempool, a replacement). */
  private walletChanged(wallet: Wallet | undefined = this.unlocked?.wallet): void {
    if (!wallet) return;
    const sig = this.walletSignature(wallet);
    if (sig === this.walletSeen) return;
    this.walletSeen = sig;
    const waiting = sig.slice(sig.indexOf(':') + 1);
    this.events.emit({ type: 'chain_transactions', unconfirmed: waiting ? waiting.split(',').length : 0 });
  }

  /** Runs a create or unlock: one at a time, and only against a chain that is reachable and ours. */
  private async once(fn: () => Promise<void>): Promise<void> {
    if (this.unlocked) throw new ApiError('failed_precondition', 'The wallet is already unlocked');
    if (this.unlocking) throw new ApiError('failed_precondition', 'The wallet is being unlocked already');
    this.unlocking = (async () => {
      try {
        await this.chain.source.checkNetwork();
      } catch (e) {
        throw new ApiError('unavailable', `${(e as Error).message}; nothing was changed`);
      }
      await fn();
    })().finally(() => (this.unlocking = undefined));
    return this.unlocking;
  }

  async create(opts: { password: string; words: string; passphrase?: string; newWallet?: boolean; birthday?: number }): Promise<void> {
    if (this.walletState !== 'NO_WALLET') throw new ApiError('already_exists', 'This data directory has a wallet already; unlock it instead');
    await this.once(async () => {
      let words: string;
      try {
        words = normalizeMnemonic(opts.words);
      } catch (e) {
        throw new ApiError('invalid_argument', (e as Error).message);
      }
      // A new wallet has no history: start scanning at the tip. A restore rescans from its birthday.
      const birthday = opts.newWallet ? await this.chain.rpc.call<number>('getblockcount') : (opts.birthday ?? 0);
      const vault = await sealVault({ mnemonic: words, passphrase: opts.passphrase ?? '' }, opts.password, this.opts.scryptCost ?? DEFAULT_SCRYPT);
      const seed = mnemonicToSeed(words, opts.passphrase ?? '');
      await writeVaultFile(this.config.datadir, { vault, birthday, nodeId: hex.encode(deriveNodeKeys(seed, this.config.network).nodeId) });
      this.walletState = 'LOCKED';
      await this.bringUp(seed, birthday);
    });
  }

  async unlock(password: string): Promise<void> {
    if (this.walletState === 'NO_WALLET') throw new ApiError('failed_precondition', 'There is no wallet yet; create one first (coulomb create)');
    await this.once(async () => {
      const file = (await readVaultFile(this.config.datadir))!;
      let secret;
      try {
        secret = await openVault(file.vault, password);
      } catch (e) {
        if (e instanceof VaultError && e.code === 'wrong_password') throw new ApiError('invalid_argument', 'Wrong password; nothing was changed');
        throw e;
      }
      await this.bringUp(mnemonicToSeed(secret.mnemonic, secret.passphrase), file.birthday);
    });
  }

  /**
   * A forgotten password: the 24 words unlock the wallet and a new password seals it. The node comes
   * up with the words' seed first (channels that are not its own refuse to open, so nothing is
   * written for another wallet's words); only then is the vault replaced.
   */
  async unlockWithWords(opts: { words: string; passphrase?: string; password: string }): Promise<void> {
    if (this.walletState === 'NO_WALLET') throw new ApiError('failed_precondition', 'There is no wallet yet; create or restore one instead');
    await this.once(async () => {
      const nodeIdOf = (s: { mnemonic: string; passphrase: string }): string => hex.encode(deriveNodeKeys(mnemonicToSeed(s.mnemonic, s.passphrase), this.config.network).nodeId);
      const { file, secret } = await resealWithWords(this.config.datadir, opts.words, opts.passphrase ?? '', opts.password, nodeIdOf, this.opts.scryptCost ?? DEFAULT_SCRYPT);
      await this.bringUp(mnemonicToSeed(secret.mnemonic, secret.passphrase), file.birthday);
      await writeVaultFile(this.config.datadir, file);
      this.log.info('the wallet was unlocked with its recovery words and has a new password');
    });
  }

  /** Addresses others can dial us at, as `pubkey@host:port`. */
  uris(): string[] {
    if (!this.unlocked) return [];
    const addrs = this.config.externalIps.length ? this.config.externalIps : this.listening;
    return addrs.filter((a) => a.host !== '0.0.0.0' && a.host !== '::').map((a) => `${this.nodeId}@${formatHostPort(a.host, a.port)}`);
  }

  onStop(fn: () => void): void {
    this.stopListeners.push(fn);
  }

  /**
   * Stops the node; every part is closed even when one fails to (a store that failed cannot flush, and
   * the rest must still close and the stop listeners still run).
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('stopping');
      await this.unlocking?.catch(() => undefined);
      const u = this.unlocked;
      const parts: [string, (() => Promise<void>) | undefined][] = [
        ['peers', u && (() => u.peers.close())],
        ['watchtower', u && (() => closeTowerServices(u.towers))],
        ['chain', this.chain && (() => this.chain.stop())],
        ['chain monitors', u && (() => u.monitors.close())],
        ['channels', u && (() => u.channels.close())],
        ['HTLC switch', u && (() => u.htlcSwitch.close())],
        ['invoices', u && (() => u.invoices.close())],
        ['payments', u && (() => u.payments.close())],
        ['wallet', u && (() => u.wallet.close())],
        [
          'channel backups',
          u &&
            (async () => {
              u.backup.recovery.close();
              await u.backup.backups.close();
            }),
        ],
        // Last: everything above may write to it while it stops.
        ['store', u && (() => u.kv.close())],
      ];
      for (const [part, close] of parts) {
        await close?.().catch((e: unknown) => {
          // A failed store's error was logged once already, as the reason for stopping.
          if (e !== this.failure) this.log.warn(`closing the ${part} failed while stopping`, { error: e instanceof Error ? e.message : String(e) });
        });
      }
      for (const fn of this.stopListeners) fn();
    })();
    return this.stopping;
  }

  /**
   * The store takes no more writes (a disk refusing writes, a lost database connection): state in memory
   * may now be ahead of what is stored, and a message that depends on it must never leave. The node
   * stops at once (peers first) rather than go on; a restart reads what the store really holds.
   */
  private storeFailed(e: StoreError): void {
    if (this.stopping) return;
    this.failure = e;
    this.log.error(`the node's store failed, so the node stops now: nothing more is sent or accepted. Fix the cause, then start Coulomb again; it continues from what the store holds. ${e.message}`, { store: e.file });
    void this.stop();
  }

  peerView(): PeerView[] {
    if (!this.unlocked) return [];
    return this.unlocked.peers
      .list()
      .filter((p) => p.state === 'ready')
      .map((p) => ({
        pub_key: p.pubkey,
        address: p.address,
        inbound: p.inbound,
        bytes_sent: p.bytesSent.toString(),
        bytes_recv: p.bytesRecv.toString(),
        ping_time: String(p.pingTimeMicros),
        connected_seconds: p.readyAt ? Math.floor((Date.now() - p.readyAt) / 1000) : 0,
        features: p.features ? describeFeatures(p.features) : {},
        perm: this.unlocked!.peers.isPersistent(p.pubkey),
      }));
  }

  private channelView(c: ChannelRow): ChannelView {
    const st = c.state;
    const b = this.ready().channels.balances(c);
    return {
      remote_pubkey: c.peer,
      channel_point: st.funding ? `${st.funding.txid}:${st.funding.vout}` : '',
      chan_id: st.shortChannelId !== undefined ? formatScid(st.shortChannelId) : '',
      capacity: st.capacitySat.toString(),
      local_balance: (b.localMsat / 1000n).toString(),
      remote_balance: (b.remoteMsat / 1000n).toString(),
      // Usable, not just connected: after a reconnect, once the peer's channel_reestablish is handled.
      active: st.phase === 'NORMAL' && this.ready().channels.isLinked(c.key),
      initiator: st.funder,
      private: c.private,
      commitment_type: st.channelType === 'anchors' ? 'ANCHORS' : 'STATIC_REMOTE_KEY',
      state: st.phase,
      ...channelNumbersView(st),
    };
  }

  /** A channel closing on chain, as pendingchannels shows it (core/node/force-close-view.ts). */
  private async forceClosingView(c: ChannelRow): Promise<PendingForceClosingChannel> {
    const u = this.ready();
    const channel = this.channelView(c);
    const m = u.monitors.stateOf(c.key) ?? (await loadMonitorState(u.kv, c.key));
    const r = m ? forceCloseReport(m, c.state.secrets, this.tipHeight(), u.wallet) : undefined;
    return {
      channel,
      closing_txid: r?.closing_txid ?? c.state.forceClose?.txid ?? '',
      limbo_balance: (r?.limbo_balance ?? BigInt(channel.local_balance)).toString(),
      maturity_height: r?.maturity_height ?? 0,
      blocks_til_maturity: r?.blocks_til_maturity ?? 0,
      recovered_balance: (r?.recovered_balance ?? 0n).toString(),
      pending_htlcs: r?.pending_htlcs ?? [],
      close_type: c.state.forceClose?.txid ? closeTypeOf(c.state) : '',
    };
  }

  /** A channel that closed on chain, as closedchannels shows it: what came back, by its monitor's claims. */
  private async forceClosedView(c: ChannelRow): Promise<ClosedChannelView> {
    const u = this.ready();
    const st = c.state;
    const m = u.monitors.stateOf(c.key) ?? (await loadMonitorState(u.kv, c.key));
    const r = m ? forceCloseReport(m, st.secrets, this.tipHeight(), u.wallet) : undefined;
    return {
      channel_point: st.funding ? `${st.funding.txid}:${st.funding.vout}` : '',
      chan_id: st.shortChannelId !== undefined ? formatScid(st.shortChannelId) : '',
      remote_pubkey: c.peer,
      capacity: st.capacitySat.toString(),
      closing_tx_hash: st.forceClose?.txid ?? '',
      settled_balance: (r?.recovered_balance ?? 0n).toString(),
      time_locked_balance: (r?.limbo_balance ?? 0n).toString(),
      close_type: closeTypeOf(st),
      open_initiator: st.funder ? 'INITIATOR_LOCAL' : 'INITIATOR_REMOTE',
    };
  }

  /** Confirmations of a transaction the channels wait on, as found in the blocks followed; 0 while unconfirmed. */
  private confirmations(txid: string): number {
    return this.ready().chainWatch.confirmations(txid, this.tipHeight());
  }

  private tipHeight(): number {
    return this.chain.source.status().height;
  }

  private playground() {
    const pg = this.chain.playground;
    if (!pg) throw new ApiError('failed_precondition', 'This node is not on the playground (start it with --network playground)');
    return pg;
  }

  /** Pays an invoice: everything that can be checked is checked before an HTLC leaves. */
  private async pay(input: MethodInput<'sendpayment'>): Promise<MethodOutput<'sendpayment'>> {
    const u = this.ready();
    let inv;
    try {
      inv = decodeInvoice(input.pay_req.trim().replace(/^lightning:/i, ''));
    } catch (e) {
      throw invoiceApiError(e);
    }
    const ours = invoiceNetwork(this.config.network);
    if (inv.network !== ours) throw new ApiError('invalid_argument', `This invoice is for ${inv.network}, but this node is on ${this.config.network}`);
    // Before its expiry: a new invoice from the same old wallet would lack a payment secret too.
    let payable: Invoice;
    try {
      payable = payableInvoice(inv);
    } catch (e) {
      throw new ApiError('invalid_argument', (e as Error).message);
    }
    if (isExpired(inv, Math.floor(Date.now() / 1000))) throw new ApiError('invalid_argument', `This invoice expired at ${new Date((inv.timestamp + inv.expiry) * 1000).toISOString()}; ask the payee for a new one`);
    if (hex.encode(inv.payee) === u.nodeId) throw new ApiError('invalid_argument', 'This invoice is our own; a node cannot pay itself');
    const given = input.amt_msat !== undefined ? BigInt(input.amt_msat) : input.amt !== undefined ? BigInt(input.amt) * 1000n : undefined;
    if (inv.amountMsat === undefined && given === undefined) throw new ApiError('invalid_argument', 'This invoice has no amount: say how much to pay (--amt <sat>)');
    if (inv.amountMsat !== undefined && given !== undefined && given !== inv.amountMsat) throw new ApiError('invalid_argument', `This invoice asks for ${inv.amountMsat} msat; do not give another amount`);
    const amountMsat = inv.amountMsat ?? given!;
    const existing = await u.payments.get(hex.encode(inv.paymentHash));
    if (existing?.status === 'SUCCEEDED') return { ...paymentView(existing), payment_error: '' };
    const entry = await u.htlcSwitch.pay(payable, input.pay_req.trim(), amountMsat, {
      timeoutMs: (input.timeout_seconds ?? 60) * 1000,
      ...(input.fee_limit_sat !== undefined ? { feeLimitMsat: BigInt(input.fee_limit_sat) * 1000n } : {}),
    });
    return { ...paymentView(entry), payment_error: entry.status === 'IN_FLIGHT' ? 'the payment is still in flight; see coulomb listpayments for its outcome' : '' };
  }

  /** The API handlers; every transport dispatches to these after validating input. */
  handlers(): ApiHandlers {
    const walletCall = async <T>(fn: () => Promise<T> | T): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof WalletError) throw new ApiError('invalid_argument', e.message);
        throw e;
      }
    };
    const invoiceCall = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof InvoiceRegistryError) throw new ApiError(e.code, e.message);
        throw e;
      }
    };
    return {
      getinfo: async () => {
        const st = this.chain.source.status();
        let height = st.height;
        let hash = st.hash;
        let chainError = st.error;
        if (!this.unlocked) {
          // Not following the chain yet: ask it directly, so the user sees whether it is reachable.
          try {
            const info = await this.chain.rpc.call<{ blocks: number; bestblockhash: string }>('getblockchaininfo');
            height = info.blocks;
            hash = info.bestblockhash;
          } catch (e) {
            chainError = (e as Error).message;
          }
        }
        return {
          version: VERSION,
          identity_pubkey: this.nodeId,
          wallet_state: this.walletState,
          alias: this.config.alias,
          num_peers: this.peerView().length,
          uris: this.uris(),
          network: this.config.network,
          chains: [{ chain: 'bitcoin', network: this.config.network }],
          synced_to_chain: this.walletState === 'READY' && st.synced,
          block_height: height,
          block_hash: hash,
          chain_backend: this.chain.describe,
          ...(chainError ? { chain_error: chainError } : {}),
          features: describeFeatures(ourInitFeatures()),
        };
      },
      connect: async ({ addr, perm, timeout_ms }) => {
        let target;
        try {
          target = parsePeerAddress(addr.trim());
        } catch (e) {
          throw new ApiError('invalid_argument', (e as Error).message);
        }
        if (target.pubkey === this.nodeId) throw new ApiError('invalid_argument', 'That address is this node’s own: connect to another node.');
        try {
          await this.peers.connect(target.pubkey, target.host, target.port, { perm: perm ?? false, timeoutMs: timeout_ms ?? 30_000 });
        } catch (e) {
          if (e instanceof ConnectError) throw new ApiError(/already connected/.test(e.message) ? 'already_exists' : 'unavailable', e.message);
          throw e;
        }
        return {};
      },
      disconnect: async ({ pub_key }) => {
        if (!this.peers.disconnect(pub_key)) throw new ApiError('not_found', `Not connected to peer ${pub_key.toLowerCase()}`);
        return {};
      },
      listpeers: async () => ({ peers: this.peerView() }),
      stop: async () => {
        // Answer first, then stop: the caller wants to hear that the node is going down.
        setTimeout(() => void this.stop(), 50);
        return { status: 'shutting down' };
      },
      genseed: async () => ({ mnemonic: createMnemonic().split(' ') }),
      create: async ({ password, words, passphrase, new_wallet, birthday_height }) => {
        await this.create({ password, words, ...(passphrase ? { passphrase } : {}), ...(new_wallet ? { newWallet: true } : {}), ...(birthday_height !== undefined ? { birthday: birthday_height } : {}) });
        return { identity_pubkey: this.nodeId };
      },
      unlock: async ({ password }) => {
        await this.unlock(password);
        return { identity_pubkey: this.nodeId };
      },
      newaddress: async () => ({ address: await this.wallet.newAddress() }),
      walletbalance: async () => {
        const b = this.wallet.balance();
        return {
          total_balance: b.total.toString(),
          confirmed_balance: b.confirmed.toString(),
          unconfirmed_balance: b.unconfirmed.toString(),
          locked_balance: b.reserved.toString(),
          immature_balance: b.immature.toString(),
          maturing_coins: b.maturing.map((m) => ({ blocks_to_maturity: m.blocks, amount_sat: m.amount.toString() })),
        };
      },
      sendcoins: async ({ addr, amt, sat_per_vbyte, sweepall, label }) => {
        const satPerVb = sat_per_vbyte ?? Math.max(1, Math.ceil(satPerKwToSatPerVb(this.chain.fees.feerateSatPerKw('normal'))));
        const txid = await walletCall(() =>
          this.wallet.send({ address: addr, ...(amt !== undefined ? { amount: BigInt(amt) } : {}), ...(sweepall ? { all: true } : {}), satPerVb, ...(label ? { label } : {}) }),
        );
        this.walletChanged();
        return { txid };
      },
      estimatefee: async ({ addr, amt, sweepall, sat_per_vbyte }) => {
        const vb = (t: 'urgent' | 'normal' | 'economy'): number => Math.max(1, Math.ceil(satPerKwToSatPerVb(this.chain.fees.feerateSatPerKw(t))));
        const rates = { fast: vb('urgent'), normal: vb('normal'), slow: vb('economy') };
        const satPerVb = sat_per_vbyte ?? rates.normal;
        return walletCall(() => {
          const w = this.wallet;
          const built = w.buildPayment({ script: w.scriptFor(addr), ...(amt !== undefined ? { amount: BigInt(amt) } : {}), ...(sweepall ? { all: true } : {}), satPerVb });
          const tx = Transaction.fromHex(built.txHex);
          const values = new Map(w.listUnspent(this.tipHeight()).map((u) => [`${u.txid}:${u.vout}`, u.value]));
          const inSum = built.inputs.reduce((s, k) => s + (values.get(k) ?? 0n), 0n);
          const outSum = tx.outs.reduce((s, o) => s + o.value, 0n);
          return { fee_sat: (inSum - outSum).toString(), sat_per_vbyte: String(satPerVb), amount_sat: tx.outs[built.vout]!.value.toString(), rates };
        });
      },
      revealseed: async ({ password }) => {
        const mnemonic = await revealWords(this.config.datadir, password);
        this.log.info('the recovery words were shown, after the password');
        return { mnemonic };
      },
      changepassword: async ({ current_password, new_password }) => {
        await changePassword(this.config.datadir, current_password, new_password, this.opts.scryptCost ?? DEFAULT_SCRYPT);
        this.log.info('the wallet password was changed');
        return {};
      },
      unlockwithwords: async ({ words, passphrase, new_password }) => {
        await this.unlockWithWords({ words, password: new_password, ...(passphrase !== undefined ? { passphrase } : {}) });
        return { identity_pubkey: this.nodeId };
      },
      bumpfee: async ({ txid, sat_per_vbyte }) => {
        const replacement = await walletCall(() => this.wallet.bumpFee(txid, sat_per_vbyte));
        this.walletChanged();
        return { txid: replacement };
      },
      listunspent: async ({ min_confs }) => ({
        utxos: this.wallet.listUnspent(this.tipHeight(), min_confs ?? 0).map((u) => ({
          address_type: 'WITNESS_PUBKEY_HASH',
          address: u.address,
          amount_sat: u.value.toString(),
          outpoint: `${u.txid}:${u.vout}`,
          confirmations: String(u.confirmations),
        })),
      }),
      listchaintxns: async () => ({
        transactions: this.wallet.listTransactions(this.tipHeight()).map((t) => ({
          tx_hash: t.txid,
          amount: t.amount.toString(),
          num_confirmations: t.confirmations,
          block_height: t.height ?? 0,
          time_stamp: String(t.time),
          total_fees: (t.fee ?? 0n).toString(),
          raw_tx_hex: t.hex,
          label: t.label ?? '',
        })),
      }),
      openchannel: async ({ node_key, local_amt, push_amt, private: priv, sat_per_vbyte }) => {
        const capacity = BigInt(local_amt);
        if ((push_amt ?? 0) > local_amt) throw new ApiError('invalid_argument', 'Push_amt cannot be more than local_amt');
        const feeratePerKw = this.chain.fees.feerateSatPerKw('normal');
        const fundingRate = sat_per_vbyte ?? Math.max(1, Math.ceil(satPerKwToSatPerVb(feeratePerKw)));
        // Checked here, before the peer hears anything: the size the node accepts, then what the confirmed coins can fund with the fee.
        const limits = this.ready().channels.limits;
        if (capacity < limits.minFundingSat) throw new ApiError('invalid_argument', `A channel holds at least ${satText(limits.minFundingSat)}: nodes refuse smaller ones. Choose a larger amount.`);
        if (capacity > limits.maxFundingSat) throw new ApiError('invalid_argument', `A channel holds at most ${satText(limits.maxFundingSat)} (larger ones need an option few nodes support). Choose a smaller amount.`);
        const unfunded = openRefusal(estimateOpen({ wallet: this.wallet, tipHeight: this.tipHeight(), satPerVb: fundingRate, amountSat: capacity, limits }), capacity);
        if (unfunded) throw new ApiError('failed_precondition', unfunded);
        const txid = await this.ready().channels.openTo(node_key.toLowerCase(), capacity, BigInt(push_amt ?? 0) * 1000n, feeratePerKw, fundingRate, priv ?? false);
        return { funding_txid: txid };
      },
      pendingchannels: async () => {
        const all = this.ready().channels.list();
        const pending_open_channels = await Promise.all(
          all
            .filter((c) => OPENING_PHASES.includes(c.state.phase))
            .map(async (c) => ({
              channel: this.channelView(c),
              funding_txid: c.state.funding?.txid ?? '',
              confirmations: c.state.funding ? this.confirmations(c.state.funding.txid) : 0,
              confirmations_needed: c.state.minimumDepth,
              state: c.state.phase,
            })),
        );
        const waiting_close_channels = [
          ...all
            .filter((c) => CLOSING_PHASES.includes(c.state.phase))
            .map((c) => {
              const channel = this.channelView(c);
              return { channel, limbo_balance: (closingPayout(c.state) ?? BigInt(channel.local_balance)).toString(), closing_txid: c.state.close?.closingTxid ?? '', state: c.state.phase };
            }),
          // Channels restored from a backup, waiting for their peers' close (core/node/recovery.ts).
          ...recoveringViews(this.ready().backup),
        ];
        const pending_force_closing_channels = await Promise.all(all.filter((c) => c.state.phase === 'FORCE_CLOSING').map((c) => this.forceClosingView(c)));
        const total_limbo_balance = [...waiting_close_channels, ...pending_force_closing_channels].reduce((sum, w) => sum + BigInt(w.limbo_balance), 0n).toString();
        return { total_limbo_balance, pending_open_channels, waiting_close_channels, pending_force_closing_channels };
      },
      listchannels: async () => ({ channels: this.ready().channels.list().filter((c) => c.state.phase === 'NORMAL').map((c) => this.channelView(c)) }),
      closedchannels: async () => ({
        channels: await Promise.all(this.ready()
          .channels.list()
          .filter((c) => c.state.phase === 'CLOSED' || c.state.phase === 'FAILED')
          .map(async (c) => {
            const st = c.state;
            const closed = st.phase === 'CLOSED';
            // Open means both sides sent channel_ready: a failure after that leaves funds in the 2-of-2.
            const wasOpen = !!st.sentChannelReady && !!st.remoteSecondPoint;
            if (closed && st.forceClose) return this.forceClosedView(c);
            return {
              channel_point: st.funding ? `${st.funding.txid}:${st.funding.vout}` : '',
              chan_id: st.shortChannelId !== undefined ? formatScid(st.shortChannelId) : '',
              remote_pubkey: c.peer,
              capacity: st.capacitySat.toString(),
              closing_tx_hash: st.close?.closingTxid ?? '',
              settled_balance: (closed ? (closingPayout(st) ?? 0n) : 0n).toString(),
              time_locked_balance: '0',
              close_type: closed ? 'COOPERATIVE_CLOSE' : wasOpen ? 'ABANDONED' : 'FUNDING_CANCELED',
              open_initiator: st.funder ? 'INITIATOR_LOCAL' : 'INITIATOR_REMOTE',
              ...(closed ? {} : { failure_reason: st.failure ?? 'unknown' }),
            } satisfies ClosedChannelView;
          })),
      }),
      channelbalance: async () => {
        let local = 0n;
        let remote = 0n;
        let pending = 0n;
        for (const c of this.ready().channels.list()) {
          const b = this.ready().channels.balances(c);
          if (c.state.phase === 'NORMAL') {
            local += b.localMsat;
            remote += b.remoteMsat;
          } else if (['WAIT_ACCEPT', 'WAIT_FUNDING_TX', 'WAIT_FUNDING_CREATED', 'WAIT_FUNDING_SIGNED', 'WAIT_FUNDING_CONFIRMED', 'WAIT_CHANNEL_READY'].includes(c.state.phase)) pending += b.localMsat;
        }
        const { total_limbo_balance } = await this.handlers().pendingchannels({});
        return {
          balance: (local / 1000n).toString(),
          pending_open_balance: (pending / 1000n).toString(),
          limbo_balance: total_limbo_balance,
          local_balance: { sat: (local / 1000n).toString(), msat: local.toString() },
          remote_balance: { sat: (remote / 1000n).toString(), msat: remote.toString() },
          ...paymentRoom(this.ready().channels),
        };
      },
      estimateopen: async ({ local_amt, sat_per_vbyte }) => {
        const satPerVb = sat_per_vbyte ?? Math.max(1, Math.ceil(satPerKwToSatPerVb(this.chain.fees.feerateSatPerKw('normal'))));
        return estimateOpen({ wallet: this.wallet, tipHeight: this.tipHeight(), satPerVb, ...(local_amt !== undefined ? { amountSat: BigInt(local_amt) } : {}), limits: this.ready().channels.limits });
      },
      closechannel: async ({ chan_point, funding_txid, output_index, force }) => {
        const point = chan_point ?? (funding_txid !== undefined ? `${funding_txid}:${output_index ?? 0}` : undefined);
        if (!point) throw new ApiError('invalid_argument', 'Give the channel point: --chan_point <txid:index> (see coulomb listchannels)');
        if (force) return { closing_txid: await this.ready().channels.forceClose(point) };
        return { closing_txid: await this.ready().channels.closeChannel(point) };
      },
      decodepayreq: async ({ pay_req }) => {
        let inv;
        try {
          inv = decodeInvoice(pay_req);
        } catch (e) {
          throw invoiceApiError(e);
        }
        const now = Math.floor(Date.now() / 1000);
        return {
          destination: hex.encode(inv.payee),
          payment_hash: hex.encode(inv.paymentHash),
          num_satoshis: ((inv.amountMsat ?? 0n) / 1000n).toString(),
          num_msat: (inv.amountMsat ?? 0n).toString(),
          timestamp: String(inv.timestamp),
          expiry: String(inv.expiry),
          expired: isExpired(inv, now),
          description: inv.description ?? '',
          description_hash: inv.descriptionHash ? hex.encode(inv.descriptionHash) : '',
          cltv_expiry: String(inv.minFinalCltvExpiryDelta),
          payment_addr: inv.paymentSecret ? hex.encode(inv.paymentSecret) : '',
          network: inv.network,
          route_hints: inv.routeHints.map((hops) => ({
            hop_hints: hops.map((x) => ({ node_id: hex.encode(x.pubkey), chan_id: formatScid(x.shortChannelId), fee_base_msat: x.feeBaseMsat, fee_proportional_millionths: x.feeProportionalMillionths, cltv_expiry_delta: x.cltvExpiryDelta })),
          })),
          features: inv.features ? describeFeatures(inv.features) : {},
        };
      },
      addinvoice: async ({ memo, value, value_msat, description_hash, expiry, cltv_expiry, private: priv }) => {
        const amountMsat = value_msat !== undefined ? BigInt(value_msat) : BigInt(value ?? 0) * 1000n;
        // This node announces no channel (it does not gossip yet), so payers cannot find our channels in
        // their graphs: unless told not to (private: false), the invoice names them as route hints —
        // the five with the most room to receive.
        const ch = this.ready().channels;
        const hints =
          priv === false
            ? []
            : privateRouteHints(
                ch
                  .list()
                  .filter((c) => c.state.phase === 'NORMAL' && c.state.shortChannelId !== undefined)
                  .sort((x, y) => (ch.balances(y).remoteMsat > ch.balances(x).remoteMsat ? 1 : -1))
                  .slice(0, 5)
                  .map((c) => ({ peer: hex.decode(c.peer), shortChannelId: c.state.shortChannelId!, policy: ch.remotePolicy(c.key) })),
              );
        const inv = await invoiceCall(() =>
          this.invoices.create({
            ...(amountMsat > 0n ? { amountMsat } : {}),
            ...(memo !== undefined ? { memo } : {}),
            ...(description_hash ? { descriptionHash: hex.decode(description_hash.toLowerCase()) } : {}),
            ...(expiry !== undefined ? { expirySec: expiry } : {}),
            ...(cltv_expiry !== undefined ? { minFinalCltvExpiryDelta: cltv_expiry } : {}),
            routeHints: hints,
            private: priv ?? false,
          }),
        );
        return { r_hash: inv.paymentHash, payment_request: inv.paymentRequest, add_index: String(inv.addIndex), payment_addr: inv.paymentSecret };
      },
      listinvoices: async ({ pending_only, index_offset, num_max_invoices, reversed }) => {
        const page = await this.invoices.list({ pendingOnly: pending_only ?? false, indexOffset: index_offset ?? 0, numMaxInvoices: num_max_invoices ?? 100, reversed: reversed ?? false });
        return { invoices: page.invoices.map(invoiceView), first_index_offset: String(page.firstIndexOffset), last_index_offset: String(page.lastIndexOffset) };
      },
      lookupinvoice: async ({ r_hash }) => {
        const inv = await this.invoices.lookup(r_hash);
        if (!inv) throw new ApiError('not_found', `There is no invoice with payment hash ${r_hash.toLowerCase()}`);
        return invoiceView(inv);
      },
      lookuppayment: async ({ payment_hash }) => {
        const p = await this.payments.get(payment_hash.toLowerCase());
        if (!p) throw new ApiError('not_found', 'There is no payment to this invoice: it has not been paid from this wallet.');
        return paymentView(p);
      },
      cancelinvoice: async ({ payment_hash }) => {
        await invoiceCall(() => this.invoices.cancel(payment_hash));
        return {};
      },
      listpayments: async ({ index_offset, max_payments, reversed, include_incomplete }) => {
        const page = await this.payments.list({
          ...(index_offset !== undefined ? { indexOffset: index_offset } : {}),
          ...(max_payments !== undefined ? { maxPayments: max_payments } : {}),
          reversed: reversed ?? false,
          includeIncomplete: include_incomplete ?? true,
        });
        return { payments: page.payments.map(paymentView), first_index_offset: String(page.firstIndexOffset), last_index_offset: String(page.lastIndexOffset) };
      },
      sendpayment: (input) => this.pay(input),
      payinvoice: (input) => this.pay(input),
      ...backupHandlers(() => this.ready().backup),
      ...paymentHandlers(() => ({ htlcSwitch: this.ready().htlcSwitch, nodeId: this.ready().nodeId, invoiceNetwork: invoiceNetwork(this.config.network) })),
      ...towerHandlers(() => this.ready().towers),
      ...channelDetailHandlers({
        tip: () => this.tipHeight(),
        channels: () => this.ready().channels.list().map((c) => ({ state: c.state, view: () => this.channelView(c) })),
        handlers: () => this.handlers(),
      }),
      playground_mine: async ({ blocks, addr }) => {
        const pg = this.playground();
        const hashes = await this.chain.rpc.call<string[]>('generatetoaddress', blocks, addr ?? pg.faucet.address);
        if (this.unlocked) await this.chain.source.poke();
        return { block_hashes: hashes };
      },
      playground_faucet: async ({ addr, amt }) => {
        const pg = this.playground();
        const txid = await this.chain.rpc.call<string>('sendtoaddress', addr, amt / 1e8);
        const [hash] = await this.chain.rpc.call<string[]>('generatetoaddress', 1, pg.faucet.address);
        if (this.unlocked) await this.chain.source.poke();
        return { txid, block_hash: hash! };
      },
    };
  }
}
