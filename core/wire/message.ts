/**
 * BOLT 1 messages: a 2-byte type, the fields of that type, then (where the table gives one) a TLV
 * stream extension. Encode and decode both come from the generated table; nothing per message is
 * written by hand.
 */
import { Reader, Writer } from './codec.ts';
import { WireError } from './errors.ts';
import { SchemaCodec } from './schema.ts';
import type { MessageDef } from './schema.ts';
import { MESSAGES, SUBTYPES, TLV_STREAMS } from './spec/peer_wire.ts';
import type { Message } from './spec/peer_wire.ts';

export const PEER_WIRE = new SchemaCodec({ messages: MESSAGES, tlvStreams: TLV_STREAMS, subtypes: SUBTYPES });

const BY_TYPE = new Map<number, MessageDef>(MESSAGES.map((m) => [m.type, m]));
const BY_NAME = new Map<string, MessageDef>(MESSAGES.map((m) => [m.name, m]));

export type DecodedMessage = { kind: 'known'; message: Message } | { kind: 'unknown'; type: number; even: boolean };

export function messageDef(name: Message['type']): MessageDef {
  return BY_NAME.get(name)!;
}

export function messageTypeName(type: number): string | undefined {
  return BY_TYPE.get(type)?.name;
}

export function encodeMessage(m: Message): Uint8Array {
  const def = BY_NAME.get(m.type);
  if (!def) throw new WireError('unknown_message', `no such message: ${String(m.type)}`);
  const w = new Writer().u16(def.type);
  const obj = m as unknown as Record<string, unknown>;
  PEER_WIRE.writeFields(w, def.fields, obj, def.name);
  PEER_WIRE.writeTlvStream(w, def.tlvStream, obj.tlvs as Record<string, unknown> | undefined);
  return w.finish();
}

/** Decodes one message. Throws only WireError. */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  if (bytes.length < 2) throw new WireError('truncated', 'message shorter than its 2-byte type');
  const r = new Reader(bytes);
  const type = r.u16('message type');
  const def = BY_TYPE.get(type);
  if (!def) return { kind: 'unknown', type, even: type % 2 === 0 };
  const obj: Record<string, unknown> = { type: def.name, ...PEER_WIRE.readFields(r, def.fields, def.name) };
  // BOLT 1: after the known fields comes the extension TLV stream (or data to ignore, when none is defined).
  if (def.tlvStream) obj.tlvs = PEER_WIRE.readTlvStream(r.rest(), def.tlvStream);
  return { kind: 'known', message: obj as unknown as Message };
}
