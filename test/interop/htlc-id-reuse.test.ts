/**
 * An HTLC id comes back after a drop (BOLT 2): our add that no commitment_signed covered is forgotten
 * and the channel's next add takes its id. The forgotten add's failure must end its own payment (or
 * forward), never the newer one that took the id: that one's HTLC goes on and is paid, so failing it
 * would tell the payer FAILED while the payee settled (a person pays twice), or make a forwarding node
 * pay downstream without being paid upstream.
 *
 * Alice — Bob — Carol, in process. The connection carrying the first HTLC drops the moment its
 * update_add_htlc leaves, and the channel's queue is held (at its next store write) until the peers
 * are connected again, the peer's channel_reestablish has come in, and a second payment's add waits in
 * the queue behind it: the step that forgets the first add, then the reestablish, then the add that
 * takes the id again run one after the other, the order in which the crash test with 300 kills found
 * a payment paid but reported failed. Before the fix both cases fail every time; the forward also
 * fails with only the channel side fixed (its origin ended after a wait).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hex } from '@scure/base';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { Message } from '../../core/wire/index.ts';
import type { KvOp, KvStore } from '../../core/store/kv/types.ts';
import type { ChannelManager } from '../../core/node/channels.ts';

/** A promise with its resolve, for the points the test waits on. */
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

/** What a payer's sendpayment ended with: its status, or the refusal it threw. */
type PayResult = { status: string; payment_preimage?: string; payment_error?: string; fee_msat?: string };

describe('an HTLC id taken again after a drop', () => {
  let alice: TestNode;
  let bob: TestNode;
  let carol: TestNode;
  let a: ApiHandlers;
  let b: ApiHandlers;
  let c: ApiHandlers;
  /** Per node, who hears of each channel_reestablish it receives (the sender's pubkey). */
  const onReestablish = new Map<TestNode, (from: string) => void>();
  /** The gates of hooks still set (see breakAfterAdd). */
  const unreleased = new Set<() => void>();
  const all = (): TestNode[] => [alice, bob, carol];
  const active = (h: ApiHandlers, peer: string) => async () => ((await h.listchannels({})).channels.find((x) => x.remote_pubkey === peer && x.active) ? true : undefined);
  const channelWith = (t: TestNode, peer: string): string => t.node.channels.list().find((x) => x.peer === peer)!.key;
  // Quick redials: the test waits for the reconnection, not for a backoff meant for real networks.
  const peerOptions = { backoff: { initialMs: 50, maxMs: 500 } };

  beforeAll(async () => {
    alice = await startTestNode('reuse-alice', peerOptions);
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const chain = { kind: 'bitcoind' as const, rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie };
    bob = await startTestNode('reuse-bob', peerOptions, chain);
    carol = await startTestNode('reuse-carol', peerOptions, chain);
    [a, b, c] = all().map((t) => t.node.handlers()) as [ApiHandlers, ApiHandlers, ApiHandlers];
    for (const t of all()) t.node.peers.onMessage('channel_reestablish', (peer) => onReestablish.get(t)?.(peer.pubkey));
    for (const h of [a, b]) await a.playground_faucet({ addr: (await h.newaddress({})).address, amt: 3_000_000 });
    for (const t of all()) await t.node.chain.source.poke();
    await a.connect({ addr: bob.uri });
    await b.connect({ addr: carol.uri });
    await a.openchannel({ node_key: bob.node.nodeId, local_amt: 1_000_000, private: true });
    await b.openchannel({ node_key: carol.node.nodeId, local_amt: 1_000_000, private: true });
    await a.playground_mine({ blocks: 6 });
    for (const t of all()) await t.node.chain.source.poke();
    await waitFor('alice–bob to be active', active(a, bob.node.nodeId), 20_000);
    await waitFor('bob–carol to be active', active(b, carol.node.nodeId), 20_000);
    await waitFor('carol to see bob–carol active', active(c, bob.node.nodeId), 20_000);
    // Carol's invoices carry a route hint through Bob once his policy for their channel reached her.
    await waitFor('bob’s policy to reach carol', () => (carol.node.channels.remotePolicy(channelWith(carol, bob.node.nodeId)) ? true : undefined), 20_000);
  }, 60_000);

  afterAll(async () => {
    // A test that failed half-way leaves no channel waiting on its gate (the node could not stop).
    for (const release of unreleased) release();
    for (const t of [carol, bob, alice]) await t?.close();
  });

  /**
   * On `t`'s channel with `peer`: the first update_add_htlc that leaves ends the connection right
   * after it (before any commitment_signed can cover it), and the channel's next store write is held
   * until `release()` (`held`): the channel's queue, where the step that forgets the add waits since
   * the drop, stands still. `reestablished` resolves when the peer's channel_reestablish came in on the
   * new connection, `addQueued` when an add for `nextHash` is handed to the channel (queued behind
   * those), `added` with its id once the channel took it.
   */
  function breakAfterAdd(t: TestNode, peer: string, nextHash: string) {
    const key = channelWith(t, peer);
    const conn = t.node.peers.get(peer)!;
    const sent = conn.send.bind(conn);
    const held = signal();
    const reestablished = signal();
    const addQueued = signal();
    const added = signal<bigint>();
    const gate = signal();
    const ids: { forgotten?: bigint; next?: bigint } = {};
    let armed = false;
    conn.send = (msg: Message): boolean => {
      if (msg.type !== 'update_add_htlc' || conn.state !== 'ready') return sent(msg);
      const ok = sent(msg);
      ids.forgotten = msg.id;
      armed = true;
      conn.close('the test drops the connection right after an update_add_htlc');
      return ok;
    };
    const kv: KvStore = t.node.kv;
    const write = kv.write.bind(kv);
    kv.write = (ops: readonly KvOp[], opts?: { durable?: boolean }): Promise<void> => {
      const p = write(ops, opts);
      if (!armed || !ops.some((o) => o.ns === 'channels' && o.key === key)) return p;
      armed = false;
      held.resolve();
      // Issued in order like any write; only the step waiting for it waits longer.
      return p.then(() => gate.promise);
    };
    onReestablish.set(t, (from) => {
      if (from === peer && conn.state === 'closed') reestablished.resolve();
    });
    const channels: ChannelManager = t.node.channels;
    const add = channels.addHtlc.bind(channels);
    channels.addHtlc = (k, h, beforeSend) => {
      const p = add(k, h, beforeSend);
      if (k === key && hex.encode(h.paymentHash) === nextHash) {
        addQueued.resolve();
        void p.then((id) => added.resolve((ids.next = id))).catch(() => undefined);
      }
      return p;
    };
    const release = (): void => {
      gate.resolve();
      kv.write = write;
      channels.addHtlc = add;
      onReestablish.delete(t);
      unreleased.delete(release);
    };
    unreleased.add(release);
    return { ids, held: held.promise, reestablished: reestablished.promise, addQueued: addQueued.promise, added: added.promise, release };
  }

  const pay = (h: ApiHandlers, payReq: string): Promise<PayResult> => h.sendpayment({ pay_req: payReq, timeout_seconds: 30 }).catch((e: Error) => ({ status: 'REFUSED', payment_error: e.message }));
  const statusOf = async (h: ApiHandlers, hash: string): Promise<string | undefined> => (await h.listpayments({})).payments.find((p) => p.payment_hash === hash)?.status;
  /** What a node holds in all its channels, in msat (as channelbalance counts it, to the msat). */
  const balance = async (t: TestNode): Promise<bigint> => t.node.channels.list().reduce((sum, v) => sum + t.node.channels.balances(v).localMsat, 0n);

  it('a payment whose add takes the id of a forgotten one succeeds, and the forgotten one fails', { timeout: 30_000 }, async () => {
    const [aliceBefore, bobBefore] = [await balance(alice), await balance(bob)];
    const first = await b.addinvoice({ value: 11_111, memo: 'forgotten at the drop' });
    const second = await b.addinvoice({ value: 22_222, memo: 'takes the id again' });
    const hook = breakAfterAdd(alice, bob.node.nodeId, second.r_hash);

    const payFirst = pay(a, first.payment_request);
    await within(hook.held, 'the drop right after the first add');
    await within(hook.reestablished, 'bob’s channel_reestablish on the new connection');
    const paySecond = pay(a, second.payment_request);
    await within(hook.addQueued, 'the second payment’s add to wait behind the reestablish');
    hook.release();
    await within(hook.added, 'the second payment’s add to take the id');

    // The case under test: the second HTLC went out under the id of the forgotten one.
    expect(hook.ids.next).toBe(hook.ids.forgotten);
    const settled = await waitFor('the second invoice to settle', async () => {
      const i = await b.lookupinvoice({ r_hash: second.r_hash });
      return i.state === 'SETTLED' ? i : undefined;
    });
    // The second payment first: a stale failure that took it would leave the first one waiting.
    const secondResult = await within(paySecond, 'alice to hear how the second payment, which bob settled, ended');
    expect(secondResult.status, `the second invoice is settled, but its payer says ${secondResult.status} (${secondResult.payment_error})`).toBe('SUCCEEDED');
    expect(settled.r_preimage).toBe(secondResult.payment_preimage);
    expect((await payFirst).status).not.toBe('SUCCEEDED');
    expect(await statusOf(a, first.r_hash)).toBe('FAILED');
    expect(await statusOf(a, second.r_hash)).toBe('SUCCEEDED');
    expect((await b.lookupinvoice({ r_hash: first.r_hash })).state).toBe('OPEN');
    // Exactly the second payment moved, on both sides.
    await waitFor('alice’s balance to move by the second payment', async () => ((await balance(alice)) === aliceBefore - 22_222_000n ? true : undefined));
    await waitFor('bob’s balance to move by the second payment', async () => ((await balance(bob)) === bobBefore + 22_222_000n ? true : undefined));
    // The first invoice can still be paid, once.
    expect((await pay(a, first.payment_request)).status).toBe('SUCCEEDED');
    await waitFor('the first invoice to settle', async () => ((await b.lookupinvoice({ r_hash: first.r_hash })).state === 'SETTLED' ? true : undefined));
    await waitFor('both payments to leave the commitments', async () => ((await balance(alice)) === aliceBefore - 33_333_000n && (await balance(bob)) === bobBefore + 33_333_000n ? true : undefined));
  });

  it('a forward whose outgoing add takes the id of a forgotten forward is settled both ways', { timeout: 30_000 }, async () => {
    const [aliceBefore, bobBefore, carolBefore] = [await balance(alice), await balance(bob), await balance(carol)];
    const first = await c.addinvoice({ value: 33_333, memo: 'forward forgotten at the drop', private: true });
    const second = await c.addinvoice({ value: 44_444, memo: 'forward takes the id again', private: true });
    // Bob's add toward Carol is the one forgotten.
    const hook = breakAfterAdd(bob, carol.node.nodeId, second.r_hash);
    // Failing the first forward back to Alice takes a while (her channel with Bob busy with other
    // steps): it ends only after Bob's add toward Carol took the id again, whose origin must survive it.
    const channels: ChannelManager = bob.node.channels;
    const resolve = channels.resolveHtlc.bind(channels);
    const fromAlice = channelWith(bob, alice.node.nodeId);
    channels.resolveHtlc = async (key, input) => {
      if (key === fromAlice && input.type === 'fail_htlc') await within(hook.added, 'bob’s forward of the second payment to take the id');
      return resolve(key, input);
    };

    const payFirst = pay(a, first.payment_request);
    await within(hook.held, 'the drop right after bob forwards the first payment');
    await within(hook.reestablished, 'carol’s channel_reestablish on the new connection');
    const paySecond = pay(a, second.payment_request);
    await within(hook.addQueued, 'bob’s forward of the second payment to wait behind the reestablish');
    hook.release();
    await within(hook.added, 'bob’s forward of the second payment to take the id');
    channels.resolveHtlc = resolve;

    // The case under test: the second HTLC went out under the id of the forgotten one.
    expect(hook.ids.next).toBe(hook.ids.forgotten);
    const settled = await waitFor('the second invoice to settle', async () => {
      const i = await c.lookupinvoice({ r_hash: second.r_hash });
      return i.state === 'SETTLED' ? i : undefined;
    });
    // Bob carries Carol's preimage back to Alice (a forward whose origin was lost never would).
    const secondResult = await within(paySecond, 'alice to hear how the second payment, which carol settled, ended');
    expect(secondResult.status, `the second invoice is settled, but its payer says ${secondResult.status} (${secondResult.payment_error})`).toBe('SUCCEEDED');
    expect(settled.r_preimage).toBe(secondResult.payment_preimage);
    expect((await payFirst).status).not.toBe('SUCCEEDED');
    expect(await statusOf(a, first.r_hash)).toBe('FAILED');
    expect((await c.lookupinvoice({ r_hash: first.r_hash })).state).toBe('OPEN');
    // Alice paid the amount and Bob's fee (1000 msat base + 100 ppm); Bob kept the fee, Carol got the amount.
    const fee = 1_000n + (44_444_000n * 100n) / 1_000_000n;
    expect(secondResult.fee_msat).toBe(fee.toString());
    await waitFor('carol’s balance to move by the second payment', async () => ((await balance(carol)) === carolBefore + 44_444_000n ? true : undefined));
    await waitFor('alice’s balance to move by the second payment and its fee', async () => ((await balance(alice)) === aliceBefore - 44_444_000n - fee ? true : undefined));
    await waitFor('bob to keep the fee', async () => ((await balance(bob)) === bobBefore + fee ? true : undefined));
  });
});
