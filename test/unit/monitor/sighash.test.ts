/** The monitor's BIP 143 SIGHASH_ALL digests, with hashes computed once per transaction, equal bitcoinjs-lib's. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Transaction } from 'bitcoinjs-lib';
import { SighashAll } from '../../../core/monitor/sighash.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('SighashAll', () => {
  it('gives the digest bitcoinjs-lib computes, for any transaction and input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ hash: bytes(32, 32), index: fc.nat(0xffffffff), sequence: fc.nat(0xffffffff) }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.record({ script: bytes(0, 300), value: fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }) }), { minLength: 1, maxLength: 4 }),
        fc.nat(0xffffffff),
        fc.integer({ min: 1, max: 3 }),
        bytes(0, 400),
        fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }),
        (ins, outs, locktime, version, scriptCode, value) => {
          const tx = new Transaction();
          tx.version = version;
          tx.locktime = locktime;
          for (const i of ins) tx.addInput(i.hash, i.index, i.sequence);
          for (const o of outs) tx.addOutput(o.script, o.value);
          const s = new SighashAll(tx);
          for (let i = 0; i < ins.length; i++) expect(s.digest(i, scriptCode, value)).toEqual(tx.hashForWitnessV0(i, scriptCode, value, Transaction.SIGHASH_ALL));
        },
      ),
      { numRuns: 200 },
    );
  });
});
