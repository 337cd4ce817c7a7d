/**
 * Lightning in the desktop app, in a real browser against the real app on the playground: open a
 * channel to the counterparty with one click and get one from it (room to receive); paste one of its
 * invoices on Send, read what it asks (amount, description, payee, expiry, the most it could cost),
 * pay it and get the proof of payment; make an invoice on Receive, have the counterparty pay it, and
 * watch it turn Paid by itself; find both in History. An invoice of another network is refused
 * before anything is paid.
 */
import { describe, expect, it } from 'vitest';
import { appCall, firstAmount, onboardOnPlayground, useAppInBrowser } from './harness.ts';
import { loadVectors } from '../helpers/vectors.ts';

describe('Lightning in the desktop app, on the playground', () => {
  const ctx = useAppInBrowser('lightning');

  it('pays an invoice of the counterparty, is paid by it, and lists both in History', { timeout: 120_000 }, async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a lightning password');
    await page.getByRole('button', { name: /Get test coins/ }).click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent(), { timeout: 30_000 }).toBe('1\u202f000\u202f000 sat');

    // One click for a channel to the counterparty (after its review); it confirms by itself.
    await nav('Channels').click();
    await page.getByRole('button', { name: 'Open a channel to the playground counterparty' }).click({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Open the channel' }).click();
    await page.getByTestId('open-result').waitFor({ timeout: 30_000 });

    // While it opens: Receive over Lightning says plainly why it cannot receive yet.
    await nav('Receive').click();
    await page.getByRole('radio', { name: 'Lightning' }).click();
    await page.getByTestId('no-inbound').waitFor();
    expect(await page.getByTestId('no-inbound').textContent()).toContain('To receive over Lightning you need a channel with room on the other side');
    await b.shot('receive-no-channel');
    // A channel the counterparty opens to us is room to receive; both confirm in the same blocks.
    await page.getByRole('button', { name: 'Get a channel from the counterparty (to receive)' }).click();
    await page.getByText('The counterparty is opening a 500\u202f000 sat channel to you').waitFor({ timeout: 30_000 });
    await page.getByText('A channel with room for you to receive is opening').waitFor({ timeout: 20_000 });
    await b.shot('receive-inbound-opening');

    await nav('Channels').click();
    const channels = page.getByTestId('channel-list').getByTestId('channel');
    await expect.poll(() => channels.count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('channel-list').locator('[data-status=active]').count(), { timeout: 45_000 }).toBe(2);
    await b.shot('channels-both-ways');
    await nav('Home').click();
    await expect.poll(() => page.getByTestId('lightning-balance').textContent().then(firstAmount), { timeout: 10_000 }).toBeGreaterThan(490_000);
    const before = firstAmount(await page.getByTestId('lightning-balance').textContent());

    // An invoice of another network is refused before anything is paid.
    const mainnet = loadVectors<{ valid: { invoice: string; network: string; amount_msat: number | null }[] }>('bolt11-invoices.json').valid.find((v) => v.network === 'mainnet' && v.amount_msat)!;
    await nav('Send').click();
    await page.getByRole('button', { name: 'Get an invoice from the playground counterparty' }).waitFor();
    await b.shot('send-empty');
    await page.getByLabel('Pay to').fill(`lightning:${mainnet.invoice}`);
    await page.getByRole('group', { name: 'Lightning invoice' }).waitFor();
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 10_000 }).toContain('This invoice is for Bitcoin (mainnet), but Coulomb is on the playground');
    expect(await page.getByRole('button', { name: /^Pay/ }).isDisabled()).toBe(true);
    await b.shot('send-wrong-network');
    await page.getByRole('button', { name: 'Clear' }).click();

    // An invoice that leaves the amount to the payer asks for it.
    const { payment_request: open } = await appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 0, memo: 'Tips' });
    await page.getByLabel('Pay to').fill(`lightning:${open}`);
    await page.getByRole('group', { name: 'Lightning invoice' }).getByLabel('Amount (sats)').fill('1500');
    await page.getByRole('button', { name: 'Pay 1\u202f500 sat' }).waitFor();
    expect(await page.getByTestId('invoice-total').textContent()).toBe('1\u202f500 sat');
    await b.shot('send-any-amount');
    await page.getByRole('button', { name: 'Clear' }).click();

    // The counterparty's invoice, pasted: what it asks, and the most it could cost.
    const { payment_request: theirs } = await appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 20_000, memo: 'Pixel paint, two tins' });
    await page.getByLabel('Pay to').fill(theirs);
    const invoice = page.getByRole('group', { name: 'Lightning invoice' });
    await invoice.waitFor();
    await expect.poll(() => page.getByTestId('invoice-amount').textContent(), { timeout: 10_000 }).toBe('20\u202f000 sat');
    expect(await page.getByTestId('invoice-description').textContent()).toBe('Pixel paint, two tins');
    expect(await invoice.getByText('playground counterparty').isVisible()).toBe(true);
    expect(await page.getByTestId('invoice-expiry').textContent()).toMatch(/^In 2[34] h \d+ min$/);
    await expect.poll(() => page.getByTestId('invoice-fee').textContent(), { timeout: 10_000 }).toMatch(/^0 sat — you have a channel to the payee/);
    expect(await invoice.getByText('Playground', { exact: true }).isVisible()).toBe(true);
    await b.shot('send-invoice');

    // Pay: the proof of payment, and the Lightning balance down by exactly the amount.
    await page.getByRole('button', { name: 'Pay 20\u202f000 sat' }).click();
    await page.getByTestId('pay-result').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('pay-result').textContent()).toContain('20\u202f000 sat');
    expect(await page.getByTestId('pay-fee').textContent()).toBe('0 sat');
    expect(await page.getByTestId('pay-preimage').textContent()).toMatch(/^[0-9a-f]{64}$/);
    await b.shot('send-paid');
    await page.getByRole('button', { name: 'Done' }).click();
    await nav('Home').click();
    await expect.poll(() => page.getByTestId('lightning-balance').textContent().then(firstAmount), { timeout: 10_000 }).toBe(before - 20_000);

    // Receive: an invoice, paid by the counterparty, turns Paid by itself.
    await nav('Receive').click();
    await page.getByLabel('Amount (sats)').fill('7000');
    await page.getByLabel('Note (optional)').fill('Half the pixel paint back');
    expect(firstAmount(await page.getByTestId('can-receive').textContent())).toBeGreaterThan(480_000);
    await page.getByRole('button', { name: 'Create invoice' }).click();
    const state = page.getByTestId('invoice-state');
    await state.waitFor();
    expect(await state.getAttribute('data-state')).toBe('open');
    expect(await page.getByAltText('QR code of the invoice').isVisible()).toBe(true);
    expect(await page.getByTestId('invoice-amount').textContent()).toBe('7\u202f000 sat');
    expect(await page.getByTestId('invoice-expiry').textContent()).toMatch(/expires in 2[34] h/);
    await b.shot('receive-invoice');
    await page.getByRole('button', { name: 'Ask the playground counterparty to pay this invoice' }).click();
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('paid');
    expect(await state.textContent()).toContain('7\u202f000 sat received');
    await b.shot('receive-paid');

    // History: both payments, newest first, with the on-chain transactions below.
    await nav('History').click();
    const rows = page.getByTestId('history-row');
    // Both payments listed, the invoice as paid (the screen loads what the node says when it opens).
    await rows.filter({ hasText: 'Half the pixel paint back' }).and(page.locator('[data-status=Paid]')).waitFor({ timeout: 10_000 });
    await rows.filter({ hasText: 'Pixel paint, two tins' }).waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBeGreaterThanOrEqual(4);
    // Paid back within the same second as it paid, often: the order is to the millisecond.
    const received = rows.nth(0);
    expect(await received.getAttribute('data-dir')).toBe('in');
    expect(await received.getAttribute('data-status')).toBe('Paid');
    expect(await received.textContent()).toContain('Half the pixel paint back');
    expect(await received.textContent()).toContain('+7\u202f000 sat');
    const paid = rows.nth(1);
    expect(await paid.getAttribute('data-dir')).toBe('out');
    expect(await paid.getAttribute('data-status')).toBe('Paid');
    expect(await paid.textContent()).toContain('Pixel paint, two tins');
    expect(await paid.textContent()).toContain('−20\u202f000 sat');
    expect(await paid.textContent()).toContain('fee 0 sat');
    await b.shot('history');
    await page.getByRole('radio', { name: 'Lightning' }).click();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);

    // The same screens in the dark theme.
    await nav('Settings').click();
    await page.getByRole('radio', { name: 'Dark' }).click();
    await nav('History').click();
    await page.getByRole('radio', { name: 'Everything' }).click();
    await b.shot('history-dark');
    await nav('Receive').click();
    await b.shot('receive-dark');
  });
});
