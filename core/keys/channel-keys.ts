/**
 * Per-channel keys (BOLT 3 basepoints and the per-commitment secret seed), all derived from the
 * wallet's seed so the 24 words recover every channel's keys.
 *
 * Path: m/1017'/coin'/family'/0/channel_index, one key family per role.
 */
import { HDKey } from '@scure/bip32';
import { coinType } from './node-key.ts';
import type { Network } from './node-key.ts';
import { secp } from '../crypto/secp256k1.ts';
import { sha256 } from '../crypto/hash.ts';

export const CHANNEL_KEY_FAMILY = {
  funding: 0,
  revocationBase: 1,
  htlcBase: 2,
  paymentBase: 3,
  delayBase: 4,
  commitmentSeed: 5,
} as const;

export interface ChannelSecrets {
  fundingSecret: Uint8Array;
  revocationBasepointSecret: Uint8Array;
  htlcBasepointSecret: Uint8Array;
  paymentBasepointSecret: Uint8Array;
  delayedPaymentBasepointSecret: Uint8Array;
  /** Seed of this channel's per-commitment secrets (core/tx/shachain). */
  commitmentSeed: Uint8Array;
}

export interface ChannelBasepoints {
  fundingPubkey: Uint8Array;
  revocationBasepoint: Uint8Array;
  htlcBasepoint: Uint8Array;
  paymentBasepoint: Uint8Array;
  delayedPaymentBasepoint: Uint8Array;
}

export function deriveChannelSecrets(seed: Uint8Array, network: Network, channelIndex: number): ChannelSecrets {
  if (!Number.isInteger(channelIndex) || channelIndex < 0 || channelIndex >= 2 ** 31) throw new RangeError('channel index out of range');
  const root = HDKey.fromMasterSeed(seed);
  const at = (family: number): Uint8Array => root.derive(`m/1017'/${coinType(network)}'/${family}'/0/${channelIndex}`).privateKey!;
  return {
    fundingSecret: at(CHANNEL_KEY_FAMILY.funding),
    revocationBasepointSecret: at(CHANNEL_KEY_FAMILY.revocationBase),
    htlcBasepointSecret: at(CHANNEL_KEY_FAMILY.htlcBase),
    paymentBasepointSecret: at(CHANNEL_KEY_FAMILY.paymentBase),
    delayedPaymentBasepointSecret: at(CHANNEL_KEY_FAMILY.delayBase),
    // Hashed, so the seed is not itself a key on any path.
    commitmentSeed: sha256(at(CHANNEL_KEY_FAMILY.commitmentSeed)),
  };
}

export function basepointsOf(s: ChannelSecrets): ChannelBasepoints {
  return {
    fundingPubkey: secp.getPublicKey(s.fundingSecret),
    revocationBasepoint: secp.getPublicKey(s.revocationBasepointSecret),
    htlcBasepoint: secp.getPublicKey(s.htlcBasepointSecret),
    paymentBasepoint: secp.getPublicKey(s.paymentBasepointSecret),
    delayedPaymentBasepoint: secp.getPublicKey(s.delayedPaymentBasepointSecret),
  };
}
