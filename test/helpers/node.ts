/**
 * In-process Coulomb nodes for tests that need to look inside (logs, peers) or shorten timers.
 */
import { CoulombNode } from '../../core/node/node.ts';
import type { NodeOptions } from '../../core/node/node.ts';
import { memoryLogger } from '../../core/log/logger.ts';
import { createMnemonic } from '../../core/wallet/mnemonic.ts';
import type { NodeConfig } from '../../core/node/config.ts';
import { tempDir, removeDir } from './daemon.ts';

export interface TestNode {
  node: CoulombNode;
  logs: string[];
  port: number;
  uri: string;
  datadir: string;
  close(): Promise<void>;
  /**
   * Stops the node and starts it again on the same data directory, unlocking it; `whileStopped` runs
   * in between (e.g. to copy or replace the data directory).
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
}

/** A cheap password hash for tests; the real cost is exercised in the wallet's own tests. */
export const TEST_SCRYPT = { N: 1 << 10, r: 8, p: 1 };

/**
 * An unlocked node with a fresh wallet. By default it runs its own playground chain; pass `chain` to
 * point it at another (e.g. a playground of another test node, to share one chain). `opts.db` puts its
 * store elsewhere than the data directory (a PostgreSQL database); `opts.words` gives its wallet's words
 * (a node restored from them: the same node id and keys); `opts.restoreFrom` makes it a restore of those words
 * that rescans the chain from that height (a new wallet starts at the tip); `opts.config` sets anything else (a watchtower).
 */
export async function startTestNode(name: string, peerOptions?: NodeOptions['peerOptions'], chain?: NodeConfig['chain'], channel?: NodeConfig['channel'], opts: { db?: NodeConfig['db']; words?: string; restoreFrom?: number; config?: Partial<NodeConfig> } = {}): Promise<TestNode> {
  const datadir = await tempDir(name);
  const log = memoryLogger('debug');
  const make = (): CoulombNode =>
    new CoulombNode({
      config: {
        datadir,
        network: 'regtest',
        chain: chain ?? { kind: 'playground', rpcListen: { host: '127.0.0.1', port: 0 } },
        pollMs: 60_000,
        alias: name,
        listen: [{ host: '127.0.0.1', port: 0 }],
        rpcListen: { host: '127.0.0.1', port: 0 },
        externalIps: [],
        logLevel: 'debug',
        logToStderr: false,
        ...(channel ? { channel } : {}),
        ...(opts.db ? { db: opts.db } : {}),
        ...opts.config,
      },
      log,
      ...(peerOptions ? { peerOptions } : {}),
      scryptCost: TEST_SCRYPT,
    });
  const node = make();
  await node.start();
  await node.create({ password: 'test password', words: opts.words ?? createMnemonic(), ...(opts.restoreFrom === undefined ? { newWallet: true } : { birthday: opts.restoreFrom }) });
  const uri = node.uris()[0]!;
  const t: TestNode = {
    node,
    logs: log.lines,
    port: Number(uri.split(':').pop()),
    uri,
    datadir,
    async restart(whileStopped) {
      await t.node.stop();
      await whileStopped?.();
      t.node = make();
      await t.node.start();
      await t.node.unlock('test password');
      t.uri = t.node.uris()[0]!;
      t.port = Number(t.uri.split(':').pop());
    },
    async close() {
      await t.node.stop();
      await removeDir(datadir);
    },
  };
  return t;
}
