/**
 * BOLT 8 transport encryption after the handshake: every message is sent as an encrypted 2-byte length
 * (18 bytes with its MAC) followed by the encrypted body (+16 bytes MAC). Each direction has its own
 * key and nonce; a key is rotated after 1000 uses (500 messages) with the chaining key.
 */
import { hkdf2 } from '../crypto/hash.ts';
import type { AeadBackend } from '../crypto/aead.ts';
import { CryptoError } from '../crypto/errors.ts';
import { TransportError } from './errors.ts';

export const MAX_MESSAGE_LENGTH = 65535;
export const LENGTH_HEADER = 18;
export const MAC = 16;
const ROTATE_AFTER = 1000;
const EMPTY = new Uint8Array(0);

/** One direction's key, nonce and chaining key. */
export class CipherState {
  private nonce = 0;
  private readonly nonceBytes = new Uint8Array(12);
  private readonly nonceView = new DataView(this.nonceBytes.buffer);

  constructor(
    private key: Uint8Array,
    private ck: Uint8Array,
    private readonly aead: AeadBackend,
  ) {}

  /** BOLT 8 nonce: 32 zero bits then the 64-bit little-endian counter. */
  private nextNonce(): Uint8Array {
    this.nonceView.setUint32(4, this.nonce >>> 0, true);
    this.nonceView.setUint32(8, Math.floor(this.nonce / 0x100000000), true);
    return this.nonceBytes;
  }

  private used(): void {
    this.nonce++;
    if (this.nonce === ROTATE_AFTER) {
      // ck', k' = HKDF(ck, k); the nonce starts over.
      [this.ck, this.key] = hkdf2(this.ck, this.key);
      this.nonce = 0;
    }
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    const out = this.aead.encrypt(this.key, this.nextNonce(), EMPTY, plaintext);
    this.used();
    return out;
  }

  encryptParts(plaintext: Uint8Array): Uint8Array[] {
    const out = this.aead.encryptParts(this.key, this.nextNonce(), EMPTY, plaintext);
    this.used();
    return out;
  }

  /** Throws CryptoError('bad_mac') on a forged or corrupted ciphertext. */
  decrypt(ciphertext: Uint8Array): Uint8Array {
    const out = this.aead.decrypt(this.key, this.nextNonce(), EMPTY, ciphertext);
    this.used();
    return out;
  }
}

/** Encrypts whole messages into wire frames. */
export class MessageEncryptor {
  constructor(private readonly cs: CipherState) {}

  /** One frame as pieces (encrypted length, then body), to be written in order without joining. */
  encryptParts(msg: Uint8Array): Uint8Array[] {
    if (msg.length > MAX_MESSAGE_LENGTH) throw new TransportError('MESSAGE_TOO_LARGE', `${msg.length} bytes`);
    const len = Uint8Array.of(msg.length >> 8, msg.length & 0xff);
    return [...this.cs.encryptParts(len), ...this.cs.encryptParts(msg)];
  }

  encrypt(msg: Uint8Array): Uint8Array {
    const b = Buffer.concat(this.encryptParts(msg));
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
}

/**
 * Turns a byte stream of any chunking back into messages. After an error it stays failed: a stream
 * whose MAC failed cannot be trusted again.
 */
export class MessageDecryptor {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private bodyLength = -1;
  private failed: TransportError | undefined;

  constructor(private readonly cs: CipherState) {}

  /** True while part of a message has arrived and the rest has not. */
  get midMessage(): boolean {
    return this.buffered > 0 || this.bodyLength >= 0;
  }

  feed(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Uint8Array[] = [];
    try {
      for (;;) {
        if (this.bodyLength < 0) {
          if (this.buffered < LENGTH_HEADER) break;
          const lc = this.take(LENGTH_HEADER);
          const l = this.decryptOr(lc, 'BAD_LENGTH_MAC');
          this.bodyLength = (l[0]! << 8) | l[1]!;
        }
        if (this.buffered < this.bodyLength + MAC) break;
        const c = this.take(this.bodyLength + MAC);
        out.push(this.decryptOr(c, 'BAD_BODY_MAC'));
        this.bodyLength = -1;
      }
    } catch (e) {
      this.failed = e instanceof TransportError ? e : new TransportError('BAD_BODY_MAC', String(e));
      throw this.failed;
    }
    return out;
  }

  private decryptOr(c: Uint8Array, code: 'BAD_LENGTH_MAC' | 'BAD_BODY_MAC'): Uint8Array {
    try {
      return this.cs.decrypt(c);
    } catch (e) {
      if (e instanceof CryptoError) throw new TransportError(code);
      throw e;
    }
  }

  /** Removes exactly n bytes from the front of the buffered chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        out.set(c.subarray(0, k), off);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}
