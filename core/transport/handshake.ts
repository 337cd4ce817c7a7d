/**
 * BOLT 8 Noise_XK_secp256k1_ChaChaPoly_SHA256 handshake as pure state machines: bytes in, bytes out.
 * The ephemeral key can be injected so the spec's test vectors replay exactly.
 */
import { randomBytes } from 'node:crypto';
import { sha256, hkdf2 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import type { AeadBackend } from '../crypto/aead.ts';
import { defaultAead } from '../crypto/aead.ts';
import { TransportError } from './errors.ts';
import { concatBytes } from '../util/bytes.ts';
import type { TransportErrorCode } from './errors.ts';
import { CipherState, MessageDecryptor, MessageEncryptor } from './cipher.ts';

export const ACT_ONE_LENGTH = 50;
export const ACT_TWO_LENGTH = 50;
export const ACT_THREE_LENGTH = 66;

const PROTOCOL_NAME = new TextEncoder().encode('Noise_XK_secp256k1_ChaChaPoly_SHA256');
const PROLOGUE = new TextEncoder().encode('lightning');
const EMPTY = new Uint8Array(0);
const ZERO_NONCE = new Uint8Array(12);
const NONCE_ONE = (() => {
  const n = new Uint8Array(12);
  n[4] = 1;
  return n;
})();


export interface HandshakeResult {
  /** The peer's static (node) public key. */
  remoteStatic: Uint8Array;
  sk: Uint8Array;
  rk: Uint8Array;
  ck: Uint8Array;
}

/** The encrypt/decrypt pair for a finished handshake. */
export function transportFor(result: HandshakeResult, aead: AeadBackend = defaultAead()): { encryptor: MessageEncryptor; decryptor: MessageDecryptor } {
  return {
    encryptor: new MessageEncryptor(new CipherState(result.sk, result.ck, aead)),
    decryptor: new MessageDecryptor(new CipherState(result.rk, result.ck, aead)),
  };
}

/** The symmetric part both roles share: h, ck and the AEAD. */
class SymmetricState {
  h: Uint8Array;
  ck: Uint8Array;

  constructor(
    responderStatic: Uint8Array,
    readonly aead: AeadBackend,
  ) {
    // h = SHA-256(protocolName); ck = h; h = SHA-256(h || prologue); h = SHA-256(h || rs.pub)
    this.h = sha256(PROTOCOL_NAME);
    this.ck = this.h;
    this.mixHash(PROLOGUE);
    this.mixHash(responderStatic);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(concatBytes(this.h, data));
  }

  /** ck, k = HKDF(ck, ikm) */
  mixKey(ikm: Uint8Array): Uint8Array {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    return k;
  }

  encrypt(k: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const c = this.aead.encrypt(k, nonce, this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  decrypt(k: Uint8Array, nonce: Uint8Array, c: Uint8Array, fail: TransportErrorCode): Uint8Array {
    let p: Uint8Array;
    try {
      p = this.aead.decrypt(k, nonce, this.h, c);
    } catch {
      throw new TransportError(fail);
    }
    this.mixHash(c);
    return p;
  }

  split(): { first: Uint8Array; second: Uint8Array } {
    const [first, second] = hkdf2(this.ck, EMPTY);
    return { first, second };
  }
}

/** The public key of a secret we were handed, or a TransportError naming which one was bad. */
function publicKeyOf(secret: Uint8Array, fail: TransportErrorCode): Uint8Array {
  if (!secp.isPrivate(secret)) throw new TransportError(fail);
  return secp.getPublicKey(secret);
}

/** A fresh ephemeral key per handshake, or the injected one (the spec vectors fix it). */
function ephemeral(e?: Uint8Array): { priv: Uint8Array; pub: Uint8Array } {
  let priv = e ?? new Uint8Array(randomBytes(32));
  // A random 32 bytes is not below n with probability ~2^-128; draw again rather than fail.
  while (!e && !secp.isPrivate(priv)) priv = new Uint8Array(randomBytes(32));
  return { priv, pub: publicKeyOf(priv, 'BAD_EPHEMERAL_KEY') };
}

function readAct(input: Uint8Array, length: number, act: 1 | 2 | 3): void {
  if (input.length !== length) throw new TransportError(`ACT${act}_READ_FAILED` as TransportErrorCode, `${input.length} of ${length} bytes`);
  // BOLT 8: an unknown handshake version aborts the connection.
  if (input[0] !== 0) throw new TransportError(`ACT${act}_BAD_VERSION` as TransportErrorCode, String(input[0]));
}

function parsePoint(b: Uint8Array, fail: TransportErrorCode): Uint8Array {
  if (!secp.isPoint(b)) throw new TransportError(fail);
  return b;
}

/** The dialing side: knows the responder's node key in advance. */
export class InitiatorHandshake {
  private readonly ss: SymmetricState;
  private readonly e: { priv: Uint8Array; pub: Uint8Array };
  private readonly lsPub: Uint8Array;
  private step: 'act1' | 'act2' | 'done' = 'act1';

  constructor(
    private readonly lsPriv: Uint8Array,
    private readonly rsPub: Uint8Array,
    opts: { ephemeralSecret?: Uint8Array; aead?: AeadBackend } = {},
  ) {
    this.lsPub = publicKeyOf(lsPriv, 'BAD_LOCAL_KEY');
    if (!secp.isPoint(rsPub)) throw new TransportError('BAD_REMOTE_KEY');
    this.e = ephemeral(opts.ephemeralSecret);
    this.ss = new SymmetricState(rsPub, opts.aead ?? defaultAead());
  }

  actOne(): Uint8Array {
    if (this.step !== 'act1') throw new TransportError('BAD_STATE');
    this.step = 'act2';
    const ss = this.ss;
    ss.mixHash(this.e.pub);
    const tempK1 = ss.mixKey(secp.ecdh(this.e.priv, this.rsPub)); // es
    const c = ss.encrypt(tempK1, ZERO_NONCE, EMPTY);
    const m = new Uint8Array(ACT_ONE_LENGTH);
    m.set(this.e.pub, 1);
    m.set(c, 34);
    return m;
  }

  /** Reads act two and returns act three plus the finished session keys. */
  actTwo(input: Uint8Array): { actThree: Uint8Array; result: HandshakeResult } {
    if (this.step !== 'act2') throw new TransportError('BAD_STATE');
    this.step = 'done';
    readAct(input, ACT_TWO_LENGTH, 2);
    const ss = this.ss;
    const re = parsePoint(input.subarray(1, 34), 'ACT2_BAD_PUBKEY');
    ss.mixHash(re);
    const tempK2 = ss.mixKey(secp.ecdh(this.e.priv, re)); // ee
    ss.decrypt(tempK2, ZERO_NONCE, input.subarray(34, 50), 'ACT2_BAD_TAG');
    // Act three: our static key, encrypted, then se.
    const c = ss.encrypt(tempK2, NONCE_ONE, this.lsPub);
    const tempK3 = ss.mixKey(secp.ecdh(this.lsPriv, re)); // se
    const t = ss.encrypt(tempK3, ZERO_NONCE, EMPTY);
    const { first: sk, second: rk } = ss.split();
    const actThree = new Uint8Array(ACT_THREE_LENGTH);
    actThree.set(c, 1);
    actThree.set(t, 50);
    return { actThree, result: { remoteStatic: this.rsPub, sk, rk, ck: ss.ck } };
  }
}

/** The listening side: learns the initiator's node key in act three. */
export class ResponderHandshake {
  private readonly ss: SymmetricState;
  private readonly e: { priv: Uint8Array; pub: Uint8Array };
  private tempK2: Uint8Array | undefined;
  private step: 'act1' | 'act3' | 'done' = 'act1';

  constructor(
    private readonly lsPriv: Uint8Array,
    opts: { ephemeralSecret?: Uint8Array; aead?: AeadBackend } = {},
  ) {
    const lsPub = publicKeyOf(lsPriv, 'BAD_LOCAL_KEY');
    this.e = ephemeral(opts.ephemeralSecret);
    this.ss = new SymmetricState(lsPub, opts.aead ?? defaultAead());
  }

  /** Reads act one and returns act two. */
  actOne(input: Uint8Array): Uint8Array {
    if (this.step !== 'act1') throw new TransportError('BAD_STATE');
    this.step = 'act3';
    readAct(input, ACT_ONE_LENGTH, 1);
    const ss = this.ss;
    const re = parsePoint(input.subarray(1, 34), 'ACT1_BAD_PUBKEY');
    ss.mixHash(re);
    const tempK1 = ss.mixKey(secp.ecdh(this.lsPriv, re)); // es
    ss.decrypt(tempK1, ZERO_NONCE, input.subarray(34, 50), 'ACT1_BAD_TAG');
    // Act two.
    ss.mixHash(this.e.pub);
    this.tempK2 = ss.mixKey(secp.ecdh(this.e.priv, re)); // ee
    const c = ss.encrypt(this.tempK2, ZERO_NONCE, EMPTY);
    const m = new Uint8Array(ACT_TWO_LENGTH);
    m.set(this.e.pub, 1);
    m.set(c, 34);
    return m;
  }

  actThree(input: Uint8Array): HandshakeResult {
    if (this.step !== 'act3' || !this.tempK2) throw new TransportError('BAD_STATE');
    this.step = 'done';
    readAct(input, ACT_THREE_LENGTH, 3);
    const ss = this.ss;
    const rs = parsePoint(ss.decrypt(this.tempK2, NONCE_ONE, input.subarray(1, 50), 'ACT3_BAD_CIPHERTEXT'), 'ACT3_BAD_PUBKEY');
    const tempK3 = ss.mixKey(secp.ecdh(this.e.priv, rs)); // se
    ss.decrypt(tempK3, ZERO_NONCE, input.subarray(50, 66), 'ACT3_BAD_TAG');
    const { first: rk, second: sk } = ss.split();
    return { remoteStatic: rs, sk, rk, ck: ss.ck };
  }
}
