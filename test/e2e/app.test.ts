/**
 * The newcomer's first minutes, in a real browser against the real app on the playground: choose the
 * playground, create a wallet and prove the words were written down, get test coins, watch the sync
 * bar finish, send coins on-chain to the playground's counterparty, restart the app, unlock, and find
 * everything as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { firstAmount, onboardOnPlayground, openBrowser, startApp } from './harness.ts';
import type { AppProcess, Browser } from './harness.ts';
import { cliJson, removeDir, tempDir } from '../helpers/daemon.ts';

const PASSWORD = 'correct horse battery';

describe('the desktop app in a browser, on the playground', () => {
  let appDir: string;
  let app: AppProcess;
  let b: Browser;

  beforeAll(async () => {
    appDir = await tempDir('e2e-app');
    app = await startApp(appDir);
    b = await openBrowser();
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await app?.stop();
    if (appDir) await removeDir(appDir);
  });

  const nodeDir = (): string => join(appDir, 'networks', 'playground');

  it('onboards, funds, sends on-chain, and keeps its state across a restart', async () => {
    const { page } = b;
    await page.goto(app.url);
    // The token leaves the address bar once read.
    await expect.poll(() => page.url()).not.toContain('token=');

    // Network choice, a new wallet with its words checked, a password: each mistake on the way is caught.
    await onboardOnPlayground(b, PASSWORD, { careful: true });

    // Home: empty, in sync.
    await page.locator('[data-testid=sync-bar][data-synced=true]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('sync-status').textContent()).toMatch(/In sync · block \d+/);
    expect(await page.getByText('No activity yet').isVisible()).toBe(true);
    await b.shot('home-empty');

    // Test coins arrive, confirmed.
    await page.getByRole('button', { name: /Get test coins/ }).click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent(), { timeout: 30_000 }).toBe('1\u202f000\u202f000 sat');
    await b.shot('home-funded');

    // Receive shows an address and its QR code.
    await page.getByRole('button', { name: 'Receive', exact: true }).first().click();
    await page.getByTestId('receive-address').waitFor();
    expect(await page.getByTestId('receive-address').textContent()).toMatch(/^bcrt1q/);
    expect(await page.getByAltText('QR code of the address').isVisible()).toBe(true);
    await b.shot('receive');

    // Peers: the counterparty joins by itself.
    await page.getByRole('navigation').getByRole('button', { name: 'Peers' }).click();
    await page.getByText('playground counterparty').waitFor({ timeout: 30_000 });
    await b.shot('peers');

    // Send 250 000 sat to the counterparty: review shows the real fee, then it goes.
    await page.getByRole('navigation').getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: /counterparty’s address/ }).click();
    await expect.poll(() => page.getByLabel('Pay to').inputValue()).toMatch(/^bcrt1q/);
    await page.getByLabel('Amount (sats)').fill('250000');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByTestId('review-fee').waitFor();
    expect(await page.getByTestId('review-amount').textContent()).toBe('250\u202f000 sat');
    const fee = firstAmount(await page.getByTestId('review-fee').textContent());
    expect(fee).toBeGreaterThan(100);
    expect(fee).toBeLessThan(10_000);
    await b.shot('send-review');
    await page.getByRole('button', { name: 'Confirm and send' }).click();
    await page.getByTestId('send-result').waitFor({ timeout: 30_000 });
    await b.shot('send-done');

    // Nobody mines by hand: the playground's auto-miner confirms the send within seconds.
    await page.getByRole('navigation').getByRole('button', { name: 'Home' }).click();
    const expected = 1_000_000 - 250_000 - fee;
    await expect.poll(() => page.getByTestId('onchain-balance').textContent().then(firstAmount), { timeout: 30_000 }).toBe(expected);
    await expect.poll(() => page.locator('[data-testid=activity-list] tbody tr').count()).toBe(2);
    await expect.poll(() => page.getByTestId('activity-list').getByText('Waiting for a block').count(), { timeout: 30_000 }).toBe(0);
    // The CLI reaches the app's node through its control channel and sees the same balance.
    expect((await cliJson<{ confirmed_balance: string }>(nodeDir(), 'walletbalance')).confirmed_balance).toBe(String(expected));
    await b.shot('home-after-send');

    // Node and settings screens; the dark theme.
    await page.getByRole('navigation').getByRole('button', { name: 'Node' }).click();
    expect(await page.getByTestId('node-pubkey').textContent()).toMatch(/^0[23][0-9a-f]{64}/);
    await b.shot('node');
    await page.getByRole('navigation').getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('radio', { name: 'Dark' }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await b.shot('settings-dark');
    await page.getByRole('navigation').getByRole('button', { name: 'Home' }).click();
    await b.shot('home-dark');

    // Restart: the app comes back locked; a wrong password is refused; the right one shows the same state.
    await app.stop();
    app = await startApp(appDir);
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'Unlock your wallet' }).waitFor({ timeout: 60_000 });
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That password is not right. Nothing was changed: try again.');
    await b.shot('unlock');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('onchain-balance').textContent().then(firstAmount), { timeout: 30_000 }).toBe(expected);
    await expect.poll(() => page.locator('[data-testid=activity-list] tbody tr').count()).toBe(2);
    await page.locator('[data-testid=sync-bar][data-synced=true]').waitFor({ timeout: 30_000 });
    await b.shot('home-after-restart');
  }, 300_000);

  it('refuses the API without the token, and from another origin', async () => {
    const port = new URL(app.url).port;
    const { WebSocket } = await import('ws');
    const tryWs = (origin: string, token: string): Promise<string> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { headers: { origin } });
        ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
        ws.on('message', (d) => {
          resolve(String(d));
          ws.close();
        });
        ws.on('close', (code) => resolve(`closed ${code}`));
        ws.on('error', (e) => resolve(`error ${e.message}`));
      });
    expect(await tryWs(`http://127.0.0.1:${port}`, 'not-the-token')).toBe('closed 4001');
    expect(await tryWs('http://evil.example', new URL(app.url).hash.slice(7))).toMatch(/error.*403/);
    expect(await tryWs(`http://127.0.0.1:${port}`, new URL(app.url).hash.slice(7))).toContain('"ready"');
  });
});
