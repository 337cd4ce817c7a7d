/**
 * BOLT 3 key derivation: per-commitment keys from basepoints, revocation keys, and the obscured
 * commitment number. Pure functions over the secp256k1 backend in core/crypto.
 */
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { concatBytes } from '../util/bytes.ts';


/** pubkey = basepoint + SHA256(per_commitment_point || basepoint)·G (BOLT 3, localpubkey etc.) */
export function derivePubkey(basepoint: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  return secp.pointAddScalar(basepoint, sha256(concatBytes(perCommitmentPoint, basepoint)));
}

/** privkey = basepoint_secret + SHA256(per_commitment_point || basepoint) */
export function derivePrivkey(basepointSecret: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  const basepoint = secp.getPublicKey(basepointSecret);
  return secp.privateAdd(basepointSecret, sha256(concatBytes(perCommitmentPoint, basepoint)));
}

/**
 * revocationpubkey = revocation_basepoint·SHA256(revocation_basepoint || per_commitment_point)
 *                  + per_commitment_point·SHA256(per_commitment_point || revocation_basepoint)
 */
export function revocationPubkey(revocationBasepoint: Uint8Array, perCommitmentPoint: Uint8Array): Uint8Array {
  const a = secp.pointMultiply(revocationBasepoint, sha256(concatBytes(revocationBasepoint, perCommitmentPoint)));
  const b = secp.pointMultiply(perCommitmentPoint, sha256(concatBytes(perCommitmentPoint, revocationBasepoint)));
  return secp.pointAdd(a, b);
}

/** The matching secret, which only the holder of both the basepoint secret and the revealed per-commitment secret can compute. */
export function revocationPrivkey(revocationBasepointSecret: Uint8Array, perCommitmentSecret: Uint8Array): Uint8Array {
  const revocationBasepoint = secp.getPublicKey(revocationBasepointSecret);
  const perCommitmentPoint = secp.getPublicKey(perCommitmentSecret);
  const a = secp.privateMultiply(revocationBasepointSecret, sha256(concatBytes(revocationBasepoint, perCommitmentPoint)));
  const b = secp.privateMultiply(perCommitmentSecret, sha256(concatBytes(perCommitmentPoint, revocationBasepoint)));
  return secp.privateAdd(a, b);
}

const MASK48 = (1n << 48n) - 1n;

/** The lower 48 bits of SHA256(opener payment_basepoint || accepter payment_basepoint). */
export function obscuringFactor(openerPaymentBasepoint: Uint8Array, accepterPaymentBasepoint: Uint8Array): bigint {
  const h = sha256(concatBytes(openerPaymentBasepoint, accepterPaymentBasepoint));
  let v = 0n;
  for (const b of h.subarray(26)) v = (v << 8n) | BigInt(b);
  return v & MASK48;
}

/** The commitment transaction's locktime and input sequence that carry the obscured commitment number. */
export function obscuredCommitment(commitmentNumber: bigint, factor: bigint): { obscured: bigint; locktime: number; sequence: number } {
  const obscured = (commitmentNumber ^ factor) & MASK48;
  return {
    obscured,
    // Upper 8 bits 0x20 and lower 24 bits of the number in locktime; 0x80 and upper 24 bits in sequence.
    locktime: Number((0x20n << 24n) | (obscured & 0xffffffn)),
    sequence: Number((0x80n << 24n) | (obscured >> 24n)),
  };
}
