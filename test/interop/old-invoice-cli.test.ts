/**
 * Invoices from before payment secrets (no s field, as wallets wrote them until about 2020), over the
 * CLI: decodepayreq shows what one asks for; payinvoice and sendpayment refuse to pay it, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { encodeInvoice } from '../../core/invoice/bolt11.ts';
import { cli, cliJson, removeDir, startDaemonProcess } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

// BOLT 11's first example as the specification gave it in 2017: mainnet, no amount, no s field.
const DONATION_2017 =
  'lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq8rkx3yf5tcsyz3d73gafnh3cax9rn449d9p5uxz9ezhhypd0elx87sjle52x86fux2ypatgddc6k63n7erqz25le42c4u4ecky03ylcqca784w';
const REASON = 'this invoice comes from an old wallet and has no payment secret, and current nodes reject payments without one; ask the payee for a new invoice';

/** A fresh playground invoice as an old wallet writes it: everything but the s field. */
function oldStyleInvoice(): string {
  return encodeInvoice(
    {
      network: 'regtest',
      amountMsat: 5_000_000n,
      timestamp: Math.floor(Date.now() / 1000),
      paymentHash: randomBytes(32),
      paymentSecret: randomBytes(32),
      description: 'coffee',
      expiry: 3600,
      fieldOrder: ['p', 'd', 'x'],
    },
    randomBytes(32),
  );
}

describe('invoices without a payment secret over the CLI', () => {
  let alice: DaemonProcess;
  beforeAll(async () => {
    alice = await startDaemonProcess('alice-old-invoice');
  });
  afterAll(async () => {
    await alice?.stop();
    if (alice) await removeDir(alice.datadir);
  });

  it('decodepayreq shows what an old invoice asks for', async () => {
    const d = await cliJson<{ description: string; payment_hash: string; payment_addr: string; network: string; expired: boolean; destination: string }>(alice.datadir, 'decodepayreq', DONATION_2017);
    expect(d).toMatchObject({
      description: 'Please consider supporting this project',
      payment_hash: '0001020304050607080900010203040506070809000102030405060708090102',
      payment_addr: '',
      network: 'mainnet',
      expired: true,
      destination: '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad',
    });
  });

  it('payinvoice and sendpayment refuse to pay one, with the reason', async () => {
    const invoice = oldStyleInvoice();
    const d = await cliJson<{ num_satoshis: string; payment_addr: string; expired: boolean }>(alice.datadir, 'decodepayreq', invoice);
    expect(d).toMatchObject({ num_satoshis: '5000', payment_addr: '', expired: false });
    for (const args of [['payinvoice', '--pay_req', invoice], ['sendpayment', '--pay_req', invoice]]) {
      const r = await cli(alice.datadir, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(REASON);
    }
    expect((await cliJson<{ payments: unknown[] }>(alice.datadir, 'listpayments')).payments).toEqual([]);
  });
});
