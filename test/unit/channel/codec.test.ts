import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import { storedJson } from '../../../core/channel/codec.ts';

/** What the store wrote before storedJson: JSON.stringify with a replacer for bytes and bigints. */
function withReplacer(v: unknown): string | undefined {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Uint8Array) return { $b: hex.encode(x) };
    if (typeof x === 'bigint') return { $n: x.toString() };
    return x;
  });
}

describe('storedJson', () => {
  it('writes what JSON.stringify with the bytes/bigint replacer writes, byte for byte', () => {
    const leaf = fc.oneof(fc.bigInt(), fc.uint8Array({ maxLength: 40 }), fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('arr'), tie('obj')),
      arr: fc.array(tie('node'), { maxLength: 5 }),
      obj: fc.dictionary(fc.string(), tie('node'), { maxKeys: 5 }),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(storedJson(v)).toBe(withReplacer(v) ?? 'null');
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a Uint8Array view to its own bytes', () => {
    const buf = Uint8Array.from([1, 2, 3, 4, 5]);
    expect(storedJson({ a: buf.subarray(1, 3) })).toBe('{"a":{"$b":"0203"}}');
  });
});
