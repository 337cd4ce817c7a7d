/**
 * The justice kit a watchtower client hands a tower for one revoked commitment of its peer, and its
 * encryption (the scheme of lnd's watchtower `blob` package, with our own kit layout):
 *
 * - hint = SHA256(txid)[0..16]: the tower hashes the txid of every transaction in a block and looks
 *   the result up; a match says "this blob may be for this transaction".
 * - key = SHA256(txid || txid): only a tower that has seen the revoked commitment's txid can open the
 *   blob (the txid is not derivable from the hint), so before a breach the tower learns nothing.
 *   txid here is in internal byte order (the reverse of how it is shown), as it is hashed on chain.
 * - blob = nonce (24) || XChaCha20-Poly1305(key, nonce, kit) (kit bytes + 16-byte tag). The nonce is
 *   random; a key is used for one blob only.
 *
 * Kit version 0 (fixed size, so blobs say nothing about the channel): only what spends the revoked
 * to_local output with the revocation key into the client's wallet, never a key that signs anything
 * else:
 *   sweep script length (1) | sweep script, zero-padded (42) | revocation pubkey (33) |
 *   local delayed pubkey of the cheater (33) | to_self_delay (4, big-endian) | signature (64, compact)
 * The signature is the client's, under the revocation key, SIGHASH_ALL over the justice transaction
 * core/tower/justice.ts builds from the kit and the session's feerate: the tower can add the witness,
 * and change nothing.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { concatBytes, hex } from '../util/bytes.ts';

export const HINT_SIZE = 16;
export const NONCE_SIZE = 24;
export const TAG_SIZE = 16;
export const MAX_SWEEP_SCRIPT = 42;
/** Plaintext of a version 0 kit. */
export const KIT_V0_SIZE = 1 + MAX_SWEEP_SCRIPT + 33 + 33 + 4 + 64;
/** Every blob of a version 0 session is exactly this long: anything else is refused. */
export const BLOB_V0_SIZE = NONCE_SIZE + KIT_V0_SIZE + TAG_SIZE;

export interface JusticeKit {
  /** The client's wallet output script the justice transaction pays (a witness program, at most 42 bytes). */
  sweepScript: Uint8Array;
  revocationPubkey: Uint8Array;
  /** The cheater's delayed payment key in its to_local script. */
  localDelayedPubkey: Uint8Array;
  /** The to_self_delay of that to_local script. */
  csvDelay: number;
  /** 64-byte compact signature (r || s) under the revocation key. */
  toLocalSig: Uint8Array;
}

/** A blob that does not open or does not parse: a tower treats it as not for this transaction. */
export class BlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobError';
  }
}

/** The txid as shown (big-endian hex) in the byte order it is hashed with on chain. */
function txidBytes(txid: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(txid)) throw new BlobError(`${txid} is not a transaction id`);
  return Uint8Array.from(hex.decode(txid)).reverse();
}

/** The 16-byte hint of a commitment txid: what a tower looks for in every block. */
export function breachHint(txid: string): Uint8Array {
  return sha256(txidBytes(txid)).slice(0, HINT_SIZE);
}

/** The key that opens the blob of a commitment txid. Different from the hint's hash, so the hint reveals no key. */
export function breachKey(txid: string): Uint8Array {
  const id = txidBytes(txid);
  return sha256(concatBytes(id, id));
}

const isPubkey = (b: Uint8Array): boolean => b.length === 33 && (b[0] === 2 || b[0] === 3) && secp.isPoint(b);

export function encodeKit(k: JusticeKit): Uint8Array {
  if (k.sweepScript.length === 0 || k.sweepScript.length > MAX_SWEEP_SCRIPT) throw new BlobError(`a sweep script of ${k.sweepScript.length} bytes does not fit a kit (1 to ${MAX_SWEEP_SCRIPT})`);
  if (k.revocationPubkey.length !== 33 || k.localDelayedPubkey.length !== 33) throw new BlobError('kit keys must be 33-byte compressed public keys');
  if (k.toLocalSig.length !== 64) throw new BlobError('the kit signature must be 64 bytes (compact)');
  if (!Number.isInteger(k.csvDelay) || k.csvDelay < 1 || k.csvDelay > 0xffff) throw new BlobError(`to_self_delay ${k.csvDelay} is out of range`);
  const out = new Uint8Array(KIT_V0_SIZE);
  let at = 0;
  out[at++] = k.sweepScript.length;
  out.set(k.sweepScript, at);
  at += MAX_SWEEP_SCRIPT;
  out.set(k.revocationPubkey, at);
  at += 33;
  out.set(k.localDelayedPubkey, at);
  at += 33;
  new DataView(out.buffer).setUint32(at, k.csvDelay, false);
  at += 4;
  out.set(k.toLocalSig, at);
  return out;
}

export function decodeKit(b: Uint8Array): JusticeKit {
  if (b.length !== KIT_V0_SIZE) throw new BlobError(`a version 0 kit is ${KIT_V0_SIZE} bytes, not ${b.length}`);
  const len = b[0]!;
  if (len === 0 || len > MAX_SWEEP_SCRIPT) throw new BlobError(`the kit's sweep script length ${len} is out of range`);
  if (b.subarray(1 + len, 1 + MAX_SWEEP_SCRIPT).some((x) => x !== 0)) throw new BlobError('the kit\'s sweep script padding is not zero');
  let at = 1 + MAX_SWEEP_SCRIPT;
  const revocationPubkey = b.slice(at, (at += 33));
  const localDelayedPubkey = b.slice(at, (at += 33));
  const csvDelay = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, false);
  at += 4;
  const toLocalSig = b.slice(at, at + 64);
  if (!isPubkey(revocationPubkey) || !isPubkey(localDelayedPubkey)) throw new BlobError('a key in the kit is not a valid public key');
  if (csvDelay < 1 || csvDelay > 0xffff) throw new BlobError(`the kit's to_self_delay ${csvDelay} is out of range`);
  return { sweepScript: b.slice(1, 1 + len), revocationPubkey, localDelayedPubkey, csvDelay, toLocalSig };
}

/** Encrypts a kit for the commitment `txid`; `nonce` is 24 random bytes, injected so tests replay. */
export function sealKit(kit: JusticeKit, txid: string, nonce: Uint8Array): Uint8Array {
  if (nonce.length !== NONCE_SIZE) throw new BlobError(`the nonce must be ${NONCE_SIZE} bytes`);
  return concatBytes(nonce, xchacha20poly1305(breachKey(txid), nonce).encrypt(encodeKit(kit)));
}

/** Opens a blob with the txid of a transaction whose hint matched; BlobError when it is not for it. */
export function openKit(blob: Uint8Array, txid: string): JusticeKit {
  if (blob.length !== BLOB_V0_SIZE) throw new BlobError(`a version 0 blob is ${BLOB_V0_SIZE} bytes, not ${blob.length}`);
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(breachKey(txid), blob.subarray(0, NONCE_SIZE)).decrypt(blob.subarray(NONCE_SIZE));
  } catch {
    throw new BlobError('the blob does not open with this transaction\'s key');
  }
  return decodeKit(plain);
}
