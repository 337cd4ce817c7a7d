/**
 * In a real browser against the app on the playground: an invoice from before payment secrets (no s
 * field) reads on Send like any other, and "Pay" is refused with the reason; and mining rewards paid
 * to the wallet show on Home apart from the balance until they can be spent.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { encodeInvoice } from '../../core/invoice/bolt11.ts';
import { appCall, onboardOnPlayground, useAppInBrowser } from './harness.ts';

describe('old invoices and mining rewards in the desktop app', () => {
  const ctx = useAppInBrowser('old-invoice');

  it('reads an invoice without a payment secret, refuses to pay it with the reason, and shows unripe mining rewards apart', { timeout: 120_000 }, async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'an old invoice password');

    // A playground invoice as an old wallet writes it: everything but the s field.
    const invoice = encodeInvoice(
      { network: 'regtest', amountMsat: 5_000_000n, timestamp: Math.floor(Date.now() / 1000), paymentHash: randomBytes(32), paymentSecret: randomBytes(32), description: 'an old coffee', expiry: 3600, fieldOrder: ['p', 'd', 'x'] },
      randomBytes(32),
    );
    await nav('Send').click();
    await page.getByLabel('Pay to').fill(invoice);
    await page.getByRole('group', { name: 'Lightning invoice' }).waitFor();
    await expect.poll(() => page.getByTestId('invoice-description').textContent(), { timeout: 10_000 }).toBe('an old coffee');
    expect(await page.getByTestId('invoice-amount').textContent()).toBe('5\u202f000 sat');
    await b.shot('send-old-invoice');
    await page.getByRole('button', { name: /^Pay/ }).click();
    await page.getByTestId('pay-failure').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('pay-failure').textContent()).toBe(
      'This invoice comes from an old wallet and has no payment secret, and current nodes reject payments without one; ask the payee for a new invoice.',
    );
    await b.shot('send-old-invoice-refused');

    // One block mined to the wallet: its reward waits 99 more blocks (the app mines only when something waits).
    const { address } = await appCall<{ address: string }>(app, 'newaddress', {});
    await appCall(app, 'playground_mine', { blocks: 1, addr: address });
    await nav('Home').click();
    await page.getByTestId('onchain-immature').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('onchain-immature').textContent()).toMatch(/^\+ [\d\u202f]+ sat from mining, spendable in \d+ blocks?$/);
    await b.shot('home-immature');
  });
});
