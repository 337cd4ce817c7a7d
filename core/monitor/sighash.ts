/**
 * BIP 143 signature hashes for SIGHASH_ALL with the three transaction-wide hashes (prevouts,
 * sequences, outputs) computed once per transaction. bitcoinjs-lib's hashForWitnessV0 computes them
 * again for every input, which makes signing a justice transaction of n inputs O(n²): with 483 HTLCs
 * that hashing was most of the work.
 */
import type { Transaction } from 'bitcoinjs-lib';
import { script as bscript } from 'bitcoinjs-lib';
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { SIGHASH_ALL } from '../tx/commitment.ts';

const varIntSize = (n: number): number => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);
const hash256 = (b: Uint8Array): Uint8Array => sha256(sha256(b));

class Writer {
  private readonly view: DataView;
  at = 0;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  u32(n: number): void {
    this.view.setUint32(this.at, n >>> 0, true);
    this.at += 4;
  }
  u64(n: bigint): void {
    this.view.setBigUint64(this.at, n, true);
    this.at += 8;
  }
  varInt(n: number): void {
    if (n < 0xfd) this.buf[this.at++] = n;
    else if (n <= 0xffff) {
      this.buf[this.at++] = 0xfd;
      this.view.setUint16(this.at, n, true);
      this.at += 2;
    } else {
      this.buf[this.at++] = 0xfe;
      this.u32(n);
    }
  }
  varSlice(b: Uint8Array): void {
    this.varInt(b.length);
    this.bytes(b);
  }
}

/** SIGHASH_ALL digests and signatures over one final transaction (its inputs and outputs must not change). */
export class SighashAll {
  private readonly hashPrevouts: Uint8Array;
  private readonly hashSequence: Uint8Array;
  private readonly hashOutputs: Uint8Array;

  constructor(private readonly tx: Transaction) {
    const prev = new Writer(new Uint8Array(36 * tx.ins.length));
    const seq = new Writer(new Uint8Array(4 * tx.ins.length));
    for (const i of tx.ins) {
      prev.bytes(i.hash);
      prev.u32(i.index);
      seq.u32(i.sequence);
    }
    const outs = new Writer(new Uint8Array(tx.outs.reduce((a, o) => a + 8 + varIntSize(o.script.length) + o.script.length, 0)));
    for (const o of tx.outs) {
      outs.u64(o.value);
      outs.varSlice(o.script);
    }
    this.hashPrevouts = hash256(prev.buf);
    this.hashSequence = hash256(seq.buf);
    this.hashOutputs = hash256(outs.buf);
  }

  /** BIP 143's digest of input `index`, spending `valueSat` under `scriptCode` (the witness script, for P2WSH). */
  digest(index: number, scriptCode: Uint8Array, valueSat: bigint): Uint8Array {
    const input = this.tx.ins[index]!;
    const w = new Writer(new Uint8Array(4 + 32 + 32 + 36 + varIntSize(scriptCode.length) + scriptCode.length + 8 + 4 + 32 + 4 + 4));
    w.u32(this.tx.version);
    w.bytes(this.hashPrevouts);
    w.bytes(this.hashSequence);
    w.bytes(input.hash);
    w.u32(input.index);
    w.varSlice(scriptCode);
    w.u64(valueSat);
    w.u32(input.sequence);
    w.bytes(this.hashOutputs);
    w.u32(this.tx.locktime);
    w.u32(SIGHASH_ALL);
    return hash256(w.buf);
  }

  /** A DER signature with its SIGHASH_ALL byte, as it goes in a witness. */
  sign(index: number, scriptCode: Uint8Array, valueSat: bigint, secret: Uint8Array): Uint8Array {
    return bscript.signature.encode(secp.sign(this.digest(index, scriptCode, valueSat), secret), SIGHASH_ALL);
  }
}
