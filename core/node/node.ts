/**
 * A Coulomb node: composes identity, the peer manager and the API handlers. It is the one place that
 * awaits I/O on behalf of the protocol layers; the daemon and the desktop app both host one.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveNodeKeys } from '../keys/node-key.ts';
import { loadOrCreateSeed } from './seed-file.ts';
import { checkDatadirNetwork } from './datadir.ts';
import type { NodeConfig } from './config.ts';
import { PeerManager, ConnectError } from '../peer/manager.ts';
import type { PeerManagerOptions } from '../peer/manager.ts';
import { parsePeerAddress, formatHostPort } from '../peer/address.ts';
import type { AddressError } from '../peer/address.ts';
import { CHAIN_HASHES } from '../wire/index.ts';
import { ourInitFeatures, describeFeatures } from './features.ts';
import { ApiError } from '../api/contract.ts';
import type { ApiHandlers, PeerView } from '../api/contract.ts';
import type { Logger } from '../log/logger.ts';
import { VERSION } from '../version.ts';
import { hex } from '../util/bytes.ts';

export interface NodeOptions {
  config: NodeConfig;
  log: Logger;
  /** Tests shorten timers through this. */
  peerOptions?: Partial<Omit<PeerManagerOptions, 'nodeSecret' | 'policy' | 'log'>>;
}

export class CoulombNode {
  readonly config: NodeConfig;
  readonly log: Logger;
  nodeId!: string;
  peers!: PeerManager;
  private listening: { host: string; port: number }[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stopListeners: (() => void)[] = [];

  constructor(private readonly opts: NodeOptions) {
    this.config = opts.config;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    const { config } = this;
    await mkdir(config.datadir, { recursive: true, mode: 0o700 });
    await checkDatadirNetwork(config.datadir, config.network);
    const { seed, created } = await loadOrCreateSeed(config.datadir);
    const keys = deriveNodeKeys(seed, config.network);
    this.nodeId = hex.encode(keys.nodeId);
    this.log.info(created ? 'created a new node seed' : 'loaded node seed', { node_id: this.nodeId, network: config.network, file: join(config.datadir, 'node_seed.json') });
    this.peers = new PeerManager({
      ...this.opts.peerOptions,
      nodeSecret: keys.nodeSecret,
      policy: { features: ourInitFeatures(), chainHash: CHAIN_HASHES[config.network] },
      log: this.log.child('PEER'),
    });
    for (const l of config.listen) this.listening.push(await this.peers.listen(l.host, l.port));
  }

  /** Addresses others can dial us at, as `pubkey@host:port`. */
  uris(): string[] {
    const addrs = this.config.externalIps.length ? this.config.externalIps : this.listening;
    return addrs.filter((a) => a.host !== '0.0.0.0' && a.host !== '::').map((a) => `${this.nodeId}@${formatHostPort(a.host, a.port)}`);
  }

  onStop(fn: () => void): void {
    this.stopListeners.push(fn);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('stopping');
      await this.peers?.close();
      for (const fn of this.stopListeners) fn();
    })();
    return this.stopping;
  }

  peerView(): PeerView[] {
    return this.peers.list()
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
        perm: this.peers.isPersistent(p.pubkey),
      }));
  }

  /** The API handlers; every transport dispatches to these after validating input. */
  handlers(): ApiHandlers {
    return {
      getinfo: async () => ({
        version: VERSION,
        identity_pubkey: this.nodeId,
        alias: this.config.alias,
        num_peers: this.peerView().length,
        uris: this.uris(),
        network: this.config.network,
        chains: [{ chain: 'bitcoin', network: this.config.network }],
        features: describeFeatures(ourInitFeatures()),
      }),
      connect: async ({ addr, perm, timeout_ms }) => {
        let target;
        try {
          target = parsePeerAddress(addr.trim());
        } catch (e) {
          throw new ApiError('invalid_argument', (e as AddressError).message);
        }
        if (target.pubkey === this.nodeId) throw new ApiError('invalid_argument', 'cannot connect to ourselves');
        try {
          await this.peers.connect(target.pubkey, target.host, target.port, { perm: perm ?? false, timeoutMs: timeout_ms ?? 30_000 });
        } catch (e) {
          if (e instanceof ConnectError) throw new ApiError(/already connected/.test(e.message) ? 'already_exists' : 'unavailable', e.message);
          throw e;
        }
        return {};
      },
      disconnect: async ({ pub_key }) => {
        if (!this.peers.disconnect(pub_key)) throw new ApiError('not_found', `not connected to peer ${pub_key.toLowerCase()}`);
        return {};
      },
      listpeers: async () => ({ peers: this.peerView() }),
      stop: async () => {
        // Answer first, then stop: the caller wants to hear that the node is going down.
        setTimeout(() => void this.stop(), 50);
        return { status: 'shutting down' };
      },
    };
  }
}
