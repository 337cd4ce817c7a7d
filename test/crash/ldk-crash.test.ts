/**
 * Crash safety against LDK: a Coulomb daemon (a child process) and an LDK node (in this process) pay
 * each other in bursts over one channel, and the Coulomb daemon is SIGKILLed at a random moment of
 * each burst, then started again and reconnected. Afterwards the channel works both ways, every
 * payment ended exactly once and the same way on both sides (ours succeeded exactly when LDK claimed
 * it; LDK's was sent exactly when our invoice settled), and our balance moved by exactly what was
 * paid, to the msat.
 *
 * Environment:
 *   COULOMB_CRASH_LDK_KILLS  how many kills (default 20, what fits CI; e.g. 300 for a long local run)
 *   COULOMB_CRASH_SEED       replays a run's kill points: every run prints its seed first
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CrashDaemon, cleanUp, rng, startChain } from './harness.ts';
import type { Chain } from './harness.ts';
import { startLdkNode } from '../interop/ldk/node.ts';
import type { LdkNode } from '../interop/ldk/node.ts';
import { LdkEventDriver } from '../interop/ldk/events.ts';
import { ldkInvoice, ldkPay } from '../interop/ldk/payments.ts';
import { waitFor } from '../helpers/daemon.ts';

const KILLS = Number(process.env.COULOMB_CRASH_LDK_KILLS ?? 20);
const SEED = Number(process.env.COULOMB_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Payments each way in one burst. */
const BURST = 3;
const CAPACITY = 5_000_000;
const PUSH = 2_500_000;

interface Paid {
  /** Who pays: us (the Coulomb daemon) or LDK. */
  by: 'us' | 'ldk';
  hash: string;
  sat: number;
  /** LDK refused to start it (e.g. no usable channel while we were down): nothing may have moved. */
  refused?: boolean;
}

describe('crash safety: a Coulomb daemon paying LDK and paid by it, SIGKILLed at random', () => {
  let chain: Chain;
  let us: CrashDaemon | undefined;
  let ldk: LdkNode | undefined;
  afterAll(async () => {
    await us?.stop();
    await ldk?.stop();
    await chain?.stop();
    await cleanUp([...(us ? [us.datadir] : []), ...(chain ? [chain.dir] : [])]);
  });

  it(`survives ${KILLS} kills during payment bursts both ways (seed ${SEED})`, { timeout: 180_000 + KILLS * 30_000 }, async () => {
    console.log(`LDK crash test: ${KILLS} kills, seed ${SEED} (replay with COULOMB_CRASH_SEED=${SEED})`);
    const random = rng(SEED);
    chain = await startChain();
    const driver = new LdkEventDriver();
    const l = await startLdkNode({ alias: 'ldk', onEvent: driver.onEvent, logLevel: 'info' });
    ldk = l;
    const port = await l.listen(0, '127.0.0.1');
    const d = await CrashDaemon.create('crash-ldk-us', chain);
    us = d;
    const blockAt = (h: number): Uint8Array => chain.chain.entries[h]!.block.toBuffer();
    /** Mines and hands the blocks to LDK; resolves when we follow the same tip (HTLC expiries are heights). */
    const mine = async (n: number): Promise<void> => {
      await chain.chain.mine(n, chain.faucet.script);
      l.syncTo(chain.chain.height, blockAt);
      await waitFor('our daemon to follow the tip', async () => (await d.call('getinfo', {})).block_height === chain.chain.height || undefined, 60_000);
    };

    await chain.faucet.send((await d.call('newaddress', {})).address, BigInt(CAPACITY + 100_000));
    await mine(1);
    await waitFor('our coins', async () => BigInt((await d.call('walletbalance', {})).confirmed_balance) > BigInt(CAPACITY) || undefined, 30_000);
    const ldkUri = `${l.nodeId}@127.0.0.1:${port}`;
    await d.call('connect', { addr: ldkUri, perm: true });
    await d.call('openchannel', { node_key: l.nodeId, local_amt: CAPACITY, push_amt: PUSH, private: true });
    await waitFor('the funding in the mempool', () => chain.chain.mempool.size > 0 || undefined, 30_000, 20);
    await mine(6);
    const ours = async () => (await d.call('listchannels', {})).channels.find((c) => c.remote_pubkey === l.nodeId);
    const ldkUsable = (): boolean => l.channelManager.list_channels().some((c) => c.get_is_usable());
    /** LDK's channel takes an HTLC of this amount now (usable, and within its next-HTLC minimum and limit). */
    const ldkCanSend = (msat: bigint): boolean =>
      l.channelManager.list_channels().some((c) => c.get_is_usable() && c.get_next_outbound_htlc_minimum_msat() <= msat && msat <= c.get_next_outbound_htlc_limit_msat());
    const usable = async (): Promise<boolean> => ldkUsable() && !!(await ours().catch(() => undefined))?.active;
    await waitFor('the channel to be usable on both sides', async () => (await usable()) || undefined, 60_000);
    const start = (await ours())!;
    const total = Number(start.local_balance) + Number(start.remote_balance);

    const paid: Paid[] = [];
    const calls: Promise<unknown>[] = [];
    let amount = 1_000;
    const wePay = async (): Promise<void> => {
      const sat = amount++;
      const inv = ldkInvoice(l, BigInt(sat) * 1000n, 'crash');
      paid.push({ by: 'us', hash: inv.paymentHash, sat });
      calls.push(d.call('sendpayment', { pay_req: inv.bolt11, timeout_seconds: 60 }).catch((e: unknown) => e));
    };
    const ldkPays = async (): Promise<void> => {
      const sat = amount++;
      const inv = await d.call('addinvoice', { value: sat });
      const p: Paid = { by: 'ldk', hash: inv.r_hash, sat };
      paid.push(p);
      try {
        ldkPay(l, inv.payment_request);
      } catch {
        p.refused = true;
      }
    };
    const restartTimes: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const delayMs = Math.floor(random() * 800);
      for (let i = 0; i < BURST; i++) {
        await wePay();
        await ldkPays();
      }
      // The kill point: a random moment into the burst.
      await new Promise((r) => setTimeout(r, delayMs));
      await d.kill();
      const t0 = Date.now();
      // LDK drops the dead connection before the daemon comes back (it reconnects its peers itself).
      await l.waitForPeerGone(d.nodeId, 30_000);
      await d.start();
      await d.call('connect', { addr: ldkUri, perm: true }).catch(() => undefined);
      await waitFor(`the channel to be usable again after kill ${k + 1}`, async () => (await usable()) || undefined, 60_000, 50);
      restartTimes.push(Date.now() - t0);
    }
    await Promise.all(calls);

    // Every payment ends, exactly once, the same way on both sides.
    const outcome = async (p: Paid): Promise<{ ended: boolean; paid: boolean; received: boolean; what: string }> => {
      if (p.by === 'us') {
        const payment = (await d.call('listpayments', {})).payments.find((x) => x.payment_hash === p.hash);
        const status = payment?.status ?? 'NONE';
        const claimed = driver.claimed.has(p.hash);
        return { ended: status !== 'IN_FLIGHT', paid: status === 'SUCCEEDED', received: claimed, what: `we pay ${p.sat} sat: ours ${status}, LDK ${claimed ? 'claimed' : 'not claimed'}` };
      }
      const invoice = (await d.call('lookupinvoice', { r_hash: p.hash })).state;
      const sent = driver.sent.has(p.hash);
      const ended = p.refused || sent || driver.failed.has(p.hash);
      return { ended: !!ended && invoice !== 'ACCEPTED', paid: sent, received: invoice === 'SETTLED', what: `LDK pays ${p.sat} sat: LDK ${p.refused ? 'refused' : sent ? 'sent' : driver.failed.has(p.hash) ? 'failed' : 'pending'}, our invoice ${invoice}` };
    };
    const allEnded = async (): Promise<boolean> => {
      for (const p of paid) {
        const o = await outcome(p);
        if (!o.ended || o.paid !== o.received) return false;
      }
      return true;
    };
    await waitFor('every payment to end', async () => (await allEnded()) || undefined, 90_000, 200).catch(() => undefined);
    const moved = { us: 0, ldk: 0 };
    for (const [i, p] of paid.entries()) {
      const o = await outcome(p);
      expect(o.ended, `payment ${i}: ${o.what}`).toBe(true);
      expect(o.paid, `payment ${i}: ${o.what}`).toBe(o.received);
      if (o.received) moved[p.by] += p.sat;
    }
    expect(driver.errors).toEqual([]);
    expect(driver.closed).toEqual([]);

    // The channel works both ways.
    const sat = amount++;
    const inv = ldkInvoice(l, BigInt(sat) * 1000n, 'after');
    expect((await d.call('sendpayment', { pay_req: inv.bolt11, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
    moved.us += sat;
    const back = amount++;
    const ours2 = await d.call('addinvoice', { value: back });
    // Our payment succeeded when LDK's preimage reached us, before the commitment dance that removes its
    // HTLC ends. Until then LDK counts that HTLC as dust exposure and sends only HTLCs above the dust
    // limit (a few thousand sat at the floor feerate), so it would refuse this small one: wait until
    // LDK's channel can carry it, as LDK's router judges.
    await waitFor('LDK to be able to send the payment back', () => ldkCanSend(BigInt(back) * 1000n) || undefined, 30_000, 20);
    const backHash = ldkPay(l, ours2.payment_request);
    expect(await driver.paymentEnded(backHash, 60_000), `LDK's payment back: ${JSON.stringify(driver.failed.get(backHash))} ${JSON.stringify(driver.pathFailures.filter((f) => f.hash === backHash), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} ${driver.htlcHandlingFailed.join(',')}\n${d.tail(30)}\nLDK:\n${l.logs.slice(-20).join('\n')}`).toBe('sent');
    moved.ldk += back;

    // Our balance moved by exactly what was paid (whole sats, and the same commitment fee once nothing
    // is in flight).
    const expectLocal = Number(start.local_balance) - moved.us + moved.ldk;
    await waitFor('the balances to settle', async () => {
      const c = await ours();
      return c && Number(c.local_balance) === expectLocal && Number(c.remote_balance) === total - expectLocal ? true : undefined;
    }, 30_000).catch(() => undefined);
    const c = (await ours())!;
    expect([Number(c.local_balance), Number(c.remote_balance)]).toEqual([expectLocal, total - expectLocal]);

    const mean = (xs: number[]): number => Math.round(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length));
    console.log(`LDK crash test: ${KILLS} kills, ${paid.length} payments started, ${moved.us + moved.ldk} sat moved; restart to usable channel: mean ${mean(restartTimes)} ms, daemon start: mean ${mean(d.startTimes)} ms`);
  });
});
