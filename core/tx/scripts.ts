/**
 * BOLT 3 output scripts: funding, to_local, to_remote, anchors, offered and received HTLCs, and the
 * HTLC transactions' output. Built with bitcoinjs-lib's script compiler.
 */
import { script as bscript, opcodes as op, crypto as bcrypto, payments } from 'bitcoinjs-lib';

const num = (n: number): Uint8Array | number => (n <= 16 ? (n === 0 ? op.OP_0! : op.OP_1! + n - 1) : bscript.number.encode(n));

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** 2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG, keys in lexicographic order. */
export function fundingScript(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [k1, k2] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  return bscript.compile([op.OP_2!, k1, k2, op.OP_2!, op.OP_CHECKMULTISIG!]);
}

/** Revocable by the other side at once, or ours after to_self_delay blocks. */
export function toLocalScript(revocationPubkey: Uint8Array, toSelfDelay: number, localDelayedPubkey: Uint8Array): Uint8Array {
  return bscript.compile([
    op.OP_IF!, revocationPubkey,
    op.OP_ELSE!, num(toSelfDelay), op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!, localDelayedPubkey,
    op.OP_ENDIF!, op.OP_CHECKSIG!,
  ]);
}

/** option_anchors: to_remote waits one block, so it cannot carry an unconfirmed child (CPFP carve-out). */
export function toRemoteAnchorsScript(remotePubkey: Uint8Array): Uint8Array {
  return bscript.compile([remotePubkey, op.OP_CHECKSIGVERIFY!, op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!]);
}

/** An anchor: spendable by its funding key at once, or by anyone after 16 blocks. */
export function anchorScript(fundingPubkey: Uint8Array): Uint8Array {
  return bscript.compile([fundingPubkey, op.OP_CHECKSIG!, op.OP_IFDUP!, op.OP_NOTIF!, op.OP_16!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_ENDIF!]);
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
  return bscript.compile([
    op.OP_DUP!, op.OP_HASH160!, hash160(k.revocationPubkey), op.OP_EQUAL!,
    op.OP_IF!, op.OP_CHECKSIG!,
    op.OP_ELSE!, k.remoteHtlcPubkey, op.OP_SWAP!, op.OP_SIZE!, bscript.number.encode(32), op.OP_EQUAL!,
    op.OP_NOTIF!, op.OP_DROP!, op.OP_2!, op.OP_SWAP!, k.localHtlcPubkey, op.OP_2!, op.OP_CHECKMULTISIG!,
    op.OP_ELSE!, op.OP_HASH160!, ripemd160(paymentHash), op.OP_EQUALVERIFY!, op.OP_CHECKSIG!,
    op.OP_ENDIF!,
    ...(anchors ? [op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!] : []),
    op.OP_ENDIF!,
  ]);
}

/** An HTLC offered to us, in our commitment. */
export function receivedHtlcScript(k: HtlcScriptKeys, paymentHash: Uint8Array, cltvExpiry: number, anchors: boolean): Uint8Array {
  return bscript.compile([
    op.OP_DUP!, op.OP_HASH160!, hash160(k.revocationPubkey), op.OP_EQUAL!,
    op.OP_IF!, op.OP_CHECKSIG!,
    op.OP_ELSE!, k.remoteHtlcPubkey, op.OP_SWAP!, op.OP_SIZE!, bscript.number.encode(32), op.OP_EQUAL!,
    op.OP_IF!, op.OP_HASH160!, ripemd160(paymentHash), op.OP_EQUALVERIFY!, op.OP_2!, op.OP_SWAP!, k.localHtlcPubkey, op.OP_2!, op.OP_CHECKMULTISIG!,
    op.OP_ELSE!, op.OP_DROP!, bscript.number.encode(cltvExpiry), op.OP_CHECKLOCKTIMEVERIFY!, op.OP_DROP!, op.OP_CHECKSIG!,
    op.OP_ENDIF!,
    ...(anchors ? [op.OP_1!, op.OP_CHECKSEQUENCEVERIFY!, op.OP_DROP!] : []),
    op.OP_ENDIF!,
  ]);
}

export function p2wsh(witnessScript: Uint8Array): Uint8Array {
  return payments.p2wsh({ redeem: { output: witnessScript } }).output!;
}

export function p2wpkh(pubkey: Uint8Array): Uint8Array {
  return payments.p2wpkh({ pubkey }).output!;
}

export { compareBytes };
