/**
 * A two-party channel funded on a playground chain, for the chain monitor's builders: A is us, B the
 * peer. Either side's commitment at any number, signed by both, with the HTLC signatures the other side
 * would have sent in commitment_signed; and a wallet of P2WPKH coins to pay fees with.
 */
import { randomBytes } from 'node:crypto';
import { crypto as bcrypto, payments, networks } from 'bitcoinjs-lib';
import type { Transaction } from 'bitcoinjs-lib';
import { PlaygroundChain, Faucet } from '../../core/chain/playground/index.ts';
import { verifyScripts } from '../../core/chain/playground/rules.ts';
import type { Coin } from '../../core/chain/playground/rules.ts';
import { deriveChannelSecrets, basepointsOf } from '../../core/keys/channel-keys.ts';
import type { ChannelBasepoints, ChannelSecrets } from '../../core/keys/channel-keys.ts';
import { derivePubkey, derivePrivkey, revocationPubkey, obscuringFactor } from '../../core/tx/keys.ts';
import { perCommitmentSecret, FIRST_INDEX } from '../../core/tx/shachain.ts';
import { buildCommitment, buildHtlcTx, signInput, SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY } from '../../core/tx/commitment.ts';
import type { Commitment, CommitmentHtlc, CommitmentKeys } from '../../core/tx/commitment.ts';
import { fundingScript, p2wsh, compareBytes } from '../../core/tx/scripts.ts';
import { secp, sha256 } from '../../core/crypto/index.ts';
import type { WalletCoin, WalletSigner } from '../../core/monitor/index.ts';
import { newKey } from './txbuilder.ts';
import type { Key } from './txbuilder.ts';

export const TO_SELF_DELAY = 12;
export const DUST_LIMIT = 546n;

export interface Side {
  secrets: ChannelSecrets;
  bp: ChannelBasepoints;
  /** Its per-commitment secret for a commitment number. */
  secret(n: bigint): Uint8Array;
  point(n: bigint): Uint8Array;
}

/** An HTLC of the channel, seen from A: `fromA` is offered by A. */
export interface TestHtlc {
  id: bigint;
  fromA: boolean;
  amountMsat: bigint;
  preimage: Uint8Array;
  paymentHash: Uint8Array;
  cltvExpiry: number;
}

export interface SignedCommitment {
  holder: 'A' | 'B';
  number: bigint;
  commitment: Commitment;
  tx: Transaction;
  txid: string;
  keys: CommitmentKeys;
  point: Uint8Array;
  /** For each HTLC output (by vout): the signature of the non-holder over the holder's HTLC transaction. */
  remoteHtlcSigs: Map<number, Uint8Array>;
  feeratePerKw: number;
}

function side(seed: Uint8Array): Side {
  const secrets = deriveChannelSecrets(seed, 'regtest', 0);
  return {
    secrets,
    bp: basepointsOf(secrets),
    secret: (n) => perCommitmentSecret(secrets.commitmentSeed, FIRST_INDEX - n),
    point: (n) => secp.getPublicKey(perCommitmentSecret(secrets.commitmentSeed, FIRST_INDEX - n)),
  };
}

export interface Channel {
  chain: PlaygroundChain;
  faucet: Faucet;
  A: Side;
  B: Side;
  anchors: boolean;
  capacity: bigint;
  funding: { txid: string; vout: number; script: Uint8Array };
  /** Where sweeps go, and the wallet whose coins pay fees. */
  wallet: Key;
  /** Mines to a throw-away script. */
  mine(n: number): Promise<void>;
  /** Accepts into the mempool (all the consensus and relay checks) and mines one block. */
  confirm(tx: Transaction): Promise<string>;
  commitment(holder: 'A' | 'B', number: bigint, htlcs: TestHtlc[], opts?: { feeratePerKw?: number }): SignedCommitment;
  htlcs(spec: { fromA: boolean; amountSat: bigint; cltvDelta: number }[]): TestHtlc[];
  walletCoins(n: number, valueSat: bigint): Promise<WalletCoin[]>;
  signer: WalletSigner;
  /** The coin an output of a known transaction is, for the interpreter. */
  coinOf(tx: Transaction, vout: number): Coin;
  /** Runs the script interpreter over every input of `tx`, given the transactions it spends. */
  interpret(tx: Transaction, parents: Transaction[]): void;
}

export async function openChannel(opts: { anchors: boolean; capacity?: bigint }): Promise<Channel> {
  const chain = await PlaygroundChain.open();
  const faucet = new Faucet(chain);
  const A = side(new Uint8Array(randomBytes(64)));
  const B = side(new Uint8Array(randomBytes(64)));
  const capacity = opts.capacity ?? 10_000_000n;
  const fScript = fundingScript(A.bp.fundingPubkey, B.bp.fundingPubkey);
  const fundingTxid = await faucet.send(payments.p2wsh({ redeem: { output: fScript }, network: networks.regtest }).address!, capacity);
  const fundingVout = chain.mempool.get(fundingTxid)!.tx.outs.findIndex((o) => compareBytes(o.script, p2wsh(fScript)) === 0);
  const burn = newKey().script;
  await chain.mine(1, burn);
  const wallet = newKey();
  const anchors = opts.anchors;

  const commitment = (holder: 'A' | 'B', number: bigint, htlcs: TestHtlc[], o: { feeratePerKw?: number } = {}): SignedCommitment => {
    const [own, other] = holder === 'A' ? [A, B] : [B, A];
    const point = own.point(number);
    const keys: CommitmentKeys = {
      revocationPubkey: revocationPubkey(other.bp.revocationBasepoint, point),
      localDelayedPubkey: derivePubkey(own.bp.delayedPaymentBasepoint, point),
      localHtlcPubkey: derivePubkey(own.bp.htlcBasepoint, point),
      remoteHtlcPubkey: derivePubkey(other.bp.htlcBasepoint, point),
      remotePaymentPubkey: other.bp.paymentBasepoint,
    };
    const inHtlcs = htlcs.reduce((a, h) => a + h.amountMsat, 0n);
    const fromA = htlcs.filter((h) => h.fromA).reduce((a, h) => a + h.amountMsat, 0n);
    // A opened the channel with everything and has paid B 30%; HTLCs come out of their sender's side.
    const aMsat = (capacity * 1000n * 7n) / 10n - fromA;
    const bMsat = capacity * 1000n - aMsat - inHtlcs;
    const feeratePerKw = o.feeratePerKw ?? 1000;
    const c = buildCommitment({
      funding: { txid: fundingTxid, vout: fundingVout, amountSat: capacity, localPubkey: own.bp.fundingPubkey, remotePubkey: other.bp.fundingPubkey },
      commitmentNumber: number,
      obscuringFactor: obscuringFactor(A.bp.paymentBasepoint, B.bp.paymentBasepoint),
      toSelfDelay: TO_SELF_DELAY,
      dustLimitSat: DUST_LIMIT,
      feeratePerKw,
      anchors,
      localIsFunder: holder === 'A',
      toLocalMsat: holder === 'A' ? aMsat : bMsat,
      toRemoteMsat: holder === 'A' ? bMsat : aMsat,
      htlcs: htlcs.map((h): CommitmentHtlc => ({ id: h.id, offered: h.fromA === (holder === 'A'), amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry })),
      keys,
    });
    const tx = c.tx;
    const sa = signInput(tx, 0, fScript, capacity, A.secrets.fundingSecret);
    const sb = signInput(tx, 0, fScript, capacity, B.secrets.fundingSecret);
    const aFirst = compareBytes(A.bp.fundingPubkey, B.bp.fundingPubkey) < 0;
    tx.setWitness(0, [new Uint8Array(0), ...(aFirst ? [sa, sb] : [sb, sa]), fScript]);
    const txid = tx.getId();
    const otherHtlcSecret = derivePrivkey(other.secrets.htlcBasepointSecret, point);
    const remoteHtlcSigs = new Map<number, Uint8Array>();
    c.outputs.forEach((out, vout) => {
      if (out.kind !== 'htlc') return;
      const { tx: htx } = buildHtlcTx({ commitmentTxid: txid, outputIndex: vout, htlc: out.htlc, feeratePerKw, anchors, toSelfDelay: TO_SELF_DELAY, revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey });
      remoteHtlcSigs.set(vout, signInput(htx, 0, out.witnessScript, out.amountSat, otherHtlcSecret, anchors ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL));
    });
    return { holder, number, commitment: c, tx, txid, keys, point, remoteHtlcSigs, feeratePerKw };
  };

  const known = new Map<string, Transaction>();
  const confirm = async (tx: Transaction): Promise<string> => {
    const id = chain.acceptToMempool(tx.toHex());
    known.set(id, tx);
    await chain.mine(1, burn);
    return id;
  };

  const signer: WalletSigner = (tx, index, coin) => {
    const scriptCode = Uint8Array.from([0x76, 0xa9, 0x14, ...bcrypto.hash160(wallet.pubkey), 0x88, 0xac]);
    if (compareBytes(coin.script, wallet.script) !== 0) throw new Error('not a coin of the test wallet');
    return [signInput(tx, index, scriptCode, coin.valueSat, wallet.secret), wallet.pubkey];
  };

  const coinOf = (tx: Transaction, vout: number): Coin => ({ value: tx.outs[vout]!.value, script: tx.outs[vout]!.script, height: 0, coinbase: false });

  return {
    chain,
    faucet,
    A,
    B,
    anchors,
    capacity,
    funding: { txid: fundingTxid, vout: fundingVout, script: fScript },
    wallet,
    mine: async (n) => void (await chain.mine(n, burn)),
    confirm,
    commitment,
    htlcs: (spec) =>
      spec.map((s, i) => {
        const preimage = new Uint8Array(randomBytes(32));
        return { id: BigInt(i), fromA: s.fromA, amountMsat: s.amountSat * 1000n, preimage, paymentHash: sha256(preimage), cltvExpiry: chain.height + s.cltvDelta };
      }),
    walletCoins: async (n, valueSat) => {
      const coins: WalletCoin[] = [];
      for (let i = 0; i < n; i++) {
        const txid = await faucet.send(wallet.address, valueSat);
        const vout = chain.mempool.get(txid)!.tx.outs.findIndex((o) => compareBytes(o.script, wallet.script) === 0);
        coins.push({ outpoint: { txid, vout }, valueSat, script: wallet.script });
      }
      await chain.mine(1, burn);
      return coins;
    },
    signer,
    coinOf,
    interpret: (tx, parents) => {
      const byId = new Map(parents.map((p) => [p.getId(), p]));
      const coins = tx.ins.map((i) => {
        const id = Buffer.from(i.hash).reverse().toString('hex');
        const p = byId.get(id);
        if (!p) throw new Error(`the parent ${id} was not given`);
        return coinOf(p, i.index);
      });
      verifyScripts(tx, coins);
    },
  };
}

export { verifyScripts };
