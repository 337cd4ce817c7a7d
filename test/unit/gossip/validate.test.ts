/**
 * BOLT 7 gossip checks: real signed messages (test keys, and testnet gossip signed by real nodes),
 * each refusal with its reason and what to do about the peer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aliasText, validateChannelAnnouncement, validateChannelUpdate, validateNodeAnnouncement, STALE_AFTER_SECONDS, MAX_FUTURE_SECONDS } from '../../../core/gossip/validate.ts';
import type { ChannelPolicy, GossipContext, GossipView } from '../../../core/gossip/validate.ts';
import { CHAIN_HASHES, decodeMessage, encodeMessage, scidFromParts, scidFromString } from '../../../core/wire/index.ts';
import type { ChannelAnnouncementMessage, NodeAnnouncementMessage } from '../../../core/wire/index.ts';
import { REGTEST, announce, flipBit, nodeAnnouncement, testChannel, testKey, update } from '../../helpers/gossip.ts';

const NOW = 1_700_000_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A view over plain maps, so these checks are tested apart from the graph. */
class FakeView implements GossipView {
  channels = new Map<bigint, { node1: Uint8Array; node2: Uint8Array }>();
  policies = new Map<string, ChannelPolicy>();
  nodes = new Map<string, number>();
  channelEnds(scid: bigint) {
    return this.channels.get(scid);
  }
  policy(scid: bigint, direction: 0 | 1) {
    return this.policies.get(`${scid}/${direction}`);
  }
  nodeTimestamp(nodeId: Uint8Array) {
    return this.nodes.get(hex(nodeId));
  }
  addChannel(c: { scid: bigint; node1: { pub: Uint8Array }; node2: { pub: Uint8Array } }): void {
    this.channels.set(c.scid, { node1: c.node1.pub, node2: c.node2.pub });
    for (const n of [c.node1, c.node2]) if (!this.nodes.has(hex(n.pub))) this.nodes.set(hex(n.pub), 0);
  }
}

function ctx(view: GossipView, chainHash = REGTEST, now = NOW): GossipContext {
  return { chainHash, view, now };
}

const SCID = scidFromParts({ block: 700_000, tx: 12, output: 1 });

describe('channel_announcement', () => {
  it('takes one with all four signatures, and says whether it may be routed through', () => {
    const c = testChannel(SCID, 'alice', 'bob');
    const r = validateChannelAnnouncement(announce(c), ctx(new FakeView()));
    expect(r).toMatchObject({ ok: true, scid: SCID, node1: c.node1.pub, node2: c.node2.pub, bitcoinKey1: c.funding1.pub, bitcoinKey2: c.funding2.pub, routable: true });
    // An unknown even feature bit (bit 100): kept, but not for routing. An unknown odd bit is fine.
    const even = new Uint8Array(13);
    even[0] = 0x10;
    expect(validateChannelAnnouncement(announce(c, { features: even }), ctx(new FakeView()))).toMatchObject({ ok: true, routable: false });
    const odd = new Uint8Array(13);
    odd[0] = 0x20;
    expect(validateChannelAnnouncement(announce(c, { features: odd }), ctx(new FakeView()))).toMatchObject({ ok: true, routable: true });
  });

  it('refuses each of the four signatures when it does not sign the message, and says which', () => {
    const c = testChannel(SCID, 'alice', 'bob');
    const good = announce(c);
    const names = ['node_signature_1', 'node_signature_2', 'bitcoin_signature_1', 'bitcoin_signature_2'] as const;
    for (const [i, name] of names.entries()) {
      // A signature made by the right key over other bytes: valid as a signature, wrong for this message.
      const other = announce(testChannel(SCID + 1n, 'alice', 'bob')).message;
      const forged: ChannelAnnouncementMessage = { ...good.message, [name]: other[name] };
      const raw = encodeMessage(forged);
      expect(raw.subarray(2 + 64 * i, 2 + 64 * (i + 1))).toEqual(other[name]);
      const r = validateChannelAnnouncement({ message: forged, raw }, ctx(new FakeView()));
      expect(r).toMatchObject({ ok: false, reason: 'bad_signature', action: 'warn' });
      expect(!r.ok && r.message).toContain(name);
    }
  });

  it('checks the bytes as received, trailing fields of later spec versions included', () => {
    const good = announce(testChannel(SCID, 'alice', 'bob'));
    const longer = Uint8Array.from([...good.raw, 0xfe, 0xed]);
    const decoded = decodeMessage(longer);
    expect(decoded.kind).toBe('known');
    // The decoder drops what it does not know; the signatures did not cover these two bytes.
    const r = validateChannelAnnouncement({ message: (decoded as { message: ChannelAnnouncementMessage }).message, raw: longer }, ctx(new FakeView()));
    expect(r).toMatchObject({ ok: false, reason: 'bad_signature' });
    // Any bit flipped in the signed part breaks them too.
    expect(validateChannelAnnouncement({ message: good.message, raw: flipBit(good.raw, 2 + 256 + 40) }, ctx(new FakeView()))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('ignores another chain and a channel known already; refuses bad keys and wrong order', () => {
    const c = testChannel(SCID, 'alice', 'bob');
    expect(validateChannelAnnouncement(announce(c, { chainHash: CHAIN_HASHES.mainnet }), ctx(new FakeView()))).toMatchObject({ ok: false, reason: 'unknown_chain', action: 'ignore' });
    const view = new FakeView();
    view.addChannel(c);
    expect(validateChannelAnnouncement(announce(c), ctx(view))).toMatchObject({ ok: false, reason: 'duplicate', action: 'ignore' });

    const good = announce(c).message;
    const notAPoint = Uint8Array.from(c.node1.pub);
    notAPoint[0] = 0x05;
    for (const field of ['node_id_1', 'node_id_2', 'bitcoin_key_1', 'bitcoin_key_2'] as const) {
      const r = validateChannelAnnouncement({ message: { ...good, [field]: notAPoint } }, ctx(new FakeView()));
      expect(r).toMatchObject({ ok: false, reason: 'invalid_key', action: 'warn' });
      expect(!r.ok && r.message).toContain(field);
    }
    // node ids swapped (each signature stays with its key): refused before any signature is checked.
    const swapped = { ...good, node_id_1: good.node_id_2, node_id_2: good.node_id_1, node_signature_1: good.node_signature_2, node_signature_2: good.node_signature_1 };
    expect(validateChannelAnnouncement({ message: swapped }, ctx(new FakeView()))).toMatchObject({ ok: false, reason: 'unordered_nodes', action: 'warn' });
    expect(validateChannelAnnouncement({ message: { ...good, node_id_2: good.node_id_1 } }, ctx(new FakeView()))).toMatchObject({ ok: false, reason: 'same_node' });
  });

  it('verifies a testnet channel_announcement its nodes signed, and refuses it with one bit changed', () => {
    const fx = JSON.parse(readFileSync(new URL('../../fixtures/bolt07-testnet-gossip.json', import.meta.url), 'utf8')) as Record<string, string>;
    const raw = Uint8Array.from(Buffer.from(fx.channel_announcement!, 'hex'));
    const message = (decodeMessage(raw) as { message: ChannelAnnouncementMessage }).message;
    const testnet = Uint8Array.from(Buffer.from(fx.chain_hash!, 'hex'));
    expect(testnet).toEqual(CHAIN_HASHES.testnet);
    expect(validateChannelAnnouncement({ message, raw }, ctx(new FakeView(), testnet))).toMatchObject({ ok: true, scid: scidFromString(fx.short_channel_id!) });
    expect(validateChannelAnnouncement({ message, raw: flipBit(raw, raw.length - 1) }, ctx(new FakeView(), testnet))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });
});

describe('node_announcement', () => {
  const alice = testKey('alice');
  const known = (): FakeView => {
    const v = new FakeView();
    v.addChannel(testChannel(SCID, 'alice', 'bob'));
    return v;
  };
  const ipv4 = Uint8Array.of(1, 10, 0, 0, 1, 0x26, 0x07);

  it('takes a signed one from a node a channel names, with its alias, colour and addresses', () => {
    const r = validateNodeAnnouncement(nodeAnnouncement(alice, { timestamp: NOW, alias: 'Alice ⚡', addresses: ipv4 }), ctx(known()));
    expect(r).toMatchObject({ ok: true, timestamp: NOW, routable: true, forward: true, addresses: [{ type: 'ipv4', host: '10.0.0.1', port: 9735 }] });
    expect(r.ok && aliasText(r.alias)).toBe('Alice ⚡');
    expect(r.ok && r.addressBytes).toEqual(ipv4);
  });

  it('refuses a bad signature, an unknown node, a timestamp not newer, and addresses cut short', () => {
    const a = nodeAnnouncement(alice, { timestamp: NOW });
    expect(validateNodeAnnouncement({ message: a.message, raw: flipBit(a.raw, a.raw.length - 1) }, ctx(known()))).toMatchObject({ ok: false, reason: 'bad_signature', action: 'warn' });
    expect(validateNodeAnnouncement({ ...a, message: { ...a.message, signature: nodeAnnouncement(alice, { timestamp: NOW + 1 }).message.signature } }, ctx(known()))).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(validateNodeAnnouncement(nodeAnnouncement(testKey('carol'), { timestamp: NOW }), ctx(known()))).toMatchObject({ ok: false, reason: 'unknown_node', action: 'ignore' });
    const v = known();
    v.nodes.set(hex(alice.pub), NOW);
    expect(validateNodeAnnouncement(a, ctx(v))).toMatchObject({ ok: false, reason: 'stale', action: 'ignore' });
    expect(validateNodeAnnouncement(nodeAnnouncement(alice, { timestamp: NOW + 1 }), ctx(v))).toMatchObject({ ok: true });
    expect(validateNodeAnnouncement(nodeAnnouncement(alice, { timestamp: NOW, addresses: Uint8Array.of(2, 0, 0, 0) }), ctx(known()))).toMatchObject({ ok: false, reason: 'bad_addresses', action: 'warn' });
    const bad = Uint8Array.from(alice.pub);
    bad[0] = 4;
    expect(validateNodeAnnouncement({ message: { ...a.message, node_id: bad } }, ctx(known()))).toMatchObject({ ok: false, reason: 'invalid_key' });
  });

  it('keeps a node with an unknown even feature out of routes, and does not forward two hostnames', () => {
    const features = Uint8Array.of(0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00); // bit 96
    expect(validateNodeAnnouncement(nodeAnnouncement(alice, { timestamp: NOW, features }), ctx(known()))).toMatchObject({ ok: true, routable: false });
    const dns = (name: string): number[] => [5, name.length, ...Buffer.from(name), 0x26, 0x07];
    const r = validateNodeAnnouncement(nodeAnnouncement(alice, { timestamp: NOW, addresses: Uint8Array.from([...dns('a.example'), ...dns('b.example')]) }), ctx(known()));
    expect(r).toMatchObject({ ok: true, forward: false, addresses: [{ type: 'dns', host: 'a.example', port: 9735 }] });
  });

  it('verifies a testnet node_announcement its node signed', () => {
    const fx = JSON.parse(readFileSync(new URL('../../fixtures/bolt07-testnet-gossip.json', import.meta.url), 'utf8')) as Record<string, string | number>;
    const raw = Uint8Array.from(Buffer.from(fx.node_announcement as string, 'hex'));
    const message = (decodeMessage(raw) as { message: NodeAnnouncementMessage }).message;
    const v = new FakeView();
    v.nodes.set(fx.node_id as string, 0);
    const r = validateNodeAnnouncement({ message, raw }, ctx(v, CHAIN_HASHES.testnet));
    expect(r).toMatchObject({ ok: true, timestamp: fx.node_timestamp, addresses: [{ type: 'ipv4', host: '34.200.252.146', port: 9735 }] });
    expect(r.ok && aliasText(r.alias)).toBe(fx.alias);
    expect(r.ok && hex(r.rgbColor)).toBe(fx.rgb_color);
    expect(validateNodeAnnouncement({ message, raw: flipBit(raw, 100) }, ctx(v, CHAIN_HASHES.testnet))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });
});

describe('channel_update', () => {
  const c = testChannel(SCID, 'alice', 'bob');
  const view = (): FakeView => {
    const v = new FakeView();
    v.addChannel(c);
    return v;
  };

  it('takes each direction signed by the node its direction bit names, disabled bit and dont_forward kept', () => {
    const r0 = validateChannelUpdate(update(c, 0, { timestamp: NOW, feeBaseMsat: 7 }), ctx(view()));
    expect(r0).toMatchObject({ ok: true, scid: SCID, direction: 0, forward: true, policy: { timestamp: NOW, feeBaseMsat: 7, channelFlags: 0, htlcMaximumMsat: 99_000_000n } });
    const r1 = validateChannelUpdate(update(c, 1, { timestamp: NOW, disabled: true, dontForward: true }), ctx(view()));
    expect(r1).toMatchObject({ ok: true, direction: 1, forward: false, policy: { channelFlags: 3, messageFlags: 3 } });
  });

  it('refuses an update signed by the other end of the channel, or by a stranger', () => {
    // Node 2 signs an update that says it is node 1's (direction 0).
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW, signer: c.node2 }), ctx(view()))).toMatchObject({ ok: false, reason: 'bad_signature', action: 'warn' });
    expect(validateChannelUpdate(update(c, 1, { timestamp: NOW, signer: c.node1 }), ctx(view()))).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(validateChannelUpdate(update(c, 1, { timestamp: NOW, signer: testKey('mallory') }), ctx(view()))).toMatchObject({ ok: false, reason: 'bad_signature' });
    const u = update(c, 0, { timestamp: NOW });
    expect(validateChannelUpdate({ message: u.message, raw: flipBit(u.raw, u.raw.length - 1) }, ctx(view()))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('ignores stale, duplicate, too old and far-future updates, and an unknown channel or chain', () => {
    const v = view();
    const held = validateChannelUpdate(update(c, 0, { timestamp: NOW }), ctx(v));
    if (!held.ok) throw new Error(held.message);
    v.policies.set(`${SCID}/0`, held.policy);
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW - 1 }), ctx(v))).toMatchObject({ ok: false, reason: 'stale', action: 'ignore' });
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW }), ctx(v))).toMatchObject({ ok: false, reason: 'duplicate', action: 'ignore' });
    // Same timestamp, other terms, properly signed: the node contradicts itself.
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW, feeBaseMsat: 1 }), ctx(v))).toMatchObject({ ok: false, reason: 'conflicting_update' });
    // ...but a forgery of that is only a bad signature.
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW, feeBaseMsat: 1, signer: c.node2 }), ctx(v))).toMatchObject({ ok: false, reason: 'bad_signature' });
    // The other direction is separate.
    expect(validateChannelUpdate(update(c, 1, { timestamp: NOW - 1 }), ctx(v))).toMatchObject({ ok: true, direction: 1 });
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW + 1 }), ctx(v))).toMatchObject({ ok: true });
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW - STALE_AFTER_SECONDS - 1 }), ctx(view()))).toMatchObject({ ok: false, reason: 'too_old' });
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW + MAX_FUTURE_SECONDS + 1 }), ctx(view()))).toMatchObject({ ok: false, reason: 'from_future' });
    expect(validateChannelUpdate(update(testChannel(SCID + 1n, 'alice', 'bob'), 0, { timestamp: NOW }), ctx(view()))).toMatchObject({ ok: false, reason: 'unknown_channel', action: 'ignore' });
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW, chainHash: CHAIN_HASHES.testnet }), ctx(view()))).toMatchObject({ ok: false, reason: 'unknown_chain', action: 'ignore' });
  });

  it('takes an update whose htlc range is empty or above capacity (the route finder skips it), and needs htlc_maximum_msat to decode', () => {
    expect(validateChannelUpdate(update(c, 0, { timestamp: NOW, htlcMinimumMsat: 5000n, htlcMaximumMsat: 4000n }), ctx(view()))).toMatchObject({ ok: true, policy: { htlcMinimumMsat: 5000n, htlcMaximumMsat: 4000n } });
    const u = update(c, 0, { timestamp: NOW });
    expect(u.raw.length).toBe(138);
    expect(() => decodeMessage(u.raw.subarray(0, 130))).toThrow();
  });
});
