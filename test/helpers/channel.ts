/**
 * For tests that run two channel state machines against each other: messages crossing as bytes, and a
 * playground chain with a mature coin to fund the channel from.
 */
import { Psbt, networks } from 'bitcoinjs-lib';
import type { Transaction } from 'bitcoinjs-lib';
import { PlaygroundChain } from '../../core/chain/playground/index.ts';
import type { ChannelAction } from '../../core/channel/types.ts';
import { decodeMessage, encodeMessage } from '../../core/wire/index.ts';
import type { Message } from '../../core/wire/index.ts';
import { newKey, signerFor } from './txbuilder.ts';
import type { Key } from './txbuilder.ts';

/** The messages among `actions`, encoded and decoded again, exactly as a peer would receive them. */
export function wire(actions: ChannelAction[]): Message[] {
  return actions.flatMap((a) => (a.type === 'send' ? [a.msg] : [])).map((m) => {
    const d = decodeMessage(encodeMessage(m));
    if (d.kind !== 'known') throw new Error('unknown message');
    return d.message;
  });
}

/** A playground chain whose first coinbase (to `miner`) has matured. */
export async function chainWithCoin(): Promise<{ chain: PlaygroundChain; miner: Key; coinbase: Transaction }> {
  const chain = await PlaygroundChain.open();
  const miner = newKey();
  await chain.mine(1, miner.script);
  await chain.mine(100, newKey().script);
  return { chain, miner, coinbase: chain.entries[1]!.block.transactions![0]! };
}

/** The funder's wallet, in short: a transaction paying `amountSat` to `script` from the coinbase, change back to the miner. */
export function fundingFrom(miner: Key, coinbase: Transaction, script: Uint8Array, amountSat: bigint): Transaction {
  const psbt = new Psbt({ network: networks.regtest });
  psbt.addInput({ hash: coinbase.getId(), index: 0, witnessUtxo: { script: miner.script, value: coinbase.outs[0]!.value } });
  psbt.addOutput({ script, value: amountSat });
  psbt.addOutput({ script: miner.script, value: coinbase.outs[0]!.value - amountSat - 1000n });
  psbt.signInput(0, signerFor(miner));
  psbt.finalizeAllInputs();
  return psbt.extractTransaction();
}
