/**
 * The embedded store's file format: one append-only log per generation, `kv-<generation>.log`.
 *
 * File header (32 bytes, little-endian):
 *   0  magic `CLMBKVLG`        8  format version (u32)     12  generation (u32)
 *   16 first frame's sequence number (u48, then 2 zero bytes)
 *   24 CRC32 of bytes 0–23     28  zero
 *
 * Then frames, one per commit (a frame is the unit of atomicity: all of a write's operations or none):
 *   0  frame marker C7 4B 56 46   4  payload length (u32)   8  sequence number (u48, then 2 zero bytes)
 *   16 bytes from the first frame of this frame's group commit to this frame (u32)
 *   20 CRC32 of bytes 4–19 and the payload                  24 payload
 * Sequence numbers run on by one from the header's first one, so a lost or repeated frame shows.
 * Frames of one group commit are appended together and synced once; the next group is appended only
 * after that sync, so only the last group can be damaged by a crash (a power cut may persist its pages
 * in any order), and the group offset tells a frame of that last group from a later one.
 *
 * Payload: operation count (u32), then per operation
 *   type (u8: 1 put, 2 delete), namespace length (u8), key length (u16), value length (u32, 0 for delete),
 *   namespace, key (ASCII), value.
 */
import { crc32 } from 'node:zlib';
import type { KvOp } from './types.ts';

export const FILE_MAGIC = Buffer.from('CLMBKVLG', 'latin1');
export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 32;
export const FRAME_MAGIC = Buffer.from([0xc7, 0x4b, 0x56, 0x46]);
export const FRAME_HEADER_BYTES = 24;
/** Bytes an operation takes in a payload besides its namespace, key and value. */
export const OP_HEADER_BYTES = 8;
const OP_PUT = 1;
const OP_DELETE = 2;
/** Frames are limited well below the u32 length field, so a frame always fits one buffer. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

export const LOG_NAME = /^kv-([0-9]{8})\.log$/;
export function logName(generation: number): string {
  return `kv-${String(generation).padStart(8, '0')}.log`;
}

function writeU48(b: Buffer, at: number, n: number): void {
  b.writeUIntLE(n, at, 6);
  b.writeUInt16LE(0, at + 6);
}

function readU48(b: Buffer, at: number): number | undefined {
  return b.readUInt16LE(at + 6) === 0 ? b.readUIntLE(at, 6) : undefined;
}

export function encodeFileHeader(generation: number, firstSeq: number): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  FILE_MAGIC.copy(b, 0);
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeUInt32LE(generation, 12);
  writeU48(b, 16, firstSeq);
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

export type FileHeader = { ok: true; version: number; generation: number; firstSeq: number } | { ok: false; version?: number; problem: string };

export function decodeFileHeader(b: Buffer): FileHeader {
  if (b.length < FILE_HEADER_BYTES) return { ok: false, problem: `it is ${b.length} bytes long, shorter than its ${FILE_HEADER_BYTES}-byte header` };
  if (!b.subarray(0, 8).equals(FILE_MAGIC)) return { ok: false, problem: 'it does not start as a Coulomb store log does' };
  if (b.readUInt32LE(24) !== crc32(b.subarray(0, 24))) return { ok: false, problem: 'its header fails its checksum' };
  const version = b.readUInt32LE(8);
  const firstSeq = readU48(b, 16);
  if (firstSeq === undefined) return { ok: false, problem: 'its header holds an impossible sequence number' };
  if (version !== FORMAT_VERSION) return { ok: false, version, problem: `it has format version ${version}` };
  return { ok: true, version, generation: b.readUInt32LE(12), firstSeq };
}

export interface EncodedOps {
  payload: Buffer;
  /** Per operation: where its value starts in the payload (-1 for a delete). */
  valueAt: number[];
}

/** Encodes checked operations (checkOp) as one frame's payload; copies the values. */
export function encodePayload(ops: readonly KvOp[]): EncodedOps {
  let size = 4;
  for (const op of ops) size += OP_HEADER_BYTES + op.ns.length + op.key.length + (op.type === 'put' ? op.value.length : 0);
  if (size > MAX_PAYLOAD_BYTES) throw new RangeError(`a store write of ${size} bytes is over ${MAX_PAYLOAD_BYTES}; split it`);
  const payload = Buffer.allocUnsafe(size);
  const valueAt: number[] = [];
  payload.writeUInt32LE(ops.length, 0);
  let p = 4;
  for (const op of ops) {
    const len = op.type === 'put' ? op.value.length : 0;
    payload.writeUInt8(op.type === 'put' ? OP_PUT : OP_DELETE, p);
    payload.writeUInt8(op.ns.length, p + 1);
    payload.writeUInt16LE(op.key.length, p + 2);
    payload.writeUInt32LE(len, p + 4);
    p += OP_HEADER_BYTES;
    p += payload.write(op.ns, p, 'latin1');
    p += payload.write(op.key, p, 'latin1');
    if (op.type === 'put') {
      payload.set(op.value, p);
      valueAt.push(p);
      p += len;
    } else {
      valueAt.push(-1);
    }
  }
  return { payload, valueAt };
}

export type DecodedOp = { type: 'put'; ns: string; key: string; valueAt: number; len: number } | { type: 'delete'; ns: string; key: string };

/** Decodes a payload whose checksum held; throws an Error saying what is wrong if it is malformed. */
export function decodePayload(payload: Buffer): DecodedOp[] {
  if (payload.length < 4) throw new Error('a record too short to hold its operation count');
  const n = payload.readUInt32LE(0);
  const ops: DecodedOp[] = [];
  let p = 4;
  for (let i = 0; i < n; i++) {
    if (p + OP_HEADER_BYTES > payload.length) throw new Error(`operation ${i} runs past the end of its record`);
    const type = payload.readUInt8(p);
    const nsLen = payload.readUInt8(p + 1);
    const keyLen = payload.readUInt16LE(p + 2);
    const len = payload.readUInt32LE(p + 4);
    p += OP_HEADER_BYTES;
    if (p + nsLen + keyLen + len > payload.length) throw new Error(`operation ${i} runs past the end of its record`);
    const ns = payload.toString('latin1', p, p + nsLen);
    const key = payload.toString('latin1', p + nsLen, p + nsLen + keyLen);
    p += nsLen + keyLen;
    if (type === OP_PUT) {
      ops.push({ type: 'put', ns, key, valueAt: p, len });
      p += len;
    } else if (type === OP_DELETE && len === 0) {
      ops.push({ type: 'delete', ns, key });
    } else {
      throw new Error(`operation ${i} has unknown type ${type}`);
    }
  }
  if (p !== payload.length) throw new Error(`${payload.length - p} bytes follow the last operation of a record`);
  return ops;
}

function frameCrc(header: Buffer, payload: Uint8Array): number {
  return crc32(payload, crc32(header.subarray(4, 20)));
}

/** `group`: bytes from the first frame of this frame's group commit to this frame. */
export function encodeFrameHeader(seq: number, payload: Uint8Array, group: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  FRAME_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  writeU48(h, 8, seq);
  h.writeUInt32LE(group, 16);
  h.writeUInt32LE(frameCrc(h, payload), 20);
  return h;
}

/** A frame header's fields, or undefined when its marker is wrong. */
export function readFrameHeader(h: Buffer): { len: number; seq: number | undefined; group: number } | undefined {
  if (h.length < FRAME_HEADER_BYTES || !h.subarray(0, 4).equals(FRAME_MAGIC)) return undefined;
  return { len: h.readUInt32LE(4), seq: readU48(h, 8), group: h.readUInt32LE(16) };
}

export function frameChecksumOk(h: Buffer, payload: Uint8Array): boolean {
  return h.readUInt32LE(20) === frameCrc(h, payload);
}

/** The store's cost of a live record in a log: what compaction would keep of it. */
export function recordBytes(ns: string, key: string, valueLen: number): number {
  return OP_HEADER_BYTES + ns.length + key.length + valueLen;
}
