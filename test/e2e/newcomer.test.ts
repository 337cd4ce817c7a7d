/**
 * What a newcomer meets, in a real browser against the app on the playground: garbage and mistyped
 * invoices on Send (recognised, said once, never widening the page), an amount of nothing, checks
 * before the button with the node's numbers (a channel larger than the coins fund, an invoice larger
 * than what can come in, a payment larger than what can go out), the funding fee in sat before a
 * channel opens, where a channel's capacity is, an invoice already paid, and an error with an
 * identifier only under Details.
 */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { appCall, firstAmount, onboardOnPlayground, useAppInBrowser } from './harness.ts';
import { waitFor } from '../helpers/daemon.ts';

const NARROW_NBSP = '\u202f';

describe('what a newcomer meets', () => {
  const ctx = useAppInBrowser('newcomer');

  it('is told what is wrong, and what fits, before pressing anything', { timeout: 180_000 }, async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    /** Neither the page nor the app's scrolling area may scroll sideways. */
    const fitsWidth = (): Promise<boolean> =>
      page.evaluate<boolean>(`(() => {
        const root = document.documentElement;
        const main = document.querySelector('main');
        return root.scrollWidth <= root.clientWidth && (!main || main.scrollWidth <= main.clientWidth);
      })()`);
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a newcomer password');

    // Garbage on Send: neither an invoice nor an address, said before any amount field, in a page that keeps its width.
    await nav('Send').click();
    const payTo = page.getByLabel('Pay to');
    await payTo.fill('z'.repeat(2000));
    await page.getByTestId('pay-to-unknown').waitFor();
    expect(await page.getByTestId('pay-to-unknown').textContent()).toMatch(/^This is neither a Lightning invoice nor a bitcoin address/);
    expect(await page.getByLabel('Amount (sats)').count()).toBe(0);
    expect(await fitsWidth()).toBe(true);
    await b.shot('send-garbage');

    // A mistyped invoice: one sentence, once, without the invoice's text; a long one does not widen the page either.
    // The counterparty starts beside the user's node and may still be starting on a busy machine: wait for it.
    const { payment_request: good } = await waitFor('the playground counterparty to give an invoice', () => appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 1_000, memo: 'A mistyped coffee' }), 60_000, 500);
    const at = 30;
    const mistyped = good.slice(0, at) + (good[at] === 'q' ? 'p' : 'q') + good.slice(at + 1);
    const invalid = 'This is not a valid Lightning invoice (a character is wrong or missing)';
    await payTo.fill(mistyped);
    await page.getByTestId('invoice-error').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('invoice-error').textContent()).toMatch(new RegExp(`^${invalid.replace(/[()]/g, '\\$&')}\\.`));
    expect(await page.getByText(invalid).count()).toBe(1);
    expect(await page.locator('main').textContent()).not.toContain(mistyped.slice(10, 60));
    await b.shot('send-mistyped-invoice');
    await payTo.fill(`lnbcrt1${'q'.repeat(2000)}`);
    await expect.poll(() => page.getByText(invalid).count(), { timeout: 10_000 }).toBe(1);
    expect(await fitsWidth()).toBe(true);

    // An amount of nothing, on-chain.
    const { address } = await appCall<{ address: string }>(app, 'app_counterparty_address');
    await payTo.fill(address);
    await page.getByLabel('Amount (sats)').fill('0');
    await page.getByRole('button', { name: 'Review' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toBe('Enter an amount above zero.');
    await page.getByRole('button', { name: 'Clear' }).click();

    // Coins, then a channel larger than they fund: refused on the form with the largest that fits.
    await nav('Home').click();
    await page.getByRole('button', { name: /Get test coins/ }).click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent(), { timeout: 30_000 }).toBe(`1${NARROW_NBSP}000${NARROW_NBSP}000 sat`);
    await nav('Channels').click();
    await page.getByRole('button', { name: 'Open a channel', exact: true }).click();
    await page.getByRole('radio', { name: /playground counterparty/ }).waitFor({ timeout: 30_000 });
    const hint = page.getByText(/Comes from your confirmed on-chain balance: up to/);
    await hint.waitFor({ timeout: 10_000 });
    const max = firstAmount((await hint.textContent())!.replace(/^[^\d]*/, ''));
    expect(max).toBeGreaterThan(990_000);
    expect(max).toBeLessThan(1_000_000);
    await page.getByLabel('Amount (sats)').fill('2000000');
    await expect.poll(() => page.getByTestId('open-problem').textContent()).toMatch(/^You can open a channel of up to [\d\u202f]+ sat now: your confirmed balance \(1\u202f000\u202f000 sat\) less the network fee/);
    expect(firstAmount((await page.getByTestId('open-problem').textContent())!.replace(/^[^\d]*/, ''))).toBe(max);
    await b.shot('channel-too-large');
    await page.getByLabel('Amount (sats)').fill('0');
    await expect.poll(() => page.getByTestId('open-problem').textContent()).toBe('Enter an amount above zero.');

    // An error with an identifier: people's words first, the node's (with the key) under Details.
    // Something listens at the address but speaks no Lightning: the handshake fails, naming the key.
    const mute = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const stranger = `03${'5a'.repeat(32)}`;
    await page.getByRole('radio', { name: /Another node/ }).check();
    await page.getByLabel('Node address').fill(`${stranger}@127.0.0.1:${(mute.address() as AddressInfo).port}`);
    await page.getByLabel('Amount (sats)').fill('50000');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Open the channel' }).click();
    const failure = page.locator('.open-panel .error');
    await failure.waitFor({ timeout: 40_000 });
    mute.close();
    const main = (await failure.locator('.error-text-main').textContent())!;
    expect(main).toBe('That node did not answer as its address says: the key may not belong to that host and port. Check the whole address (key@host:port) and try again.');
    expect(main).not.toMatch(/[0-9a-f]{20}/);
    expect(await failure.locator('details summary').textContent()).toBe('Details');
    expect(await failure.locator('details code').textContent()).toContain(stranger);
    await failure.locator('details summary').click();
    await b.shot('error-with-details');
    await page.getByRole('button', { name: 'Change' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();

    // The one-click channel: its network fee in sat on the review, then where its capacity is.
    await page.getByRole('button', { name: 'Open a channel to the playground counterparty' }).click();
    await expect.poll(() => page.getByTestId('open-review-fee').textContent(), { timeout: 10_000 }).toMatch(/^[\d\u202f]+ sat \(\d+ sat\/vB\), paid on top for the funding transaction$/);
    await b.shot('channel-review-fee');
    await page.getByRole('button', { name: 'Open the channel' }).click();
    await page.getByTestId('open-result').waitFor({ timeout: 30_000 });
    // Room to receive: a channel from the counterparty, opening in the same blocks.
    await nav('Receive').click();
    await page.getByRole('radio', { name: 'Lightning' }).click();
    await page.getByRole('button', { name: 'Get a channel from the counterparty (to receive)' }).click();
    await page.getByText('The counterparty is opening').waitFor({ timeout: 30_000 });

    await nav('Channels').click();
    await expect.poll(() => page.getByTestId('channel-list').locator('[data-status=active]').count(), { timeout: 60_000 }).toBe(2);
    const ours = page.getByTestId('channel-list').getByTestId('channel').filter({ hasText: 'you opened it' });
    expect(await ours.getByTestId('channel-numbers').textContent()).toMatch(
      /^Capacity 500\u202f000 sat: yours [\d\u202f]+ sat, theirs 0 sat, with [\d\u202f]+ sat set aside for the network fee of closing and 660 sat for the two anchor outputs .*You can send [\d\u202f]+ sat now and receive 0 sat: 5\u202f000 sat of yours stays in the channel as its reserve/,
    );
    await b.shot('channel-numbers');

    // Receive: how much can come in, before an amount is typed; more is refused, nothing too.
    await nav('Receive').click();
    await page.getByTestId('can-receive').waitFor({ timeout: 20_000 });
    const canReceive = firstAmount((await page.getByTestId('can-receive').textContent())!.replace(/^[^\d]*/, ''));
    expect(canReceive).toBeGreaterThan(480_000);
    expect(canReceive).toBeLessThan(495_000);
    await b.shot('receive-can-receive');
    await page.getByLabel('Amount (sats)').fill(String(canReceive + 1));
    const receiveProblem = page.getByTestId('receive-problem');
    await expect
      .poll(() => receiveProblem.textContent())
      .toBe(`You can receive up to ${canReceive.toLocaleString('en').replace(/,/g, NARROW_NBSP)} sat now. To receive more, get a channel from a peer or spend some first.`);
    await b.shot('receive-too-much');
    await page.getByLabel('Amount (sats)').fill('0');
    await expect.poll(() => receiveProblem.textContent()).toBe('Enter an amount above zero.');
    await page.getByLabel('Amount (sats)').fill('');

    // Send: an invoice larger than what can go out is refused before Pay.
    await nav('Send').click();
    const { payment_request: big } = await appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 600_000, memo: 'Too much' });
    await payTo.fill(big);
    await expect.poll(() => page.getByTestId('invoice-refusal').textContent(), { timeout: 10_000 }).toMatch(/^You can send up to [\d\u202f]+ sat now\. To send more, open a channel with more on your side, or receive some first\.$/);
    expect(await page.getByRole('button', { name: /^Pay/ }).isDisabled()).toBe(true);
    await b.shot('send-too-much');
    await page.getByRole('button', { name: 'Clear' }).click();

    // Paid once; pasted again, it says when, with the proof, and offers nothing to press.
    const { payment_request: coffee } = await appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 2_000, memo: 'One coffee, once' });
    await payTo.fill(coffee);
    await page.getByRole('button', { name: `Pay 2${NARROW_NBSP}000 sat` }).click();
    await page.getByTestId('pay-result').waitFor({ timeout: 30_000 });
    const preimage = await page.getByTestId('pay-preimage').textContent();
    await page.getByRole('button', { name: 'Done' }).click();
    await payTo.fill(coffee);
    await page.getByTestId('already-paid').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('already-paid').textContent()).toMatch(/^You already paid this invoice on .+\d/);
    expect(await page.getByRole('button', { name: /^Pay/ }).count()).toBe(0);
    await page.getByTestId('already-paid').getByText('Proof of payment').click();
    expect(await page.getByTestId('already-paid-preimage').textContent()).toBe(preimage);
    await b.shot('send-already-paid');
    expect(await fitsWidth()).toBe(true);
  });
});
