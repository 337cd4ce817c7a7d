/**
 * The playground's own wallet: a key that mining pays, and a faucet that sends mature coins to any
 * address (bitcoind's `sendtoaddress`, for the playground only).
 */
import { Psbt, payments, address as baddress, networks } from 'bitcoinjs-lib';
import { randomBytes } from 'node:crypto';
import { tinyBackend } from '../../crypto/secp256k1.ts';
import type { PlaygroundChain } from './chain.ts';
import { COINBASE_MATURITY, TxRejected } from './rules.ts';

export class Faucet {
  readonly pubkey: Uint8Array;
  readonly script: Uint8Array;
  readonly address: string;

  constructor(
    private readonly chain: PlaygroundChain,
    private readonly secret: Uint8Array = new Uint8Array(randomBytes(32)),
  ) {
    this.pubkey = tinyBackend.getPublicKey(secret);
    const p = payments.p2wpkh({ pubkey: this.pubkey, network: networks.regtest });
    this.script = p.output!;
    this.address = p.address!;
  }

  /** Spendable faucet coins: confirmed, and mature when they come from a coinbase. */
  private spendable(): { txid: string; vout: number; value: bigint }[] {
    const h = this.chain.height + 1;
    return this.chain
      .coinsFor(this.script)
      .filter((c) => !c.coin.coinbase || h - c.coin.height >= COINBASE_MATURITY)
      .map((c) => ({ txid: c.txid, vout: c.vout, value: c.coin.value }))
      .filter((c) => ![...this.chain.mempool.values()].some((e) => e.tx.ins.some((i) => i.index === c.vout && Buffer.from(i.hash).reverse().toString('hex') === c.txid)));
  }

  balance(): bigint {
    return this.spendable().reduce((a, c) => a + c.value, 0n);
  }

  /** Sends `sats` to `address` at 2 sat/vB, mining mature coins first if it has none. Returns the txid. */
  async send(address: string, sats: bigint): Promise<string> {
    let script: Uint8Array;
    try {
      script = baddress.toOutputScript(address, networks.regtest);
    } catch {
      throw new TxRejected(`Invalid address: ${address}`, -5);
    }
    if (sats <= 0n) throw new TxRejected('Invalid amount', -3);
    while (this.balance() < sats + 10_000n) {
      // Fund the faucet: one block to itself, matured by 100 more.
      await this.chain.mine(this.chain.height < COINBASE_MATURITY ? COINBASE_MATURITY + 1 : 1, this.script);
    }
    const coins = this.spendable().sort((a, b) => (a.value > b.value ? -1 : 1));
    const psbt = new Psbt({ network: networks.regtest });
    let total = 0n;
    for (const c of coins) {
      psbt.addInput({ hash: c.txid, index: c.vout, witnessUtxo: { script: this.script, value: c.value } });
      total += c.value;
      if (total >= sats + 10_000n) break;
    }
    const fee = BigInt(2 * (11 + 68 * psbt.inputCount + 31 * 2));
    psbt.addOutput({ script, value: sats });
    if (total - sats - fee > 1000n) psbt.addOutput({ script: this.script, value: total - sats - fee });
    const signer = { publicKey: this.pubkey, sign: (h: Uint8Array) => tinyBackend.sign(h, this.secret) };
    psbt.signAllInputs(signer);
    psbt.finalizeAllInputs();
    return this.chain.acceptToMempool(psbt.extractTransaction().toHex());
  }
}
