/**
 * Hand-made channel graphs for route finder tests: nodes named by small numbers (their ids order as
 * the numbers do, so node1 of a channel is the lesser), channels with a capacity and a policy per
 * direction, applied as checked gossip would be (no signatures).
 */
import type { ChannelPolicy } from '../../core/gossip/validate.ts';
import { Graph } from '../../core/routing/graph.ts';
import type { FirstHop } from '../../core/routing/router.ts';
import { scidFromParts } from '../../core/wire/index.ts';

export const NOW = 1_700_000_000;
export const HEIGHT = 800_000;

/** A node id that orders by `n` (0–255). */
export function nodeId(n: number): Uint8Array {
  const id = new Uint8Array(33);
  id[0] = 2;
  id[1] = n;
  id[32] = 1;
  return id;
}

export function scid(n: number): bigint {
  return scidFromParts({ block: 700_000 + n, tx: 1, output: 0 });
}

export function policy(p: Partial<ChannelPolicy> = {}): ChannelPolicy {
  return { timestamp: NOW - 60, messageFlags: 1, channelFlags: 0, cltvExpiryDelta: 40, htlcMinimumMsat: 1000n, feeBaseMsat: 1000, feeProportionalMillionths: 100, htlcMaximumMsat: 10_000_000_000n, ...p };
}

export interface SmallChannel {
  scid: number;
  /** Node numbers; the policies are given from `a`'s side and `b`'s side. */
  a: number;
  b: number;
  capacitySat?: bigint;
  /** The policy of a → b (undefined: no update for that direction). */
  ab?: Partial<ChannelPolicy> | null;
  ba?: Partial<ChannelPolicy> | null;
}

export function smallGraph(channels: SmallChannel[]): Graph {
  const g = new Graph();
  for (const c of channels) {
    const [n1, n2] = c.a < c.b ? [c.a, c.b] : [c.b, c.a];
    g.addChannel({ ok: true, scid: scid(c.scid), node1: nodeId(n1), node2: nodeId(n2), bitcoinKey1: new Uint8Array(33), bitcoinKey2: new Uint8Array(33), features: new Uint8Array(0), routable: true }, { capacitySat: c.capacitySat ?? 10_000_000n, now: NOW });
    const sides: [Partial<ChannelPolicy> | null | undefined, 0 | 1][] = [
      [c.ab, c.a < c.b ? 0 : 1],
      [c.ba, c.a < c.b ? 1 : 0],
    ];
    for (const [p, direction] of sides) {
      if (p === null) continue;
      g.applyChannelUpdate({ ok: true, scid: scid(c.scid), direction, policy: { ...policy(p), channelFlags: direction | (p?.channelFlags ?? 0) }, forward: true });
    }
  }
  return g;
}

export function firstHop(peer: number, channel: number, spendableMsat: bigint): FirstHop {
  return { shortChannelId: scid(channel), peer: nodeId(peer), spendableMsat };
}
