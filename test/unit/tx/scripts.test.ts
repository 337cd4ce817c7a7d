import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { script as bscript, payments } from 'bitcoinjs-lib';
import { compile, p2wsh } from '../../../core/tx/scripts.ts';

const chunk = fc.oneof(
  fc.integer({ min: 0x61, max: 0xb9 }), // opcodes from OP_NOP up
  fc.uint8Array({ minLength: 0, maxLength: 2 }), // where minimal pushes (OP_0, OP_1..16, OP_1NEGATE) hide
  fc.uint8Array({ minLength: 0, maxLength: 300 }),
);

describe('script compiler', () => {
  it('compiles opcodes and pushes exactly as bitcoinjs-lib does (minimal pushes included)', () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 20 }), (chunks) => {
        expect(compile(chunks)).toEqual(Uint8Array.from(bscript.compile(chunks)));
      }),
      { numRuns: 500 },
    );
  });

  it('p2wsh is OP_0 <sha256 of the witness script>, as bitcoinjs-lib builds it', () => {
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 20 }), (chunks) => {
        const ws = compile(chunks);
        expect(p2wsh(ws)).toEqual(Uint8Array.from(payments.p2wsh({ redeem: { output: ws } }).output!));
      }),
    );
  });
});
