/**
 * Invoices as a person makes them: a daemon on the playground, driven only through the CLI, with
 * lncli's command and flag names; the invoices are still there after the daemon restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, removeDir, startDaemonProcess } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

interface Added {
  r_hash: string;
  payment_request: string;
  add_index: string;
  payment_addr: string;
}
interface Listed {
  invoices: { r_hash: string; memo: string; value: string; value_msat: string; state: string; add_index: string; expiry: string; cltv_expiry: string; private: boolean }[];
  first_index_offset: string;
  last_index_offset: string;
}

describe('invoices over the CLI', () => {
  let d: DaemonProcess;

  beforeAll(async () => {
    d = await startDaemonProcess('invoice-cli');
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    if (d) await removeDir(d.datadir);
  });

  it('addinvoice, decodepayreq, listinvoices, lookupinvoice, cancelinvoice, listpayments', { timeout: 120_000 }, async () => {
    const a = await cliJson<Added>(d.datadir, 'addinvoice', '--amt', '2500', '--memo', 'rent share', '--expiry', '600');
    expect(a.add_index).toBe('1');
    const decoded = await cliJson<{ destination: string; payment_hash: string; num_satoshis: string; description: string; expiry: string; cltv_expiry: string }>(d.datadir, 'decodepayreq', a.payment_request);
    expect(decoded).toMatchObject({ destination: d.nodeId, payment_hash: a.r_hash, num_satoshis: '2500', description: 'rent share', expiry: '600', cltv_expiry: '80' });

    const b = await cliJson<Added>(d.datadir, 'addinvoice', '--amt_msat', '1234', '--cltv_expiry_delta', '40', '--private');
    const c = await cliJson<Added>(d.datadir, 'addinvoice', '777');
    expect([b.add_index, c.add_index]).toEqual(['2', '3']);

    const all = await cliJson<Listed>(d.datadir, 'listinvoices');
    expect(all.invoices.map((i) => [i.memo, i.value, i.value_msat, i.state])).toEqual([
      ['rent share', '2500', '2500000', 'OPEN'],
      ['', '1', '1234', 'OPEN'],
      ['', '777', '777000', 'OPEN'],
    ]);
    expect(all.invoices[1]).toMatchObject({ cltv_expiry: '40', private: true });
    const page = await cliJson<Listed>(d.datadir, 'listinvoices', '--reversed', '--index_offset', '3', '--max_invoices', '1');
    expect(page).toMatchObject({ first_index_offset: '2', last_index_offset: '2' });

    expect(await cliJson(d.datadir, 'lookupinvoice', a.r_hash)).toMatchObject({ r_hash: a.r_hash, memo: 'rent share', state: 'OPEN', payment_addr: a.payment_addr });
    expect(await cliJson(d.datadir, 'lookupinvoice', '--rhash', b.r_hash)).toMatchObject({ r_hash: b.r_hash });
    expect(await cliJson(d.datadir, 'cancelinvoice', c.r_hash)).toEqual({});
    expect((await cliJson<Listed>(d.datadir, 'listinvoices', '--pending_only')).invoices.map((i) => i.add_index)).toEqual(['1', '2']);
    expect(await cliJson(d.datadir, 'listpayments')).toEqual({ payments: [], first_index_offset: '0', last_index_offset: '0' });
    expect(await cliJson(d.datadir, 'listpayments', '--reversed', '--max_payments', '10', '--include_incomplete=false')).toEqual({ payments: [], first_index_offset: '0', last_index_offset: '0' });

    const both = await cli(d.datadir, 'addinvoice', '--amt', '1', '--amt_msat', '1000');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/give --amt or --amt_msat, not both/);
    const missing = await cli(d.datadir, 'lookupinvoice', '00'.repeat(32));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/There is no invoice with payment hash 0{64}/);

    // After a restart (and unlock), the same invoices in the same states.
    await d.stop();
    d = await startDaemonProcess('invoice-cli', [], d.datadir);
    expect((await cliJson<Listed>(d.datadir, 'listinvoices')).invoices.map((i) => [i.r_hash, i.state])).toEqual([
      [a.r_hash, 'OPEN'],
      [b.r_hash, 'OPEN'],
      [c.r_hash, 'CANCELED'],
    ]);
  });
});
