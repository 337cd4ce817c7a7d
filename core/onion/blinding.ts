/**
 * BOLT 4 route blinding. A recipient hides the tail of a route behind blinded node ids; each hop's
 * instructions travel as encrypted_recipient_data that only that hop can read. A hop learns its
 * shared secret from its node key and the path key it receives, derives the private key for its
 * blinded node id (to peel an onion addressed to it), reads its data and computes the path key it
 * hands to the next hop.
 *
 *   ss_i  = SHA256(e_i · N_i)                 (ECDH; e_i the path private key, E_i its public key)
 *   B_i   = HMAC256("blinded_node_id", ss_i) · N_i
 *   rho_i = HMAC256("rho", ss_i)              (ChaCha20-Poly1305 key, 12-byte zero nonce, no AAD)
 *   E_i+1 = SHA256(E_i || ss_i) · E_i         (unless the data carries next_path_key_override)
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256, hmacSha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { concatBytes } from '../util/bytes.ts';
import { Writer } from '../wire/index.ts';
import { ONION_WIRE } from './wire.ts';
import type { EncryptedDataTlv } from '../wire/spec/onion_wire.ts';

export type { EncryptedDataTlv };

const ZERO_NONCE = new Uint8Array(12);
const enc = new TextEncoder();
const BLINDED_NODE_ID = enc.encode('blinded_node_id');
const RHO = enc.encode('rho');

export class BlindingError extends Error {
  constructor(
    readonly code: 'invalid_key' | 'decrypt_failed' | 'invalid_data',
    message: string,
  ) {
    super(message);
    this.name = 'BlindingError';
  }
}

/** Encodes an encrypted_data_tlv stream (the plaintext of a hop's encrypted_recipient_data). */
export function encodeEncryptedData(tlvs: EncryptedDataTlv): Uint8Array {
  const w = new Writer();
  ONION_WIRE.writeTlvStream(w, 'encrypted_data_tlv', tlvs as unknown as Record<string, never>);
  return w.finish();
}

/** Decodes an encrypted_data_tlv stream; throws WireError when it is malformed. */
export function decodeEncryptedData(bytes: Uint8Array): EncryptedDataTlv {
  return ONION_WIRE.readTlvStream(bytes, 'encrypted_data_tlv') as unknown as EncryptedDataTlv;
}

/** HMAC256("blinded_node_id", ss): the factor that blinds a node id (and its private key). */
export function blindingFactor(sharedSecret: Uint8Array): Uint8Array {
  return hmacSha256(BLINDED_NODE_ID, sharedSecret);
}

/** HMAC256("rho", ss): the key encrypting a hop's encrypted_recipient_data. */
export function rhoKey(sharedSecret: Uint8Array): Uint8Array {
  return hmacSha256(RHO, sharedSecret);
}

/** B_i = HMAC256("blinded_node_id", ss_i) · N_i */
export function blindNodeId(nodeId: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return secp.pointMultiply(nodeId, blindingFactor(sharedSecret));
}

/** SHA256(E_i || ss_i): the tweak from one path key to the next. */
function pathKeyTweak(pathKey: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return sha256(concatBytes(pathKey, sharedSecret));
}

/** E_i+1 = SHA256(E_i || ss_i) · E_i */
export function nextPathKey(pathKey: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return secp.pointMultiply(pathKey, pathKeyTweak(pathKey, sharedSecret));
}

/** e_i+1 = SHA256(E_i || ss_i) · e_i (the path creator's side). */
export function nextPathPrivkey(pathPrivkey: Uint8Array, sharedSecret: Uint8Array): Uint8Array {
  return secp.privateMultiply(pathPrivkey, pathKeyTweak(secp.getPublicKey(pathPrivkey), sharedSecret));
}

/** ss_i as the hop computes it: SHA256(k_i · E_i). */
export function pathSharedSecret(nodeKey: Uint8Array, pathKey: Uint8Array): Uint8Array {
  if (!secp.isPoint(pathKey)) throw new BlindingError('invalid_key', 'the path key is not a valid point');
  return secp.ecdh(nodeKey, pathKey);
}

/** The private key of the hop's blinded node id: HMAC256("blinded_node_id", ss_i) · k_i. */
export function blindedNodePrivkey(nodeKey: Uint8Array, pathKey: Uint8Array): Uint8Array {
  return secp.privateMultiply(nodeKey, blindingFactor(pathSharedSecret(nodeKey, pathKey)));
}

export function encryptRecipientData(rho: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return chacha20poly1305(rho, ZERO_NONCE).encrypt(plaintext);
}

export function decryptRecipientData(rho: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  try {
    return chacha20poly1305(rho, ZERO_NONCE).decrypt(ciphertext);
  } catch {
    throw new BlindingError('decrypt_failed', 'encrypted_recipient_data does not decrypt (wrong key or tampered)');
  }
}

export interface BlindedHop {
  blindedNodeId: Uint8Array;
  encryptedData: Uint8Array;
}

/** What the path creator computed for one hop (useful to check against, never published). */
export interface BlindedHopSecrets {
  pathPrivkey: Uint8Array;
  pathKey: Uint8Array;
  sharedSecret: Uint8Array;
  rho: Uint8Array;
}

export interface BlindedPath {
  firstNodeId: Uint8Array;
  firstPathKey: Uint8Array;
  hops: BlindedHop[];
  secrets: BlindedHopSecrets[];
  /** The path private key that would follow the last hop. */
  nextPathPrivkey: Uint8Array;
}

/**
 * Creates a blinded path from a session (first path) private key through `hops`, each with its real
 * node id and the plaintext encrypted_data_tlv stream for it (already encoded, padding included).
 */
export function createBlindedPath(sessionKey: Uint8Array, hops: readonly { nodeId: Uint8Array; data: Uint8Array }[]): BlindedPath {
  if (hops.length === 0) throw new BlindingError('invalid_data', 'a blinded path needs at least one hop');
  let e = sessionKey;
  const out: BlindedHop[] = [];
  const secrets: BlindedHopSecrets[] = [];
  for (const hop of hops) {
    const pathKey = secp.getPublicKey(e);
    const ss = secp.ecdh(e, hop.nodeId);
    const rho = rhoKey(ss);
    out.push({ blindedNodeId: blindNodeId(hop.nodeId, ss), encryptedData: encryptRecipientData(rho, hop.data) });
    secrets.push({ pathPrivkey: e, pathKey, sharedSecret: ss, rho });
    e = secp.privateMultiply(e, pathKeyTweak(pathKey, ss));
  }
  return { firstNodeId: hops[0]!.nodeId, firstPathKey: secrets[0]!.pathKey, hops: out, secrets, nextPathPrivkey: e };
}

export interface UnblindedHop {
  sharedSecret: Uint8Array;
  /** Private key for this hop's blinded node id (peels onions addressed to it). */
  blindedPrivkey: Uint8Array;
  /** The decrypted encrypted_data_tlv stream, raw and decoded. */
  data: Uint8Array;
  tlvs: EncryptedDataTlv;
  /** The path key for the next hop: next_path_key_override when given, else derived. */
  nextPathKey: Uint8Array;
}

/** A hop's side: decrypt its encrypted_recipient_data with its node key and the path key it received. */
export function unblindHop(nodeKey: Uint8Array, pathKey: Uint8Array, encryptedData: Uint8Array): UnblindedHop {
  const ss = pathSharedSecret(nodeKey, pathKey);
  const data = decryptRecipientData(rhoKey(ss), encryptedData);
  let tlvs: EncryptedDataTlv;
  try {
    tlvs = decodeEncryptedData(data);
  } catch (e) {
    throw new BlindingError('invalid_data', `encrypted_recipient_data is not a valid TLV stream: ${(e as Error).message}`);
  }
  const override = tlvs.next_path_key_override?.path_key;
  if (override && !secp.isPoint(override)) throw new BlindingError('invalid_data', 'next_path_key_override is not a valid point');
  return {
    sharedSecret: ss,
    blindedPrivkey: secp.privateMultiply(nodeKey, blindingFactor(ss)),
    data,
    tlvs,
    nextPathKey: override ?? nextPathKey(pathKey, ss),
  };
}
