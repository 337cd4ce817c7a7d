/**
 * Bounds-checked reading and growable writing of BOLT 1's fundamental types. Every read checks the
 * remaining length first, so a hostile length can never make us read past the end or allocate.
 */
import { WireError } from './errors.ts';

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw new WireError('truncated', `${what} truncated: need ${n} bytes, have ${this.remaining}`);
  }

  bytes(n: number, what = 'field'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    const b = this.bytes(2, what);
    return (b[0]! << 8) | b[1]!;
  }

  u32(what = 'u32'): number {
    const b = this.bytes(4, what);
    return ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  }

  u64(what = 'u64'): bigint {
    const hi = BigInt(this.u32(what));
    const lo = BigInt(this.u32(what));
    return (hi << 32n) | lo;
  }

  /** Signed integers are two's complement, big-endian. */
  signed(size: 1 | 2 | 4 | 8, what: string): bigint {
    const b = this.bytes(size, what);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    const bits = BigInt(size * 8);
    return v >= 1n << (bits - 1n) ? v - (1n << bits) : v;
  }

  /** Truncated integer: the whole remaining input, at most `max` bytes, without leading zeros. */
  truncated(max: number, what: string): bigint {
    const n = this.remaining;
    if (n > max) throw new WireError('too_long', `${what} is ${n} bytes, more than ${max}`);
    const b = this.bytes(n, what);
    if (n > 0 && b[0] === 0) throw new WireError('non_minimal', `${what} is not minimally encoded`);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v;
  }

  bigsize(what = 'bigsize'): bigint {
    const first = this.u8(what);
    if (first < 0xfd) return BigInt(first);
    if (first === 0xfd) {
      const v = this.u16(what);
      if (v < 0xfd) throw new WireError('non_canonical', `decoded ${what} is not canonical`);
      return BigInt(v);
    }
    if (first === 0xfe) {
      const v = this.u32(what);
      if (v < 0x10000) throw new WireError('non_canonical', `decoded ${what} is not canonical`);
      return BigInt(v);
    }
    const v = this.u64(what);
    if (v < 0x100000000n) throw new WireError('non_canonical', `decoded ${what} is not canonical`);
    return v;
  }
}

export class Writer {
  private buf = new Uint8Array(64);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }

  u32(v: number): this {
    return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v);
  }

  u64(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffffffffn)).u32(Number(v & 0xffffffffn));
  }

  signed(size: 1 | 2 | 4 | 8, v: bigint): this {
    const bits = BigInt(size * 8);
    let u = v < 0n ? v + (1n << bits) : v;
    const out = new Uint8Array(size);
    for (let i = size - 1; i >= 0; i--) {
      out[i] = Number(u & 0xffn);
      u >>= 8n;
    }
    return this.bytes(out);
  }

  /** Minimal big-endian encoding (zero is empty). */
  truncated(v: bigint): this {
    const out: number[] = [];
    while (v > 0n) {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.bytes(Uint8Array.from(out));
  }

  bigsize(v: bigint): this {
    if (v < 0xfdn) return this.u8(Number(v));
    if (v <= 0xffffn) return this.u8(0xfd).u16(Number(v));
    if (v <= 0xffffffffn) return this.u8(0xfe).u32(Number(v));
    return this.u8(0xff).u64(v);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function encodeBigSize(v: bigint): Uint8Array {
  return new Writer().bigsize(v).finish();
}

export function decodeBigSize(b: Uint8Array): bigint {
  return new Reader(b).bigsize();
}
