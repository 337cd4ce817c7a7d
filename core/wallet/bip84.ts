/**
 * BIP84 native segwit accounts: m/84'/coin'/account' with receive (0) and change (1) chains of P2WPKH
 * addresses. Addresses come from bitcoinjs-lib; keys from @scure/bip32.
 */
import { HDKey } from '@scure/bip32';
import { payments, networks } from 'bitcoinjs-lib';
import type { Network as BtcNetwork } from 'bitcoinjs-lib';
import type { Network } from '../keys/node-key.ts';
import { coinType } from '../keys/node-key.ts';

/** bitcoinjs-lib parameters per network (bech32 prefixes bc / tb / bcrt). */
export function btcNetwork(network: Network): BtcNetwork {
  if (network === 'mainnet') return networks.bitcoin;
  if (network === 'regtest') return networks.regtest;
  return networks.testnet; // testnet, testnet4 and signet share tb1 addresses
}

/** SLIP-132 version bytes for zpub/zprv (mainnet) and vpub/vprv (test networks). */
function versions(network: Network): { public: number; private: number } {
  return network === 'mainnet' ? { public: 0x04b24746, private: 0x04b2430c } : { public: 0x045f1cf6, private: 0x045f18bc };
}

export type Chain = 0 | 1;

export interface DerivedAddress {
  chain: Chain;
  index: number;
  path: string;
  address: string;
  pubkey: Uint8Array;
  /** The output script (0014<hash160>) that pays to this address. */
  script: Uint8Array;
}

export class Bip84Account {
  readonly account: HDKey;
  readonly path: string;

  constructor(seed: Uint8Array, readonly network: Network, readonly index = 0) {
    this.path = `m/84'/${coinType(network)}'/${index}'`;
    this.account = HDKey.fromMasterSeed(seed, versions(network)).derive(this.path);
  }

  /** The account's extended public key (zpub on mainnet, vpub on test networks). */
  get xpub(): string {
    return this.account.publicExtendedKey;
  }

  get xprv(): string {
    return this.account.privateExtendedKey;
  }

  address(chain: Chain, index: number): DerivedAddress {
    const key = this.account.deriveChild(chain).deriveChild(index);
    const pubkey = key.publicKey!;
    const p = payments.p2wpkh({ pubkey, network: btcNetwork(this.network) });
    return { chain, index, path: `${this.path}/${chain}/${index}`, address: p.address!, pubkey, script: p.output! };
  }

  /** The secret key for a derived address; used only for signing inside the main process. */
  privateKey(chain: Chain, index: number): Uint8Array {
    return this.account.deriveChild(chain).deriveChild(index).privateKey!;
  }
}
