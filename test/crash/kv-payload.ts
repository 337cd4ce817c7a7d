/** What the embedded store's crash writer writes for counter `c`, shared with the test that checks it. */
import { kvIndexKey } from '../../core/store/kv/types.ts';
import type { KvOp } from '../../core/store/kv/types.ts';

const enc = new TextEncoder();

export const KV_CHANNELS = 16;

/** The channel record write `c` leaves: its size changes with c, from 0 to about 3 kB. */
export function kvChannelValue(c: number): string {
  return `${c}:${'y'.repeat((c * 7919) % 3000)}`;
}

export function kvCrashOps(c: number): KvOp[] {
  return [
    { type: 'put', ns: 'log', key: kvIndexKey(c), value: enc.encode(String(c)) },
    { type: 'put', ns: 'chan', key: `ch${c % KV_CHANNELS}`, value: enc.encode(kvChannelValue(c)) },
    { type: 'put', ns: 'meta', key: 'last', value: enc.encode(String(c)) },
  ];
}
