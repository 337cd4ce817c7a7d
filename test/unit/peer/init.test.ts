import { describe, expect, it } from 'vitest';
import { buildInit, evaluateInit } from '../../../core/peer/init.ts';
import { pongFor, makePing, PONG_NOT_WANTED } from '../../../core/peer/ping.ts';
import { CHAIN_HASHES, FeatureSet } from '../../../core/wire/index.ts';
import { ourInitFeatures } from '../../../core/node/features.ts';

const policy = { features: ourInitFeatures(), chainHash: CHAIN_HASHES.regtest };

describe('init rules', () => {
  it('our init announces our features and our chain', () => {
    const init = buildInit(policy, Uint8Array.of(1, 127, 0, 0, 1, 0, 1));
    expect(FeatureSet.fromBytes(init.features).bits()).toEqual([0, 8, 12, 14, 23, 43, 45]);
    expect(init.tlvs?.networks?.chains).toEqual([CHAIN_HASHES.regtest]);
    expect(init.tlvs?.remote_addr?.data).toEqual(Uint8Array.of(1, 127, 0, 0, 1, 0, 1));
  });

  it('accepts a compatible peer; globalfeatures are OR-ed in', () => {
    const v = evaluateInit(policy, { type: 'init', globalfeatures: FeatureSet.fromBits([13]).toBytes(), features: FeatureSet.fromBits([9, 15]).toBytes() });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.features.bits()).toEqual([9, 13, 15]);
  });

  it('a peer without networks is accepted; one with only other chains is not', () => {
    const base = { type: 'init' as const, globalfeatures: new Uint8Array(0), features: new Uint8Array(0) };
    expect(evaluateInit(policy, { ...base, tlvs: {} }).ok).toBe(true);
    expect(evaluateInit(policy, { ...base, tlvs: { networks: { chains: [CHAIN_HASHES.mainnet, CHAIN_HASHES.regtest] } } }).ok).toBe(true);
    expect(evaluateInit(policy, { ...base, tlvs: { networks: { chains: [CHAIN_HASHES.testnet] } } })).toEqual({ ok: false, reason: 'peer is on a different chain (none of its init networks is ours)' });
  });

  it('refuses unknown required bits and broken dependencies', () => {
    const f = (bits: number[]) => ({ type: 'init' as const, globalfeatures: new Uint8Array(0), features: FeatureSet.fromBits(bits).toBytes() });
    expect(evaluateInit(policy, f([222]))).toMatchObject({ ok: false, reason: expect.stringMatching(/bit 222/) });
    expect(evaluateInit(policy, f([17]))).toMatchObject({ ok: false, reason: expect.stringMatching(/basic_mpp without its dependency payment_secret/) });
  });
});

describe('ping rules', () => {
  it('answers with the requested number of bytes, and not at all from 65532 up', () => {
    expect(pongFor({ type: 'ping', num_pong_bytes: 10, ignored: new Uint8Array(3) })?.ignored.length).toBe(10);
    expect(pongFor({ type: 'ping', num_pong_bytes: PONG_NOT_WANTED, ignored: new Uint8Array(0) })).toBeUndefined();
    const { ping, expectBytes } = makePing(() => 0.5);
    expect(ping.num_pong_bytes).toBe(expectBytes);
    expect(expectBytes).toBeLessThan(PONG_NOT_WANTED);
  });
});
