/**
 * Peer storage (BOLT 1): the size bound, who may store, the rate limits both ways, and the
 * peer_storage / peer_storage_retrieval codecs against the specification's wire table.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage } from '../../../core/wire/index.ts';
import { DEFAULT_PEER_STORAGE_POLICY, judgeIncoming, judgeOutgoing, MAX_PEER_STORAGE_BLOB } from '../../../core/backup/peer-storage.ts';
import { ourInitFeatures } from '../../../core/node/features.ts';

const policy = { minStoreIntervalMs: 60_000, minSendIntervalMs: 10_000 };

describe('peer storage rules', () => {
  it('bounds a blob at 65531 bytes: the largest message less its type and length', () => {
    expect(MAX_PEER_STORAGE_BLOB).toBe(65535 - 2 - 2);
    const base = { hasChannel: true, lastStoredAtMs: undefined, nowMs: 0, policy };
    expect(judgeIncoming({ ...base, size: MAX_PEER_STORAGE_BLOB })).toEqual({ action: 'store' });
    expect(judgeIncoming({ ...base, size: MAX_PEER_STORAGE_BLOB + 1 })).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/over the 65531/) });
    expect(judgeOutgoing({ size: MAX_PEER_STORAGE_BLOB + 1, peerOffersStorage: true, hasChannel: true, lastSentAtMs: undefined, nowMs: 0, policy })).toMatchObject({ action: 'skip' });
  });

  it('keeps blobs only for peers with a channel', () => {
    expect(judgeIncoming({ size: 100, hasChannel: false, lastStoredAtMs: undefined, nowMs: 0, policy })).toMatchObject({ action: 'refuse', reason: expect.stringMatching(/channel/) });
  });

  it('writes a peer\'s blob at most once per interval; one sooner waits for the interval\'s end', () => {
    const at = (nowMs: number) => judgeIncoming({ size: 100, hasChannel: true, lastStoredAtMs: 1_000, nowMs, policy });
    expect(at(1_500)).toEqual({ action: 'later', atMs: 61_000 });
    expect(at(60_999)).toEqual({ action: 'later', atMs: 61_000 });
    expect(at(61_000)).toEqual({ action: 'store' });
  });

  it('sends ours only to peers that offer storage and share a channel, at most once per interval', () => {
    const base = { size: 1000, peerOffersStorage: true, hasChannel: true, nowMs: 5_000, policy };
    expect(judgeOutgoing({ ...base, peerOffersStorage: false, lastSentAtMs: undefined })).toMatchObject({ action: 'skip' });
    expect(judgeOutgoing({ ...base, hasChannel: false, lastSentAtMs: undefined })).toMatchObject({ action: 'skip' });
    expect(judgeOutgoing({ ...base, lastSentAtMs: undefined })).toEqual({ action: 'send' });
    expect(judgeOutgoing({ ...base, lastSentAtMs: 0 })).toEqual({ action: 'later', atMs: 10_000 });
    expect(judgeOutgoing({ ...base, lastSentAtMs: 0, nowMs: 10_000 })).toEqual({ action: 'send' });
    expect(DEFAULT_PEER_STORAGE_POLICY.minStoreIntervalMs).toBeGreaterThanOrEqual(60_000);
  });

  it('is advertised as optional (bit 43)', () => {
    const f = ourInitFeatures();
    expect(f.has(43)).toBe(true);
    expect(f.has(42)).toBe(false);
  });
});

describe('peer storage messages', () => {
  const table = readFileSync(fileURLToPath(new URL('../../../spec/bolt-wire/peer_wire.csv', import.meta.url)), 'utf8').split('\n');
  for (const [name, type] of [['peer_storage', 7], ['peer_storage_retrieval', 9]] as const) {
    it(`${name} is type ${type}, a u16 length and the blob, as the table says`, () => {
      expect(table).toContain(`msgtype,${name},${type}`);
      expect(table).toContain(`msgdata,${name},length,u16,`);
      expect(table).toContain(`msgdata,${name},blob,byte,length`);
      const blob = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
      const bytes = encodeMessage({ type: name, blob });
      expect(Buffer.from(bytes.subarray(0, 4)).toString('hex')).toBe(`000${type}012c`);
      expect(bytes.length).toBe(4 + 300);
      const back = decodeMessage(bytes);
      expect(back).toMatchObject({ kind: 'known', message: { type: name, blob } });
      // The largest blob fills the largest message exactly.
      expect(encodeMessage({ type: name, blob: new Uint8Array(MAX_PEER_STORAGE_BLOB) }).length).toBe(65535);
      // A length past the end is a decoding error, not a short blob.
      expect(() => decodeMessage(bytes.subarray(0, 100))).toThrow();
    });
  }
});
