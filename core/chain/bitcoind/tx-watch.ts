/**
 * The transactions the node waits on (channel fundings and closings), found in the blocks the chain
 * source delivers, so following their confirmations never needs bitcoind's -txindex (bitcoind finds a
 * confirmed transaction by txid only with it, or when told its block). Where each one was found is
 * stored durably before the block's delivery completes, that is before the wallet records a scan
 * point past that block, so after a restart it is still known; a reorg that removes the block forgets
 * it until it is found again.
 */
import type { ChainEvent } from '../types.ts';
import { openStore } from '../../store/store.ts';
import type { Store } from '../../store/store.ts';

/** Where a transaction was confirmed: its block and its position in that block. */
export interface TxLocation {
  blockHash: string;
  height: number;
  index: number;
}

interface TxWatchDb {
  /** txid → where it was found, or null while it is not in the chain we follow. */
  watched: Record<string, TxLocation | null>;
}

export class TxWatch {
  private constructor(private readonly db: Store<TxWatchDb>) {}

  static async open(dir: string): Promise<TxWatch> {
    return new TxWatch(await openStore<TxWatchDb>({ dir, name: 'txwatch', version: 1, migrations: [], defaults: () => ({ watched: {} }) }));
  }

  /** Starts looking for these transactions in every block delivered from now on (durably). */
  async watch(txids: string[]): Promise<void> {
    const fresh = txids.filter((t) => !(t in this.db.data.watched));
    if (fresh.length) await this.db.update((d) => void fresh.forEach((t) => (d.watched[t] = null)));
  }

  async unwatch(txids: string[]): Promise<void> {
    const known = txids.filter((t) => t in this.db.data.watched);
    if (known.length) await this.db.update((d) => void known.forEach((t) => delete d.watched[t]));
  }

  /** Where a watched transaction was confirmed, if it is in the chain we follow. */
  location(txid: string): TxLocation | undefined {
    return this.db.data.watched[txid] ?? undefined;
  }

  /** Confirmations of a watched transaction at `tipHeight`: 0 when not found (yet). */
  confirmations(txid: string, tipHeight: number): number {
    const at = this.location(txid);
    return at && tipHeight >= at.height ? tipHeight - at.height + 1 : 0;
  }

  /** Matches a delivered block against the watched transactions; resolves once that is durable. */
  async onChainEvent(e: ChainEvent): Promise<void> {
    const watched = this.db.data.watched;
    if (e.type === 'disconnected') {
      const gone = Object.keys(watched).filter((t) => watched[t]?.blockHash === e.hash);
      if (gone.length) await this.db.update((d) => void gone.forEach((t) => (d.watched[t] = null)));
      return;
    }
    if (!Object.values(watched).some((at) => at === null)) return;
    const found: [string, TxLocation][] = [];
    (e.block.transactions ?? []).forEach((tx, index) => {
      const txid = tx.getId();
      if (txid in watched && watched[txid] === null) found.push([txid, { blockHash: e.hash, height: e.height, index }]);
    });
    if (found.length) await this.db.update((d) => void found.forEach(([t, at]) => (d.watched[t] = at)));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
