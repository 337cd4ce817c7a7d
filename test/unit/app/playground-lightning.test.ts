/**
 * The app host's playground helpers for Lightning: the counterparty opens a channel to us (room to
 * receive), pays our invoice, and issues invoices of its own for us to pay; each change reaches the
 * front ends as an `invoices` or `payments` event. Their inputs are validated like every app method,
 * and off the playground they refuse in a sentence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AppHost } from '../../../core/app/host.ts';
import type { AnyMethod, AnyOutput, AppEvent } from '../../../core/app/contract.ts';
import type { NodeEvent } from '../../../core/api/contract.ts';
import { createMnemonic } from '../../../core/wallet/mnemonic.ts';
import { removeDir, tempDir, waitFor } from '../../helpers/daemon.ts';
import { TEST_SCRYPT } from '../../helpers/node.ts';

type Changed = Extract<AppEvent, { type: 'changed' }>['what'][number];

describe('the playground helpers for Lightning', () => {
  let dir: string;
  let host: AppHost;
  const seen = new Set<Changed>();
  /** The node's events as the front ends receive them. */
  const events: NodeEvent[] = [];

  async function call<M extends AnyMethod>(method: M, params: Record<string, unknown> = {}): Promise<AnyOutput<M>> {
    const r = await host.call(method, params);
    if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
    return r.result as AnyOutput<M>;
  }

  async function refusal(method: string, params: unknown): Promise<{ code: string; message: string }> {
    const r = await host.call(method, params);
    if (r.ok) throw new Error(`${method} was expected to fail`);
    return r.error;
  }

  beforeAll(async () => {
    dir = await tempDir('playground-lightning');
    host = new AppHost({ appDir: join(dir, 'app'), scryptCost: TEST_SCRYPT, playgroundBlockIntervalMs: 300 });
    await host.start();
    host.onEvent((e) => {
      if (e.type === 'changed') for (const w of e.what) seen.add(w);
      if (e.type === 'changed' && e.event) events.push(e.event);
    });
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    if (dir) await removeDir(dir);
  });

  it('refuses before there is a playground, and refuses malformed input', async () => {
    expect(await refusal('app_counterparty_invoice', { amt: 1000 })).toMatchObject({ code: 'failed_precondition', message: expect.stringContaining('only on the playground') });
    expect(await refusal('app_counterparty_pay', { pay_req: 'lnbcrt1' })).toMatchObject({ code: 'failed_precondition' });
    expect(await refusal('app_counterparty_open_channel', { amt: 500_000 })).toMatchObject({ code: 'failed_precondition' });
    expect(await refusal('app_counterparty_invoice', { amt: -1 })).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('amt') });
    expect(await refusal('app_counterparty_invoice', { amt: 1.5 })).toMatchObject({ code: 'invalid_argument' });
    expect(await refusal('app_counterparty_invoice', { amt: 1000, extra: 1 })).toMatchObject({ code: 'invalid_argument' });
    expect(await refusal('app_counterparty_pay', {})).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('pay_req') });
    expect(await refusal('app_counterparty_open_channel', { amt: 1000 })).toMatchObject({ code: 'invalid_argument' });
    expect(await refusal('app_counterparty_open_channel', { amt: 20_000_000 })).toMatchObject({ code: 'invalid_argument' });
  });

  it('the counterparty opens a channel to us, pays our invoice, and we pay its invoice back', { timeout: 90_000 }, async () => {
    await call('app_choose_network', { kind: 'playground' });
    await call('create', { password: 'a test password', words: createMnemonic(), new_wallet: true });
    await waitFor('the counterparty to connect', () => (host.counterparty?.ready && host.node!.peers.get(host.counterparty.node.nodeId)?.state === 'ready') || undefined, 30_000);
    const cp = host.counterparty!.node.nodeId;

    // A channel from the counterparty: all of it on its side, room for us to receive.
    const { funding_txid } = await call('app_counterparty_open_channel', { amt: 400_000 });
    expect(funding_txid).toMatch(/^[0-9a-f]{64}$/);
    // At once another: the counterparty's change waits for a block, so the faucet tops it up first.
    const second = await call('app_counterparty_open_channel', { amt: 100_000 });
    expect(second.funding_txid).not.toBe(funding_txid);
    const opened = await waitFor('both channels to open (the auto-miner confirms them)', async () => {
      const list = (await call('listchannels')).channels.filter((c) => c.remote_pubkey === cp && c.active);
      return list.length === 2 ? list : undefined;
    }, 40_000);
    const ch = opened.find((c) => c.capacity === '400000');
    expect(ch).toMatchObject({ initiator: false, private: true, local_balance: '0' });
    // The node told of each step as it happened: unlocked, the peer up, both channels opened, blocks.
    expect(events.find((e) => e.type === 'wallet_state')).toEqual({ type: 'wallet_state', state: 'READY' });
    expect(events).toContainEqual({ type: 'peer_online', pub_key: cp });
    await waitFor('both channel_opened events', () => events.filter((e) => e.type === 'channel_opened' && e.channel.remote_pubkey === cp).length === 2 || undefined, 5_000);
    const openedEvent = events.find((e) => e.type === 'channel_opened' && e.channel.capacity === '400000');
    expect(openedEvent).toMatchObject({ channel: { remote_pubkey: cp, channel_point: ch!.channel_point, chan_id: ch!.chan_id, state: 'NORMAL' } });
    expect(events.some((e) => e.type === 'block_connected')).toBe(true);
    // Each channel was told from its first stored state on, in order: new, then opened.
    const firstStates = events.filter((e) => e.type === 'channel_state_changed' && e.previous_state === '');
    expect(firstStates.length).toBe(2);

    // Our invoice, with a route hint through each private channel; the counterparty pays it.
    seen.clear();
    const ours = await call('addinvoice', { value: 60_000, memo: 'from the counterparty', private: true });
    const decoded = await call('decodepayreq', { pay_req: ours.payment_request });
    expect(decoded.route_hints.map((r) => r.hop_hints[0]!.node_id)).toEqual([cp, cp]);
    const paid = await call('app_counterparty_pay', { pay_req: ours.payment_request });
    expect(paid).toMatchObject({ status: 'SUCCEEDED', value_sat: '60000' });
    const settled = await waitFor('our invoice to settle', async () => {
      const i = await call('lookupinvoice', { r_hash: ours.r_hash });
      return i.state === 'SETTLED' ? i : undefined;
    });
    expect(settled.r_preimage).toBe(paid.payment_preimage);
    await waitFor('an invoices event', () => seen.has('invoices') || undefined, 5_000);
    expect(events).toContainEqual({ type: 'invoice_added', r_hash: ours.r_hash, memo: 'from the counterparty', value_sat: '60000' });
    await waitFor('invoice_paid', () => events.find((e) => e.type === 'invoice_paid' && e.r_hash === ours.r_hash), 5_000).then((e) => expect(e).toMatchObject({ amt_paid_sat: '60000' }));

    // Paying it twice pays nothing more; an invoice of nobody's is refused in the counterparty's words.
    expect((await call('app_counterparty_pay', { pay_req: ours.payment_request })).status).toBe('SUCCEEDED');
    expect(await refusal('app_counterparty_pay', { pay_req: 'lnbcrt1nothing' })).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/^The playground counterparty could not pay: this is not a valid Lightning invoice/) });

    // The counterparty's invoice; we pay it over the same channel.
    seen.clear();
    const theirs = await call('app_counterparty_invoice', { amt: 5_000, memo: 'a coffee' });
    const d = await call('decodepayreq', { pay_req: theirs.payment_request });
    expect(d).toMatchObject({ destination: cp, num_satoshis: '5000', description: 'a coffee', network: 'regtest', expired: false });
    expect(d.payment_hash).toBe(theirs.r_hash);
    const sent = await call('sendpayment', { pay_req: theirs.payment_request });
    expect(sent).toMatchObject({ status: 'SUCCEEDED', value_sat: '5000', fee_sat: '0' });
    await waitFor('a payments event', () => seen.has('payments') || undefined, 5_000);
    // The payment's whole life, in order: in flight, then settled with its fee.
    const mine = events.filter((e) => (e.type === 'payment_in_flight' || e.type === 'payment_settled' || e.type === 'payment_failed') && e.payment_hash === theirs.r_hash);
    expect(mine).toEqual([
      { type: 'payment_in_flight', payment_hash: theirs.r_hash, value_sat: '5000' },
      { type: 'payment_settled', payment_hash: theirs.r_hash, value_sat: '5000', fee_sat: '0' },
    ]);

    // An invoice without an amount: the payer chooses.
    const open = await call('app_counterparty_invoice', { amt: 0 });
    expect((await call('decodepayreq', { pay_req: open.payment_request })).num_satoshis).toBe('0');
  });
});
