/**
 * Channel keys at rest. The channel store keeps each channel's key index (its BIP32 derivation index,
 * core/keys/channel-keys.ts) and public data, never a secret: the secrets are derived again from the
 * wallet's seed when the wallet is unlocked. Channel stores of schema 1 held them in plaintext; the
 * upgrade to schema 2 checks every stored secret against the derived one and only then drops it, so a
 * key is never lost silently.
 */
import { hex } from '@scure/base';
import { basepointsOf } from './channel-keys.ts';
import type { ChannelBasepoints, ChannelSecrets } from './channel-keys.ts';

const SECRET_FIELDS = ['fundingSecret', 'revocationBasepointSecret', 'htlcBasepointSecret', 'paymentBasepointSecret', 'delayedPaymentBasepointSecret', 'commitmentSeed'] as const;
const BASEPOINT_FIELDS = ['fundingPubkey', 'revocationBasepoint', 'htlcBasepoint', 'paymentBasepoint', 'delayedPaymentBasepoint'] as const;

/** A stored channel whose keys are not the ones this wallet's seed derives for it. */
export class ChannelKeyMismatchError extends Error {
  constructor(
    readonly channel: string,
    readonly field: string,
  ) {
    super(
      `Channel ${channel} holds a ${field} that this wallet's seed does not derive, so it was written with another wallet or is damaged; Coulomb leaves the channel store as it is: unlock with the wallet that opened the channel, or restore the data directory from a backup.`,
    );
    this.name = 'ChannelKeyMismatchError';
  }
}

interface StoredRecord {
  key?: unknown;
  index?: unknown;
  state?: { secrets?: Record<string, unknown> } & Record<string, unknown>;
}

/** Hex of a value the channel codec stored as `{ "$b": hex }`. */
function storedHex(v: unknown): string | undefined {
  return v && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string' ? (v as { $b: string }).$b.toLowerCase() : undefined;
}

/**
 * Channel store schema 1 → 2: each channel's stored secrets must equal those derived from the seed at
 * its index; then they are dropped. Throws ChannelKeyMismatchError otherwise (the store then keeps
 * the file as it was). Pure given `derive`, so it may run again after a crash.
 */
export function dropStoredChannelSecrets(data: unknown, derive: (index: number) => ChannelSecrets): unknown {
  const d = structuredClone(data) as { channels?: Record<string, StoredRecord> };
  for (const [key, rec] of Object.entries(d.channels ?? {})) {
    const stored = rec.state?.secrets;
    if (!stored) continue;
    if (typeof rec.index !== 'number') throw new ChannelKeyMismatchError(key, 'key index');
    const derived = derive(rec.index);
    for (const f of SECRET_FIELDS) {
      if (storedHex(stored[f]) !== hex.encode(derived[f])) throw new ChannelKeyMismatchError(key, f);
    }
    delete rec.state!.secrets;
  }
  return d;
}

/** Checks that the secrets derived for a stored channel are the ones its public basepoints came from. */
export function checkDerivedBasepoints(channel: string, stored: ChannelBasepoints, secrets: ChannelSecrets): void {
  const derived = basepointsOf(secrets);
  for (const f of BASEPOINT_FIELDS) {
    if (hex.encode(stored[f]) !== hex.encode(derived[f])) throw new ChannelKeyMismatchError(channel, f);
  }
}
