/**
 * BOLT 4's wire formats, from the generated table (core/wire/spec/onion_wire.ts): the TLV hop payload
 * each hop finds in its onion layer, and the failure messages a failing node returns.
 */
import { Reader, Writer, WireError, SchemaCodec, encodeBigSize } from '../wire/index.ts';
import { concatBytes } from '../util/bytes.ts';
import type { MessageDef } from '../wire/index.ts';
import { MESSAGES, SUBTYPES, TLV_STREAMS } from '../wire/spec/onion_wire.ts';
import type { Message as FailureMessage, Payload } from '../wire/spec/onion_wire.ts';

export type { FailureMessage, Payload };

export const ONION_WIRE = new SchemaCodec({ messages: MESSAGES, tlvStreams: TLV_STREAMS, subtypes: SUBTYPES });

const BY_TYPE = new Map<number, MessageDef>(MESSAGES.map((m) => [m.type, m]));
const BY_NAME = new Map<string, MessageDef>(MESSAGES.map((m) => [m.name, m]));

export const FAILURE_FLAGS = { BADONION: 0x8000, PERM: 0x4000, NODE: 0x2000, UPDATE: 0x1000 } as const;

/** What a hop reads in its layer: where to forward (or that it is the last hop), how much, until when. */
export interface HopPayload {
  amountMsat: bigint;
  outgoingCltv: number;
  /** Absent for the final hop. */
  shortChannelId?: bigint;
  /** Final hop: the invoice's payment_secret and the total of all parts. */
  paymentSecret?: Uint8Array;
  totalMsat?: bigint;
  paymentMetadata?: Uint8Array;
}

export function encodePayload(p: HopPayload): Uint8Array {
  const tlvs: Payload = {
    amt_to_forward: { amt_to_forward: p.amountMsat },
    outgoing_cltv_value: { outgoing_cltv_value: p.outgoingCltv },
    ...(p.shortChannelId !== undefined ? { short_channel_id: { short_channel_id: p.shortChannelId } } : {}),
    ...(p.paymentSecret ? { payment_data: { payment_secret: p.paymentSecret, total_msat: p.totalMsat ?? p.amountMsat } } : {}),
    ...(p.paymentMetadata ? { payment_metadata: { payment_metadata: p.paymentMetadata } } : {}),
  };
  const w = new Writer();
  ONION_WIRE.writeTlvStream(w, 'payload', tlvs as unknown as Record<string, unknown>);
  return w.finish();
}

/** A hop payload as it goes into the onion: its BigSize length, then the TLV stream. */
export function framedPayload(p: HopPayload): Uint8Array {
  const body = encodePayload(p);
  return concatBytes(encodeBigSize(BigInt(body.length)), body);
}

/** The reason a payload is unusable, as BOLT 4's invalid_onion_payload wants it: the offending type. */
export class PayloadError extends Error {
  constructor(readonly tlvType: bigint, message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** Reads a hop payload; `final` says whether this hop is the last (no next onion). */
export function decodePayload(bytes: Uint8Array, final: boolean): HopPayload {
  let t: Payload;
  try {
    t = ONION_WIRE.readTlvStream(bytes, 'payload') as unknown as Payload;
  } catch (e) {
    if (e instanceof WireError) throw new PayloadError(0n, `the hop payload is malformed: ${e.message}`);
    throw e;
  }
  if (!t.amt_to_forward) throw new PayloadError(2n, 'the hop payload has no amt_to_forward');
  if (!t.outgoing_cltv_value) throw new PayloadError(4n, 'the hop payload has no outgoing_cltv_value');
  if (!final && !t.short_channel_id) throw new PayloadError(6n, 'a forwarding hop payload has no short_channel_id');
  if (t.encrypted_recipient_data || t.current_path_key) throw new PayloadError(10n, 'blinded paths are not supported');
  return {
    amountMsat: t.amt_to_forward.amt_to_forward,
    outgoingCltv: t.outgoing_cltv_value.outgoing_cltv_value,
    ...(t.short_channel_id ? { shortChannelId: t.short_channel_id.short_channel_id } : {}),
    ...(t.payment_data ? { paymentSecret: t.payment_data.payment_secret, totalMsat: t.payment_data.total_msat } : {}),
    ...(t.payment_metadata ? { paymentMetadata: t.payment_metadata.payment_metadata } : {}),
  };
}

export function encodeFailureMessage(m: FailureMessage): Uint8Array {
  const def = BY_NAME.get(m.type);
  if (!def) throw new WireError('unknown_message', `no such failure: ${String(m.type)}`);
  const w = new Writer().u16(def.type);
  ONION_WIRE.writeFields(w, def.fields, m as unknown as Record<string, unknown>, def.name);
  return w.finish();
}

export type DecodedFailure = { kind: 'known'; message: FailureMessage; code: number } | { kind: 'unknown'; code: number };

export function decodeFailureMessage(bytes: Uint8Array): DecodedFailure {
  const r = new Reader(bytes);
  const code = r.u16('failure code');
  const def = BY_TYPE.get(code);
  if (!def) return { kind: 'unknown', code };
  try {
    return { kind: 'known', code, message: { type: def.name, ...ONION_WIRE.readFields(r, def.fields, def.name) } as unknown as FailureMessage };
  } catch {
    return { kind: 'unknown', code };
  }
}

/** A failure's name in words for people ("incorrect_or_unknown_payment_details" → "incorrect or unknown payment details"). */
export function failureName(code: number): string {
  return (BY_TYPE.get(code)?.name ?? `failure code ${code}`).replace(/_/g, ' ');
}
