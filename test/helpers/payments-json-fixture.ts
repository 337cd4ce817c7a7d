/**
 * Writes test/fixtures/payments-v1/: payments.json (schema 1), invoices.json (schema 1) and
 * htlc-switch.json (schema 2) as the JSON stores of the ledger, the invoice registry and the HTLC switch
 * wrote them, driven through those classes (the switch against channels faked by hand), so the move
 * to the KvStore can be tested against what existing data directories hold.
 *
 * Run once with the classes that still kept these stores in JSON: `npx tsx test/helpers/payments-json-fixture.ts`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../../core/crypto/hash.ts';
import { secp } from '../../core/crypto/secp256k1.ts';
import { hex } from '../../core/util/bytes.ts';
import { PaymentStore } from '../../core/payments/payments.ts';
import type { Route } from '../../core/payments/payments.ts';
import { InvoiceRegistry } from '../../core/payments/invoices.ts';
import { HtlcSwitch } from '../../core/node/htlc-switch.ts';
import type { ChannelManager, ChannelView, HtlcEvent } from '../../core/node/channels.ts';
import { decodeInvoice, payableInvoice } from '../../core/invoice/bolt11.ts';
import { createOnion } from '../../core/onion/sphinx.ts';
import { framedPayload } from '../../core/onion/wire.ts';
import type { ChannelState } from '../../core/channel/types.ts';
import { memoryLogger } from '../../core/log/logger.ts';

const OUT = fileURLToPath(new URL('../fixtures/payments-v1', import.meta.url));
const T0 = 1_700_000_000_000;
const NODE_SECRET = new Uint8Array(32).fill(0x21);
const PAYEE_SECRET = new Uint8Array(32).fill(0x31);
const PAYEE = hex.encode(secp.getPublicKey(PAYEE_SECRET));
const HOP = hex.encode(secp.getPublicKey(new Uint8Array(32).fill(4)));
const CH_OUT = 'aa'.repeat(32);
const CH_IN = 'bb'.repeat(32);
const CH_FWD = 'cc'.repeat(32);
const SCID_OUT = (500n << 40n) | (1n << 16n);
const SCID_FWD = (600n << 40n) | (2n << 16n);

const route = (amountMsat: bigint): Route => ({
  totalTimeLock: 1200,
  totalAmtMsat: amountMsat + 1000n,
  totalFeesMsat: 1000n,
  hops: [
    { pubkey: HOP, shortChannelId: SCID_OUT, amtToForwardMsat: amountMsat, feeMsat: 1000n, expiry: 1200 },
    { pubkey: PAYEE, shortChannelId: SCID_OUT + 1n, amtToForwardMsat: amountMsat, feeMsat: 0n, expiry: 1160 },
  ],
});

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const scratch = join(OUT, 'payee-scratch');
  await mkdir(scratch);
  let clock = T0;
  const now = (): number => clock;

  // ---- Invoices of ours, one in every state.
  const invoices = await InvoiceRegistry.open({ dir: OUT, nodeSecret: NODE_SECRET, network: 'regtest', now });
  const part = (inv: { paymentHash: string; paymentSecret: string }, htlcId: string, amountMsat: bigint, totalMsat: bigint) =>
    invoices.onHtlc({ paymentHash: inv.paymentHash, paymentSecret: hex.decode(inv.paymentSecret), amountMsat, totalMsat, cltvExpiry: 1200, currentHeight: 1000, htlcId });
  await invoices.create({ amountMsat: 1_000_000n, memo: 'open' });
  const settled = await invoices.create({ amountMsat: 2_000_000n, memo: 'settled in two parts', expirySec: 3600 });
  clock += 1000;
  await part(settled, `${CH_IN}:0`, 1_200_000n, 2_000_000n);
  clock += 1000;
  await part(settled, `${CH_IN}:1`, 800_000n, 2_000_000n);
  await invoices.markSettled(settled.paymentHash, 2_000_000n);
  const canceled = await invoices.create({ amountMsat: 3_000n, memo: 'canceled while holding a part' });
  await part(canceled, `${CH_IN}:2`, 1_000n, 3_000n);
  await invoices.cancel(canceled.paymentHash);
  const held = await invoices.create({ amountMsat: 10_000n, memo: 'one part held', minFinalCltvExpiryDelta: 40 });
  await part(held, `${CH_IN}:3`, 4_000n, 10_000n);
  const timedOut = await invoices.create({ memo: 'any amount, a part timed out' });
  await part(timedOut, `${CH_IN}:4`, 4_000n, 10_000n);
  clock += 61_000;
  await invoices.onMppTimeout(timedOut.paymentHash);
  await invoices.create({ amountMsat: 5_000n, memo: 'a local note', descriptionHash: sha256(new TextEncoder().encode('terms')), private: true });
  const anyPaid = await invoices.create({ memo: 'any amount, paid' });
  await part(anyPaid, `${CH_IN}:5`, 7_777n, 7_777n);
  await invoices.markSettled(anyPaid.paymentHash, 7_777n);

  // ---- Payments made through the ledger alone: a multi-part success, a retry, a failure without attempts.
  const payments = await PaymentStore.open({ dir: OUT, now });
  const mpp = new Uint8Array(32).fill(1);
  await payments.begin({ paymentHash: sha256(mpp), paymentRequest: 'lnbcrt1mpp', destination: PAYEE, amountMsat: 100_000n, feeLimitMsat: 5_000n });
  await payments.attempt(sha256(mpp), route(60_000n));
  await payments.attempt(sha256(mpp), route(40_000n));
  clock += 500;
  await payments.succeed(sha256(mpp), { preimage: mpp });
  const retried = new Uint8Array(32).fill(2);
  await payments.begin({ paymentHash: sha256(retried), destination: PAYEE, amountMsat: 9_000n });
  const a1 = await payments.attempt(sha256(retried), route(9_000n));
  await payments.failAttempt(sha256(retried), a1, { code: 'temporary_channel_failure', failureSourceIndex: 0 });
  await payments.fail(sha256(retried), 'FAILURE_REASON_NO_ROUTE');
  clock += 500;
  await payments.begin({ paymentHash: sha256(retried), destination: PAYEE, amountMsat: 9_000n });
  await payments.attempt(sha256(retried), route(9_000n));
  await payments.succeed(sha256(retried), { preimage: retried });
  const noRoute = new Uint8Array(32).fill(3);
  await payments.begin({ paymentHash: sha256(noRoute), destination: PAYEE, amountMsat: 1_000n });
  await payments.fail(sha256(noRoute), 'FAILURE_REASON_INSUFFICIENT_BALANCE');

  // ---- The switch, against channels faked by hand: our payments through CH_OUT, forwards CH_IN → CH_FWD.
  const spec = { htlcs: [], toLocalMsat: 10_000_000_000n, toRemoteMsat: 0n, feeratePerKw: 253 };
  const state = (scid: bigint): ChannelState => ({ phase: 'NORMAL', shortChannelId: scid, remote: { htlcMinimumMsat: 1n }, commit: { localSpec: spec, remoteSpec: spec, localChanges: { proposed: [], signed: [], acked: [] }, remoteChanges: { proposed: [], signed: [], acked: [] } } }) as unknown as ChannelState;
  const views: ChannelView[] = [
    { key: CH_OUT, peer: PAYEE, state: state(SCID_OUT), private: true },
    { key: CH_FWD, peer: HOP, state: state(SCID_FWD), private: true },
  ];
  const nextId = new Map<string, bigint>();
  let handler: ((e: HtlcEvent) => Promise<void>) | undefined;
  let onPreimage: ((channel: string, id: bigint, preimage: Uint8Array) => Promise<void>) | undefined;
  const channels = {
    get: (key: string) => views.find((v) => v.key === key),
    list: () => views,
    byScid: (scid: bigint) => views.find((v) => v.state.shortChannelId === scid),
    spendableMsat: () => 10_000_000_000n,
    unresolvedIncoming: () => [],
    setHtlcHandler: (fn: typeof handler) => void (handler = fn),
    setPreimageHandler: (fn: typeof onPreimage) => void (onPreimage = fn),
    resolveHtlc: async () => undefined,
    addHtlc: async (channel: string, _add: unknown, onId: (id: bigint) => Promise<void>) => {
      const id = nextId.get(channel) ?? 0n;
      nextId.set(channel, id + 1n);
      await onId(id);
    },
  } as unknown as ChannelManager;
  const sw = await HtlcSwitch.open({ dir: OUT, channels, invoices, payments, nodeSecret: NODE_SECRET, nodeId: hex.encode(secp.getPublicKey(NODE_SECRET)), height: () => 1000, log: memoryLogger() });

  const payeeInvoices = await InvoiceRegistry.open({ dir: scratch, nodeSecret: PAYEE_SECRET, network: 'regtest', now });
  const pay = async (amountMsat: bigint) => {
    const inv = await payeeInvoices.create({ amountMsat });
    const decoded = payableInvoice(decodeInvoice(inv.paymentRequest));
    await sw.pay(decoded, inv.paymentRequest, amountMsat, { timeoutMs: 0 });
    return inv;
  };
  // Succeeded (the preimage came back, then the HTLC left the commitments), failed, still in flight.
  const paid = await pay(21_000n);
  await onPreimage!(CH_OUT, 0n, hex.decode(paid.preimage));
  await handler!({ type: 'fulfilled', channel: CH_OUT, id: 0n, preimage: hex.decode(paid.preimage) });
  await pay(22_000n);
  await handler!({ type: 'failed', channel: CH_OUT, id: 1n, local: 'the peer failed the HTLC' });
  await pay(23_000n);

  // Forwards: one whose preimage came back (its incoming HTLC not yet settled), one finished, one failed.
  const forward = async (inId: bigint, seed: number) => {
    const preimage = new Uint8Array(32).fill(seed);
    const hash = sha256(preimage);
    const onion = createOnion(new Uint8Array(32).fill(seed + 1), [
      { pubkey: secp.getPublicKey(NODE_SECRET), payload: framedPayload({ amountMsat: 50_000n, outgoingCltv: 1100, shortChannelId: SCID_FWD }) },
      { pubkey: hex.decode(HOP), payload: framedPayload({ amountMsat: 50_000n, outgoingCltv: 1100, paymentSecret: new Uint8Array(32), totalMsat: 50_000n }) },
    ], hash);
    await handler!({ type: 'locked_in', channel: CH_IN, htlc: { id: inId, amountMsat: 52_000n, paymentHash: hash, cltvExpiry: 1200, onion } });
    return preimage;
  };
  const p1 = await forward(10n, 0x51);
  await onPreimage!(CH_FWD, 0n, p1);
  const p2 = await forward(11n, 0x52);
  await onPreimage!(CH_FWD, 1n, p2);
  await handler!({ type: 'fulfilled', channel: CH_FWD, id: 1n, preimage: p2 });
  await forward(12n, 0x53);
  await handler!({ type: 'failed', channel: CH_FWD, id: 2n, local: 'the next peer went away' });

  await sw.close();
  await payments.close();
  await invoices.close();
  await payeeInvoices.close();
  await rm(scratch, { recursive: true, force: true });
  for (const f of ['payments.lock', 'invoices.lock', 'htlc-switch.lock']) await rm(join(OUT, f), { force: true });
}

// The switch's payment timeout is an unref'd timer: keep the process alive until the end.
const alive = setInterval(() => undefined, 1000);
await main().finally(() => clearInterval(alive));
