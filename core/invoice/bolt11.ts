/**
 * BOLT 11 invoices: decoding (every field, signature recovery, network, expiry) and encoding with
 * signing. Bech32 without the 90-character limit, from @scure/base; secp256k1 from core/crypto.
 */
import { bech32 } from '@scure/base';
import { sha256 } from '../crypto/hash.ts';
import { recoverPublicKey, secp, signRecoverable } from '../crypto/secp256k1.ts';
import { FeatureSet, featureForBit } from '../wire/index.ts';

export type InvoiceNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

const PREFIXES: [string, InvoiceNetwork][] = [['bcrt', 'regtest'], ['bc', 'mainnet'], ['tbs', 'signet'], ['tb', 'testnet']];

export class InvoiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvoiceError';
  }
}

export interface RouteHintHop {
  pubkey: Uint8Array;
  shortChannelId: bigint;
  feeBaseMsat: number;
  feeProportionalMillionths: number;
  cltvExpiryDelta: number;
}

/** An invoice that can be paid: it has everything a payment needs, its payment secret included. */
export interface Invoice {
  network: InvoiceNetwork;
  amountMsat?: bigint;
  timestamp: number;
  paymentHash: Uint8Array;
  paymentSecret: Uint8Array;
  description?: string;
  descriptionHash?: Uint8Array;
  payee: Uint8Array;
  /** Seconds after timestamp; 3600 when absent. */
  expiry: number;
  minFinalCltvExpiryDelta: number;
  fallbacks: { version: number; program: Uint8Array }[];
  routeHints: RouteHintHop[][];
  features?: FeatureSet;
  metadata?: Uint8Array;
  /** The order the tagged fields came in (for faithful re-encoding). */
  fieldOrder: string[];
}

/**
 * An invoice as its writer made it. Wallets wrote invoices without a payment secret (the s field)
 * until about 2020; they still decode, so a person can see what one asks for, but no payment can be
 * made to one (see payableInvoice).
 */
export interface DecodedInvoice extends Omit<Invoice, 'paymentSecret'> {
  paymentSecret?: Uint8Array;
}

const TAG = { p: 1, d: 13, n: 19, h: 23, x: 6, c: 24, f: 9, r: 3, '9': 5, s: 16, m: 27 } as const;
const BY_CODE = new Map<number, string>(Object.entries(TAG).map(([k, v]) => [v, k]));

function wordsToInt(w: number[]): number {
  return w.reduce((a, x) => a * 32 + x, 0);
}

function intToWords(n: number, len?: number): number[] {
  const out: number[] = [];
  do {
    out.unshift(n % 32);
    n = Math.floor(n / 32);
  } while (n > 0);
  while (len !== undefined && out.length < len) out.unshift(0);
  return out;
}

function parseAmount(s: string): bigint | undefined {
  if (!s) return undefined;
  const m = /^(\d+)([munp]?)$/.exec(s);
  if (!m) throw new InvoiceError('invalid_multiplier', `"${s}" is not an amount with a known multiplier (m, u, n, p)`);
  const v = BigInt(m[1]!);
  switch (m[2]) {
    case 'm':
      return v * 100_000_000n;
    case 'u':
      return v * 100_000n;
    case 'n':
      return v * 100n;
    case 'p':
      if (v % 10n !== 0n) throw new InvoiceError('sub_millisatoshi_amount', 'the amount is not a whole number of millisatoshis');
      return v / 10n;
    default:
      return v * 100_000_000_000n;
  }
}

function formatAmount(msat: bigint): string {
  if (msat % 100_000_000_000n === 0n) return (msat / 100_000_000_000n).toString();
  if (msat % 100_000_000n === 0n) return `${msat / 100_000_000n}m`;
  if (msat % 100_000n === 0n) return `${msat / 100_000n}u`;
  if (msat % 100n === 0n) return `${msat / 100n}n`;
  return `${msat * 10n}p`;
}

/**
 * Decodes and checks an invoice; throws InvoiceError with a sentence. Every BOLT 11 reader rule applies
 * but one: an invoice without a payment secret decodes (a payment to it is refused by payableInvoice).
 */
export function decodeInvoice(invoice: string): DecodedInvoice {
  const s = invoice.trim();
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new InvoiceError('mixed_case', 'the invoice mixes upper and lower case');
  const lower = s.toLowerCase().replace(/^lightning:/, '');
  if (!lower.includes('1')) throw new InvoiceError('no_separator', 'this is not a Lightning invoice (no separator)');
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(lower as `${string}1${string}`, false);
  } catch (e) {
    throw new InvoiceError('invalid_checksum', `this is not a valid Lightning invoice: ${(e as Error).message}`);
  }
  const hrp = decoded.prefix;
  if (!hrp.startsWith('ln')) throw new InvoiceError('invalid_prefix', 'a Lightning invoice starts with "ln"');
  const prefix = PREFIXES.find(([p]) => hrp.slice(2).startsWith(p));
  if (!prefix) throw new InvoiceError('unknown_network', `unknown network prefix in "${hrp}"`);
  const amountMsat = parseAmount(hrp.slice(2 + prefix[0].length));
  const words = decoded.words;
  if (words.length < 7 + 104) throw new InvoiceError('too_short', 'the invoice is too short to hold a timestamp and a signature');
  const sigWords = words.slice(words.length - 104);
  const data = words.slice(0, words.length - 104);
  const timestamp = wordsToInt(data.slice(0, 7));
  const inv: Partial<Invoice> & { fallbacks: Invoice['fallbacks']; routeHints: RouteHintHop[][]; fieldOrder: string[] } = { fallbacks: [], routeHints: [], fieldOrder: [] };
  let payee: Uint8Array | undefined;
  for (let i = 7; i < data.length; ) {
    if (i + 3 > data.length) throw new InvoiceError('truncated', 'a tagged field is cut short');
    const code = data[i]!;
    const len = data[i + 1]! * 32 + data[i + 2]!;
    const w = data.slice(i + 3, i + 3 + len);
    if (w.length !== len) throw new InvoiceError('truncated', 'a tagged field is cut short');
    i += 3 + len;
    const tag = BY_CODE.get(code);
    if (!tag) continue; // unknown fields are skipped
    const bytes = (): Uint8Array => Uint8Array.from(bech32.fromWordsUnsafe(w) ?? []);
    const fixed = (n: number, what: string): Uint8Array => {
      // Since BOLT 11's current reader rules, a p, h, s or n field of the wrong length fails the invoice.
      if (len !== n) throw new InvoiceError('bad_field_length', `the ${what} field has the wrong length`);
      return Uint8Array.from(bech32.fromWords(w));
    };
    inv.fieldOrder.push(tag);
    switch (tag) {
      case 'p':
        inv.paymentHash = fixed(52, 'payment hash');
        break;
      case 's':
        inv.paymentSecret = fixed(52, 'payment secret');
        break;
      case 'h':
        inv.descriptionHash = fixed(52, 'description hash');
        break;
      case 'n':
        payee = fixed(53, 'payee');
        break;
      case 'd':
        try {
          inv.description = new TextDecoder('utf-8', { fatal: true }).decode(bytes());
        } catch {
          throw new InvoiceError('bad_description', 'the description is not valid UTF-8');
        }
        break;
      case 'x':
        inv.expiry = wordsToInt(w);
        break;
      case 'c':
        inv.minFinalCltvExpiryDelta = wordsToInt(w);
        break;
      case 'f':
        if (w.length) inv.fallbacks.push({ version: w[0]!, program: Uint8Array.from(bech32.fromWordsUnsafe(w.slice(1)) ?? []) });
        break;
      case 'r': {
        const b = bytes();
        const hops: RouteHintHop[] = [];
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let o = 0; o + 51 <= b.length; o += 51) {
          hops.push({
            pubkey: b.slice(o, o + 33),
            shortChannelId: view.getBigUint64(o + 33),
            feeBaseMsat: view.getUint32(o + 41),
            feeProportionalMillionths: view.getUint32(o + 45),
            cltvExpiryDelta: view.getUint16(o + 49),
          });
        }
        inv.routeHints.push(hops);
        break;
      }
      case '9': {
        // Features are a bit field in 5-bit words, bit 0 the lowest bit of the last word.
        const bits: number[] = [];
        w.forEach((x, idx) => {
          for (let j = 0; j < 5; j++) if (x & (1 << j)) bits.push((w.length - 1 - idx) * 5 + j);
        });
        const f = FeatureSet.fromBits(bits);
        for (const bit of f.bits()) if (bit % 2 === 0 && !featureForBit(bit)) throw new InvoiceError('unknown_even_feature_bit', `the invoice requires feature bit ${bit}, which this wallet does not know`);
        inv.features = f;
        break;
      }
      case 'm':
        inv.metadata = bytes();
        break;
    }
  }
  if (!inv.paymentHash) throw new InvoiceError('missing_payment_hash', 'the invoice has no payment hash');
  if (inv.description === undefined && !inv.descriptionHash) throw new InvoiceError('missing_description', 'the invoice has neither a description nor its hash');
  // The signature covers the human-readable part and the data, as bytes (words padded to a byte).
  const signed = new Uint8Array([...new TextEncoder().encode(hrp), ...bech32Bytes(data)]);
  const digest = sha256(signed);
  const sig = Uint8Array.from(bech32.fromWords(sigWords));
  const compact = sig.slice(0, 64);
  const recid = sig[64]!;
  if (payee) {
    // With an n field the signature must verify against it, low-S (BOLT 11).
    if (!secp.isPoint(payee) || !secp.verify(compact, digest, payee)) throw new InvoiceError('high_s_with_n_field', 'the signature does not verify against the payee (n) field with a low-S signature');
  } else {
    const recovered = recoverPublicKey(digest, compact, recid);
    if (!recovered) throw new InvoiceError('unrecoverable_signature', 'no public key can be recovered from the signature');
    payee = recovered;
  }
  return {
    network: prefix[1],
    ...(amountMsat !== undefined ? { amountMsat } : {}),
    timestamp,
    paymentHash: inv.paymentHash,
    ...(inv.paymentSecret ? { paymentSecret: inv.paymentSecret } : {}),
    ...(inv.description !== undefined ? { description: inv.description } : {}),
    ...(inv.descriptionHash ? { descriptionHash: inv.descriptionHash } : {}),
    payee,
    expiry: inv.expiry ?? 3600,
    minFinalCltvExpiryDelta: inv.minFinalCltvExpiryDelta ?? 18,
    fallbacks: inv.fallbacks,
    routeHints: inv.routeHints,
    ...(inv.features ? { features: inv.features } : {}),
    ...(inv.metadata ? { metadata: inv.metadata } : {}),
    fieldOrder: inv.fieldOrder,
  };
}

/** Words to bytes, padding the last byte with zero bits (how BOLT 11 hashes the data part). */
function bech32Bytes(words: number[]): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Uint8Array.from(out);
}

/**
 * The invoice as one that can be paid, or an InvoiceError saying why not. BOLT 11 readers must not pay
 * an invoice without a payment secret, and current nodes fail any payment that carries none.
 */
export function payableInvoice(inv: DecodedInvoice): Invoice {
  const { paymentSecret } = inv;
  if (!paymentSecret) {
    throw new InvoiceError(
      'missing_payment_secret',
      'this invoice comes from an old wallet and has no payment secret, and current nodes reject payments without one; ask the payee for a new invoice',
    );
  }
  return { ...inv, paymentSecret };
}

export function isExpired(inv: Pick<DecodedInvoice, 'timestamp' | 'expiry'>, nowSeconds: number): boolean {
  return nowSeconds > inv.timestamp + inv.expiry;
}

export { formatAmount, intToWords };

export interface InvoiceRequest {
  network: InvoiceNetwork;
  amountMsat?: bigint;
  timestamp: number;
  paymentHash: Uint8Array;
  paymentSecret: Uint8Array;
  description?: string;
  descriptionHash?: Uint8Array;
  /** Include the payee (n) field; otherwise readers recover it from the signature. */
  includePayee?: boolean;
  expiry?: number;
  minFinalCltvExpiryDelta?: number;
  fallbacks?: { version: number; program: Uint8Array }[];
  routeHints?: RouteHintHop[][];
  features?: FeatureSet;
  metadata?: Uint8Array;
  /** Tagged fields in this order (default: s p d/h n x c f r 9 m). */
  fieldOrder?: string[];
}

function field(tag: keyof typeof TAG, words: number[]): number[] {
  return [TAG[tag], words.length >> 5, words.length & 31, ...words];
}

/** Encodes and signs an invoice with the node key (deterministic signature, low-S). */
export function encodeInvoice(r: InvoiceRequest, nodeSecret: Uint8Array): string {
  const prefix = PREFIXES.find(([, n]) => n === r.network)![0];
  const hrp = `ln${prefix}${r.amountMsat !== undefined ? formatAmount(r.amountMsat) : ''}`;
  const parts: Record<string, number[][]> = {};
  const add = (tag: keyof typeof TAG, words: number[]): void => void (parts[tag] ??= []).push(field(tag, words));
  add('s', bech32.toWords(r.paymentSecret));
  add('p', bech32.toWords(r.paymentHash));
  if (r.description !== undefined) add('d', bech32.toWords(new TextEncoder().encode(r.description)));
  if (r.descriptionHash) add('h', bech32.toWords(r.descriptionHash));
  if (r.includePayee) add('n', bech32.toWords(secp.getPublicKey(nodeSecret)));
  if (r.expiry !== undefined) add('x', intToWords(r.expiry));
  if (r.minFinalCltvExpiryDelta !== undefined) add('c', intToWords(r.minFinalCltvExpiryDelta));
  for (const f of r.fallbacks ?? []) add('f', [f.version, ...bech32.toWords(f.program)]);
  for (const hops of r.routeHints ?? []) {
    const b = new Uint8Array(51 * hops.length);
    const view = new DataView(b.buffer);
    hops.forEach((h, i) => {
      b.set(h.pubkey, i * 51);
      view.setBigUint64(i * 51 + 33, h.shortChannelId);
      view.setUint32(i * 51 + 41, h.feeBaseMsat);
      view.setUint32(i * 51 + 45, h.feeProportionalMillionths);
      view.setUint16(i * 51 + 49, h.cltvExpiryDelta);
    });
    add('r', bech32.toWords(b));
  }
  if (r.features) {
    const bits = r.features.bits();
    const n = bits.length ? Math.floor(bits[bits.length - 1]! / 5) + 1 : 0;
    const w = new Array<number>(n).fill(0);
    for (const bit of bits) w[n - 1 - Math.floor(bit / 5)]! |= 1 << bit % 5;
    add('9', w);
  }
  if (r.metadata) add('m', bech32.toWords(r.metadata));
  const order = r.fieldOrder ?? ['s', 'p', 'd', 'h', 'n', 'x', 'c', 'f', 'r', '9', 'm'];
  const used = new Map<string, number>();
  const data: number[] = [...intToWords(r.timestamp, 7)];
  for (const tag of order) {
    const list = parts[tag];
    const k = used.get(tag) ?? 0;
    // Repeated tags (f, r) take their next occurrence each time the order names them.
    const take = r.fieldOrder ? (list?.[k] ? [list[k]!] : []) : (list ?? []);
    for (const f of take) data.push(...f);
    used.set(tag, k + take.length);
  }
  const digest = sha256(new Uint8Array([...new TextEncoder().encode(hrp), ...bech32Bytes(data)]));
  const { signature, recoveryId } = signRecoverable(digest, nodeSecret);
  const sigWords = bech32.toWords(Uint8Array.from([...signature, recoveryId]));
  return bech32.encode(hrp, [...data, ...sigWords], false);
}
