import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { hex } from '@scure/base';
import {
  CHAIN_HASHES, chainName, checkRemoteInit, decodeMessage, encodeMessage, FeatureSet, featureForBit, messageTypeName,
  scidFromParts, scidFromString, scidToString, validateDependencies, WireError,
} from '../../../core/wire/index.ts';
import { DEFAULT_CSV, OUTPUT, generate } from '../../../core/wire/gen/generate.ts';

describe('generated wire table', () => {
  it.runIf(existsSync(DEFAULT_CSV))('is up to date with the spec table', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(generate(DEFAULT_CSV));
  });
  it('knows the BOLT 1 message types', () => {
    expect([16, 17, 1, 18, 19].map(messageTypeName)).toEqual(['init', 'error', 'warning', 'ping', 'pong']);
  });
});

describe('BOLT 1 messages', () => {
  it('init with networks and remote_addr TLVs, byte for byte', () => {
    const init = {
      type: 'init' as const,
      globalfeatures: new Uint8Array(0),
      features: FeatureSet.fromBits([0, 8, 12, 14, 17]).toBytes(),
      tlvs: { networks: { chains: [CHAIN_HASHES.regtest] }, remote_addr: { data: Uint8Array.from([1, 127, 0, 0, 1, 0x26, 0x07]) } },
    };
    const bytes = encodeMessage(init);
    expect(hex.encode(bytes)).toBe(
      '0010' + '0000' + '0003' + '025101' + '0120' + hex.encode(CHAIN_HASHES.regtest) + '0307' + '017f0000012607',
    );
    expect(decodeMessage(bytes)).toEqual({ kind: 'known', message: init });
  });

  it('error, warning, ping and pong', () => {
    const cid = new Uint8Array(32).fill(7);
    for (const m of [
      { type: 'error' as const, channel_id: cid, data: new TextEncoder().encode('bad things') },
      { type: 'warning' as const, channel_id: new Uint8Array(32), data: new Uint8Array(0) },
      { type: 'ping' as const, num_pong_bytes: 12, ignored: new Uint8Array(5) },
      { type: 'pong' as const, ignored: new Uint8Array(12) },
    ]) {
      expect(decodeMessage(encodeMessage(m))).toEqual({ kind: 'known', message: m });
    }
    expect(hex.encode(encodeMessage({ type: 'ping', num_pong_bytes: 1, ignored: new Uint8Array(2) }))).toBe('0012000100020000');
  });

  it('unknown types say whether they are odd or even; a length beyond the data is an error', () => {
    expect(decodeMessage(Uint8Array.from([0x80, 0x01, 1, 2]))).toEqual({ kind: 'unknown', type: 32769, even: false });
    expect(decodeMessage(Uint8Array.from([0x80, 0x00]))).toEqual({ kind: 'unknown', type: 32768, even: true });
    expect(() => decodeMessage(Uint8Array.from([0x00, 0x12, 0x00, 0x01, 0xff, 0xff]))).toThrow(WireError);
    expect(() => decodeMessage(Uint8Array.from([0x00]))).toThrow(WireError);
  });

  it('refuses to encode what cannot be on the wire', () => {
    expect(() => encodeMessage({ type: 'ping', num_pong_bytes: 70000, ignored: new Uint8Array(0) })).toThrow(WireError);
    expect(() => encodeMessage({ type: 'error', channel_id: new Uint8Array(31), data: new Uint8Array(0) })).toThrow(/32 bytes/);
  });
});

describe('short_channel_id', () => {
  it('converts between parts, u64 and BxTxO', () => {
    const scid = scidFromParts({ block: 700000, tx: 1234, output: 1 });
    expect(scidToString(scid)).toBe('700000x1234x1');
    expect(scidFromString('700000x1234x1')).toBe(scid);
    expect(() => scidFromString('1x2')).toThrow(WireError);
    expect(() => scidFromParts({ block: 1 << 24, tx: 0, output: 0 })).toThrow(WireError);
  });
});

describe('chain hashes', () => {
  it('are genesis hashes in internal byte order', () => {
    expect(hex.encode(CHAIN_HASHES.regtest)).toBe('06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f');
    expect(chainName(CHAIN_HASHES.mainnet)).toBe('mainnet');
    expect(chainName(new Uint8Array(32))).toBeUndefined();
  });
});

describe('BOLT 9 features', () => {
  it('reads and writes the big-endian bit field', () => {
    const f = FeatureSet.fromBytes(hex.decode('08a0000a0a5121'));
    expect(f.bits()).toEqual([0, 5, 8, 12, 14, 17, 19, 25, 27, 45, 47, 51]);
    expect(hex.encode(f.toBytes())).toBe('08a0000a0a5121');
    expect(f.supports('basic_mpp')).toBe(true);
    expect(f.requires('basic_mpp')).toBe(false);
    expect(f.requires('payment_secret')).toBe(true);
    expect(featureForBit(45)?.name).toBe('option_channel_type');
    expect(FeatureSet.fromBytes(new Uint8Array([0, 0])).toBytes()).toEqual(new Uint8Array(0));
  });

  it('refuses a peer that requires what we lack, allows unknown odd bits', () => {
    const ours = FeatureSet.of({ var_onion_optin: 'required', payment_secret: 'optional' });
    expect(checkRemoteInit(ours, FeatureSet.fromBits([8, 15, 101]))).toEqual({ ok: true });
    expect(checkRemoteInit(ours, FeatureSet.fromBits([100]))).toEqual({ ok: false, reason: 'peer requires feature bit 100 (unknown) which we do not support' });
    expect(checkRemoteInit(ours, FeatureSet.fromBits([6]))).toEqual({ ok: false, reason: 'peer requires feature bit 6 (gossip_queries) which we do not support' });
  });

  it('checks dependencies', () => {
    expect(validateDependencies(FeatureSet.fromBits([17]))).toEqual({ ok: false, reason: 'peer sets basic_mpp without its dependency payment_secret' });
    expect(validateDependencies(FeatureSet.fromBits([15, 17]))).toEqual({ ok: true });
    expect(validateDependencies(FeatureSet.fromBits([51]))).toMatchObject({ ok: false });
  });
});
