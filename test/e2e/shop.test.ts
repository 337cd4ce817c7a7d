/**
 * A newcomer buys a pixel at the playground shop: from Home to the shop's page, click a pixel, paste
 * its invoice in the app's Send screen and pay; the payment goes through the counterparty to the shop
 * (two hops), and the shop's page turns to Paid and paints the pixel.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fundAndOpenChannel, onboardOnPlayground, SHOTS, useAppInBrowser } from './harness.ts';

describe('the playground shop, from the desktop app', () => {
  const ctx = useAppInBrowser('shop');

  it('buys a pixel with a two-hop payment and sees it painted', { timeout: 150_000 }, async () => {
    const { app, b } = ctx;
    const { page, context } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a shop password');
    // Test coins, then a channel to the counterparty, which the shop's own channel hangs off.
    await fundAndOpenChannel(b);

    // Home links to the shop; it opens in a new tab.
    await nav('Home').click();
    const link = page.getByTestId('shop-link');
    await link.waitFor({ timeout: 60_000 });
    const [shop] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await shop.waitForLoadState();
    await shop.getByRole('heading', { name: 'Pixel Shop' }).waitFor();
    // Pick a colour, click the pixel at (5, 7) of the 24×24 canvas.
    await shop.getByRole('radio', { name: 'Colour #2a9d8f' }).click();
    const box = (await shop.locator('#canvas').boundingBox())!;
    await shop.mouse.click(box.x + (5.5 / 24) * box.width, box.y + (7.5 / 24) * box.height);
    const invoice = (await shop.locator('#invoice').textContent({ timeout: 20_000 }))!.trim();
    expect(invoice).toMatch(/^lnbcrt1/);
    await shop.screenshot({ path: join(SHOTS, 'shop-01-invoice.png'), fullPage: true });

    // Pay it from the app: pasted on Send, reviewed, paid through the counterparty.
    await page.bringToFront();
    await nav('Send').click();
    await page.getByLabel('Pay to').fill(invoice);
    await expect.poll(() => page.getByTestId('invoice-amount').textContent(), { timeout: 10_000 }).toBe('100 sat');
    expect(await page.getByRole('group', { name: 'Lightning invoice' }).getByText('playground shop', { exact: true }).first().isVisible()).toBe(true);
    await b.shot('shop-pay');
    await page.getByRole('button', { name: 'Pay 100 sat' }).click();
    await page.getByTestId('pay-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('pay-preimage').textContent()).toMatch(/^[0-9a-f]{64}$/);
    await b.shot('shop-paid');

    // The shop sees it paid and paints the pixel.
    await shop.bringToFront();
    await shop.locator('#paid').waitFor({ timeout: 30_000 });
    expect(await shop.locator('#paid').textContent()).toContain('pixel (5, 7) is yours');
    await expect.poll(() => shop.locator('body').getAttribute('data-pixels'), { timeout: 10_000 }).toBe('1');
    await shop.screenshot({ path: join(SHOTS, 'shop-02-paid.png'), fullPage: true });
  });
});
