/**
 * Channel states as JSON for the store: bytes as `{ "$b": hex }`, bigints as `{ "$n": decimal }`.
 * Round-trips every value a ChannelState holds.
 */
import { hex } from '@scure/base';
import type { ChannelState } from './types.ts';

export function toStored(s: ChannelState): unknown {
  return JSON.parse(
    JSON.stringify(s, (_k, v: unknown) => {
      if (v instanceof Uint8Array) return { $b: hex.encode(v) };
      if (typeof v === 'bigint') return { $n: v.toString() };
      return v;
    }),
  );
}

export function fromStored(o: unknown): ChannelState {
  return JSON.parse(JSON.stringify(o), (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const r = v as Record<string, unknown>;
      if (typeof r.$b === 'string' && Object.keys(r).length === 1) return hex.decode(r.$b);
      if (typeof r.$n === 'string' && Object.keys(r).length === 1) return BigInt(r.$n);
    }
    return v;
  }) as ChannelState;
}
