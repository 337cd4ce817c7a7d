/**
 * Answers LDK's FundingGenerationReady events with a real, signed funding transaction spending one
 * coin of a test key, so LDK can open channels on the playground chain.
 */
import * as ldk from 'lightningdevkit';
import { Psbt, networks } from 'bitcoinjs-lib';
import type { LdkNode } from './node.ts';
import { signerFor } from '../../helpers/txbuilder.ts';
import type { Key } from '../../helpers/txbuilder.ts';

export interface FundingCoin {
  key: Key;
  txid: string;
  vout: number;
  value: bigint;
}

/** A signed transaction spending `coin` to the funding script LDK asked for, change back to the coin's key. */
export function fundingTransaction(coin: FundingCoin, e: ldk.Event_FundingGenerationReady): Uint8Array {
  const psbt = new Psbt({ network: networks.regtest });
  psbt.addInput({ hash: coin.txid, index: coin.vout, witnessUtxo: { script: coin.key.script, value: coin.value } });
  psbt.addOutput({ script: e.output_script, value: e.channel_value_satoshis });
  psbt.addOutput({ script: coin.key.script, value: coin.value - e.channel_value_satoshis - 2_000n });
  psbt.signInput(0, signerFor(coin.key));
  psbt.finalizeAllInputs();
  return psbt.extractTransaction().toBuffer();
}

/** Processes LDK's pending events once; returns true when it funded a channel from `coin`. */
export function fundPendingChannel(node: LdkNode, coin: FundingCoin): boolean {
  let funded = false;
  const handler = ldk.EventHandler.new_impl({
    handle_event: (e) => {
      if (e instanceof ldk.Event_FundingGenerationReady) {
        node.channelManager.funding_transaction_generated(e.temporary_channel_id, e.counterparty_node_id, fundingTransaction(coin, e));
        funded = true;
      }
      return ldk.Result_NoneReplayEventZ.constructor_ok();
    },
  });
  node.channelManager.as_EventsProvider().process_pending_events(handler);
  node.processEvents();
  return funded;
}
