/**
 * Opens the KvStore a node is configured with (core/store/kv/types.ts, KvBackendConfig): the embedded
 * log in the data directory by default, or a PostgreSQL database for servers.
 */
import { EmbeddedKvStore } from './embedded.ts';
import type { EmbeddedKvOptions } from './embedded.ts';
import type { KvBackendConfig, KvStore } from './types.ts';

export interface OpenKvOptions {
  /** Where the store's notices go (a torn write cut off at open, a failed compaction); stderr by default. */
  log?: (msg: string) => void;
  /** Embedded backend only: compaction thresholds (tests make them small). */
  compaction?: EmbeddedKvOptions['compaction'];
}

export async function openKvStore(config: KvBackendConfig, opts: OpenKvOptions = {}): Promise<KvStore> {
  switch (config.backend) {
    case 'embedded':
      return EmbeddedKvStore.open(config.dir, opts);
    case 'postgres': {
      // Loaded only here: the desktop app and embedded stores never load the PostgreSQL client.
      const { PostgresKvStore } = await import('./postgres.ts');
      const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
      return PostgresKvStore.open(config.dsn, { onWarning: log, ...(config.queryTimeoutMs !== undefined ? { queryTimeoutMs: config.queryTimeoutMs } : {}) });
    }
    default: {
      const never: never = config;
      throw new Error(`unknown store backend ${JSON.stringify((never as { backend: unknown }).backend)}`);
    }
  }
}
