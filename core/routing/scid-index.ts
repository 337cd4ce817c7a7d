/**
 * short_channel_id → channel slot, as an open-addressing hash table over typed arrays. A Map keyed by
 * bigint hashes a fresh BigInt on every call and was most of the time a mainnet graph took to load;
 * here an id is its two 32-bit halves (block and the upper tx bits; the lower tx bits and output),
 * and the table is three flat arrays (about 24 bytes an entry at most half full).
 */
const EMPTY = -1;
const DELETED = -2;

export function scidHigh(scid: bigint): number {
  return Number(scid >> 32n);
}

export function scidLow(scid: bigint): number {
  return Number(scid & 0xffffffffn);
}

export function scidOf(high: number, low: number): bigint {
  return (BigInt(high) << 32n) | BigInt(low);
}

function hash(high: number, low: number): number {
  let h = Math.imul(high ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(low, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 13)) >>> 0;
}

export class ScidIndex {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private val: Int32Array;
  private mask: number;
  private used = 0; // live entries and tombstones
  size = 0;

  constructor(expected = 1024) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.val = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  /** The slot of a channel id, or -1. */
  get(high: number, low: number): number {
    for (let i = hash(high, low) & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.val[i]!;
      if (v === EMPTY) return -1;
      if (v !== DELETED && this.hi[i] === high && this.lo[i] === low) return v;
    }
  }

  /** Adds an id; false (and nothing changed) when it is there already. */
  add(high: number, low: number, slot: number): boolean {
    if ((this.used + 1) * 2 > this.val.length) this.rehash(this.size * 4 > this.val.length ? this.val.length * 2 : this.val.length);
    let free = -1;
    let i = hash(high, low) & this.mask;
    for (; ; i = (i + 1) & this.mask) {
      const v = this.val[i]!;
      if (v === EMPTY) break;
      if (v === DELETED) {
        if (free < 0) free = i;
      } else if (this.hi[i] === high && this.lo[i] === low) return false;
    }
    if (free >= 0) i = free;
    else this.used++;
    this.hi[i] = high;
    this.lo[i] = low;
    this.val[i] = slot;
    this.size++;
    return true;
  }

  delete(high: number, low: number): boolean {
    for (let i = hash(high, low) & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.val[i]!;
      if (v === EMPTY) return false;
      if (v !== DELETED && this.hi[i] === high && this.lo[i] === low) {
        this.val[i] = DELETED;
        this.size--;
        return true;
      }
    }
  }

  /** Every slot held, in table order. */
  *slots(): IterableIterator<number> {
    for (let i = 0; i < this.val.length; i++) if (this.val[i]! >= 0) yield this.val[i]!;
  }

  private rehash(cap: number): void {
    const { hi, lo, val } = this;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.val = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.used = 0;
    this.size = 0;
    for (let i = 0; i < val.length; i++) if (val[i]! >= 0) this.add(hi[i]!, lo[i]!, val[i]!);
  }
}
