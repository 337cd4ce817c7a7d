/**
 * BOLT 3 output scripts: funding, to_local, to_remote, anchors, offered and received HTLCs, and the
 * HTLC transactions' output. Compiled here (`compile`): these scripts are built for every commitment
 * signed or checked, and bitcoinjs-lib's compiler and payment builders validate every piece again
 * on each call, which made them most of a commitment's building time and garbage.
 */
import { opcodes as op, crypto as bcrypto, payments } from 'bitcoinjs-lib';
import { sha256 } from '../crypto/hash.ts';

/** A script number (minimal little-endian, sign bit in the last byte), for non-negative safe integers. */
function scriptNum(n: number): Uint8Array {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.push(v % 256);
  // The top bit is the sign: a positive number that sets it takes one more byte.
  if (out.length && out[out.length - 1]! & 0x80) out.push(0);
  return Uint8Array.from(out);
}

const num = (n: number): Uint8Array | number => (n <= 16 ? (n === 0 ? op.OP_0! : op.OP_1! + n - 1) : scriptNum(n));

/**
 * Opcodes and data pushes into a script, each push the minimal one (BIP 62, as bitcoinjs-lib's
 * `script.compile` does): a 1-byte 1..16 or 0x81 becomes its opcode, the rest a direct push or
 * OP_PUSHDATA1/2 by length.
 */
export function compile(chunks: readonly (number | Uint8Array)[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += typeof c === 'number' || minimalOp(c) !== undefined ? 1 : c.length + (c.length < op.OP_PUSHDATA1! ? 1 : c.length <= 0xff ? 2 : 3);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    const asOp = typeof c === 'number' ? c : minimalOp(c);
    if (asOp !== undefined) {
      out[at++] = asOp;
      continue;
    }
    const data = c as Uint8Array;
    if (data.length < op.OP_PUSHDATA1!) out[at++] = data.length;
    else if (data.length <= 0xff) {
      out[at++] = op.OP_PUSHDATA1!;
      out[at++] = data.length;
    } else if (data.length <= 0xffff) {
      out[at++] = op.OP_PUSHDATA2!;
      out[at++] = data.length & 0xff;
      out[at++] = data.length >> 8;
    } else throw new RangeError(`a script push of ${data.length} bytes is too large`);
    out.set(data, at);
    at += data.length;
  }
  return out;
}

function minimalOp(data: Uint8Array): number | undefined {
  if (data.length === 0) return op.OP_0!;
  if (data.length !== 1) return undefined;
  if (data[0]! >= 1 && data[0]! <= 16) return op.OP_RESERVED! + data[0]!;
  if (data[0] === 0x81) return op.OP_1NEGATE!;
  return undefined;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** 2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG, keys in lexicographic order. */
export function fundingScript(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [k1, k2] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  return compile([op.OP_2!, k1, k2, op.OP_2!, op.OP_CHECKMULTISIG!]);
}

/** Revocable by the other side at once, or ours after to_self_delay blocks. */
export function toLocalScript(revocationPubkey: Uint8Array, toSelfDelay: number, localDelayedPubkey: Uint8Array): Uint8Array {
  return compile([
    op.OP_IF!, revocationPubkey,
    op.OP_ELSE!, num(toSelfDelay), op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!, localDelayedPubkey,
    op.OP_ENDIF!, op.OP_CHECKSIG!,
  ]);
}

/** option_anchors: to_remote waits one block, so it cannot carry an unconfirmed child (CPFP carve-out). */
export function toRemoteAnchorsScript(remotePubkey: Uint8Array): Uint8Array {
  return compile([remotePubkey, op.OP_CHECKSIGVERIFY!, op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!]);
}

/** An anchor: spendable by its funding key at once, or by anyone after 16 blocks. */
export function anchorScript(fundingPubkey: Uint8Array): Uint8Array {
  return compile([fundingPubkey, op.OP_CHECKSIG!, op.OP_IFDUP!, op.OP_NOTIF!, op.OP_16!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_ENDIF!]);
}

const hash160 = (b: Uint8Array): Uint8Array => bcrypto.hash160(b);
const ripemd160 = (b: Uint8Array): Uint8Array => bcrypto.ripemd160(b);

export interface HtlcScriptKeys {
  revocationPubkey: Uint8Array;
  localHtlcPubkey: Uint8Array;
  remoteHtlcPubkey: Uint8Array;
}

/** An HTLC we offered, in our commitment. */
export function offeredHtlcScript(k: HtlcScriptKeys, paymentHash: Uint8Array, anchors: boolean): Uint8Array {
  return compile([
    op.OP_DUP!, op.OP_HASH160!, hash160(k.revocationPubkey), op.OP_EQUAL!,
    op.OP_IF!, op.OP_CHECKSIG!,
    op.OP_ELSE!, k.remoteHtlcPubkey, op.OP_SWAP!, op.OP_SIZE!, scriptNum(32), op.OP_EQUAL!,
    op.OP_NOTIF!, op.OP_DROP!, op.OP_2!, op.OP_SWAP!, k.localHtlcPubkey, op.OP_2!, op.OP_CHECKMULTISIG!,
    op.OP_ELSE!, op.OP_HASH160!, ripemd160(paymentHash), op.OP_EQUALVERIFY!, op.OP_CHECKSIG!,
    op.OP_ENDIF!,
    ...(anchors ? [op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!] : []),
    op.OP_ENDIF!,
  ]);
}

/** An HTLC offered to us, in our commitment. */
export function receivedHtlcScript(k: HtlcScriptKeys, paymentHash: Uint8Array, cltvExpiry: number, anchors: boolean): Uint8Array {
  return compile([
    op.OP_DUP!, op.OP_HASH160!, hash160(k.revocationPubkey), op.OP_EQUAL!,
    op.OP_IF!, op.OP_CHECKSIG!,
    op.OP_ELSE!, k.remoteHtlcPubkey, op.OP_SWAP!, op.OP_SIZE!, scriptNum(32), op.OP_EQUAL!,
    op.OP_IF!, op.OP_HASH160!, ripemd160(paymentHash), op.OP_EQUALVERIFY!, op.OP_2!, op.OP_SWAP!, k.localHtlcPubkey, op.OP_2!, op.OP_CHECKMULTISIG!,
    op.OP_ELSE!, op.OP_DROP!, scriptNum(cltvExpiry), op.OP_CHECKLOCKTIMEVERIFY!, op.OP_DROP!, op.OP_CHECKSIG!,
    op.OP_ENDIF!,
    ...(anchors ? [op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!] : []),
    op.OP_ENDIF!,
  ]);
}

/** OP_0 <sha256(witnessScript)>. */
export function p2wsh(witnessScript: Uint8Array): Uint8Array {
  const out = new Uint8Array(34);
  out[0] = op.OP_0!;
  out[1] = 32;
  out.set(sha256(witnessScript), 2);
  return out;
}

export function p2wpkh(pubkey: Uint8Array): Uint8Array {
  return payments.p2wpkh({ pubkey }).output!;
}

export { compareBytes };
