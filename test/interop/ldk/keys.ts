/**
 * Node id checks done in JS before anything reaches LDK: the bindings abort the whole WebAssembly
 * instance (not just the call) when handed a byte string that is not a valid curve point.
 */
import { Point } from '@noble/secp256k1';
import { hex } from '@scure/base';

/** Parses a 33-byte compressed secp256k1 public key given as hex; throws a plain Error otherwise. */
export function parseNodeId(pubkeyHex: string): Uint8Array {
  if (!/^(02|03)[0-9a-fA-F]{64}$/.test(pubkeyHex)) {
    throw new Error(`not a compressed public key: ${JSON.stringify(pubkeyHex)}`);
  }
  const bytes = hex.decode(pubkeyHex.toLowerCase());
  try {
    Point.fromBytes(bytes).assertValidity();
  } catch {
    throw new Error(`not a point on secp256k1: ${pubkeyHex}`);
  }
  return bytes;
}

export function nodeIdHex(bytes: Uint8Array): string {
  return hex.encode(bytes);
}
