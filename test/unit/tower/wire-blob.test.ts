/**
 * The tower's wire messages and blob format: every message round-trips, garbage is a WireError (never
 * a crash), and a blob opens only with its commitment's txid, tampered or resized blobs refused.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decodeTowerMessage, encodeTowerMessage, WireError } from '../../../core/tower/wire.ts';
import type { TowerMessage } from '../../../core/tower/wire.ts';
import { BLOB_V0_SIZE, BlobError, breachHint, breachKey, decodeKit, encodeKit, KIT_V0_SIZE, openKit, sealKit } from '../../../core/tower/blob.ts';
import type { JusticeKit } from '../../../core/tower/blob.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const TXID = 'aa'.repeat(31) + '01';

function kit(): JusticeKit {
  return { sweepScript: Uint8Array.of(0, 20, ...rnd(20)), revocationPubkey: secp.getPublicKey(rnd(32)), localDelayedPubkey: secp.getPublicKey(rnd(32)), csvDelay: 144, toLocalSig: rnd(64) };
}

describe('tower wire messages', () => {
  const samples: TowerMessage[] = [
    { type: 'init', features: Uint8Array.of(1, 2), chainHash: rnd(32) },
    { type: 'error', code: 50, data: new TextEncoder().encode('no') },
    { type: 'create_session', blobType: 0x4002, maxUpdates: 1024, rewardBase: 0, rewardRate: 0, sweepFeeRate: 2500n },
    { type: 'create_session_reply', code: 60, lastApplied: 7, data: new Uint8Array(0) },
    { type: 'state_update', seqNum: 3, lastApplied: 2, isComplete: 0, hint: rnd(16), blob: rnd(BLOB_V0_SIZE) },
    { type: 'state_update_reply', code: 0, lastApplied: 3 },
    { type: 'delete_session' },
    { type: 'delete_session_reply', code: 0 },
  ];
  it('each message decodes to what was encoded', () => {
    for (const m of samples) expect(decodeTowerMessage(encodeTowerMessage(m))).toEqual(m);
  });
  it('unknown types, truncation, trailing bytes and oversize fields are WireErrors', () => {
    expect(() => decodeTowerMessage(Uint8Array.of(0x02, 0x58 + 50))).toThrow(WireError);
    expect(() => decodeTowerMessage(Uint8Array.of(1))).toThrow(WireError);
    for (const m of samples) {
      const b = encodeTowerMessage(m);
      if (b.length > 2) expect(() => decodeTowerMessage(b.subarray(0, b.length - 1))).toThrow(WireError);
      expect(() => decodeTowerMessage(Uint8Array.of(...b, 0))).toThrow(WireError);
    }
    expect(() => encodeTowerMessage({ type: 'state_update', seqNum: 70_000, lastApplied: 0, isComplete: 0, hint: rnd(16), blob: rnd(1) })).toThrow(WireError);
    expect(() => encodeTowerMessage({ type: 'state_update', seqNum: 1, lastApplied: 0, isComplete: 0, hint: rnd(15), blob: rnd(1) })).toThrow(WireError);
    // Random bytes never throw anything but a WireError.
    for (let i = 0; i < 2000; i++) {
      const b = rnd(1 + (i % 80));
      b[0] = 2;
      b[1] = 0x58 + (i % 9);
      try {
        decodeTowerMessage(b);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    }
  });
});

describe('justice kit and blob', () => {
  it('a kit round-trips at its fixed size, and a blob opens only with its txid', () => {
    const k = kit();
    expect(encodeKit(k).length).toBe(KIT_V0_SIZE);
    expect(decodeKit(encodeKit(k))).toEqual(k);
    const blob = sealKit(k, TXID, rnd(24));
    expect(blob.length).toBe(BLOB_V0_SIZE);
    expect(openKit(blob, TXID)).toEqual(k);
    expect(() => openKit(blob, 'aa'.repeat(32))).toThrow(BlobError);
    const tampered = blob.slice();
    tampered[40]! ^= 1;
    expect(() => openKit(tampered, TXID)).toThrow(BlobError);
    expect(() => openKit(blob.subarray(1), TXID)).toThrow(BlobError);
  });
  it('the hint and the key differ and come from the txid in chain byte order', () => {
    const h = breachHint(TXID);
    const key = breachKey(TXID);
    expect(h.length).toBe(16);
    expect(Buffer.from(key).includes(Buffer.from(h))).toBe(false);
    expect(breachHint('01' + 'aa'.repeat(31))).not.toEqual(h);
  });
  it('kits that cannot be sound are refused before they are sealed or after they are opened', () => {
    expect(() => encodeKit({ ...kit(), sweepScript: rnd(43) })).toThrow(BlobError);
    expect(() => encodeKit({ ...kit(), csvDelay: 0 })).toThrow(BlobError);
    const bad = encodeKit(kit());
    bad.set(new Uint8Array(33).fill(9), 1 + 42);
    expect(() => decodeKit(bad)).toThrow(/not a valid public key/);
    const pad = encodeKit(kit());
    pad[0] = 10;
    expect(() => decodeKit(pad)).toThrow(/padding/);
  });
});
