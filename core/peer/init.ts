/**
 * The BOLT 1 `init` exchange as pure functions: what we send, and whether what the peer sent lets
 * the connection continue.
 */
import { checkRemoteInit, FeatureSet } from '../wire/index.ts';
import type { InitMessage } from '../wire/index.ts';
import { bytesEqual } from '../util/bytes.ts';

export interface InitPolicy {
  /** The features we announce in `init`. */
  features: FeatureSet;
  /** The chain we are on (BOLT 0 chain_hash). */
  chainHash: Uint8Array;
}

export function buildInit(policy: InitPolicy, remoteAddr?: Uint8Array): InitMessage {
  return {
    type: 'init',
    globalfeatures: new Uint8Array(0),
    features: policy.features.toBytes(),
    tlvs: {
      networks: { chains: [policy.chainHash] },
      ...(remoteAddr ? { remote_addr: { data: remoteAddr } } : {}),
    },
  };
}

export type InitVerdict = { ok: true; features: FeatureSet; remoteAddr?: Uint8Array } | { ok: false; reason: string };

export function evaluateInit(policy: InitPolicy, init: InitMessage): InitVerdict {
  // BOLT 1: the two feature fields are OR-ed together before interpretation.
  const remote = FeatureSet.fromBytes(init.globalfeatures).or(FeatureSet.fromBytes(init.features));
  const check = checkRemoteInit(policy.features, remote);
  if (!check.ok) return { ok: false, reason: check.reason };
  const chains = init.tlvs?.networks?.chains;
  // BOLT 1: a peer that lists networks and none of them is ours has nothing to offer us.
  if (chains && !chains.some((c) => bytesEqual(c, policy.chainHash))) {
    return { ok: false, reason: 'peer is on a different chain (none of its init networks is ours)' };
  }
  const remoteAddr = init.tlvs?.remote_addr?.data;
  return remoteAddr ? { ok: true, features: remote, remoteAddr } : { ok: true, features: remote };
}
