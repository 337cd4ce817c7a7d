/**
 * Builds and signs regtest transactions for tests: P2WPKH spends and P2WSH spends of any script.
 */
import { Psbt, payments, networks, script as bscript, opcodes } from 'bitcoinjs-lib';
import { randomBytes } from 'node:crypto';
import { tinyBackend } from '../../core/crypto/secp256k1.ts';

export interface Key {
  secret: Uint8Array;
  pubkey: Uint8Array;
  /** P2WPKH output script and address. */
  script: Uint8Array;
  address: string;
}

export function newKey(): Key {
  const secret = new Uint8Array(randomBytes(32));
  const pubkey = tinyBackend.getPublicKey(secret);
  const p = payments.p2wpkh({ pubkey, network: networks.regtest });
  return { secret, pubkey, script: p.output!, address: p.address! };
}

export const signerFor = (k: Key) => ({ publicKey: k.pubkey, sign: (h: Uint8Array) => tinyBackend.sign(h, k.secret) });

export interface Prev {
  txid: string;
  vout: number;
  value: bigint;
}

/** Spends a P2WPKH coin of `key` to `outScript`, paying `fee`. */
export function spendP2wpkh(key: Key, prev: Prev, outScript: Uint8Array, fee = 500n, opts: { sequence?: number; locktime?: number; outValue?: bigint } = {}): string {
  const psbt = new Psbt({ network: networks.regtest });
  if (opts.locktime !== undefined) psbt.setLocktime(opts.locktime);
  psbt.addInput({ hash: prev.txid, index: prev.vout, witnessUtxo: { script: key.script, value: prev.value }, ...(opts.sequence !== undefined ? { sequence: opts.sequence } : {}) });
  psbt.addOutput({ script: outScript, value: opts.outValue ?? prev.value - fee });
  psbt.signInput(0, signerFor(key));
  psbt.finalizeAllInputs();
  return psbt.extractTransaction(true).toHex();
}

export function p2wsh(witnessScript: Uint8Array): { output: Uint8Array; address: string } {
  const p = payments.p2wsh({ redeem: { output: witnessScript }, network: networks.regtest });
  return { output: p.output!, address: p.address! };
}

/**
 * Spends a P2WSH coin. `witness(sigs)` builds the stack before the script from the signatures made
 * by `signers` (SIGHASH_ALL), in order.
 */
export function spendP2wsh(witnessScript: Uint8Array, prev: Prev, outScript: Uint8Array, signers: Key[], witness: (sigs: Uint8Array[]) => Uint8Array[], opts: { sequence?: number; locktime?: number; fee?: bigint } = {}): string {
  const psbt = new Psbt({ network: networks.regtest });
  psbt.setVersion(2);
  if (opts.locktime !== undefined) psbt.setLocktime(opts.locktime);
  psbt.addInput({
    hash: prev.txid,
    index: prev.vout,
    witnessUtxo: { script: p2wsh(witnessScript).output, value: prev.value },
    witnessScript,
    ...(opts.sequence !== undefined ? { sequence: opts.sequence } : {}),
  });
  psbt.addOutput({ script: outScript, value: prev.value - (opts.fee ?? 1000n) });
  for (const s of signers) psbt.signInput(0, signerFor(s));
  const sigs = signers.map((s) => psbt.data.inputs[0]!.partialSig!.find((p) => Buffer.from(p.pubkey).equals(Buffer.from(s.pubkey)))!.signature);
  psbt.finalizeInput(0, () => ({ finalScriptSig: undefined, finalScriptWitness: witnessStack([...witness(sigs), witnessScript]) }));
  return psbt.extractTransaction(true).toHex();
}

function witnessStack(items: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  const varint = (n: number) => (n < 0xfd ? [n] : [0xfd, n & 0xff, n >> 8]);
  parts.push(...varint(items.length));
  for (const it of items) parts.push(...varint(it.length), ...it);
  return Uint8Array.from(parts);
}

export { bscript, opcodes };
