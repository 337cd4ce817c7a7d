/**
 * The writes of the PostgreSQL crash test, shared by the writer process and the checks: write `i`
 * puts three records of sizes and bytes that depend on `i`, and moves `burst-head/last` to `i`.
 */
import { kvIndexKey } from '../../../core/store/kv/types.ts';
import type { KvOp } from '../../../core/store/kv/types.ts';

export const PARTS = ['a', 'b', 'c'] as const;

export function burstValue(i: number, part: string): Uint8Array {
  const size = 16 + ((i * 7919 + part.charCodeAt(0) * 131) % 4000);
  return Uint8Array.from({ length: size }, (_, j) => (i + j * 31 + part.charCodeAt(0)) & 0xff);
}

export function burstOps(i: number): KvOp[] {
  return [
    ...PARTS.map((p): KvOp => ({ type: 'put', ns: 'burst', key: `${kvIndexKey(i)}-${p}`, value: burstValue(i, p) })),
    { type: 'put', ns: 'burst-head', key: 'last', value: new TextEncoder().encode(String(i)) },
  ];
}
