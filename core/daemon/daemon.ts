/**
 * The headless host of a node: takes the data directory's lock, opens the log file, starts the node
 * and the control channel, and shuts down cleanly on SIGINT/SIGTERM or the `stop` command.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CoulombNode } from '../node/node.ts';
import type { NodeConfig } from '../node/config.ts';
import { createLogger } from '../log/logger.ts';
import type { LogSink } from '../log/logger.ts';
import { createDispatcher } from '../api/dispatch.ts';
import { startControlServer } from '../api/control-server.ts';
import { lockDatadir } from '../store/lock.ts';

export const LOG_FILE = 'coulomb.log';

export interface RunningDaemon {
  node: CoulombNode;
  controlUrl: string;
  /** Resolves when the daemon has fully stopped. */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(config: NodeConfig, opts: { allowRemote?: boolean } = {}): Promise<RunningDaemon> {
  await mkdir(config.datadir, { recursive: true, mode: 0o700 });
  // First, before anything is written: a second daemon on this directory is refused here.
  const lock = await lockDatadir(config.datadir);
  const file = createWriteStream(join(config.datadir, LOG_FILE), { flags: 'a', mode: 0o600 });
  const sinks: LogSink[] = [(l) => file.write(l + '\n')];
  if (config.logToStderr) sinks.push((l) => process.stderr.write(l + '\n'));
  const log = createLogger(sinks, config.logLevel);

  const node = new CoulombNode({ config, log });
  let control: Awaited<ReturnType<typeof startControlServer>>;
  try {
    await node.start();
    control = await startControlServer({
      datadir: config.datadir,
      ...(config.rpcListen ? { listen: config.rpcListen } : {}),
      ...(opts.allowRemote ? { allowRemote: true } : {}),
      dispatch: createDispatcher(node.handlers(), log.child('RPC')),
      log: log.child('RPC'),
    });
  } catch (e) {
    await node.stop().catch(() => undefined);
    await new Promise<void>((r) => file.end(r));
    await lock.release();
    throw e;
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await control.close();
      await node.stop();
      log.info('stopped');
      await new Promise<void>((r) => file.end(r));
      await lock.release();
      resolveStopped();
    })());
  node.onStop(() => void stop());
  log.info('ready', { node_id: node.nodeId, network: config.network, control: control.url, uris: node.uris().join(',') });
  return { node, controlUrl: control.url, stopped, stop };
}
