/**
 * Channel states as JSON for the store: bytes as `{ "$b": hex }`, bigints as `{ "$n": decimal }`.
 * Round-trips every value a ChannelState holds except its secrets: those never reach the disk; they
 * are derived again from the wallet's seed (core/keys/channel-keys.ts) and handed back on reading.
 */
import { hex } from '@scure/base';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import type { ChannelState } from './types.ts';

export function toStored(s: ChannelState): unknown {
  const { secrets: _secrets, ...rest } = s;
  return JSON.parse(
    JSON.stringify(rest, (_k, v: unknown) => {
      if (v instanceof Uint8Array) return { $b: hex.encode(v) };
      if (typeof v === 'bigint') return { $n: v.toString() };
      return v;
    }),
  );
}

export function fromStored(o: unknown, secrets: ChannelSecrets): ChannelState {
  const state = JSON.parse(JSON.stringify(o), (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const r = v as Record<string, unknown>;
      if (typeof r.$b === 'string' && Object.keys(r).length === 1) return hex.decode(r.$b);
      if (typeof r.$n === 'string' && Object.keys(r).length === 1) return BigInt(r.$n);
    }
    return v;
  }) as Omit<ChannelState, 'secrets'>;
  return { ...state, secrets };
}
