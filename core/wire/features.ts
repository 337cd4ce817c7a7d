/**
 * BOLT 9 feature bits: one table, and a FeatureSet over the wire's big-endian bit field
 * (bit 0 is the least significant bit of the last byte).
 *
 * Even bits are compulsory ("it's ok to be odd"): a peer that sets an even bit we do not know, or know
 * but do not support, must be refused; odd bits we do not know are ignored.
 */

export type FeatureContext = 'I' | 'N' | 'C' | 'C-' | 'C+' | '9' | 'B';

export interface FeatureDef {
  /** BOLT 9 name. */
  name: string;
  /** The even (compulsory) bit; the optional bit is bit + 1. */
  bit: number;
  contexts: readonly FeatureContext[];
  /** Names of features this one depends on. */
  deps: readonly string[];
  /** So widespread the spec assumes every node has it. */
  assumed?: boolean;
}

const IN: FeatureContext[] = ['I', 'N'];
const IN9: FeatureContext[] = ['I', 'N', '9'];

export const FEATURES: readonly FeatureDef[] = [
  { name: 'option_data_loss_protect', bit: 0, contexts: IN, deps: [], assumed: true },
  { name: 'initial_routing_sync', bit: 2, contexts: ['I'], deps: [] },
  { name: 'option_upfront_shutdown_script', bit: 4, contexts: IN, deps: [] },
  { name: 'gossip_queries', bit: 6, contexts: IN, deps: [], assumed: true },
  { name: 'var_onion_optin', bit: 8, contexts: IN9, deps: [], assumed: true },
  { name: 'gossip_queries_ex', bit: 10, contexts: IN, deps: [] },
  { name: 'option_static_remotekey', bit: 12, contexts: IN, deps: [], assumed: true },
  { name: 'payment_secret', bit: 14, contexts: IN9, deps: [] },
  { name: 'basic_mpp', bit: 16, contexts: IN9, deps: ['payment_secret'] },
  { name: 'option_support_large_channel', bit: 18, contexts: IN, deps: [] },
  { name: 'option_anchor_outputs', bit: 20, contexts: IN, deps: [] },
  { name: 'option_anchors', bit: 22, contexts: IN, deps: [] },
  { name: 'option_route_blinding', bit: 24, contexts: IN9, deps: [] },
  { name: 'option_shutdown_anysegwit', bit: 26, contexts: IN, deps: [] },
  { name: 'option_dual_fund', bit: 28, contexts: IN, deps: [] },
  { name: 'option_quiesce', bit: 34, contexts: IN, deps: [] },
  { name: 'option_attribution_data', bit: 36, contexts: IN9, deps: [] },
  { name: 'option_onion_messages', bit: 38, contexts: IN, deps: [] },
  { name: 'option_provide_storage', bit: 42, contexts: IN, deps: [] },
  { name: 'option_channel_type', bit: 44, contexts: IN, deps: [] },
  { name: 'option_scid_alias', bit: 46, contexts: IN, deps: [] },
  { name: 'option_payment_metadata', bit: 48, contexts: ['9'], deps: [] },
  { name: 'option_zeroconf', bit: 50, contexts: IN, deps: ['option_scid_alias'] },
  { name: 'option_simple_close', bit: 60, contexts: IN, deps: ['option_shutdown_anysegwit'] },
  { name: 'option_splice', bit: 62, contexts: IN, deps: ['option_quiesce'] },
];

const BY_NAME = new Map(FEATURES.map((f) => [f.name, f]));
const BY_PAIR = new Map(FEATURES.map((f) => [f.bit, f]));

export type FeatureName = (typeof FEATURES)[number]['name'];

/** The definition for a bit (either of its pair), if the feature is known. */
export function featureForBit(bit: number): FeatureDef | undefined {
  return BY_PAIR.get(bit - (bit % 2));
}

function def(name: string): FeatureDef {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`unknown feature ${name}`);
  return d;
}

export class FeatureSet {
  private constructor(private readonly set: ReadonlySet<number>) {}

  static empty(): FeatureSet {
    return new FeatureSet(new Set());
  }

  static fromBits(bits: Iterable<number>): FeatureSet {
    return new FeatureSet(new Set(bits));
  }

  /** Reads a big-endian feature field of any length. */
  static fromBytes(b: Uint8Array): FeatureSet {
    const s = new Set<number>();
    for (let i = 0; i < b.length; i++) {
      const byte = b[b.length - 1 - i]!;
      if (byte === 0) continue;
      for (let j = 0; j < 8; j++) if (byte & (1 << j)) s.add(i * 8 + j);
    }
    return new FeatureSet(s);
  }

  /** A set from feature names, each as optional (odd bit) or required (even bit). */
  static of(features: Partial<Record<FeatureName, 'optional' | 'required'>>): FeatureSet {
    const bits: number[] = [];
    for (const [name, how] of Object.entries(features)) bits.push(def(name).bit + (how === 'optional' ? 1 : 0));
    return FeatureSet.fromBits(bits);
  }

  has(bit: number): boolean {
    return this.set.has(bit);
  }

  /** Either bit of the feature is set. */
  supports(name: FeatureName): boolean {
    const d = def(name);
    return this.set.has(d.bit) || this.set.has(d.bit + 1);
  }

  requires(name: FeatureName): boolean {
    return this.set.has(def(name).bit);
  }

  or(other: FeatureSet): FeatureSet {
    return new FeatureSet(new Set([...this.set, ...other.set]));
  }

  bits(): number[] {
    return [...this.set].sort((a, b) => a - b);
  }

  /** Minimal big-endian encoding. */
  toBytes(): Uint8Array {
    const bits = this.bits();
    if (!bits.length) return new Uint8Array(0);
    const len = Math.floor(bits[bits.length - 1]! / 8) + 1;
    const out = new Uint8Array(len);
    for (const bit of bits) out[len - 1 - Math.floor(bit / 8)]! |= 1 << bit % 8;
    return out;
  }

  /** Each set bit with its name (or "unknown"), whether it is required, and whether we know it. */
  describe(): { bit: number; name: string; required: boolean; known: boolean }[] {
    return this.bits().map((bit) => {
      const d = featureForBit(bit);
      return { bit, name: d?.name ?? 'unknown', required: bit % 2 === 0, known: d !== undefined };
    });
  }
}

export type FeatureCheck = { ok: true } | { ok: false; reason: string };

/** Every known feature that is set must have its dependencies set too (BOLT 9). */
export function validateDependencies(f: FeatureSet): FeatureCheck {
  for (const d of FEATURES) {
    if (!f.supports(d.name)) continue;
    for (const dep of d.deps) {
      if (!f.supports(dep)) return { ok: false, reason: `peer sets ${d.name} without its dependency ${dep}` };
    }
  }
  return { ok: true };
}

/**
 * BOLT 1 `init` rules for the features a peer sent (globalfeatures OR-ed into features already):
 * an even bit we do not support ends the connection; so does a broken dependency.
 */
export function checkRemoteInit(local: FeatureSet, remote: FeatureSet): FeatureCheck {
  for (const bit of remote.bits()) {
    if (bit % 2 !== 0) continue;
    if (!local.has(bit) && !local.has(bit + 1)) {
      const name = featureForBit(bit)?.name ?? 'unknown';
      return { ok: false, reason: `peer requires feature bit ${bit} (${name}) which we do not support` };
    }
  }
  return validateDependencies(remote);
}
