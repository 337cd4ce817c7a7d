import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { createOnion, peelOnion, PACKET_SIZE } from '../../core/onion/sphinx.ts';
import { ONION_WIRE } from '../../core/onion/wire.ts';
import {
  createBlindedPath,
  unblindHop,
  encodeEncryptedData,
  decodeEncryptedData,
  blindingFactor,
  blindNodeId,
  blindedNodePrivkey,
  pathSharedSecret,
  nextPathKey,
  nextPathPrivkey,
  rhoKey,
  decryptRecipientData,
  BlindingError,
} from '../../core/onion/blinding.ts';
import type { EncryptedDataTlv } from '../../core/onion/blinding.ts';
import { secp } from '../../core/crypto/secp256k1.ts';
import { Reader, Writer, scidFromString, encodeBigSize } from '../../core/wire/index.ts';
import type { UnknownTlv } from '../../core/wire/index.ts';
import { concatBytes } from '../../core/util/bytes.ts';
import { sha256 } from '../../core/crypto/hash.ts';

type Json = Record<string, unknown>;
const files = loadVectors<{ json_files: Record<string, { content: unknown }> }>('bolt04-onion.json').json_files;
const h = hex.decode;
const x = (b: Uint8Array): string => hex.encode(b);

/** Feature bits as the vectors list them, to the BOLT 9 big-endian bit field. */
function featureBytes(bits: number[]): Uint8Array {
  if (bits.length === 0) return new Uint8Array(0);
  const len = Math.floor(Math.max(...bits) / 8) + 1;
  const out = new Uint8Array(len);
  for (const b of bits) out[len - 1 - Math.floor(b / 8)]! |= 1 << b % 8;
  return out;
}

function unknowns(t: Json): UnknownTlv[] | undefined {
  const u = Object.entries(t)
    .filter(([k]) => k.startsWith('unknown_tag_'))
    .map(([k, v]) => ({ type: BigInt(k.slice('unknown_tag_'.length)), value: h(v as string) }));
  return u.length ? u : undefined;
}

/** The vectors' JSON description of an encrypted_data_tlv stream, as the codec's object. */
function encryptedDataFromJson(t: Json): EncryptedDataTlv {
  const out: EncryptedDataTlv = {};
  if (t.padding !== undefined) out.padding = { padding: h(t.padding as string) };
  if (t.short_channel_id !== undefined) out.short_channel_id = { short_channel_id: scidFromString(t.short_channel_id as string) };
  if (t.next_node_id !== undefined) out.next_node_id = { node_id: h(t.next_node_id as string) };
  if (t.path_id !== undefined) out.path_id = { data: h(t.path_id as string) };
  if (t.next_path_key_override !== undefined) out.next_path_key_override = { path_key: h(t.next_path_key_override as string) };
  const relay = t.payment_relay as { cltv_expiry_delta: number; fee_proportional_millionths: number; fee_base_msat?: number } | undefined;
  if (relay) out.payment_relay = { cltv_expiry_delta: relay.cltv_expiry_delta, fee_proportional_millionths: relay.fee_proportional_millionths, fee_base_msat: relay.fee_base_msat ?? 0 };
  const c = t.payment_constraints as { max_cltv_expiry: number; htlc_minimum_msat: number } | undefined;
  if (c) out.payment_constraints = { max_cltv_expiry: c.max_cltv_expiry, htlc_minimum_msat: BigInt(c.htlc_minimum_msat) };
  const f = t.allowed_features as { features: number[] } | undefined;
  if (f) out.allowed_features = { features: featureBytes(f.features) };
  const u = unknowns(t);
  if (u) out.unknown = u;
  return out;
}

function withLength(payload: Uint8Array): Uint8Array {
  return concatBytes(encodeBigSize(BigInt(payload.length)), payload);
}

function stripLength(payload: Uint8Array): Uint8Array {
  const r = new Reader(payload);
  r.bigsize();
  return r.rest();
}

// ---------------------------------------------------------------------------------------------------

interface RouteBlinding {
  generate: {
    hops: {
      alias: string;
      session_key?: string;
      node_id: string;
      tlvs: Json;
      encoded_tlvs: string;
      path_privkey: string;
      path_key: string;
      shared_secret: string;
      rho: string;
      encrypted_data: string;
      blinded_node_id: string;
    }[];
  };
  route: { first_node_id: string; first_path_key: string; hops: { blinded_node_id: string; encrypted_data: string }[] };
  unblind: {
    hops: { alias: string; node_privkey: string; path_key: string; blinded_privkey: string; decrypted_data: string; next_path_key: string; next_path_key_override?: string }[];
  };
}

/** Splits the generate section at every hop that carries its own session key and builds each part. */
function buildSegments(hops: RouteBlinding['generate']['hops']) {
  const segments: (typeof hops)[] = [];
  for (const hop of hops) {
    if (hop.session_key !== undefined || segments.length === 0) segments.push([]);
    segments[segments.length - 1]!.push(hop);
  }
  return segments.map((seg) => ({ seg, path: createBlindedPath(h(seg[0]!.session_key!), seg.map((s) => ({ nodeId: h(s.node_id), data: h(s.encoded_tlvs) }))) }));
}

describe('BOLT 4 route blinding (route-blinding-test.json)', () => {
  const t = files['route-blinding-test.json']!.content as RouteBlinding;

  it('the tlvs each hop is given encode to the vectors’ encrypted_data_tlv bytes, and decode back', () => {
    for (const hop of t.generate.hops) {
      const encoded = encodeEncryptedData(encryptedDataFromJson(hop.tlvs));
      expect(x(encoded), hop.alias).toBe(hop.encoded_tlvs);
      expect(x(encodeEncryptedData(decodeEncryptedData(encoded))), hop.alias).toBe(hop.encoded_tlvs);
    }
  });

  it('the recipient builds the blinded route (two joined segments) value for value', () => {
    const built = buildSegments(t.generate.hops);
    expect(built).toHaveLength(2);
    const all = built.flatMap(({ seg, path }) => seg.map((hop, i) => ({ hop, out: path.hops[i]!, sec: path.secrets[i]! })));
    expect(all).toHaveLength(t.generate.hops.length);
    for (const { hop, out, sec } of all) {
      expect(x(sec.pathPrivkey), hop.alias).toBe(hop.path_privkey);
      expect(x(sec.pathKey), hop.alias).toBe(hop.path_key);
      expect(x(sec.sharedSecret), hop.alias).toBe(hop.shared_secret);
      expect(x(sec.rho), hop.alias).toBe(hop.rho);
      expect(x(out.encryptedData), hop.alias).toBe(hop.encrypted_data);
      expect(x(out.blindedNodeId), hop.alias).toBe(hop.blinded_node_id);
    }
    // The route as published.
    expect(x(built[0]!.path.firstNodeId)).toBe(t.route.first_node_id);
    expect(x(built[0]!.path.firstPathKey)).toBe(t.route.first_path_key);
    expect(all.map(({ out }) => ({ blinded_node_id: x(out.blindedNodeId), encrypted_data: x(out.encryptedData) }))).toEqual(t.route.hops);
    // Carol's override points at the second segment's first path key.
    const carol = t.generate.hops[1]!;
    expect(carol.tlvs.next_path_key_override).toBe(x(built[1]!.path.firstPathKey));
  });

  it('each hop unblinds: blinded private key, decrypted data, next path key', () => {
    let pathKey = h(t.route.first_path_key);
    t.unblind.hops.forEach((hop, i) => {
      expect(x(pathKey), hop.alias).toBe(hop.path_key);
      const nodeKey = h(hop.node_privkey);
      const u = unblindHop(nodeKey, pathKey, h(t.route.hops[i]!.encrypted_data));
      expect(x(u.blindedPrivkey), hop.alias).toBe(hop.blinded_privkey);
      expect(x(blindedNodePrivkey(nodeKey, pathKey)), hop.alias).toBe(hop.blinded_privkey);
      expect(x(secp.getPublicKey(u.blindedPrivkey)), hop.alias).toBe(t.route.hops[i]!.blinded_node_id);
      expect(x(u.data), hop.alias).toBe(hop.decrypted_data);
      expect(x(encodeEncryptedData(u.tlvs)), hop.alias).toBe(hop.decrypted_data);
      // The derived next path key is given even where an override replaces it.
      expect(x(nextPathKey(pathKey, u.sharedSecret)), hop.alias).toBe(hop.next_path_key);
      if (hop.next_path_key_override !== undefined) {
        expect(x(u.nextPathKey), hop.alias).toBe(hop.next_path_key_override);
        expect(x(u.tlvs.next_path_key_override!.path_key), hop.alias).toBe(hop.next_path_key_override);
      } else {
        expect(x(u.nextPathKey), hop.alias).toBe(hop.next_path_key);
      }
      pathKey = u.nextPathKey;
    });
  });

  it('the wrong node key or a tampered ciphertext fails to decrypt', () => {
    const hop = t.unblind.hops[0]!;
    expect(() => unblindHop(h(t.unblind.hops[1]!.node_privkey), h(hop.path_key), h(t.route.hops[0]!.encrypted_data))).toThrow(BlindingError);
    const bad = h(t.route.hops[0]!.encrypted_data);
    bad[3]! ^= 1;
    expect(() => unblindHop(h(hop.node_privkey), h(hop.path_key), bad)).toThrow(/decrypt/);
  });
});

// ---------------------------------------------------------------------------------------------------

interface BlindedPayment {
  generate: {
    session_key: string;
    associated_data: string;
    blinded_route: { first_node_id: string; first_path_key: string; hops: { alias: string; blinded_node_id: string; encrypted_data: string }[] };
    full_route: { hops: { alias: string; pubkey: string; payload: string; tlvs: Json }[] };
    onion: string;
  };
  decrypt: { hops: { alias: string; onion: string; node_privkey: string; next_path_key?: string }[] };
}

/** A hop payload (BOLT 4 `payload` stream) from the vectors' JSON, with the given encrypted data. */
function paymentPayload(t: Json, encrypted?: Uint8Array): Uint8Array {
  const obj: Record<string, unknown> = {};
  if (t.amt_to_forward !== undefined) obj.amt_to_forward = { amt_to_forward: BigInt(t.amt_to_forward as number) };
  if (t.outgoing_cltv_value !== undefined) obj.outgoing_cltv_value = { outgoing_cltv_value: t.outgoing_cltv_value };
  if (t.outgoing_channel_id !== undefined) obj.short_channel_id = { short_channel_id: scidFromString(t.outgoing_channel_id as string) };
  if (encrypted) obj.encrypted_recipient_data = { encrypted_recipient_data: encrypted };
  if (t.current_path_key !== undefined) obj.current_path_key = { path_key: h(t.current_path_key as string) };
  if (t.total_amount_msat !== undefined) obj.total_amount_msat = { total_msat: BigInt(t.total_amount_msat as number) };
  const w = new Writer();
  ONION_WIRE.writeTlvStream(w, 'payload', obj);
  return withLength(w.finish());
}

describe('BOLT 4 payment onion through a blinded route (blinded-payment-onion-test.json)', () => {
  const t = files['blinded-payment-onion-test.json']!.content as BlindedPayment;
  const g = t.generate;

  it('each hop payload carries the blinded route’s encrypted data, byte for byte', () => {
    expect(g.full_route.hops[1]!.pubkey).toBe(g.blinded_route.first_node_id);
    g.full_route.hops.forEach((hop, i) => {
      const encrypted = i === 0 ? undefined : h(g.blinded_route.hops[i - 1]!.encrypted_data);
      expect(x(paymentPayload(hop.tlvs, encrypted)), hop.alias).toBe(hop.payload);
      if (i >= 2) expect(hop.pubkey, hop.alias).toBe(g.blinded_route.hops[i - 1]!.blinded_node_id);
    });
  });

  it('builds the onion byte for byte', () => {
    const onion = createOnion(h(g.session_key), g.full_route.hops.map((hop) => ({ pubkey: h(hop.pubkey), payload: h(hop.payload) })), h(g.associated_data));
    expect(onion.length).toBe(PACKET_SIZE);
    expect(x(onion)).toBe(g.onion);
  });

  it('every hop peels its layer (blinded hops with their blinded key) and reads its encrypted data', () => {
    const ad = h(g.associated_data);
    let packet = h(g.onion);
    let pathKey: Uint8Array | undefined;
    t.decrypt.hops.forEach((hop, i) => {
      expect(x(packet), hop.alias).toBe(hop.onion);
      const nodeKey = h(hop.node_privkey);
      const route = g.full_route.hops[i]!;
      let payload: Record<string, unknown>;
      if (i === 0) {
        // Alice is an ordinary hop in front of the blinded route.
        const peeled = peelOnion(nodeKey, packet, ad);
        expect(x(peeled.payload), hop.alias).toBe(x(stripLength(h(route.payload))));
        packet = peeled.next!;
        return;
      }
      if (i === 1) {
        // Bob, the introduction point, peels with his own key and finds the path key in his payload.
        const peeled = peelOnion(nodeKey, packet, ad);
        expect(x(peeled.payload), hop.alias).toBe(x(stripLength(h(route.payload))));
        payload = ONION_WIRE.readTlvStream(peeled.payload, 'payload');
        pathKey = (payload.current_path_key as { path_key: Uint8Array }).path_key;
        expect(x(pathKey), hop.alias).toBe(g.blinded_route.first_path_key);
        packet = peeled.next!;
      } else {
        // The others got the path key alongside the HTLC and peel with the blinded private key.
        const blinded = blindedNodePrivkey(nodeKey, pathKey!);
        expect(x(secp.getPublicKey(blinded)), hop.alias).toBe(route.pubkey);
        expect(() => peelOnion(nodeKey, packet, ad), hop.alias).toThrow(/HMAC/);
        const peeled = peelOnion(blinded, packet, ad);
        expect(x(peeled.payload), hop.alias).toBe(x(stripLength(h(route.payload))));
        payload = ONION_WIRE.readTlvStream(peeled.payload, 'payload');
        if (i < t.decrypt.hops.length - 1) packet = peeled.next!;
        else expect(peeled.next, hop.alias).toBeUndefined();
      }
      const encrypted = (payload.encrypted_recipient_data as { encrypted_recipient_data: Uint8Array }).encrypted_recipient_data;
      expect(x(encrypted), hop.alias).toBe(g.blinded_route.hops[i - 1]!.encrypted_data);
      const u = unblindHop(nodeKey, pathKey!, encrypted);
      const expectedTlvs = encryptedDataFromJson(route.tlvs.encrypted_recipient_data as Json);
      expect(x(u.data), hop.alias).toBe(x(encodeEncryptedData(expectedTlvs)));
      expect(x(u.nextPathKey), hop.alias).toBe(hop.next_path_key);
      pathKey = u.nextPathKey;
    });
  });
});

// ---------------------------------------------------------------------------------------------------

interface OnionMessageVectors {
  generate: {
    session_key: string;
    hops: (Json & {
      alias: string;
      path_key_secret: string;
      tlvs: Json;
      encrypted_data_tlv: string;
      ss: string;
      blinded_node_id: string;
      E: string;
      next_e: string;
      rho: string;
      encrypted_recipient_data: string;
    })[];
  };
  route: { first_node_id: string; first_path_key: string; hops: { blinded_node_id: string; encrypted_recipient_data: string }[] };
  onionmessage: { unknown_tag_1: string; onion_message_packet: string };
  decrypt: { hops: { alias: string; privkey: string; onion_message: string; next_node_id?: string; tlvs?: { unknown_tag_1: string; encrypted_recipient_data: string } }[] };
}

const ONION_MESSAGE_TYPE = 513;

function onionMessage(pathKey: Uint8Array, packet: Uint8Array): Uint8Array {
  return new Writer().u16(ONION_MESSAGE_TYPE).bytes(pathKey).u16(packet.length).bytes(packet).finish();
}

function parseOnionMessage(bytes: Uint8Array): { pathKey: Uint8Array; packet: Uint8Array } {
  const r = new Reader(bytes);
  expect(r.u16()).toBe(ONION_MESSAGE_TYPE);
  const pathKey = r.bytes(33);
  const packet = r.bytes(r.u16());
  expect(r.remaining).toBe(0);
  return { pathKey, packet };
}

describe('BOLT 4 onion message through a joined blinded path (blinded-onion-message-onion-test.json)', () => {
  const t = files['blinded-onion-message-onion-test.json']!.content as OnionMessageVectors;
  const g = t.generate;
  const nodeIds = t.decrypt.hops.map((hop) => secp.getPublicKey(h(hop.privkey)));

  it('every hop’s intermediate values and the joined route', () => {
    // Alice's one-hop segment (sender side), then Dave's Bob -> Carol -> Dave path joined by the override.
    const alice = createBlindedPath(h(g.hops[0]!.path_key_secret), [{ nodeId: nodeIds[0]!, data: h(g.hops[0]!.encrypted_data_tlv) }]);
    const dave = createBlindedPath(h(g.hops[1]!.path_key_secret), g.hops.slice(1).map((hop, i) => ({ nodeId: nodeIds[i + 1]!, data: h(hop.encrypted_data_tlv) })));
    expect(x(secp.getPublicKey(h(g.hops[0]!.tlvs.path_key_override_secret as string)))).toBe(x(dave.firstPathKey));
    const hops = [...alice.hops, ...dave.hops];
    const secrets = [...alice.secrets, ...dave.secrets];
    g.hops.forEach((hop, i) => {
      const tlvs = { ...hop.tlvs };
      delete tlvs.path_key_override_secret;
      expect(x(encodeEncryptedData(encryptedDataFromJson(tlvs))), hop.alias).toBe(hop.encrypted_data_tlv);
      const s = secrets[i]!;
      expect(x(s.pathPrivkey), hop.alias).toBe(hop.path_key_secret);
      expect(x(s.pathKey), hop.alias).toBe(hop.E);
      expect(x(s.sharedSecret), hop.alias).toBe(hop.ss);
      expect(x(blindingFactor(s.sharedSecret)), hop.alias).toBe(hop["HMAC256('blinded_node_id', ss)"]);
      expect(x(blindNodeId(nodeIds[i]!, s.sharedSecret)), hop.alias).toBe(hop.blinded_node_id);
      expect(x(hops[i]!.blindedNodeId), hop.alias).toBe(hop.blinded_node_id);
      expect(x(rhoKey(s.sharedSecret)), hop.alias).toBe(hop.rho);
      expect(x(hops[i]!.encryptedData), hop.alias).toBe(hop.encrypted_recipient_data);
      // H(E || ss) and the next path private key (the file appends a 01 compression marker to it).
      expect(x(sha256(concatBytes(s.pathKey, s.sharedSecret))), hop.alias).toBe(hop['H(E || ss)']);
      expect(x(nextPathPrivkey(s.pathPrivkey, s.sharedSecret)) + '01', hop.alias).toBe(hop.next_e);
      expect(x(secp.privateMultiply(s.pathPrivkey, h(hop['H(E || ss)'] as string))) + '01', hop.alias).toBe(hop.next_e);
    });
    expect(x(nextPathPrivkey(dave.secrets[0]!.pathPrivkey, dave.secrets[0]!.sharedSecret))).toBe(g.hops[2]!.path_key_secret);
    expect(x(nodeIds[0]!)).toBe(t.route.first_node_id);
    expect(x(alice.firstPathKey)).toBe(t.route.first_path_key);
    expect(hops.map((hop) => ({ blinded_node_id: x(hop.blindedNodeId), encrypted_recipient_data: x(hop.encryptedData) }))).toEqual(t.route.hops);
  });

  it('the sender builds the onion message packet byte for byte', () => {
    const payloads = t.route.hops.map((hop, i) => {
      const obj: Record<string, unknown> = { encrypted_recipient_data: { encrypted_recipient_data: h(hop.encrypted_recipient_data) } };
      if (i === t.route.hops.length - 1) obj.unknown = [{ type: 1n, value: h(t.onionmessage.unknown_tag_1) }];
      const w = new Writer();
      ONION_WIRE.writeTlvStream(w, 'onionmsg_tlv', obj);
      return { pubkey: h(hop.blinded_node_id), payload: withLength(w.finish()) };
    });
    const packet = createOnion(h(g.session_key), payloads, new Uint8Array(0));
    expect(x(packet)).toBe(t.onionmessage.onion_message_packet);
    expect(x(onionMessage(h(t.route.first_path_key), packet))).toBe(t.decrypt.hops[0]!.onion_message);
  });

  it('each hop decrypts, finds the next node, and forwards exactly the next onion_message', () => {
    t.decrypt.hops.forEach((hop, i) => {
      const { pathKey, packet } = parseOnionMessage(h(hop.onion_message));
      const nodeKey = h(hop.privkey);
      const blinded = blindedNodePrivkey(nodeKey, pathKey);
      expect(x(secp.getPublicKey(blinded)), hop.alias).toBe(t.route.hops[i]!.blinded_node_id);
      expect(x(pathSharedSecret(nodeKey, pathKey)), hop.alias).toBe(g.hops[i]!.ss);
      const peeled = peelOnion(blinded, packet, new Uint8Array(0));
      const tlvs = ONION_WIRE.readTlvStream(peeled.payload, 'onionmsg_tlv');
      const encrypted = (tlvs.encrypted_recipient_data as { encrypted_recipient_data: Uint8Array }).encrypted_recipient_data;
      expect(x(encrypted), hop.alias).toBe(t.route.hops[i]!.encrypted_recipient_data);
      const u = unblindHop(nodeKey, pathKey, encrypted);
      expect(x(u.data), hop.alias).toBe(g.hops[i]!.encrypted_data_tlv);
      expect(x(decryptRecipientData(rhoKey(u.sharedSecret), encrypted)), hop.alias).toBe(g.hops[i]!.encrypted_data_tlv);
      if (hop.next_node_id !== undefined) {
        expect(x(u.tlvs.next_node_id!.node_id), hop.alias).toBe(hop.next_node_id);
        expect(peeled.next, hop.alias).toBeDefined();
        expect(x(onionMessage(u.nextPathKey, peeled.next!)), hop.alias).toBe(t.decrypt.hops[i + 1]!.onion_message);
      } else {
        // Dave is the recipient: no next hop, his path_id, and the 'hello' record.
        expect(peeled.next, hop.alias).toBeUndefined();
        expect(u.tlvs.path_id).toBeDefined();
        const unknown = tlvs.unknown as UnknownTlv[];
        expect(unknown.map((r) => [r.type, x(r.value)])).toEqual([[1n, hop.tlvs!.unknown_tag_1]]);
        expect(x(encrypted)).toBe(hop.tlvs!.encrypted_recipient_data);
      }
    });
  });
});
