/**
 * In-process Coulomb nodes for tests that need to look inside (logs, peers) or shorten timers.
 */
import { CoulombNode } from '../../core/node/node.ts';
import type { NodeOptions } from '../../core/node/node.ts';
import { memoryLogger } from '../../core/log/logger.ts';
import { tempDir, removeDir } from './daemon.ts';

export interface TestNode {
  node: CoulombNode;
  logs: string[];
  port: number;
  uri: string;
  close(): Promise<void>;
}

export async function startTestNode(name: string, peerOptions?: NodeOptions['peerOptions']): Promise<TestNode> {
  const datadir = await tempDir(name);
  const log = memoryLogger('debug');
  const node = new CoulombNode({
    config: {
      datadir,
      network: 'regtest',
      alias: name,
      listen: [{ host: '127.0.0.1', port: 0 }],
      rpcListen: { host: '127.0.0.1', port: 0 },
      externalIps: [],
      logLevel: 'debug',
      logToStderr: false,
    },
    log,
    ...(peerOptions ? { peerOptions } : {}),
  });
  await node.start();
  const uri = node.uris()[0]!;
  return {
    node,
    logs: log.lines,
    port: Number(uri.split(':').pop()),
    uri,
    async close() {
      await node.stop();
      await removeDir(datadir);
    },
  };
}
