/**
 * A newcomer's first channel, in a real browser against the real app on the playground: get test
 * coins, open a channel to the playground's counterparty with the one-click button (after its review),
 * watch it confirm by itself and become active, see the Lightning balance on Home, close it
 * cooperatively after reading what that means, and find the coins back on-chain less the fees.
 */
import { describe, expect, it } from 'vitest';
import { firstAmount, onboardOnPlayground, useAppInBrowser } from './harness.ts';

describe('channels in the desktop app, on the playground', () => {
  const ctx = useAppInBrowser('channels');

  it('opens a channel to the counterparty, sees it active, closes it, and gets the coins back on-chain', async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a channel password');

    await page.getByRole('button', { name: /Get test coins/ }).click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent(), { timeout: 30_000 }).toBe('1\u202f000\u202f000 sat');

    // No channels yet: the screen says what to do.
    await nav('Channels').click();
    await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
    await page.getByText('No channels yet').waitFor();
    const oneClick = page.getByRole('button', { name: 'Open a channel to the playground counterparty' });
    await oneClick.waitFor({ timeout: 30_000 });
    await b.shot('channels-empty');

    // The general form: pick a peer, amount, fee rate, private; a mistake is caught before any call.
    await page.getByRole('button', { name: 'Open a channel', exact: true }).click();
    await page.getByRole('radio', { name: /playground counterparty/ }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Amount (sats)').fill('5000');
    await page.getByRole('button', { name: 'Review' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('at least 20');
    await b.shot('channel-form');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // One click: a review with the amount and what it means, then the channel opens.
    await oneClick.click();
    expect(await page.getByTestId('open-review-amount').textContent()).toBe('500\u202f000 sat');
    expect(await page.locator('.open-panel').textContent()).toContain('moves from your on-chain balance into a channel');
    await b.shot('channel-review');
    await page.getByRole('button', { name: 'Open the channel' }).click();
    await page.getByTestId('open-result').waitFor({ timeout: 30_000 });
    const channel = page.getByTestId('channel-list').getByTestId('channel').first();
    await expect.poll(() => channel.getByTestId('channel-state').textContent()).toMatch(/^Opening — \d of 3 confirmations/);
    expect(await channel.getByText('playground counterparty').isVisible()).toBe(true);
    expect(await channel.getByRole('button', { name: 'Copy funding transaction id' }).isVisible()).toBe(true);
    await b.shot('channel-opening');

    // Nobody mines by hand: the playground's auto-miner confirms the funding, block after block.
    await expect.poll(() => channel.getByTestId('channel-state').textContent(), { timeout: 30_000 }).toMatch(/^Opening — [12] of 3 confirmations/);
    await expect.poll(() => channel.getAttribute('data-status'), { timeout: 40_000 }).toBe('active');
    expect(await channel.getByTestId('channel-state').textContent()).toBe('Active');
    const local = firstAmount(await channel.getByTestId('channel-local').textContent());
    // Ours is the whole channel less the commitment's fee and anchors.
    expect(local).toBeGreaterThan(490_000);
    expect(local).toBeLessThan(500_000);
    await b.shot('channel-active');
    // The same, in the dark theme.
    await nav('Settings').click();
    await page.getByRole('radio', { name: 'Dark' }).click();
    await nav('Channels').click();
    await b.shot('channel-active-dark');
    await nav('Settings').click();
    await page.getByRole('radio', { name: 'Light' }).click();

    // Home shows it as the Lightning balance; on-chain is what is left after the funding.
    await nav('Home').click();
    await expect.poll(() => page.getByTestId('lightning-balance').textContent().then(firstAmount), { timeout: 10_000 }).toBe(local);
    const afterOpen = firstAmount(await page.getByTestId('onchain-balance').textContent());
    expect(afterOpen).toBeGreaterThan(495_000);
    expect(afterOpen).toBeLessThan(500_000);
    await b.shot('home-with-channel');

    // A cooperative close: first what it means, then confirm.
    await nav('Channels').click();
    await channel.getByRole('button', { name: 'Close channel' }).click();
    const confirm = page.getByRole('group', { name: 'Close this channel' });
    expect(await confirm.textContent()).toMatch(/Both sides sign one final transaction.*returns to your on-chain wallet once a block confirms it.*Nothing is lost/);
    await b.shot('channel-close-confirm');
    await confirm.getByRole('button', { name: 'Close the channel' }).click();
    await expect.poll(() => page.getByTestId('channel-list').getByTestId('channel').first().getAttribute('data-status'), { timeout: 15_000 }).toBe('closing');
    const closing = page.getByTestId('channel-list').getByTestId('channel').first();
    expect(await closing.getByTestId('channel-state').textContent()).toMatch(/^Closing/);
    // The closing transaction exists once both sides agreed on its fee.
    await closing.getByRole('button', { name: 'Copy closing transaction id' }).waitFor({ timeout: 15_000 });
    await b.shot('channel-closing');

    const closed = page.getByTestId('closed-list').getByTestId('channel').first();
    await closed.waitFor({ timeout: 30_000 });
    expect(await closed.getAttribute('data-status')).toBe('closed');
    expect(await closed.getByTestId('channel-state').textContent()).toBe('Closed');
    const settled = firstAmount(await closed.getByTestId('channel-settled').textContent());
    // The close pays back the whole channel less its own small fee.
    expect(settled).toBeGreaterThan(498_000);
    expect(settled).toBeLessThanOrEqual(500_000);
    await page.getByText('No open channels').waitFor();
    await b.shot('channel-closed');

    // Back on-chain: the starting million less only the funding and closing fees.
    await nav('Home').click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent().then(firstAmount), { timeout: 15_000 }).toBe(afterOpen + settled);
    const final = afterOpen + settled;
    expect(final).toBeGreaterThan(995_000);
    expect(final).toBeLessThan(1_000_000);
    expect(await page.getByTestId('lightning-balance').textContent()).toBe('0 sat');
    await b.shot('home-after-close');
  }, 120_000);
});
