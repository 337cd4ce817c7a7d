/**
 * Between a reconnect and the peer's channel_reestablish, a channel is connected but not usable: an
 * add made then is held and then forgotten by the reestablish (BOLT 2). listchannels must not call
 * it active in that gap, and a payment started in it waits for the reestablish instead of failing.
 *
 * Alice and Bob in process. Alice disconnects and connects again, and Bob's channel_reestablish is
 * held on its way into Alice's node until the test lets it in, so the gap lasts as long as the test
 * needs, the same every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { Message } from '../../core/wire/index.ts';
import type { Peer } from '../../core/peer/peer.ts';
import type { ChannelManager } from '../../core/node/channels.ts';
import { LINK_WAIT_MS } from '../../core/node/channels.ts';

/** A promise with its resolve. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** `p`, or a failure naming what did not happen within `ms`. */
async function within<T>(p: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

type PayResult = { status: string; payment_error?: string };

describe('a channel between a reconnect and its channel_reestablish', () => {
  let alice: TestNode;
  let bob: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  /** Lets in what the hook still holds (a test that failed half-way must not leave it held). */
  let releaseHeld: (() => void) | undefined;
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };

  beforeAll(async () => {
    alice = await startTestNode('gap-alice', peerOptions);
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    bob = await startTestNode('gap-bob', peerOptions, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
    [a, b] = [alice.node.handlers(), bob.node.handlers()];
    await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 3_000_000 });
    for (const t of [alice, bob]) await t.node.chain.source.poke();
    await a.connect({ addr: bob.uri });
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, private: true });
    await a.playground_mine({ blocks: 6 });
    for (const t of [alice, bob]) await t.node.chain.source.poke();
    await waitFor('the channel to be active on both sides', async () => ((await activeOn(a, bob.node.nodeId)) && (await activeOn(b, alice.node.nodeId))) || undefined, 20_000);
  }, 60_000);

  afterAll(async () => {
    releaseHeld?.();
    for (const t of [bob, alice]) await t?.close();
  });

  async function activeOn(h: ApiHandlers, peer: string): Promise<boolean | undefined> {
    return (await h.listchannels({})).channels.find((c) => c.remote_pubkey === peer)?.active;
  }

  /**
   * Alice drops Bob and connects again; Bob's channel_reestablish is held at the door of Alice's node
   * (`held` resolves when it arrived) until `release()`.
   */
  async function reconnectHoldingReestablish() {
    const peers = alice.node.peers as unknown as { route: (peer: Peer, msg: Message) => void };
    const route = peers.route.bind(alice.node.peers);
    const held = signal();
    const waiting: [Peer, Message][] = [];
    peers.route = (peer, msg) => {
      if (msg.type !== 'channel_reestablish' || peer.pubkey !== bob.node.nodeId) return route(peer, msg);
      waiting.push([peer, msg]);
      held.resolve();
    };
    const release = (): void => {
      peers.route = route;
      releaseHeld = undefined;
      for (const [peer, msg] of waiting.splice(0)) route(peer, msg);
    };
    releaseHeld = release;
    await a.disconnect({ pub_key: bob.node.nodeId });
    await waitFor('bob to see alice gone', () => (bob.node.peers.get(alice.node.nodeId) ? undefined : true));
    await a.connect({ addr: bob.uri });
    await within(held.promise, 'bob’s channel_reestablish to reach alice');
    return { release };
  }

  /** Resolves when Alice's payment hands its HTLC to the channel with Bob. */
  function addHanded(): Promise<void> {
    const channels: ChannelManager = alice.node.channels;
    const add = channels.addHtlc.bind(channels);
    const handed = signal();
    channels.addHtlc = (key, h, beforeSend) => {
      channels.addHtlc = add;
      handed.resolve();
      return add(key, h, beforeSend);
    };
    return handed.promise;
  }

  const pay = (payReq: string): Promise<PayResult> => a.sendpayment({ pay_req: payReq, timeout_seconds: 30 }).catch((e: Error) => ({ status: 'REFUSED', payment_error: e.message }));

  it('is not active until the reestablish is handled, and a payment started then waits for it and succeeds', { timeout: 60_000 }, async () => {
    const inv = await b.addinvoice({ value: 12_345, memo: 'sent before the reestablish' });
    const hold = await reconnectHoldingReestablish();
    // Connected, but the channel cannot take an HTLC yet.
    expect(alice.node.peers.get(bob.node.nodeId)?.state).toBe('ready');
    expect(await activeOn(a, bob.node.nodeId), 'listchannels calls the channel active before bob’s channel_reestablish was handled').toBe(false);

    const handed = addHanded();
    const paid = pay(inv.payment_request);
    await within(handed, 'the payment to pick the channel');
    hold.release();
    const result = await within(paid, 'the payment to end');
    expect(result.status, `the payment started before the reestablish ended ${result.status} (${result.payment_error})`).toBe('SUCCEEDED');
    expect(await activeOn(a, bob.node.nodeId)).toBe(true);
    await waitFor('the invoice to settle', async () => ((await b.lookupinvoice({ r_hash: inv.r_hash })).state === 'SETTLED' ? true : undefined));
  });

  it('a payment whose channel is never reestablished fails after a bounded wait, saying why', { timeout: 60_000 }, async () => {
    const inv = await b.addinvoice({ value: 2_345, memo: 'the reestablish never comes' });
    const hold = await reconnectHoldingReestablish();
    const started = Date.now();
    const result = await pay(inv.payment_request);
    expect(result.status).toBe('REFUSED');
    expect(result.payment_error).toMatch(/not usable yet.*reestablished/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LINK_WAIT_MS - 50);
    hold.release();
    await waitFor('the channel to be active again', () => activeOn(a, bob.node.nodeId));
    // The invoice can still be paid, now that the channel is reestablished.
    expect((await pay(inv.payment_request)).status).toBe('SUCCEEDED');
  });
});
