/**
 * BOLT 0 chain_hash values: the genesis block hash in internal byte order (the reverse of how
 * bitcoind prints it).
 */
import { hex } from '@scure/base';

const displayed = {
  mainnet: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  testnet4: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
} as const;

export type ChainName = keyof typeof displayed;

export const CHAIN_HASHES: Readonly<Record<ChainName, Uint8Array>> = Object.fromEntries(
  Object.entries(displayed).map(([k, v]) => [k, hex.decode(v).reverse()]),
) as Record<ChainName, Uint8Array>;

/** Which chain a chain_hash names, if any we know. */
export function chainName(hash: Uint8Array): ChainName | undefined {
  const h = hex.encode(hash);
  return (Object.keys(CHAIN_HASHES) as ChainName[]).find((k) => hex.encode(CHAIN_HASHES[k]) === h);
}
