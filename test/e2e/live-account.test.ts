/**
 * Browser test of the app that follows the node live and keeps the wallet safe, on one app: the
 * network named on the welcome screen; Home's one activity list (on-chain and Lightning, a plain note);
 * the channel offer that turns "open" by itself when the node says so; History hiding an expired
 * invoice behind its switch and downloading the CSV that `coulomb exporthistory` also writes; the Copy
 * button reset by new content; an 800×600 window with the sidebar collapsed; the recovery words after
 * the password, a new password, lock now, and a forgotten password replaced by the 24 words; and last,
 * the app stopped with SIGTERM: the process exits and the page says it lost Coulomb, never "In sync".
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appCall, onboardOnPlayground, openBrowser, startApp } from './harness.ts';
import type { AppProcess, Browser } from './harness.ts';
import { cli, removeDir, tempDir } from '../helpers/daemon.ts';

const PASSWORD = 'correct horse battery';

describe('live state and account safety', () => {
  let appDir: string;
  let app: AppProcess;
  let b: Browser;

  beforeAll(async () => {
    appDir = await tempDir('e2e-live');
    app = await startApp(appDir);
    b = await openBrowser('live');
    await b.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await app?.stop();
    if (appDir) await removeDir(appDir);
  });

  it('follows the node, exports its history, keeps the wallet safe, and says when Coulomb is gone', { timeout: 300_000 }, async () => {
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    const words = await onboardOnPlayground(b, PASSWORD, {
      onWelcome: async () => expect(await page.getByTestId('network-name').textContent()).toBe('Network: the playground (practice coins, nothing real)'),
    });

    // Test coins: Home's one list shows the transaction with a plain note once a block confirms it.
    await page.getByRole('button', { name: /Get test coins/ }).click();
    const rows = page.getByTestId('activity-row');
    await expect.poll(() => rows.first().getAttribute('data-status'), { timeout: 30_000 }).toBe('Confirmed');

    // The counterparty's channel: "about 20 seconds" turns to "open" by itself when the node tells it opened.
    // The counterparty must be connected to our node before it can open a channel to it.
    const cp = (await appCall<{ playground?: { counterparty_pubkey: string } }>(app, 'app_status')).playground?.counterparty_pubkey;
    await expect.poll(async () => (await appCall<{ peers: { pub_key: string }[] }>(app, 'listpeers')).peers.some((p) => p.pub_key === cp), { timeout: 30_000 }).toBe(true);
    await nav('Channels').click();
    await page.getByRole('button', { name: 'Get a channel from the counterparty (to receive)' }).click({ timeout: 30_000 });
    const inbound = page.getByTestId('inbound-status');
    await expect.poll(() => inbound.textContent(), { timeout: 60_000 }).toContain('ready in about 20 seconds');
    await expect.poll(() => inbound.textContent(), { timeout: 60_000 }).toBe('The 500\u202f000 sat channel from the counterparty is open: you can receive now.');
    await b.shot('channel-open-live');

    // An invoice the counterparty pays appears on Home beside the on-chain coins.
    const inv = await appCall<{ payment_request: string; r_hash: string }>(app, 'addinvoice', { value: 4000, memo: 'Two stickers', private: true });
    await appCall(app, 'app_counterparty_pay', { pay_req: inv.payment_request });
    await nav('Home').click();
    const paidRow = rows.filter({ hasText: 'Two stickers' });
    await expect.poll(() => paidRow.getAttribute('data-status'), { timeout: 15_000 }).toBe('Paid');
    expect(await paidRow.getAttribute('data-kind')).toBe('lightning');
    expect(await rows.filter({ hasText: 'Received on-chain' }).count()).toBe(1);
    // A note naming a node by its key reads as a name.
    expect(await page.getByTestId('activity-list').textContent()).not.toMatch(/0[23][0-9a-f]{64}/);
    await b.shot('home-activity');

    // History: an invoice nobody paid that expired hides behind the switch.
    const lapsed = await appCall<{ r_hash: string }>(app, 'addinvoice', { value: 900, memo: 'Never paid', expiry: 1 });
    const lapsedAt = Date.now() + 1500;
    await expect.poll(() => Date.now() >= lapsedAt, { timeout: 5_000 }).toBe(true);
    await nav('History').click();
    const history = page.getByTestId('history-row');
    await expect.poll(() => history.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(await page.locator(`[data-key="inv-${lapsed.r_hash}"]`).count()).toBe(0);
    await page.getByTestId('show-abandoned').check();
    expect(await page.locator(`[data-key="inv-${lapsed.r_hash}"]`).getAttribute('data-status')).toBe('Expired');
    await page.getByTestId('show-abandoned').uncheck();

    // The CSV: from History as a download, and the same rows from the CLI.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^coulomb-history-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('date,type,direction,amount_sat,fee_sat,status,description,hash');
    expect(lines.find((l) => l.endsWith(inv.r_hash))).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z,lightning_invoice,received,4000,0,paid,Two stickers,/);
    expect(lines.some((l) => l.includes(',onchain,received,1000000,0,confirmed,'))).toBe(true);
    expect(csv).not.toContain(lapsed.r_hash);
    const file = join(appDir, 'history.csv');
    const r = await cli(join(appDir, 'networks', 'playground'), 'exporthistory', '--output_file', file);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ output_file: file, rows: lines.length - 1 });
    expect((await readFile(file, 'utf8')).split('\r\n')[0]).toBe(lines[0]);

    // Copy says "Copied" for what it copied; a new address is not copied yet.
    await nav('Receive').click();
    await page.getByRole('radio', { name: 'On-chain' }).click();
    const address = page.getByTestId('receive-address');
    const first = await address.textContent();
    const copy = page.getByRole('button', { name: 'Copy address' });
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    await page.getByRole('button', { name: 'New address' }).click();
    await expect.poll(() => address.textContent()).not.toBe(first);
    expect(await copy.textContent()).toBe('Copy');

    // 800×600: the sidebar becomes a bar above the screen; nothing scrolls sideways.
    await page.setViewportSize({ width: 800, height: 600 });
    await nav('Home').click();
    const sidebar = (await page.getByRole('navigation').boundingBox())!;
    const main = (await page.locator('main').boundingBox())!;
    expect(sidebar.width).toBeGreaterThan(700);
    expect(main.x).toBeLessThan(5);
    expect(main.width).toBeGreaterThan(780);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(800);
    await b.shot('narrow-800x600');
    await page.setViewportSize({ width: 1200, height: 820 });

    // The recovery words, only after the password; a new password; lock now.
    await nav('Settings').click();
    await page.getByRole('button', { name: 'Show recovery words…' }).click();
    await page.getByLabel('Your password').fill('not the password');
    await page.getByRole('button', { name: 'Show the words' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('password');
    expect(await page.getByTestId('revealed-words').count()).toBe(0);
    await page.getByLabel('Your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Show the words' }).click();
    await page.getByTestId('revealed-words').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('revealed-words').locator('.w').allTextContents()).toEqual(words);
    await b.shot('recovery-words-again');
    await page.getByRole('button', { name: 'Hide the words' }).click();
    await page.getByRole('button', { name: 'Change password…' }).click();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('a second password');
    await page.getByLabel('Repeat the new password').fill('a second password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByTestId('password-changed').waitFor();
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'Unlock your wallet' }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('network-name').textContent()).toBe('Network: the playground (practice coins, nothing real)');
    await b.shot('locked');

    // Forgot the password: the 24 words unlock the wallet and set a new one.
    await page.getByRole('button', { name: 'Forgot your password? Restore from your 24 words' }).click();
    await page.getByLabel('Your 24 recovery words').fill(words.join(' '));
    await page.getByLabel('Password', { exact: true }).fill('a third password');
    await page.getByLabel('Repeat the password').fill('a third password');
    await b.shot('forgot-password');
    await page.getByRole('button', { name: 'Unlock with my words' }).click();
    // Back where the lock was pressed, with everything still there.
    await page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: 60_000 });
    await nav('Home').click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);

    // SIGTERM to the app: the process exits by itself, and the page says Coulomb is gone and how to get it back.
    await page.locator('[data-testid=sync-bar][data-synced=true]').waitFor({ timeout: 30_000 });
    await app.stop();
    expect(app.child.signalCode).toBeNull();
    expect(app.child.exitCode).toBe(0);
    await expect.poll(() => page.getByTestId('sync-status').textContent(), { timeout: 15_000 }).toContain('Not connected to Coulomb');
    expect(await page.getByTestId('sync-bar').getAttribute('data-synced')).toBe('false');
    expect(await page.getByTestId('connection-lost').textContent()).toContain('start it again (npm start, or coulomb app) and open the new address it prints');
    await b.shot('backend-stopped');
  });
});
