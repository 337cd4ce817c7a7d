import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { derivePrivkey, derivePubkey, obscuredCommitment, obscuringFactor, revocationPrivkey, revocationPubkey } from '../../core/tx/keys.ts';
import { perCommitmentSecret, SecretStore, ShachainError } from '../../core/tx/shachain.ts';
import { defaultSecpBackend, secpBackends, useSecpBackend } from '../../core/crypto/index.ts';

interface KeyVectors {
  key_derivation: { vectors: { name: string; inputs: Record<string, string>; expected: Record<string, string> }[] };
  obscured_commitment_number: { opener_payment_basepoint: string; accepter_payment_basepoint: string; obscuring_factor: string; commitment_number: number; obscured_commitment_number: string; commitment_tx_locktime: number; commitment_tx_sequence: number }[];
}
interface SecretVectors {
  generation: { name: string; seed: string; index: number; output: string }[];
  storage: { name: string; operations: { index: number; secret: string; expected: 'OK' | 'ERROR' }[] }[];
}

const h = hex.decode;
const kv = loadVectors<KeyVectors>('bolt03-keys.json');
const sv = loadVectors<SecretVectors>('bolt03-per-commitment-secrets.json');

describe.each(secpBackends.map((b) => [b.name] as const))('BOLT 3 key derivation (%s)', (name) => {
  it('all four Appendix E vectors', () => {
    useSecpBackend(name);
    try {
      const [pub, priv, rpub, rpriv] = kv.key_derivation.vectors;
      expect(hex.encode(derivePubkey(h(pub!.inputs.basepoint!), h(pub!.inputs.per_commitment_point!)))).toBe(pub!.expected.localpubkey);
      expect(hex.encode(derivePrivkey(h(priv!.inputs.basepoint_secret!), h(priv!.inputs.per_commitment_point!)))).toBe(priv!.expected.localprivkey);
      expect(hex.encode(revocationPubkey(h(rpub!.inputs.revocation_basepoint!), h(rpub!.inputs.per_commitment_point!)))).toBe(rpub!.expected.revocationpubkey);
      expect(hex.encode(revocationPrivkey(h(rpriv!.inputs.revocation_basepoint_secret!), h(rpriv!.inputs.per_commitment_secret!)))).toBe(rpriv!.expected.revocationprivkey);
    } finally {
      useSecpBackend(defaultSecpBackend.name);
    }
  });
});

describe('obscured commitment number', () => {
  it.each(kv.obscured_commitment_number.map((v) => [v.commitment_number, v] as const))('commitment %i', (_n, v) => {
    const f = obscuringFactor(h(v.opener_payment_basepoint), h(v.accepter_payment_basepoint));
    expect(f.toString(16).padStart(12, '0')).toBe(v.obscuring_factor);
    const o = obscuredCommitment(BigInt(v.commitment_number), f);
    expect(o.obscured.toString(16).padStart(12, '0')).toBe(v.obscured_commitment_number);
    expect(o.locktime).toBe(v.commitment_tx_locktime);
    expect(o.sequence).toBe(v.commitment_tx_sequence);
  });
});

describe('per-commitment secrets', () => {
  it.each(sv.generation.map((g) => [g.name, g] as const))('generation: %s', (_n, g) => {
    expect(hex.encode(perCommitmentSecret(h(g.seed), BigInt(g.index)))).toBe(g.output);
  });

  it.each(sv.storage.map((s) => [s.name, s] as const))('storage: %s', (_n, s) => {
    const store = new SecretStore();
    for (const op of s.operations) {
      const insert = () => store.insert(BigInt(op.index), h(op.secret));
      if (op.expected === 'OK') expect(insert).not.toThrow();
      else expect(insert).toThrow(ShachainError);
    }
  });

  it('a store derives every earlier secret from the later ones, and survives a JSON round trip', () => {
    const seed = new Uint8Array(32).fill(7);
    const store = new SecretStore();
    const top = (1n << 48n) - 1n;
    for (let i = 0n; i < 100n; i++) store.insert(top - i, perCommitmentSecret(seed, top - i));
    const again = SecretStore.fromJSON(JSON.parse(JSON.stringify(store)));
    for (const i of [0n, 1n, 37n, 99n]) expect(again.lookup(top - i)).toEqual(perCommitmentSecret(seed, top - i));
    expect(again.lookup(top - 100n)).toBeUndefined();
    expect(store.toJSON().length).toBeLessThanOrEqual(49);
  });
});
