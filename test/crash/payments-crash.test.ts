/**
 * Crash safety of channels and payments between two Coulomb daemons (child processes) on one
 * playground chain: bursts of payments both ways, and in each burst one daemon, chosen at random, is
 * SIGKILLed at a random moment, then started again and reconnected. Afterwards the channel works both
 * ways, every payment ended exactly once (it succeeded exactly when its invoice settled; none is left
 * in flight), what a payer answered (succeeded or failed) still holds, and the balances moved by
 * exactly what the settled invoices asked, to the msat.
 *
 * Run twice: with each daemon's store embedded in its data directory, and with both on PostgreSQL
 * (each its own database on one private server started here; skipped, with the reason, where
 * PostgreSQL's programs are missing). On PostgreSQL every second kill is of the server itself,
 * mid-burst: each daemon loses its store's connection and must stop on its own (exit code 1, saying
 * why) rather than go on; then the server and both daemons are started again.
 *
 * Environment:
 *   COULOMB_CRASH_KILLS     kills on the embedded store (default 20, what fits CI; e.g. 300 for a long local run)
 *   COULOMB_CRASH_PG_KILLS  kills on PostgreSQL, half of them of the server (default 4; e.g. 120)
 *   COULOMB_CRASH_SEED      replays a run's kill points: every run prints its seed first
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CrashDaemon, cleanUp, rng, startChain } from './harness.ts';
import type { Chain } from './harness.ts';
import { waitFor } from '../helpers/daemon.ts';
import { findPostgres, startPostgres } from '../helpers/postgres.ts';
import type { PgCluster } from '../helpers/postgres.ts';

const SEED = Number(process.env.COULOMB_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const found = findPostgres();
const pgSkip = 'reason' in found ? found.reason : undefined;
if (pgSkip) {
  console.log(`Skipping the payments crash test on PostgreSQL (test/crash/payments-crash.test.ts): ${pgSkip}. To run it, install PostgreSQL (Debian: apt-get install postgresql) or set PG_BINDIR.`);
}
/** Payments each way in one burst. */
const BURST = 3;
const CAPACITY = 5_000_000;
const PUSH = 2_500_000;

interface Paid {
  payer: CrashDaemon;
  payee: CrashDaemon;
  rHash: string;
  sat: number;
  request: string;
  /** What sendpayment answered, when the call was not cut by a kill. */
  answered?: string;
}

crashTest('embedded', Number(process.env.COULOMB_CRASH_KILLS ?? 20));
crashTest('postgres', Number(process.env.COULOMB_CRASH_PG_KILLS ?? 4));

function crashTest(backend: 'embedded' | 'postgres', KILLS: number): void {
  const title = backend === 'embedded' ? 'embedded stores' : 'PostgreSQL, the server killed too';
  describe.skipIf(backend === 'postgres' && pgSkip !== undefined)(`crash safety: two Coulomb daemons paying each other, SIGKILLed at random (${title})`, () => {
    let chain: Chain;
    let pg: PgCluster | undefined;
    const daemons: CrashDaemon[] = [];
    afterAll(async () => {
      for (const d of daemons) await d.stop();
      await chain?.stop();
      await pg?.destroy();
      await cleanUp([...daemons.map((d) => d.datadir), ...(chain ? [chain.dir] : [])]);
    });

    it(`survives ${KILLS} kills during payment bursts both ways (seed ${SEED})`, { timeout: 180_000 + KILLS * 30_000 }, async () => {
      console.log(`crash test (${backend}): ${KILLS} kills, seed ${SEED} (replay with COULOMB_CRASH_SEED=${SEED})`);
      const random = rng(SEED);
      chain = await startChain();
      if (backend === 'postgres') pg = await startPostgres((found as { bindir: string }).bindir);
      const store = async (name: string) => (pg ? { pgDsn: await pg.createDatabase(name) } : {});
      const alice = await CrashDaemon.create('crash-alice', chain, await store('crash_alice'));
      daemons.push(alice);
      const bob = await CrashDaemon.create('crash-bob', chain, await store('crash_bob'));
      daemons.push(bob);
      const other = (d: CrashDaemon): CrashDaemon => (d === alice ? bob : alice);

      // One channel, alice → bob, half of it pushed to bob so both can pay.
      await chain.faucet.send((await alice.call('newaddress', {})).address, BigInt(CAPACITY + 100_000));
      await chain.chain.mine(1, chain.faucet.script);
      await waitFor('alice to see her coins', async () => BigInt((await alice.call('walletbalance', {})).confirmed_balance) > BigInt(CAPACITY) || undefined, 30_000);
      await alice.call('connect', { addr: bob.uri, perm: true });
      await alice.call('openchannel', { node_key: bob.nodeId, local_amt: CAPACITY, push_amt: PUSH, private: true });
      await waitFor('the funding in the mempool', () => chain.chain.mempool.size > 0 || undefined, 30_000, 20);
      await chain.chain.mine(6, chain.faucet.script);
      const channelOf = async (d: CrashDaemon) => (await d.call('listchannels', {})).channels.find((c) => c.remote_pubkey === other(d).nodeId);
      const usable = async (): Promise<boolean> => !!(await channelOf(alice).catch(() => undefined))?.active && !!(await channelOf(bob).catch(() => undefined))?.active;
      await waitFor('the channel to be active on both sides', async () => (await usable()) || undefined, 60_000);
      const start = { alice: await channelOf(alice), bob: await channelOf(bob) };
      const total = Number(start.alice!.local_balance) + Number(start.alice!.remote_balance);
      expect(Number(start.bob!.local_balance) + Number(start.bob!.remote_balance)).toBe(total);

      const paid: Paid[] = [];
      const calls: Promise<unknown>[] = [];
      let amount = 1_000;
      /** Starts a payment; a call cut by a kill is no failure of the test: the ledgers say how it ended. */
      const pay = async (payer: CrashDaemon, payee: CrashDaemon): Promise<void> => {
        const sat = amount++;
        const inv = await payee.call('addinvoice', { value: sat });
        const p: Paid = { payer, payee, rHash: inv.r_hash, sat, request: inv.payment_request };
        paid.push(p);
        calls.push(payer.call('sendpayment', { pay_req: inv.payment_request, timeout_seconds: 60 }).then((r) => (p.answered = r.status), (e: unknown) => e));
      };
      const restartTimes: number[] = [];
      let serverKills = 0;
      for (let k = 0; k < KILLS; k++) {
        const victim = random() < 0.5 ? alice : bob;
        const delayMs = Math.floor(random() * 800);
        const server = pg !== undefined && k % 2 === 1;
        // Invoices first (both daemons must be up for them), then the payments all at once.
        const pending: Promise<void>[] = [];
        for (let i = 0; i < BURST; i++) {
          pending.push(pay(alice, bob), pay(bob, alice));
        }
        await Promise.all(pending);
        // The kill point: a random moment into the burst.
        await new Promise((r) => setTimeout(r, delayMs));
        const t0 = Date.now();
        if (server && pg) {
          serverKills++;
          await pg.kill();
          // Both stores lost their connection: each daemon stops on its own, saying why, and goes no further.
          for (const d of [alice, bob]) {
            const exit = await d.exited();
            expect(exit, `${d.name} after the server was killed:\n${d.tail()}`).toEqual({ code: 1, signal: null });
            expect(d.tail()).toContain("stopped: the node's store failed");
          }
          await pg.start();
          await Promise.all([alice.start(), bob.start()]);
          await alice.call('connect', { addr: bob.uri, perm: true }).catch(() => undefined);
        } else {
          await victim.kill();
          await victim.start();
          await victim.call('connect', { addr: other(victim).uri, perm: true }).catch(() => undefined);
        }
        await waitFor(`the channel to be usable again after kill ${k + 1} (${server ? 'the PostgreSQL server' : victim.name})`, async () => (await usable()) || undefined, 60_000, 50);
        restartTimes.push(Date.now() - t0);
      }
      await Promise.all(calls);

      // Every payment ends, exactly once, the same way on both sides.
      type Statuses = Map<CrashDaemon, Map<string, string>>;
      /** Each payer's payment statuses by hash, read once per look (not once per payment: a long run has hundreds). */
      const statuses = async (): Promise<Statuses> => new Map(await Promise.all([alice, bob].map(async (d) => [d, new Map((await d.call('listpayments', {})).payments.map((x) => [x.payment_hash, x.status]))] as const)));
      const outcome = async (p: Paid, payments: Statuses) => {
        const invoice = await p.payee.call('lookupinvoice', { r_hash: p.rHash });
        return { payment: payments.get(p.payer)!.get(p.rHash) ?? 'NONE', invoice: invoice.state };
      };
      const ended = async (): Promise<boolean> => {
        const payments = await statuses();
        for (const p of paid) {
          const o = await outcome(p, payments);
          if (o.payment === 'IN_FLIGHT' || o.invoice === 'ACCEPTED') return false;
          if ((o.invoice === 'SETTLED') !== (o.payment === 'SUCCEEDED')) return false;
        }
        return true;
      };
      await waitFor('every payment to end', async () => (await ended()) || undefined, 60_000, 200).catch(() => undefined);
      const settled = { alice: 0, bob: 0 };
      const payments = await statuses();
      for (const [i, p] of paid.entries()) {
        const o = await outcome(p, payments);
        expect(o.payment, `payment ${i} (${p.payer.name}, ${p.sat} sat) is still in flight`).not.toBe('IN_FLIGHT');
        expect(o.invoice === 'SETTLED', `payment ${i} (${p.payer.name}, ${p.sat} sat): invoice ${o.invoice}, payment ${o.payment}`).toBe(o.payment === 'SUCCEEDED');
        if (o.invoice === 'SETTLED') {
          expect((await p.payee.call('lookupinvoice', { r_hash: p.rHash })).amt_paid_sat).toBe(String(p.sat));
          if (p.payer === alice) settled.alice += p.sat;
          else settled.bob += p.sat;
        }
        // What a payer answered is never taken back by a crash after it.
        if (p.answered === 'SUCCEEDED' || p.answered === 'FAILED') expect(o.payment, `payment ${i} (${p.payer.name}, ${p.sat} sat) answered ${p.answered}`).toBe(p.answered);
      }

      // The channel works both ways, and an invoice whose payment a kill stopped can be paid again.
      for (const [payer, payee] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const sat = amount++;
        const inv = await payee.call('addinvoice', { value: sat });
        expect((await payer.call('sendpayment', { pay_req: inv.payment_request, timeout_seconds: 60 })).status).toBe('SUCCEEDED');
        if (payer === alice) settled.alice += sat;
        else settled.bob += sat;
      }
      const unpaid: Paid[] = [];
      for (const p of paid) if ((await p.payee.call('lookupinvoice', { r_hash: p.rHash })).state === 'OPEN') unpaid.push(p);
      for (const p of unpaid.slice(0, 6)) {
        const again = await p.payer.call('sendpayment', { pay_req: p.request, timeout_seconds: 60 });
        expect(again.status, `paying ${p.sat} sat again (${p.payer.name})`).toBe('SUCCEEDED');
        if (p.payer === alice) settled.alice += p.sat;
        else settled.bob += p.sat;
      }

      // Balances: what the settled invoices moved, nothing else (the commitment fee is the same once
      // nothing is in flight; every amount is whole sats, so the sat balances are exact to the msat).
      const expectAlice = Number(start.alice!.local_balance) - settled.alice + settled.bob;
      await waitFor('the balances to settle', async () => {
        const [a, b] = [await channelOf(alice), await channelOf(bob)];
        return a && b && Number(a.local_balance) === expectAlice && Number(b.remote_balance) === expectAlice && Number(a.remote_balance) === total - expectAlice && Number(b.local_balance) === total - expectAlice ? true : undefined;
      }, 30_000).catch(() => undefined);
      const [a, b] = [await channelOf(alice), await channelOf(bob)];
      expect([a!.local_balance, a!.remote_balance, b!.local_balance, b!.remote_balance].map(Number)).toEqual([expectAlice, total - expectAlice, total - expectAlice, expectAlice]);

      const mean = (xs: number[]): number => Math.round(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length));
      const answered = paid.filter((p) => p.answered !== undefined).length;
      console.log(`crash test (${backend}): ${KILLS} kills${pg ? ` (${serverKills} of the PostgreSQL server)` : ''}, ${paid.length} payments started (${answered} answered, the rest cut by a kill), ${settled.alice + settled.bob} sat settled; restart to usable channel: mean ${mean(restartTimes)} ms, daemon start: mean ${mean([...alice.startTimes, ...bob.startTimes])} ms`);
    });
  });
}
