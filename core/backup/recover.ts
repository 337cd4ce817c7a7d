/**
 * Recovering a channel from its static backup (core/backup/scb.ts), with the peer's help. Pure.
 *
 * We hold none of the channel's state, so we must never publish a commitment of ours (it may be
 * revoked). Instead we ask the peer to close with its own (BOLT 2, channel_reestablish):
 *   "if next_commitment_number is zero: MUST immediately fail the channel and broadcast any relevant
 *    latest commitment transaction."
 * lnd, Core Lightning and LDK ask for the same close from a channel they lost (LDK with this very
 * message, lnd with commitment number 1 and a wrong secret, which trips the peer's data-loss check).
 * Both commitment numbers are zero and the secret is all zeros (BOLT 2: zeros when no revocation was
 * received), so a peer that still checks the secret sees nothing to take as a claim of a later state.
 *
 * The peer's commitment then pays our balance to our payment basepoint, derived from the seed at the
 * channel's key index: option_static_remotekey pays P2WPKH to it directly, option_anchors a P2WSH that
 * waits one block (BOLT 3 to_remote). `toRemoteOf` finds that output and `sweepRecovered` builds the
 * transaction that takes it into the wallet (core/node/recovery.ts publishes it).
 */
import { Transaction } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import type { ChannelReestablishMessage } from '../wire/index.ts';
import { basepointsOf, deriveChannelSecrets } from '../keys/channel-keys.ts';
import type { Network } from '../keys/node-key.ts';
import { pointAt } from '../channel/establish.ts';
import { p2wpkh, p2wsh, toRemoteAnchorsScript } from '../tx/scripts.ts';
import { sweepToRemote } from '../monitor/remote.ts';
import type { BuildResult } from '../monitor/types.ts';
import type { ChannelBackup } from './scb.ts';

/** The channel_reestablish that asks the peer to force-close a channel we restored from a backup. */
export function recoveryReestablish(c: ChannelBackup, seed: Uint8Array, network: Network): ChannelReestablishMessage {
  const secrets = deriveChannelSecrets(seed, network, c.keyIndex);
  return {
    type: 'channel_reestablish',
    channel_id: hex.decode(c.channelId),
    next_commitment_number: 0n,
    next_revocation_number: 0n,
    your_last_per_commitment_secret: new Uint8Array(32),
    // Any valid point will do (the peer needs none to pay us with a static to_remote): our first one.
    my_current_per_commitment_point: pointAt(secrets, 0n),
  };
}

export interface ToRemoteOutput {
  /** `txid:vout` of our output in the peer's commitment. */
  outpoint: string;
  valueSat: bigint;
  /** The output's script; for anchors also the witness script that spends it (after 1 block). */
  script: string;
  witnessScript?: string;
  /** The key that signs its spend: our payment basepoint at the channel's key index. */
  keyIndex: number;
}

/** The script our balance has in any commitment of the peer's for this channel (BOLT 3 to_remote). */
export function toRemoteScripts(c: ChannelBackup, seed: Uint8Array, network: Network): { script: Uint8Array; witnessScript?: Uint8Array } {
  const payment = basepointsOf(deriveChannelSecrets(seed, network, c.keyIndex)).paymentBasepoint;
  if (c.channelType === 'anchors') {
    const ws = toRemoteAnchorsScript(payment);
    return { script: p2wsh(ws), witnessScript: ws };
  }
  return { script: p2wpkh(payment) };
}

/**
 * Our output in the transaction that spent the channel's funding output, if it pays us one: absent
 * when our balance was below the dust limit, or when the spend is not the peer's commitment.
 */
export function toRemoteOf(c: ChannelBackup, seed: Uint8Array, network: Network, spendingTxHex: string): ToRemoteOutput | undefined {
  const tx = Transaction.fromHex(spendingTxHex);
  const { script, witnessScript } = toRemoteScripts(c, seed, network);
  const want = hex.encode(script);
  const vout = tx.outs.findIndex((o) => hex.encode(o.script) === want);
  if (vout < 0) return undefined;
  return {
    outpoint: `${tx.getId()}:${vout}`,
    valueSat: BigInt(tx.outs[vout]!.value),
    script: want,
    ...(witnessScript ? { witnessScript: hex.encode(witnessScript) } : {}),
    keyIndex: c.keyIndex,
  };
}

/**
 * The transaction that sweeps our output in the peer's commitment into the wallet (`sweepTo`): a plain
 * P2WPKH spend of our payment basepoint, or with anchors the P2WSH spend that waits one block after
 * the commitment confirmed (nSequence 1). The key comes from the seed at the channel's key index.
 */
export function sweepRecovered(c: ChannelBackup, seed: Uint8Array, network: Network, out: ToRemoteOutput, sweepTo: Uint8Array, feeratePerKw: number): BuildResult {
  const [txid, vout] = out.outpoint.split(':') as [string, string];
  return sweepToRemote({
    output: { outpoint: { txid, vout: Number(vout) }, valueSat: out.valueSat, ...(out.witnessScript ? { witnessScript: hex.decode(out.witnessScript) } : {}) },
    anchors: c.channelType === 'anchors',
    paymentSecret: deriveChannelSecrets(seed, network, c.keyIndex).paymentBasepointSecret,
    sweepTo,
    feeratePerKw,
  });
}
