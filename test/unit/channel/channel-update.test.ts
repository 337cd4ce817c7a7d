import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { readChannelUpdate, signChannelUpdate } from '../../../core/channel/channel-update.ts';
import { CHAIN_HASHES, decodeMessage, encodeMessage } from '../../../core/wire/index.ts';
import type { ChannelUpdateMessage } from '../../../core/wire/index.ts';

const key = () => {
  const secret = new Uint8Array(randomBytes(32));
  return { secret, id: secp.getPublicKey(secret) };
};
const policy = { feeBaseMsat: 1000, feeProportionalMillionths: 100, cltvExpiryDelta: 40, htlcMinimumMsat: 1n, htlcMaximumMsat: 990_000_000n };

describe('channel_update between channel peers', () => {
  it('is signed by its sender for its direction, and read back by the peer after crossing the wire', () => {
    const alice = key();
    const bob = key();
    const m = signChannelUpdate({ chainHash: CHAIN_HASHES.regtest, shortChannelId: (101n << 40n) | 1n, ourNodeId: alice.id, peerNodeId: bob.id, nodeSecret: alice.secret, policy, timestamp: 1_700_000_000 });
    expect(m.message_flags & 1).toBe(1);
    const d = decodeMessage(encodeMessage(m));
    if (d.kind !== 'known') throw new Error('not decoded');
    const read = readChannelUpdate(d.message as ChannelUpdateMessage, { chainHash: CHAIN_HASHES.regtest, ourNodeId: bob.id, peerNodeId: alice.id });
    expect(read).toEqual(policy);
  });

  it('refuses one with a bad signature, of our own direction, or for another chain', () => {
    const alice = key();
    const bob = key();
    const m = signChannelUpdate({ chainHash: CHAIN_HASHES.regtest, shortChannelId: 7n, ourNodeId: alice.id, peerNodeId: bob.id, nodeSecret: alice.secret, policy, timestamp: 1 });
    const asBob = { chainHash: CHAIN_HASHES.regtest, ourNodeId: bob.id, peerNodeId: alice.id };
    expect(readChannelUpdate({ ...m, fee_base_msat: 1 }, asBob)).toMatch(/bad signature/);
    expect(readChannelUpdate(m, { ...asBob, chainHash: CHAIN_HASHES.mainnet })).toMatch(/another chain/);
    // Alice reading her own update sees her own direction.
    expect(readChannelUpdate(m, { chainHash: CHAIN_HASHES.regtest, ourNodeId: alice.id, peerNodeId: bob.id })).toMatch(/our own direction/);
  });
});
