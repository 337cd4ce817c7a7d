/**
 * short_channel_id (BOLT 7): block height (3 bytes), transaction index (3 bytes), output index (2 bytes),
 * carried as a u64. People write it `BxTxO`.
 */
import { WireError } from './errors.ts';

export interface ScidParts {
  block: number;
  tx: number;
  output: number;
}

export function scidFromParts({ block, tx, output }: ScidParts): bigint {
  if (block < 0 || block > 0xffffff || tx < 0 || tx > 0xffffff || output < 0 || output > 0xffff) {
    throw new WireError('invalid_value', `short_channel_id part out of range: ${block}x${tx}x${output}`);
  }
  return (BigInt(block) << 40n) | (BigInt(tx) << 16n) | BigInt(output);
}

export function scidToParts(scid: bigint): ScidParts {
  return { block: Number((scid >> 40n) & 0xffffffn), tx: Number((scid >> 16n) & 0xffffffn), output: Number(scid & 0xffffn) };
}

export function scidToString(scid: bigint): string {
  const p = scidToParts(scid);
  return `${p.block}x${p.tx}x${p.output}`;
}

export function scidFromString(s: string): bigint {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(s);
  if (!m) throw new WireError('invalid_value', `"${s}" is not a short channel id (BxTxO)`);
  return scidFromParts({ block: Number(m[1]), tx: Number(m[2]), output: Number(m[3]) });
}
