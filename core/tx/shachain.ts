/**
 * Per-commitment secrets (BOLT 3): generated from one seed so that each revealed secret lets the
 * receiver derive all earlier ones, and stored by the receiver in 49 slots. A secret that does not
 * derive the ones already stored is refused: the peer is lying about its history.
 */
import { sha256 } from '../crypto/hash.ts';
import { bytesEqual } from '../util/bytes.ts';

/** Secrets are numbered from 2^48 - 1 down, one per commitment. */
export const FIRST_INDEX = (1n << 48n) - 1n;

function flip(p: Uint8Array, bit: number): void {
  p[bit >> 3]! ^= 1 << (bit & 7);
}

function derive(base: Uint8Array, bits: number, index: bigint): Uint8Array {
  let p = Uint8Array.from(base);
  for (let b = bits - 1; b >= 0; b--) {
    if ((index >> BigInt(b)) & 1n) {
      flip(p, b);
      p = Uint8Array.from(sha256(p));
    }
  }
  return p;
}

/** The secret for `index` from the sender's seed. */
export function perCommitmentSecret(seed: Uint8Array, index: bigint): Uint8Array {
  return derive(seed, 48, index);
}

/** The slot a secret goes in: the number of trailing zero bits of its index (48 for index 0). */
function slotFor(index: bigint): number {
  for (let b = 0; b < 48; b++) if ((index >> BigInt(b)) & 1n) return b;
  return 48;
}

export class ShachainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShachainError';
  }
}

export interface StoredSecret {
  index: string;
  secret: string;
}

/** The receiver's compact store of every secret the peer revealed. */
export class SecretStore {
  private readonly known: ({ index: bigint; secret: Uint8Array } | undefined)[] = new Array(49).fill(undefined);

  /** Adds the secret for `index`; throws ShachainError when it does not derive the earlier ones. */
  insert(index: bigint, secret: Uint8Array): void {
    const slot = slotFor(index);
    for (let b = 0; b < slot; b++) {
      const k = this.known[b];
      if (k && !bytesEqual(derive(secret, slot, k.index), k.secret)) {
        throw new ShachainError(`per-commitment secret ${index} does not derive the earlier secret ${k.index}`);
      }
    }
    this.known[slot] = { index, secret: Uint8Array.from(secret) };
  }

  /** The secret for `index`, if it was revealed (directly or through a later one). */
  lookup(index: bigint): Uint8Array | undefined {
    for (let b = 0; b <= 48; b++) {
      const k = this.known[b];
      if (!k) continue;
      const mask = ~((1n << BigInt(b)) - 1n) & FIRST_INDEX;
      if ((index & mask) === k.index) return derive(k.secret, b, index);
    }
    return undefined;
  }

  toJSON(): StoredSecret[] {
    return this.known.flatMap((k) => (k ? [{ index: k.index.toString(), secret: Buffer.from(k.secret).toString('hex') }] : []));
  }

  static fromJSON(rows: StoredSecret[]): SecretStore {
    const s = new SecretStore();
    for (const r of rows) s.known[slotFor(BigInt(r.index))] = { index: BigInt(r.index), secret: Uint8Array.from(Buffer.from(r.secret, 'hex')) };
    return s;
  }
}
