/**
 * A reproducible synthetic Lightning graph, mainnet-sized by default (15,000 nodes, 70,000 channels):
 * heavy-tailed degrees (a few hubs with thousands of channels, most nodes with one or two), capacities
 * from 20,000 sat to 5 BTC spread evenly on a log scale, both directions' policies for most channels,
 * and node announcements with alias, colour and an address for most nodes. The same seed gives the
 * same graph on every run. Node keys are real (so the gossip can be signed); `signedGossip` signs it.
 */
import { sha256 } from '../../core/crypto/hash.ts';
import { secp } from '../../core/crypto/secp256k1.ts';
import { signChannelAnnouncement, signChannelUpdate, signNodeAnnouncement } from '../../core/gossip/sign.ts';
import type { ChannelPolicy } from '../../core/gossip/validate.ts';
import { Graph } from '../../core/routing/graph.ts';
import { encodeMessage, scidFromParts } from '../../core/wire/index.ts';
import { REGTEST } from './gossip.ts';
import { seededRandom as prng } from './random.ts';

export interface SyntheticNode {
  secret: Uint8Array;
  pub: Uint8Array;
  /** Its node_announcement, if it sent one. */
  announcement?: { timestamp: number; alias: Uint8Array; rgbColor: Uint8Array; addresses: Uint8Array };
}

export interface SyntheticChannel {
  scid: bigint;
  /** Indexes into `nodes`; node1's id is the lesser. */
  node1: number;
  node2: number;
  capacitySat: bigint;
  policies: [ChannelPolicy | undefined, ChannelPolicy | undefined];
}

export interface SyntheticGraph {
  seed: number;
  now: number;
  nodes: SyntheticNode[];
  channels: SyntheticChannel[];
}

function lesser(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) < 0;
}

export function syntheticGraph(o: { nodes?: number; channels?: number; seed?: number; now?: number } = {}): SyntheticGraph {
  const nodeCount = o.nodes ?? 15_000;
  const channelCount = o.channels ?? 70_000;
  const seed = o.seed ?? 1;
  const now = o.now ?? 1_700_000_000;
  const rnd = prng(seed);
  const enc = new TextEncoder();
  const nodes: SyntheticNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const secret = sha256(enc.encode(`synthetic node ${seed}/${i}`));
    const node: SyntheticNode = { secret, pub: secp.getPublicKey(secret) };
    if (rnd() < 0.8) {
      const alias = new Uint8Array(32);
      alias.set(enc.encode(`node-${i}`));
      const addresses = Uint8Array.of(1, 10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x26, 0x07);
      node.announcement = { timestamp: now - Math.floor(rnd() * 86_400 * 10), alias, rgbColor: Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0x80), addresses };
    }
    nodes.push(node);
  }
  // Heavy tail: u^3 crowds picks onto the first nodes (the hubs); the other end is uniform.
  const hub = (): number => Math.floor(nodeCount * rnd() ** 3);
  const any = (): number => Math.floor(nodeCount * rnd());
  const channels: SyntheticChannel[] = [];
  const policy = (capacitySat: bigint, direction: 0 | 1): ChannelPolicy => ({
    timestamp: now - Math.floor(rnd() * 86_400 * 12),
    messageFlags: 1,
    channelFlags: direction | (rnd() < 0.05 ? 2 : 0),
    cltvExpiryDelta: [40, 80, 144][Math.floor(rnd() * 3)]!,
    htlcMinimumMsat: 1000n,
    feeBaseMsat: Math.floor(rnd() * 1001),
    feeProportionalMillionths: 1 + Math.floor(rnd() * 2000),
    htlcMaximumMsat: (capacitySat * 990n) as bigint,
  });
  // Every node gets one channel first (so none is left out), then the rest follow the heavy tail.
  for (let i = 0; i < channelCount; i++) {
    let a = i < nodeCount ? i : hub();
    let b = any();
    while (b === a) b = any();
    if (!lesser(nodes[a]!.pub, nodes[b]!.pub)) [a, b] = [b, a];
    const capacitySat = BigInt(Math.round(20_000 * 25_000 ** rnd()));
    const scid = scidFromParts({ block: 500_000 + Math.floor(i / 8), tx: 1 + (i % 8) * 17, output: i % 3 });
    const p0 = rnd() < 0.93 ? policy(capacitySat, 0) : undefined;
    const p1 = rnd() < 0.93 ? policy(capacitySat, 1) : undefined;
    channels.push({ scid, node1: a, node2: b, capacitySat, policies: [p0, p1] });
  }
  return { seed, now, nodes, channels };
}

/** The graph the synthetic gossip would build, applied without signatures (as if every check passed). */
export function buildGraph(s: SyntheticGraph): Graph {
  const g = new Graph({ nodes: s.nodes.length, channels: s.channels.length });
  for (const c of s.channels) {
    g.addChannel({ ok: true, scid: c.scid, node1: s.nodes[c.node1]!.pub, node2: s.nodes[c.node2]!.pub, bitcoinKey1: new Uint8Array(33), bitcoinKey2: new Uint8Array(33), features: new Uint8Array(0), routable: true }, { capacitySat: c.capacitySat, now: s.now });
    for (const d of [0, 1] as const) {
      const p = c.policies[d];
      if (p) g.applyChannelUpdate({ ok: true, scid: c.scid, direction: d, policy: p, forward: true });
    }
  }
  for (const n of s.nodes) {
    const a = n.announcement;
    if (a) g.applyNodeAnnouncement({ ok: true, nodeId: n.pub, timestamp: a.timestamp, features: new Uint8Array(0), routable: true, rgbColor: a.rgbColor, alias: a.alias, addresses: [], addressBytes: a.addresses, forward: true });
  }
  return g;
}

export interface SignedGossip {
  /** channel_announcement, then its channel_updates, per channel; node_announcements after all channels. */
  messages: Uint8Array[];
  /** The funding output each channel's lookup should find. */
  fundingKeys: Map<bigint, { key1: Uint8Array; key2: Uint8Array; capacitySat: bigint }>;
}

/** The synthetic graph as signed wire messages (the first `limit` channels), for ingest tests and benches. Slow: six signatures a channel. */
export function signedGossip(s: SyntheticGraph, o: { limit?: number; chainHash?: Uint8Array } = {}): SignedGossip {
  const chainHash = o.chainHash ?? REGTEST;
  const enc = new TextEncoder();
  const messages: Uint8Array[] = [];
  const fundingKeys = new Map<bigint, { key1: Uint8Array; key2: Uint8Array; capacitySat: bigint }>();
  const channels = s.channels.slice(0, o.limit ?? s.channels.length);
  const named = new Set<number>();
  for (const c of channels) {
    const f1 = sha256(enc.encode(`synthetic funding ${s.seed}/${c.scid}/1`));
    const f2 = sha256(enc.encode(`synthetic funding ${s.seed}/${c.scid}/2`));
    const n1 = s.nodes[c.node1]!;
    const n2 = s.nodes[c.node2]!;
    const key1 = secp.getPublicKey(f1);
    const key2 = secp.getPublicKey(f2);
    fundingKeys.set(c.scid, { key1, key2, capacitySat: c.capacitySat });
    named.add(c.node1).add(c.node2);
    const ann = signChannelAnnouncement(
      { features: new Uint8Array(0), chain_hash: chainHash, short_channel_id: c.scid, node_id_1: n1.pub, node_id_2: n2.pub, bitcoin_key_1: key1, bitcoin_key_2: key2 },
      { nodeSecret1: n1.secret, nodeSecret2: n2.secret, bitcoinSecret1: f1, bitcoinSecret2: f2 },
    );
    messages.push(encodeMessage(ann));
    for (const d of [0, 1] as const) {
      const p = c.policies[d];
      if (!p) continue;
      const u = signChannelUpdate(
        {
          chain_hash: chainHash,
          short_channel_id: c.scid,
          timestamp: p.timestamp,
          message_flags: p.messageFlags,
          channel_flags: p.channelFlags,
          cltv_expiry_delta: p.cltvExpiryDelta,
          htlc_minimum_msat: p.htlcMinimumMsat,
          fee_base_msat: p.feeBaseMsat,
          fee_proportional_millionths: p.feeProportionalMillionths,
          htlc_maximum_msat: p.htlcMaximumMsat,
        },
        (d === 0 ? n1 : n2).secret,
      );
      messages.push(encodeMessage(u));
    }
  }
  for (const i of named) {
    const n = s.nodes[i]!;
    const a = n.announcement;
    if (!a) continue;
    const m = signNodeAnnouncement({ features: new Uint8Array(0), timestamp: a.timestamp, node_id: n.pub, rgb_color: a.rgbColor, alias: a.alias, addresses: a.addresses }, n.secret);
    messages.push(encodeMessage(m));
  }
  return { messages, fundingKeys };
}
