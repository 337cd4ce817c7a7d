/**
 * Static channel backups: encrypted with a key from the wallet's seed, refused with any other seed,
 * versioned, with every field checked on the way in (a backup may come back from a peer).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { backupFingerprint, backupKey, decryptBackup, encryptBackup, readVersion, BackupError, SCB_MAGIC, SCB_VERSION } from '../../../core/backup/scb.ts';
import type { BackupSet, ChannelBackup } from '../../../core/backup/scb.ts';
import { defaultAead } from '../../../core/crypto/aead.ts';
import { backupKey as keyOf } from '../../../core/backup/scb.ts';

const seed = new Uint8Array(64).fill(7);
const otherSeed = new Uint8Array(64).fill(8);

function channel(i: number): ChannelBackup {
  return {
    chanPoint: `${'ab'.repeat(32)}:${i}`,
    channelId: 'cd'.repeat(32),
    peer: '02' + '11'.repeat(32),
    addresses: [{ host: '127.0.0.1', port: 9735 + i }],
    keyIndex: i,
    channelType: 'anchors',
    funder: true,
    capacitySat: 1_000_000n,
    localToSelfDelay: 144,
    remoteToSelfDelay: 144,
    shortChannelId: '103x1x0',
    remote: { fundingPubkey: '02' + '22'.repeat(32), paymentBasepoint: '02' + '33'.repeat(32), delayedPaymentBasepoint: '02' + '44'.repeat(32), revocationBasepoint: '02' + '55'.repeat(32), htlcBasepoint: '02' + '66'.repeat(32) },
  };
}

const set = (n: number): BackupSet => ({ version: SCB_VERSION, network: 'regtest', nodeId: '03' + '99'.repeat(32), createdAtMs: 1_700_000_000_000, channels: Array.from({ length: n }, (_, i) => channel(i)) });

describe('static channel backup', () => {
  it('round-trips through encryption with the seed\'s key, every field intact', () => {
    const key = backupKey(seed);
    const blob = encryptBackup(set(3), key);
    expect(Buffer.from(blob.subarray(0, SCB_MAGIC.length)).toString()).toBe('CLMBSCB');
    expect(readVersion(blob)).toBe(SCB_VERSION);
    expect(decryptBackup(blob, key, { network: 'regtest', nodeId: set(3).nodeId })).toEqual(set(3));
  });

  it('uses a fresh nonce each time, and pads so the size hides the exact channel count', () => {
    const key = backupKey(seed);
    const a = encryptBackup(set(1), key);
    const b = encryptBackup(set(1), key);
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect((a.length - 20 - 16) % 256).toBe(0);
    expect(encryptBackup(set(0), key).length).toBe(encryptBackup({ ...set(0), nodeId: '02' + '98'.repeat(32) }, key).length);
  });

  it('derives the key for this purpose only: not the seed, and another seed gives another key', () => {
    expect(backupKey(seed)).toHaveLength(32);
    expect(Buffer.compare(backupKey(seed), backupKey(otherSeed))).not.toBe(0);
    expect(Buffer.compare(backupKey(seed), seed.subarray(0, 32))).not.toBe(0);
  });

  it('is refused with another wallet\'s seed, and when a byte is changed (the header too)', () => {
    const blob = encryptBackup(set(2), backupKey(seed));
    expect(() => decryptBackup(blob, backupKey(otherSeed))).toThrow(/does not open with this wallet's seed/);
    for (const at of [SCB_MAGIC.length + 1, blob.length - 1, 40]) {
      const bad = Uint8Array.from(blob);
      bad[at]! ^= 1;
      expect(() => decryptBackup(bad, backupKey(seed))).toThrow(BackupError);
    }
  });

  it('says what a file is when it is not a backup, or of a newer version', () => {
    expect(() => readVersion(new TextEncoder().encode('hello, this is not a backup at all'))).toThrow(/not a Coulomb channel backup/);
    const blob = encryptBackup(set(1), backupKey(seed));
    const newer = Uint8Array.from(blob);
    newer[SCB_MAGIC.length] = SCB_VERSION + 1;
    expect(() => decryptBackup(newer, backupKey(seed))).toThrow(/format version 2, which this Coulomb does not read/);
  });

  it('refuses a backup of another network or another node', () => {
    const blob = encryptBackup(set(1), backupKey(seed));
    expect(() => decryptBackup(blob, backupKey(seed), { network: 'testnet' })).toThrow(/is for regtest/);
    expect(() => decryptBackup(blob, backupKey(seed), { nodeId: '02' + '00'.repeat(32) })).toThrow(/belongs to node/);
  });

  it('refuses well-encrypted content that is malformed (a key index out of range, a bad channel point)', () => {
    const key = keyOf(seed);
    const nonce = new Uint8Array(randomBytes(12));
    const forge = (content: unknown): Uint8Array => {
      const header = new Uint8Array([...SCB_MAGIC, SCB_VERSION, ...nonce]);
      return new Uint8Array([...header, ...defaultAead().encrypt(key, nonce, header, new TextEncoder().encode(JSON.stringify(content)))]);
    };
    const good = JSON.parse(JSON.stringify({ ...set(1), channels: [{ ...channel(0), capacitySat: '1000000' }] })) as { channels: Record<string, unknown>[] };
    expect(decryptBackup(forge(good), key).channels[0]!.capacitySat).toBe(1_000_000n);
    for (const change of [{ keyIndex: -1 }, { keyIndex: 2 ** 31 }, { chanPoint: 'xyz:0' }, { channelType: 'legacy' }, { peer: '02' }, { capacitySat: 5 }]) {
      const bad = { ...good, channels: [{ ...good.channels[0], ...change }] };
      expect(() => decryptBackup(forge(bad), key)).toThrow(/content is not readable/);
    }
  });

  it('fingerprint ignores order, and changes with what recovery needs', () => {
    const [a, b] = [channel(0), channel(1)];
    expect(backupFingerprint([a, b])).toBe(backupFingerprint([b, a]));
    expect(backupFingerprint([a])).not.toBe(backupFingerprint([{ ...a, addresses: [{ host: '10.0.0.1', port: 9735 }] }]));
    expect(backupFingerprint([a])).not.toBe(backupFingerprint([a, b]));
  });
});
