/**
 * Runs one LDK node outside the test suite, for checking interop by hand:
 *
 *   npx tsx test/interop/ldk-standalone.ts [--listen 9736] [--host 127.0.0.1]
 *       [--connect <pubkey>@<host>:<port>]... [--seed <64 hex chars>] [--log-level info]
 *
 * Prints its node id and URI, reports peers connecting and disconnecting (with the init features
 * they sent), redials `--connect` targets that drop, and runs until Ctrl-C. Without `--listen` or
 * `--connect` it listens on 9736.
 */
import { parseArgs } from 'node:util';
import { startLdkNode } from './ldk/node.ts';
import type { LdkLogLevel } from './ldk/node.ts';
import { describeBits, featureBits } from './ldk/features.ts';
import { parseNodeId } from './ldk/keys.ts';

const LEVELS: readonly LdkLogLevel[] = ['gossip', 'trace', 'debug', 'info', 'warn', 'error'];
const REDIAL_MS = 5000;

interface Target {
  pubkey: string;
  host: string;
  port: number;
}

function parseTarget(uri: string): Target {
  const m = /^([0-9a-fA-F]{66})@(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(uri);
  if (!m) throw new Error(`--connect wants <pubkey>@<host>:<port>, got ${uri}`);
  const pubkey = m[1]!.toLowerCase();
  parseNodeId(pubkey);
  return { pubkey, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      connect: { type: 'string', multiple: true, default: [] },
      seed: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx test/interop/ldk-standalone.ts [--listen 9736] [--host 127.0.0.1]');
    console.log('         [--connect <pubkey>@<host>:<port>]... [--seed <hex32>] [--log-level info]');
    return;
  }
  const logLevel = values['log-level'] as LdkLogLevel;
  if (!LEVELS.includes(logLevel)) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);
  let seed: Uint8Array | undefined;
  if (values.seed !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(values.seed)) throw new Error('--seed must be 64 hex characters');
    seed = Uint8Array.from(Buffer.from(values.seed, 'hex'));
  }
  const targets = values.connect.map(parseTarget);
  const listenPort =
    values.listen !== undefined ? Number(values.listen) : targets.length === 0 ? 9736 : undefined;
  if (listenPort !== undefined && !(Number.isInteger(listenPort) && listenPort >= 0 && listenPort < 65536)) {
    throw new Error('--listen wants a port number');
  }

  const node = await startLdkNode({
    ...(seed ? { seed } : {}),
    alias: 'ldk',
    logLevel,
    onLog: (line) => console.log(`${stamp()} ${line}`),
  });
  console.log(`node id: ${node.nodeId}`);
  if (listenPort !== undefined) {
    const port = await node.listen(listenPort, values.host);
    console.log(`uri:     ${node.nodeId}@${values.host.includes(':') ? `[${values.host}]` : values.host}:${port}`);
  }

  // Report peer changes by comparing snapshots; a person is watching, so a quarter second is fine.
  let known = new Set<string>();
  const watch = setInterval(() => {
    const now = new Set(node.listPeers());
    for (const id of now) {
      if (known.has(id)) continue;
      const bits = featureBits(node.peerInitFeatures(id) ?? new Uint8Array(0));
      console.log(`${stamp()} peer connected: ${id}`);
      console.log(`${stamp()}   init features: ${describeBits(bits).join(', ') || '(none)'}`);
    }
    for (const id of known) if (!now.has(id)) console.log(`${stamp()} peer disconnected: ${id}`);
    known = now;
  }, 250);

  const dialing = new Set<string>();
  const dial = (t: Target) => {
    if (dialing.has(t.pubkey) || node.listPeers().includes(t.pubkey)) return;
    dialing.add(t.pubkey);
    console.log(`${stamp()} dialing ${t.pubkey}@${t.host}:${t.port}`);
    node
      .connect(t.pubkey, t.host, t.port)
      .catch((err: Error) => console.log(`${stamp()} dial failed: ${err.message}`))
      .finally(() => dialing.delete(t.pubkey));
  };
  targets.forEach(dial);
  const redial = setInterval(() => targets.forEach(dial), REDIAL_MS);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log(`${stamp()} stopping`);
    clearInterval(watch);
    clearInterval(redial);
    void node.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
