/**
 * A payment that fails says why in words, in a real browser against the app on the playground. With a
 * channel to the counterparty: an invoice of a node nobody has a way to is flagged before Pay with the
 * node's reason; one whose route hint goes through the counterparty over a channel it does not have
 * shows the counterparty's forwarding fee (the node's estimate) before Pay, and after Pay says that
 * the counterparty could not pass it on and why, names it, and History's row says the same.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { encodeInvoice } from '../../core/invoice/bolt11.ts';
import type { RouteHintHop } from '../../core/invoice/bolt11.ts';
import { appCall, fundAndOpenChannel, onboardOnPlayground, useAppInBrowser } from './harness.ts';

function strangerInvoice(sat: number, memo: string, routeHints: RouteHintHop[][] = []): string {
  return encodeInvoice(
    { network: 'regtest', amountMsat: BigInt(sat) * 1000n, timestamp: Math.floor(Date.now() / 1000), paymentHash: randomBytes(32), paymentSecret: randomBytes(32), description: memo, expiry: 3600, minFinalCltvExpiryDelta: 40, routeHints },
    randomBytes(32),
  );
}

describe('payment failures in the desktop app', () => {
  const ctx = useAppInBrowser('payment-failure');

  it('says before Pay that no way is known, and after a failure which node stopped it and why, on Send and in History', { timeout: 90_000 }, async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a failing payment password');
    await fundAndOpenChannel(b);
    const status = await appCall<{ playground: { counterparty_pubkey: string } }>(app, 'app_status');
    const counterparty = status.playground.counterparty_pubkey;

    // A payee nobody knows a way to: the node's reason, before Pay.
    await nav('Send').click();
    await page.getByLabel('Pay to').fill(strangerInvoice(1_000, 'nowhere'));
    await page.getByRole('group', { name: 'Lightning invoice' }).waitFor();
    await expect.poll(() => page.getByText(/^No way to the payee is known/).textContent(), { timeout: 10_000 }).toMatch(/The payment would most likely fail\.$/);
    expect(await page.getByTestId('invoice-fee').textContent()).toBe('No way to the payee now');
    await b.shot('send-no-route');
    await page.getByRole('button', { name: 'Clear' }).click();

    // Through the counterparty, over a channel it does not have: its fee (1 sat) before Pay.
    const hint: RouteHintHop = { pubkey: hex.decode(counterparty), shortChannelId: (900n << 40n) | (1n << 16n), feeBaseMsat: 1_000, feeProportionalMillionths: 0, cltvExpiryDelta: 40 };
    await page.getByLabel('Pay to').fill(strangerInvoice(2_000, 'a dead end', [[hint]]));
    await expect.poll(() => page.getByTestId('invoice-fee').textContent(), { timeout: 10_000 }).toMatch(/^1 sat — through playground counterparty, which charges for forwarding/);
    expect(await page.getByTestId('invoice-total').textContent()).toBe('2\u202f001 sat');
    await page.getByRole('button', { name: 'Pay 2\u202f000 sat' }).click();
    await page.getByTestId('pay-failure').waitFor({ timeout: 30_000 });
    const said = await page.getByTestId('pay-failure').locator('.error-text-main').textContent();
    expect(said).toBe(
      'Your channel peer could not pass the payment on: it has no channel the route names toward the next node (the channel closed, or the invoice’s route hint is out of date). Ask the payee for a new invoice.',
    );
    expect(await page.getByTestId('failed-at').textContent()).toMatch(/^Stopped at hop 1 of the route, .*playground counterparty, which answered unknown_next_peer\.$/);
    await b.shot('send-failed-at-hop');

    // History: the payment failed, moved nothing, and says why in the same words.
    await page.getByRole('button', { name: 'Done' }).click();
    await nav('History').click();
    const row = page.locator('[data-testid=history-row][data-status=Failed]').first();
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain(said!);
    await b.shot('history-failed-diagnosed');
  });
});
