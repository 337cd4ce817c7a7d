/**
 * Sends transactions through bitcoind and re-sends them after every block until they confirm, so a
 * transaction dropped from a mempool (a restart, an eviction) still gets mined. A transaction counts
 * as confirmed when it is seen in a block the chain source delivers (or bitcoind says its outputs are
 * already in the chain): bitcoind without -txindex cannot look up a confirmed transaction by txid.
 */
import { Transaction } from 'bitcoinjs-lib';
import type { Block } from 'bitcoinjs-lib';
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

  /** Sends once; true when bitcoind says the transaction is in the chain already. */
  private async send(txid: string, txHex: string, throwOnReject: boolean): Promise<boolean> {
    try {
      await this.rpc.call('sendrawtransaction', txHex);
      return false;
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      if (e.kind === 'already_in_chain') return true;
      if (/already (known|in mempool)|txn-already/.test(e.message)) return false;
      const p = this.pending.get(txid);
      if (p) p.lastError = e.message;
      if (e.transient) return false; // try again next block
      if (throwOnReject) {
        this.pending.delete(txid);
        throw e;
      }
      return false;
    }
  }

  /**
   * Call with every block the chain source connects: what it confirms needs no more sending, and what
   * conflicts with it (an input spent by another of its transactions: a replaced version, a child of a
   * commitment that lost the race) never can be mined.
   */
  confirmed(block: Block): void {
    if (!this.pending.size) return;
    const spentBy = new Map<string, string>();
    for (const tx of block.transactions ?? []) {
      const txid = tx.getId();
      this.pending.delete(txid);
      for (const i of tx.ins) spentBy.set(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`, txid);
    }
    for (const [txid, p] of [...this.pending]) {
      const tx = Transaction.fromHex(p.hex);
      if (tx.ins.some((i) => spentBy.has(`${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`))) this.pending.delete(txid);
    }
  }

  /** Call after each block near the tip: re-sends what is still unconfirmed. */
  async onBlock(): Promise<void> {
    for (const [txid, p] of [...this.pending]) {
      if (await this.send(txid, p.hex, false)) this.pending.delete(txid);
    }
  }
}
