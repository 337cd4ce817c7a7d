/** Small byte helpers that every layer needs. Hex codecs come from @scure/base. */
export { hex } from '@scure/base';
export { concatBytes } from '@noble/hashes/utils.js';

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
