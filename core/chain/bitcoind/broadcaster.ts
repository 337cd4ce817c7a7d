/**
 * Sends transactions through bitcoind and re-sends them after every block until they confirm, so a
 * transaction dropped from a mempool (a restart, an eviction) still gets mined.
 */
import { Transaction } from 'bitcoinjs-lib';
import type { BitcoindRpc } from './rpc-client.ts';
import { RpcError } from './errors.ts';
import type { Broadcaster } from '../types.ts';

export class BitcoindBroadcaster implements Broadcaster {
  /** txid → hex of what we still want mined, and the last reason bitcoind gave for refusing it. */
  readonly pending = new Map<string, { hex: string; lastError?: string }>();

  constructor(private readonly rpc: BitcoindRpc) {}

  async broadcast(txHex: string): Promise<string> {
    const txid = Transaction.fromHex(txHex).getId();
    this.pending.set(txid, { hex: txHex });
    await this.send(txid, txHex, true);
    return txid;
  }

  private async send(txid: string, txHex: string, throwOnReject: boolean): Promise<void> {
    try {
      await this.rpc.call('sendrawtransaction', txHex);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      if (e.kind === 'already_in_chain' || /already (known|in mempool)|txn-already/.test(e.message)) return;
      this.pending.get(txid)!.lastError = e.message;
      if (e.transient) return; // try again next block
      if (throwOnReject) {
        this.pending.delete(txid);
        throw e;
      }
    }
  }

  /** Call after each block: forget confirmed transactions, re-send the rest. */
  async onBlock(): Promise<void> {
    for (const [txid, p] of [...this.pending]) {
      const info = await this.rpc.call<{ confirmations?: number }>('getrawtransaction', txid, true).catch(() => undefined);
      if (info?.confirmations && info.confirmations > 0) {
        this.pending.delete(txid);
        continue;
      }
      await this.send(txid, p.hex, false);
    }
  }
}
