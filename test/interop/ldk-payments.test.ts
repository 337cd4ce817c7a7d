/**
 * Payments between Coulomb and LDK over real TCP, on one playground chain that both follow:
 *
 *   carol (Coulomb) ── ldk1 ══ alice (Coulomb) ── ldk2 (anchors)
 *
 * alice opens a static_remotekey channel to ldk1 and an anchors channel to ldk2 (which accepts it by
 * hand, as LDK requires for anchors); ldk1 opens one channel to alice and one to carol. Over these:
 * payments both ways on both channel types, 200 in a row each way, forwarding through LDK (alice →
 * ldk1 → carol) and through us (ldk1 → alice → ldk2), and connections cut at every step of the
 * commitment dance, after which each payment still ends exactly once, the same way on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startLdkNode } from './ldk/node.ts';
import type { LdkNode } from './ldk/node.ts';
import { LdkEventDriver } from './ldk/events.ts';
import { ldkCapacity, ldkInvoice, ldkPay } from './ldk/payments.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';
import type { ApiHandlers } from '../../core/api/contract.ts';
import type { Message } from '../../core/wire/index.ts';
import { FORWARDING_POLICY } from '../../core/node/htlc-switch.ts';
import { isQuiet } from '../../core/channel/updates.ts';

const CAPACITY = 1_000_000;
const PUSH = 100_000;

describe('payments between Coulomb and LDK', () => {
  let alice: TestNode;
  let carol: TestNode;
  let a: ApiHandlers;
  let c: ApiHandlers;
  let ldk1: LdkNode;
  let ldk2: LdkNode;
  const d1 = new LdkEventDriver();
  const d2 = new LdkEventDriver();
  const ports = new Map<string, number>();

  const pg = () => alice.node.chain.playground!;
  const blockAt = (h: number): Uint8Array => pg().chain.entries[h]!.block.toBuffer();
  /** Mines `n` blocks and hands them to everyone, so all four nodes agree on the tip. */
  const mine = async (n: number): Promise<void> => {
    await a.playground_mine({ blocks: n });
    for (const l of [ldk1, ldk2]) l.syncTo(pg().chain.height, blockAt);
    for (const t of [alice, carol]) await t.node.chain.source.poke();
  };
  const tips = (): number[] => [alice.node.chain.source.status().height, carol.node.chain.source.status().height, ldk1.channelManager.current_best_block().get_height(), ldk2.channelManager.current_best_block().get_height()];
  const ourBalanceWith = async (h: ApiHandlers, peer: string): Promise<bigint> => (await h.listchannels({})).channels.filter((x) => x.remote_pubkey === peer).reduce((t, x) => t + BigInt(x.local_balance), 0n);
  const usable = (l: LdkNode, peer: string): number => l.channelManager.list_channels().filter((x) => x.get_is_usable() && Buffer.from(x.get_counterparty().get_node_id()).toString('hex') === peer).length;


  /** Reconnects `t` to an LDK node once both sides have seen the old connection go; resolves when
   *  LDK can use every channel with `t` again (channel_reestablish done both ways). */
  const reconnect = async (t: TestNode, l: LdkNode): Promise<void> => {
    const channels = l.channelManager.list_channels_with_counterparty(Buffer.from(t.node.nodeId, 'hex')).length;
    await l.waitForPeerGone(t.node.nodeId);
    await waitFor('our side to drop the peer', () => (t.node.peers.get(l.nodeId)?.state === 'ready' ? undefined : true), 5_000, 5);
    await t.node.handlers().connect({ addr: `${l.nodeId}@127.0.0.1:${ports.get(l.nodeId)}` });
    await waitFor('the channels to be usable again', () => (usable(l, t.node.nodeId) === channels ? true : undefined), 10_000, 5);
  };

  /**
   * Closes `t`'s connection to `peer` right after the `nth` message of `type` went out (written to
   * the socket, which is ended, not reset, so it does leave) or came in (handed to the channel, which
   * handles it before it hears of the disconnection). Resolves when it has cut.
   */
  const cutAfter = (t: TestNode, peer: string, dir: 'out' | 'in', type: Message['type'], nth = 1): Promise<void> => {
    const p = t.node.peers.get(peer);
    if (!p) throw new Error('not connected');
    let count = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${dir === 'out' ? 'outgoing' : 'incoming'} ${type} #${nth} to cut after`)), 10_000);
      const cut = (): void => {
        clearTimeout(timer);
        t.node.peers.disconnect(peer);
        resolve();
      };
      if (dir === 'out') {
        const send = p.send.bind(p);
        p.send = (msg: Message): boolean => {
          const ok = send(msg);
          if (msg.type === type && ++count === nth) {
            p.send = send;
            cut();
          }
          return ok;
        };
      } else {
        const onMessage = (msg: Message): void => {
          if (msg.type === type && ++count === nth) {
            p.off('message', onMessage);
            cut();
          }
        };
        p.on('message', onMessage);
      }
    });
  };

  beforeAll(async () => {
    ldk1 = await startLdkNode({
      alias: 'ldk1',
      onEvent: d1.onEvent,
      // ldk1 forwards to carol over a private channel, which LDK refuses unless told otherwise.
      configure: (cfg) => cfg.set_accept_forwards_to_priv_channels(true),
    });
    ldk2 = await startLdkNode({
      alias: 'ldk2',
      onEvent: d2.onEvent,
      configure: (cfg) => {
        cfg.get_channel_handshake_config().set_negotiate_anchors_zero_fee_htlc_tx(true);
        // LDK accepts inbound anchors channels only by hand (OpenChannelRequest → accept_inbound_channel).
        cfg.set_manually_accept_inbound_channels(true);
      },
    });
    alice = await startTestNode('ldkpay-alice');
    const rpc = JSON.parse(await readFile(join(alice.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    carol = await startTestNode('ldkpay-carol', undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
    a = alice.node.handlers();
    c = carol.node.handlers();
    for (const l of [ldk1, ldk2]) ports.set(l.nodeId, await l.listen(0, '127.0.0.1'));

    // Money: two coins in alice's wallet (one per channel she opens), two of a test key for ldk1's.
    for (let i = 0; i < 2; i++) await a.playground_faucet({ addr: (await a.newaddress({})).address, amt: 2_000_000 });
    const key = newKey();
    const coins = [];
    for (let i = 0; i < 2; i++) coins.push(await pg().faucet.send(key.address, 2_000_000n));
    await mine(1);
    const block = pg().chain.entries[pg().chain.height]!.block;
    const coinOf = (txid: string) => {
      const tx = block.transactions!.find((t) => t.getId() === txid)!;
      const vout = tx.outs.findIndex((o) => Buffer.compare(Buffer.from(o.script), Buffer.from(key.script)) === 0);
      return { key, txid, vout, value: tx.outs[vout]!.value };
    };

    for (const l of [ldk1, ldk2]) await a.connect({ addr: `${l.nodeId}@127.0.0.1:${ports.get(l.nodeId)}` });
    await c.connect({ addr: `${ldk1.nodeId}@127.0.0.1:${ports.get(ldk1.nodeId)}` });
    await a.openchannel({ node_key: ldk1.nodeId, local_amt: CAPACITY, push_amt: PUSH, private: true });
    await a.openchannel({ node_key: ldk2.nodeId, local_amt: CAPACITY, push_amt: PUSH, private: true });
    // ldk1 opens to alice, then to carol; each funding comes from its own coin.
    for (const [i, to] of [alice, carol].entries()) {
      d1.fundingCoin = coinOf(coins[i]!);
      const r = ldk1.channelManager.create_channel(Buffer.from(to.node.nodeId, 'hex'), BigInt(CAPACITY), 0n, BigInt(i + 1), null, null);
      expect(r.is_ok()).toBeTruthy();
      ldk1.processEvents();
      await waitFor('ldk1 to broadcast its funding', () => (ldk1.broadcasted.length ? true : undefined), 10_000, 10);
      for (const tx of ldk1.broadcasted.splice(0)) pg().chain.acceptToMempool(Buffer.from(tx).toString('hex'));
    }
    await mine(6);
    await waitFor('every channel usable on LDK\'s side', () => (usable(ldk1, alice.node.nodeId) === 2 && usable(ldk1, carol.node.nodeId) === 1 && usable(ldk2, alice.node.nodeId) === 1 ? true : undefined), 20_000, 20);
    await waitFor('every channel active on our side', async () => ((await a.listchannels({})).channels.filter((x) => x.active).length === 3 && (await c.listchannels({})).channels.filter((x) => x.active).length === 1 ? true : undefined), 20_000, 20);
    const types = Object.fromEntries((await a.listchannels({})).channels.filter((x) => x.initiator).map((x) => [x.remote_pubkey, x.commitment_type]));
    expect(types).toEqual({ [ldk1.nodeId]: 'STATIC_REMOTE_KEY', [ldk2.nodeId]: 'ANCHORS' });
    expect(d2.seen).toContain('Event_OpenChannelRequest');
    expect(ldk2.channelManager.list_channels()[0]!.get_channel_type().requires_anchors_zero_fee_htlc_tx()).toBeTruthy();
    // HTLC expiries are heights: everyone must be at the same one.
    expect(new Set(tips()).size).toBe(1);
  }, 90_000);

  afterAll(async () => {
    await alice?.close();
    await carol?.close();
    await ldk1?.stop();
    await ldk2?.stop();
  });

  it.each([
    ['static_remotekey', () => ldk1, () => d1],
    ['anchors', () => ldk2, () => d2],
  ] as const)('we pay an LDK invoice over a %s channel; LDK claims it once and the balances move', { timeout: 30_000 }, async (_type, node, driver) => {
    const l = node();
    const d = driver();
    const ours = await ourBalanceWith(a, l.nodeId);
    const theirs = ldkCapacity(l, alice.node.nodeId);
    const inv = ldkInvoice(l, 25_000_000n, 'from alice');
    const paid = await a.sendpayment({ pay_req: inv.bolt11 });
    expect(paid).toMatchObject({ status: 'SUCCEEDED', value_sat: '25000', fee_sat: '0', payment_error: '' });
    await d.until('LDK to report the payment claimed', () => d.claimed.has(inv.paymentHash));
    expect(d.claimed.get(inv.paymentHash)).toEqual({ amountMsat: 25_000_000n, htlcs: 1 });
    expect(d.claimable.get(inv.paymentHash)).toBe(1);
    await waitFor('our balance to drop by the amount', async () => ((await ourBalanceWith(a, l.nodeId)) === ours - 25_000n ? true : undefined), 5_000, 20);
    await waitFor('LDK\'s balance to grow by the amount', () => (ldkCapacity(l, alice.node.nodeId).outboundMsat === theirs.outboundMsat + 25_000_000n ? true : undefined), 5_000, 20);
  });

  it.each([
    ['static_remotekey', () => ldk1, () => d1],
    ['anchors', () => ldk2, () => d2],
  ] as const)('LDK pays our invoice over a %s channel; the invoice settles once and the balances move', { timeout: 30_000 }, async (_type, node, driver) => {
    const l = node();
    const d = driver();
    const ours = await ourBalanceWith(a, l.nodeId);
    const theirs = ldkCapacity(l, alice.node.nodeId);
    const inv = await a.addinvoice({ value: 20_000, memo: 'from ldk' });
    const hash = ldkPay(l, inv.payment_request);
    expect(hash).toBe(inv.r_hash);
    expect(await d.paymentEnded(hash)).toBe('sent');
    const settled = await waitFor('the invoice to settle', async () => {
      const i = await a.lookupinvoice({ r_hash: inv.r_hash });
      return i.state === 'SETTLED' ? i : undefined;
    });
    expect(settled).toMatchObject({ amt_paid_sat: '20000', r_preimage: d.sent.get(hash)!.preimage });
    expect(d.sent.get(hash)!.feeMsat ?? 0n).toBe(0n);
    await waitFor('our balance to grow by the amount', async () => ((await ourBalanceWith(a, l.nodeId)) === ours + 20_000n ? true : undefined), 5_000, 20);
    await waitFor('LDK\'s balance to drop by the amount', () => (ldkCapacity(l, alice.node.nodeId).outboundMsat === theirs.outboundMsat - 20_000_000n ? true : undefined), 5_000, 20);
  });

  it('200 payments in a row each way between us and LDK, none failing', { timeout: 90_000 }, async () => {
    const N = 200;
    // Small, but above what LDK counts as dust (~2.5k sat here): it refuses to send a dust HTLC while
    // the previous one is still in the commitments (see ldk/README.md).
    const AMOUNT = 3_000n;
    const ours = await ourBalanceWith(a, ldk1.nodeId);
    const paidBefore = (await a.listpayments({})).payments.length;
    const outgoing: string[] = [];
    let t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const inv = ldkInvoice(ldk1, AMOUNT * 1000n, `out ${i}`);
      outgoing.push(inv.paymentHash);
      const paid = await a.sendpayment({ pay_req: inv.bolt11 });
      if (paid.status !== 'SUCCEEDED') throw new Error(`payment ${i} to LDK ended ${paid.status}: ${paid.payment_error}`);
    }
    const outMs = performance.now() - t0;
    t0 = performance.now();
    const hashes: string[] = [];
    for (let i = 0; i < N; i++) {
      const inv = await a.addinvoice({ value: Number(AMOUNT), memo: `in ${i}` });
      const hash = ldkPay(ldk1, inv.payment_request);
      hashes.push(hash);
      if ((await d1.paymentEnded(hash)) !== 'sent') throw new Error(`LDK's payment ${i} to us failed: ${d1.failed.get(hash)!.reason}`);
    }
    const inMs = performance.now() - t0;
    console.log(`${N} payments to LDK: ${outMs.toFixed(0)} ms (${(outMs / N).toFixed(1)} ms each); ${N} from LDK: ${inMs.toFixed(0)} ms (${(inMs / N).toFixed(1)} ms each)`);

    await waitFor('every invoice of ours settled for its amount', async () => {
      const { invoices } = await a.listinvoices({ num_max_invoices: 10_000 });
      return hashes.every((h) => invoices.find((i) => i.r_hash === h && i.state === 'SETTLED')?.amt_paid_sat === AMOUNT.toString()) ? true : undefined;
    }, 10_000, 50);
    await d1.until('LDK to report every payment of ours claimed', () => outgoing.every((h) => d1.claimed.get(h)?.amountMsat === AMOUNT * 1000n));
    const payments = (await a.listpayments({})).payments;
    expect(payments.length - paidBefore).toBe(N);
    expect(payments.filter((p) => p.status !== 'SUCCEEDED')).toEqual([]);
    expect([...d1.claimable.values()].every((n) => n === 1)).toBe(true);
    // Same amount each way: the balance is back where it was.
    await waitFor('the balances to even out', async () => ((await ourBalanceWith(a, ldk1.nodeId)) === ours ? true : undefined), 5_000, 20);
  });

  it('alice pays carol through ldk1, with the route hint carol\'s invoice gives for her private channel', { timeout: 30_000 }, async () => {
    const inv = await c.addinvoice({ value: 30_000, memo: 'via ldk', private: true });
    const decoded = await c.decodepayreq({ pay_req: inv.payment_request });
    expect(decoded.route_hints.map((r) => r.hop_hints[0]!.node_id)).toEqual([ldk1.nodeId]);
    const carolBefore = await ourBalanceWith(c, ldk1.nodeId);
    const forwardedBefore = d1.forwarded.length;
    const paid = await a.sendpayment({ pay_req: inv.payment_request });
    expect(paid.status).toBe('SUCCEEDED');
    expect(paid.htlcs.at(-1)!.route.hops.map((h) => h.pub_key)).toEqual([ldk1.nodeId, carol.node.nodeId]);
    // Carol's hint carries ldk1's own policy, from the channel_update ldk1 sent her: LDK's default
    // 1000 msat and no proportional fee, exactly what ldk1 keeps.
    const fee = BigInt(paid.fee_msat);
    expect(fee).toBe(1000n);
    await waitFor('carol\'s invoice to settle', async () => ((await c.lookupinvoice({ r_hash: inv.r_hash })).state === 'SETTLED' ? true : undefined));
    await d1.until('ldk1 to report the forward', () => d1.forwarded.length === forwardedBefore + 1);
    expect(d1.forwarded.at(-1)).toEqual({ feeMsat: fee, outboundMsat: 30_000_000n });
    await waitFor('carol\'s balance to grow', async () => ((await ourBalanceWith(c, ldk1.nodeId)) === carolBefore + 30_000n ? true : undefined), 5_000, 20);
  });

  it('ldk1 pays ldk2 through alice, who forwards and keeps her fee', { timeout: 30_000 }, async () => {
    // The last payment's HTLC out of alice's commitments first: while it is in them, their fee
    // (which alice, the funder, pays) is larger by that HTLC's share, and her balance smaller.
    await waitFor('alice\'s channels to be quiet', () => (alice.node.channels.list().every((ch) => isQuiet(ch.state)) ? true : undefined), 5_000, 10);
    const aliceBefore = BigInt((await a.channelbalance({})).balance);
    const inv = ldkInvoice(ldk2, 40_000_000n, 'via alice');
    // alice sent ldk2 a channel_update for their channel, so ldk2's own invoice names her, with her
    // policy, as the way in; ldk1 pays it as it is.
    const hints = (await a.decodepayreq({ pay_req: inv.bolt11 })).route_hints.map((r) => r.hop_hints[0]!);
    expect(hints).toContainEqual(expect.objectContaining({ node_id: alice.node.nodeId, fee_base_msat: Number(FORWARDING_POLICY.feeBaseMsat), fee_proportional_millionths: Number(FORWARDING_POLICY.feeProportionalMillionths), cltv_expiry_delta: FORWARDING_POLICY.cltvExpiryDelta }));
    const hash = ldkPay(ldk1, inv.bolt11);
    expect(await d1.paymentEnded(hash)).toBe('sent');
    await d2.until('ldk2 to claim', () => d2.claimed.has(hash));
    expect(d2.claimed.get(hash)!.amountMsat).toBe(40_000_000n);
    const fee = FORWARDING_POLICY.feeBaseMsat + (40_000_000n * FORWARDING_POLICY.feeProportionalMillionths) / 1_000_000n;
    expect(d1.sent.get(hash)!.feeMsat).toBe(fee);
    await waitFor('alice to earn the fee', async () => (BigInt((await a.channelbalance({})).balance) - aliceBefore === fee / 1000n ? true : undefined), 5_000, 20);
  });

  // Where the connection is cut, seen from alice: after she sent or received the nth message of a type.
  const cutsWhilePaying: [string, 'out' | 'in', Message['type'], number][] = [
    ['after our update_add_htlc, before our signature', 'out', 'update_add_htlc', 1],
    ['after our commitment_signed', 'out', 'commitment_signed', 1],
    ['after LDK revoked', 'in', 'revoke_and_ack', 1],
    ['after LDK signed', 'in', 'commitment_signed', 1],
    ['after we revoked (the HTLC locked in)', 'out', 'revoke_and_ack', 1],
    ['after LDK\'s update_fulfill_htlc', 'in', 'update_fulfill_htlc', 1],
    ['after our signature of the fulfill', 'out', 'commitment_signed', 2],
    ['after LDK\'s last revocation', 'in', 'revoke_and_ack', 2],
  ];

  it.each(cutsWhilePaying)('we pay LDK and the connection is cut %s: the payment ends once, the same way on both sides', { timeout: 30_000 }, async (_where, dir, type, nth) => {
    const inv = ldkInvoice(ldk1, 7_000_000n, 'cut');
    const cut = cutAfter(alice, ldk1.nodeId, dir, type, nth);
    const paying = a.sendpayment({ pay_req: inv.bolt11 }).catch((e: unknown) => e as Error);
    await cut;
    await reconnect(alice, ldk1);
    let result = await paying;
    if (result instanceof Error || result.status === 'FAILED') {
      // Failed before anything was committed: LDK never saw a claimable payment. Pay again.
      expect(d1.claimable.has(inv.paymentHash)).toBe(false);
      result = await a.sendpayment({ pay_req: inv.bolt11 });
    }
    expect(result.status).toBe('SUCCEEDED');
    await d1.until('LDK to report the payment claimed', () => d1.claimed.has(inv.paymentHash));
    expect(d1.claimable.get(inv.paymentHash)).toBe(1);
    expect(d1.claimed.get(inv.paymentHash)!.amountMsat).toBe(7_000_000n);
    const p = (await a.listpayments({})).payments.find((x) => x.payment_hash === inv.paymentHash)!;
    expect(p.status).toBe('SUCCEEDED');
    expect(p.payment_preimage).toMatch(/^[0-9a-f]{64}$/);
    // At most one attempt got through; any other failed without LDK claiming it.
    expect(p.htlcs.filter((h) => h.status === 'SUCCEEDED')).toHaveLength(1);
  });

  const cutsWhilePaid: [string, 'out' | 'in', Message['type'], number][] = [
    ['after LDK\'s update_add_htlc reached us', 'in', 'update_add_htlc', 1],
    ['after LDK\'s signature reached us', 'in', 'commitment_signed', 1],
    ['after we revoked', 'out', 'revoke_and_ack', 1],
    ['after our signature', 'out', 'commitment_signed', 1],
    ['after LDK revoked (the HTLC locked in)', 'in', 'revoke_and_ack', 1],
    ['after our update_fulfill_htlc', 'out', 'update_fulfill_htlc', 1],
    ['after our signature of the fulfill', 'out', 'commitment_signed', 2],
    ['after LDK signed the fulfill', 'in', 'commitment_signed', 2],
  ];

  it.each(cutsWhilePaid)('LDK pays us and the connection is cut %s: our invoice settles once and LDK sees it sent', { timeout: 30_000 }, async (_where, dir, type, nth) => {
    const inv = await a.addinvoice({ value: 6_000, memo: 'cut' });
    const cut = cutAfter(alice, ldk1.nodeId, dir, type, nth);
    const hash = ldkPay(ldk1, inv.payment_request);
    await cut;
    await reconnect(alice, ldk1);
    const ended = await d1.paymentEnded(hash);
    const settled = (await a.lookupinvoice({ r_hash: inv.r_hash })).state;
    if (ended === 'failed') {
      // Then nothing may have been settled on our side either; LDK pays again.
      expect(settled).not.toBe('SETTLED');
      d1.failed.delete(hash);
      ldkPay(ldk1, inv.payment_request, { paymentId: randomBytes(32) });
      expect(await d1.paymentEnded(hash)).toBe('sent');
    }
    const i = await waitFor('our invoice to settle', async () => {
      const x = await a.lookupinvoice({ r_hash: inv.r_hash });
      return x.state === 'SETTLED' ? x : undefined;
    });
    expect(i).toMatchObject({ amt_paid_sat: '6000', r_preimage: d1.sent.get(hash)!.preimage });
  });

  it('we pay LDK and drop the connection right after asking: the payment ends once, either way', { timeout: 30_000 }, async () => {
    const inv = ldkInvoice(ldk1, 8_000_000n, 'dropped at once');
    const paying = a.sendpayment({ pay_req: inv.bolt11 }).catch((e: unknown) => e as Error);
    alice.node.peers.disconnect(ldk1.nodeId);
    await reconnect(alice, ldk1);
    let result = await paying;
    if (result instanceof Error || result.status === 'FAILED') {
      expect(d1.claimable.has(inv.paymentHash)).toBe(false);
      result = await a.sendpayment({ pay_req: inv.bolt11 });
    }
    expect(result.status).toBe('SUCCEEDED');
    await d1.until('LDK to report the payment claimed', () => d1.claimed.has(inv.paymentHash));
    expect(d1.claimable.get(inv.paymentHash)).toBe(1);
  });

  it('LDK pays us and disconnects right after sending; it all comes back after the reconnection', { timeout: 30_000 }, async () => {
    const inv = await a.addinvoice({ value: 5_000, memo: 'ldk cuts' });
    const hash = ldkPay(ldk1, inv.payment_request);
    ldk1.disconnect(alice.node.nodeId);
    await reconnect(alice, ldk1);
    expect(await d1.paymentEnded(hash)).toBe('sent');
    await waitFor('our invoice to settle', async () => ((await a.lookupinvoice({ r_hash: inv.r_hash })).state === 'SETTLED' ? true : undefined));
  });

  it('after all of it: nothing failed that was paid, no channel failed or closed, everyone on the same tip', { timeout: 20_000 }, async () => {
    const payments = (await a.listpayments({})).payments;
    expect(payments.filter((p) => p.status !== 'SUCCEEDED')).toEqual([]);
    // What LDK claimed is what we paid.
    for (const p of payments) {
      if (d1.claimed.has(p.payment_hash)) expect(d1.claimed.get(p.payment_hash)!.amountMsat).toBe(BigInt(p.value_msat));
    }
    // Every payment LDK reports sent settled our invoice; none it reports failed was also sent.
    const { invoices } = await a.listinvoices({ num_max_invoices: 10_000 });
    for (const hash of d1.sent.keys()) {
      const inv = invoices.find((i) => i.r_hash === hash);
      if (inv) expect(inv.state).toBe('SETTLED');
    }
    for (const hash of d1.failed.keys()) expect(d1.sent.has(hash)).toBe(false);
    expect(d1.closed).toEqual([]);
    expect(d2.closed).toEqual([]);
    expect([...d1.errors, ...d2.errors]).toEqual([]);
    for (const t of [alice, carol]) expect(t.logs.filter((l) => /channel failed/.test(l))).toEqual([]);
    expect(new Set(tips()).size).toBe(1);
    // The channels still carry payments both ways.
    expect((await a.sendpayment({ pay_req: ldkInvoice(ldk1, 4_000_000n, 'last').bolt11 })).status).toBe('SUCCEEDED');
    const back = await a.addinvoice({ value: 4_000, memo: 'last' });
    expect(await d1.paymentEnded(ldkPay(ldk1, back.payment_request))).toBe('sent');
  });
});
