/**
 * Key derivation from the node's seed. Every key the node uses descends from one seed through BIP32,
 * so that the wallet (BIP39 words) can later become the single backup of the whole node.
 *
 * Paths follow the key-family layout lnd made familiar: m/1017'/coin'/family'/0/index,
 * with family 6 for the node identity key.
 */
import { HDKey } from '@scure/bip32';

export type Network = 'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

export const KEY_FAMILY = { nodeKey: 6 } as const;

/** BIP44 coin type: 0 for mainnet, 1 for every test network. */
export function coinType(network: Network): number {
  return network === 'mainnet' ? 0 : 1;
}

export interface NodeKeys {
  /** 32-byte secret key of the node identity. Never leaves the main process. */
  readonly nodeSecret: Uint8Array;
  /** 33-byte compressed public key: the node id. */
  readonly nodeId: Uint8Array;
}

export function deriveNodeKeys(seed: Uint8Array, network: Network): NodeKeys {
  if (seed.length < 16 || seed.length > 64) throw new Error('the node seed must be 16 to 64 bytes');
  const root = HDKey.fromMasterSeed(seed);
  const key = root.derive(`m/1017'/${coinType(network)}'/${KEY_FAMILY.nodeKey}'/0/0`);
  if (!key.privateKey || !key.publicKey) throw new Error('node key derivation produced no key');
  return { nodeSecret: key.privateKey, nodeId: key.publicKey };
}
