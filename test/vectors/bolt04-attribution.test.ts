import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { sharedSecrets } from '../../core/onion/sphinx.ts';
import { createFailurePacket, obfuscateFailure } from '../../core/onion/failure.ts';
import {
  ATTRIBUTION_DATA_SIZE,
  addAttribution,
  decodeAttributedFailure,
  decodeSuccessAttribution,
  obfuscateAttributionData,
  shiftAttributionData,
} from '../../core/onion/attribution.ts';

interface Hop {
  index: number;
  pubkey: string;
  htlc_hold_time: number;
}
interface Returning {
  parameters: { hops: Hop[]; session_key: string; failure_source_node: number };
  creation: { encoded_failure_message: string; shared_secret: string; payload: string; raw_error_packet: string };
  forwarding: { node: number; shared_secret: string; error_packet: string; attribution_data: string }[];
}
interface Success {
  attribution_data: { node: number; attribution_data: string }[];
}

const v = loadVectors<{ returning_errors: Returning; returning_success: Success }>('bolt04-onion.json');
const r = v.returning_errors;
const s = v.returning_success;
const h = hex.decode;
const hops = r.parameters.hops;
/**
 * The spec numbers `htlc_hold_time[k]` in the order the hops handle the returning data: the node that
 * creates it (route node 4) reports htlc_hold_time[0] = 1, route node 0 reports htlc_hold_time[4] = 5.
 * The expected bytes only match with that reading, so the sender reads 5, 4, 3, 2, 1 in route order.
 */
const holdOf = (node: number): number => hops[hops.length - 1 - node]!.htlc_hold_time;
const routeHoldTimes = hops.map((_, i) => holdOf(i));
const secretOf = (node: number): Uint8Array => h(r.forwarding.find((f) => f.node === node)!.shared_secret);

describe('BOLT 4 attribution data (returning_errors)', () => {
  const failureLen = (h(r.creation.payload)[0]! << 8) | h(r.creation.payload)[1]!;
  const message = h(r.creation.encoded_failure_message).subarray(0, failureLen);

  function run(): { packet: Uint8Array; data: Uint8Array } {
    let packet = createFailurePacket(h(r.creation.shared_secret), message);
    expect(hex.encode(packet)).toBe(r.creation.raw_error_packet);
    let data: Uint8Array | undefined;
    for (const step of r.forwarding) {
      const hold = holdOf(step.node);
      data = addAttribution(h(step.shared_secret), hold, packet, data);
      packet = obfuscateFailure(h(step.shared_secret), packet);
      expect(data.length).toBe(ATTRIBUTION_DATA_SIZE);
      expect(hex.encode(packet), `error packet after node ${step.node}`).toBe(step.error_packet);
      expect(hex.encode(data), `attribution data after node ${step.node}`).toBe(step.attribution_data);
    }
    return { packet, data: data! };
  }

  it('the failing node creates it and every hop back adds its hold time and HMACs, byte for byte', () => {
    run();
  });

  it('the shared secrets derived from the session key are the ones of the trace', () => {
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    secrets.forEach((sec, i) => expect(hex.encode(sec)).toBe(hex.encode(secretOf(i))));
  });

  it('the sender finds the failing hop, its message and every hold time', () => {
    const { packet, data } = run();
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    const res = decodeAttributedFailure(secrets, packet, data);
    expect(res.hop).toBe(r.parameters.failure_source_node);
    expect(hex.encode(res.message!)).toBe(hex.encode(message));
    expect(res.invalidHop).toBeUndefined();
    expect(res.holdTimes).toEqual(routeHoldTimes);
    expect(res.holdTimes).toEqual([5, 4, 3, 2, 1]);
  });

  it('a hop that changes the attribution data after computing its HMACs is blamed, the hops before it still report', () => {
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    // Replay the route, but node 2 flips a bit of its own (obfuscated) hold time before passing the data on.
    let packet = createFailurePacket(secrets[4]!, message);
    let data: Uint8Array | undefined;
    for (let i = 4; i >= 0; i--) {
      data = addAttribution(secrets[i]!, holdOf(i), packet, data);
      packet = obfuscateFailure(secrets[i]!, packet);
      if (i === 2) data[3]! ^= 1;
    }
    const res = decodeAttributedFailure(secrets, packet, data!);
    expect(res.invalidHop).toBe(2);
    expect(res.holdTimes).toEqual([holdOf(0), holdOf(1)]);
    expect(res.hop).toBeUndefined();
  });

  it('a garbled failure packet names no failing node; the attribution data names the hop that garbled it', () => {
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    // Replay the route, but node 1 corrupts the packet it received before passing it on.
    let packet = createFailurePacket(secrets[4]!, message);
    let data: Uint8Array | undefined;
    for (let i = 4; i >= 0; i--) {
      data = addAttribution(secrets[i]!, holdOf(i), packet, data);
      packet = obfuscateFailure(secrets[i]!, packet);
      if (i === 1) packet[700]! ^= 0x40;
    }
    const res = decodeAttributedFailure(secrets, packet, data!);
    expect(res.hop).toBeUndefined();
    expect(res.invalidHop).toBe(1);
    expect(res.holdTimes).toEqual([holdOf(0)]);
  });

  it('shifting moves hold times one slot right and drops nothing that is still in range', () => {
    const d = new Uint8Array(ATTRIBUTION_DATA_SIZE);
    d.set([0, 0, 0, 7], 0);
    d.set([0, 0, 0, 9], 76);
    const shifted = shiftAttributionData(d);
    expect(Array.from(shifted.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 7]);
    expect(shifted.subarray(76, 80).every((b) => b === 0)).toBe(true);
    expect(() => shiftAttributionData(new Uint8Array(10))).toThrow(RangeError);
  });
});

describe('BOLT 4 attribution data (returning_success)', () => {
  function run(): Uint8Array {
    let data: Uint8Array | undefined;
    const expected = [...s.attribution_data].sort((a, b) => b.node - a.node);
    expect(expected.map((e) => e.node)).toEqual([4, 3, 2, 1, 0]);
    for (const step of expected) {
      data = addAttribution(secretOf(step.node), holdOf(step.node), undefined, data);
      expect(hex.encode(data), `attribution data after node ${step.node}`).toBe(step.attribution_data);
    }
    return data!;
  }

  it('the recipient creates it on fulfill and every hop back adds its hold time and HMACs, byte for byte', () => {
    const data = run();
    // Removing node 0's ammagext layer shows its hold time in the first slot; the layer is its own inverse.
    const peeled = obfuscateAttributionData(secretOf(0), data);
    expect(new DataView(peeled.buffer).getUint32(0)).toBe(holdOf(0));
    expect(hex.encode(obfuscateAttributionData(secretOf(0), peeled))).toBe(hex.encode(data));
  });

  it('the sender reads and checks every hold time', () => {
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    const res = decodeSuccessAttribution(secrets, run());
    expect(res.invalidHop).toBeUndefined();
    expect(res.holdTimes).toEqual(routeHoldTimes);
  });

  it('a flipped bit anywhere in what the recipient reported is caught', () => {
    const { secrets } = sharedSecrets(h(r.parameters.session_key), hops.map((x) => h(x.pubkey)));
    const data = run();
    data[19]! ^= 1; // the recipient's hold time, in the last slot the sender sees
    const res = decodeSuccessAttribution(secrets, data);
    expect(res.invalidHop).toBeDefined();
    expect(res.holdTimes.length).toBe(res.invalidHop);
  });
});
