/**
 * What a payee does with HTLCs it must refuse, between two Coulomb nodes: a garbled onion, a wrong
 * payment secret, too little, an expiry too close, an unknown payment hash. Each comes back as the
 * right BOLT 4 failure (read by the sender from the returned error packet), and the channel stays
 * open and usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { startPlaygroundPair } from '../helpers/playground-pair.ts';
import type { PlaygroundPair } from '../helpers/playground-pair.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import { createOnion, sharedSecrets } from '../../core/onion/sphinx.ts';
import { decodeFailure } from '../../core/onion/failure.ts';
import { decodeFailureMessage, framedPayload } from '../../core/onion/wire.ts';
import { decodeInvoice } from '../../core/invoice/bolt11.ts';
import type { HtlcEvent } from '../../core/node/channels.ts';

describe('a payee refuses bad HTLCs with the right failure, and the channel stays open', () => {
  let pair: PlaygroundPair;
  let alice: TestNode;
  let bob: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  let channel: string;
  const events: HtlcEvent[] = [];

  beforeAll(async () => {
    pair = await startPlaygroundPair('hostile-pay');
    ({ alice, bob, a, b } = pair);
    await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
    await alice.node.chain.source.poke();
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000 });
    await pair.mine(6);
    await waitFor('the channel to be active', async () => ((await a.listchannels({})).channels.some((c) => c.active) ? true : undefined), 20_000);
    await waitFor('bob to see it active', async () => ((await b.listchannels({})).channels.some((c) => c.active) ? true : undefined), 20_000);
    channel = alice.node.channels.list()[0]!.key;
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
  });

  /** Sends one HTLC with a hand-made onion and returns how Bob answered it. */
  async function send(o: { amountMsat: bigint; paymentHash: Uint8Array; cltvExpiry: number; onion?: Uint8Array; payload?: Parameters<typeof framedPayload>[0]; rawPayload?: Uint8Array }) {
    const sessionKey = new Uint8Array(randomBytes(32));
    const onion = o.onion ?? createOnion(sessionKey, [{ pubkey: hex.decode(bob.node.nodeId), payload: o.rawPayload ?? framedPayload(o.payload!) }], o.paymentHash);
    // Listen in on Alice's channel events (the switch ignores HTLCs it did not send).
    const seen = events.length;
    const orig = (alice.node.channels as unknown as { htlcHandler: (e: HtlcEvent) => Promise<void> }).htlcHandler;
    alice.node.channels.setHtlcHandler(async (e) => {
      events.push(e);
      await orig(e);
    });
    const id = await alice.node.channels.addHtlc(channel, { amountMsat: o.amountMsat, paymentHash: o.paymentHash, cltvExpiry: o.cltvExpiry, onion }, async () => undefined);
    const e = await waitFor('bob to answer', async () => events.slice(seen).find((x) => x.type !== 'locked_in' && 'id' in x && x.id === id));
    alice.node.channels.setHtlcHandler(orig);
    if (e.type !== 'failed') throw new Error(`expected a failure, got ${e.type}`);
    if (e.malformed) return { malformed: e.malformed.code };
    const { secrets } = sharedSecrets(sessionKey, [hex.decode(bob.node.nodeId)]);
    const d = decodeFailure(secrets, e.reason!)!;
    const m = decodeFailureMessage(d.message);
    return { hop: d.hop, failure: m.kind === 'known' ? m.message : { type: `unknown ${m.code}` } };
  }

  const height = (): number => alice.node.chain.source.status().height;

  it('a garbled onion: update_fail_malformed_htlc with invalid_onion_hmac', async () => {
    const onion = new Uint8Array(randomBytes(1366));
    onion[0] = 0;
    onion.set(hex.decode(bob.node.nodeId), 1);
    expect(await send({ amountMsat: 10_000n, paymentHash: new Uint8Array(32), cltvExpiry: height() + 100, onion })).toEqual({ malformed: 0xc005 });
  });

  it('an unknown payment hash, a wrong secret, too little, too close an expiry: incorrect_or_unknown_payment_details', async () => {
    const inv = decodeInvoice((await b.addinvoice({ value: 5_000 })).payment_request);
    const h = height();
    const good = { amountMsat: 5_000_000n, outgoingCltv: h + 100, paymentSecret: inv.paymentSecret, totalMsat: 5_000_000n };
    const unknown = await send({ amountMsat: 5_000_000n, paymentHash: new Uint8Array(randomBytes(32)), cltvExpiry: h + 100, payload: good });
    expect(unknown.failure).toMatchObject({ type: 'incorrect_or_unknown_payment_details', htlc_msat: 5_000_000n });
    const wrongSecret = await send({ amountMsat: 5_000_000n, paymentHash: inv.paymentHash, cltvExpiry: h + 100, payload: { ...good, paymentSecret: new Uint8Array(32).fill(9) } });
    expect(wrongSecret.failure?.type).toBe('incorrect_or_unknown_payment_details');
    const tooLittle = await send({ amountMsat: 4_000_000n, paymentHash: inv.paymentHash, cltvExpiry: h + 100, payload: { ...good, amountMsat: 4_000_000n, totalMsat: 4_000_000n } });
    expect(tooLittle.failure?.type).toBe('incorrect_or_unknown_payment_details');
    const tooSoon = await send({ amountMsat: 5_000_000n, paymentHash: inv.paymentHash, cltvExpiry: h + 5, payload: { ...good, outgoingCltv: h + 5 } });
    expect(tooSoon.failure?.type).toBe('incorrect_or_unknown_payment_details');
    // The onion promises more than the HTLC carries: final_incorrect_htlc_amount.
    const lying = await send({ amountMsat: 5_000_000n, paymentHash: inv.paymentHash, cltvExpiry: h + 100, payload: { ...good, amountMsat: 6_000_000n, totalMsat: 6_000_000n } });
    expect(lying.failure).toMatchObject({ type: 'final_incorrect_htlc_amount', incoming_htlc_amt: 5_000_000n });
    // A payload that is not a TLV stream: invalid_onion_payload.
    const bad = await send({ amountMsat: 5_000_000n, paymentHash: inv.paymentHash, cltvExpiry: h + 100, rawPayload: Uint8Array.of(3, 0xfe, 0xff, 0xff) });
    expect(bad.failure?.type).toBe('invalid_onion_payload');
    // Nothing of it settled the invoice.
    expect((await b.lookupinvoice({ r_hash: hex.encode(inv.paymentHash) })).state).toBe('OPEN');
  });

  it('the channel stayed open, and a real payment of the same invoice still goes through', async () => {
    expect(alice.node.channels.list()[0]!.state.phase).toBe('NORMAL');
    expect(bob.node.channels.list()[0]!.state.phase).toBe('NORMAL');
    const inv = await b.addinvoice({ value: 1_000 });
    expect((await a.sendpayment({ pay_req: inv.payment_request })).status).toBe('SUCCEEDED');
  });
});
