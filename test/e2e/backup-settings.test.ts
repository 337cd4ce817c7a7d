/**
 * Settings in a real browser against the app on the playground: notifications turned on tell of a
 * channel opening (driven by the node's event; the page's Notification is a recorder here, so the test
 * reads what would be shown); "Back up channels" says what a backup protects and what it does not,
 * downloads the encrypted backup, which the node verifies as this wallet's with the channel in it, and
 * the same file chosen under "Restore channels from a backup file" is read and found known already;
 * "Watchtowers" shows the node's own tower, refuses an address that is not a tower's, and lists the
 * tower once added.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { appCall, fundAndOpenChannel, onboardOnPlayground, useAppInBrowser } from './harness.ts';

describe('notifications, channel backups and watchtowers in Settings', () => {
  const ctx = useAppInBrowser('backup-settings');

  it('notifies a channel opening, exports a channel backup that verifies, and adds a watchtower', { timeout: 90_000 }, async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.addInitScript(() => {
      const notes: { title: string; body: string }[] = [];
      class Recorder {
        static permission = 'default';
        static requestPermission(): Promise<string> {
          Recorder.permission = 'granted';
          return Promise.resolve('granted');
        }
        constructor(title: string, opts?: { body?: string }) {
          notes.push({ title, body: opts?.body ?? '' });
        }
      }
      Object.assign(globalThis, { Notification: Recorder, notes });
    });
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a backup password');

    // Off by default; on once asked.
    await nav('Settings').click();
    const toggle = page.getByTestId('notifications-toggle');
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await expect.poll(() => toggle.isChecked()).toBe(true);

    await nav('Home').click();
    await fundAndOpenChannel(b);
    const notes = (): Promise<{ title: string; body: string }[]> => page.evaluate(() => (globalThis as unknown as { notes: { title: string; body: string }[] }).notes);
    await expect.poll(async () => (await notes()).find((n) => n.title === 'Channel open')?.body, { timeout: 20_000 }).toMatch(/^A [\d\u202f]+ sat channel with playground counterparty is ready for payments\.$/);

    // The backup: what it protects and what not, then the file.
    await nav('Settings').click();
    const explained = await page.getByTestId('backup-explained').textContent();
    expect(explained).toContain('only this wallet’s 24 words open it');
    expect(explained).toContain('does not protect payments that were on their way');
    expect(explained).toContain('must be reachable and honest enough to close the channel');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('backup-download').click()]);
    expect(download.suggestedFilename()).toMatch(/^coulomb-channels-\d{4}-\d{2}-\d{2}\.backup$/);
    const path = await download.path();
    const bytes = await readFile(path);
    await expect.poll(() => page.getByTestId('backup-saved').textContent()).toMatch(/one channel\. Keep it apart from this computer\.$/);
    await b.shot('settings-backup');

    // The node opens it with this wallet's seed, and it holds the channel.
    const { channels } = await appCall<{ channels: { channel_point: string }[] }>(app, 'listchannels');
    const verified = await appCall<{ chan_points: string[]; node_id: string }>(app, 'verifychanbackup', { multi_chan_backup: bytes.toString('hex') });
    expect(verified.chan_points).toEqual([channels[0]!.channel_point]);
    const info = await appCall<{ identity_pubkey: string }>(app, 'getinfo');
    expect(verified.node_id).toBe(info.identity_pubkey);

    // Chosen to restore from, it is read, and this wallet knows its channel already.
    await page.getByText('Restore channels from a backup file').click();
    await page.getByTestId('backup-file').setInputFiles(path);
    await expect.poll(() => page.getByTestId('backup-picked').textContent(), { timeout: 10_000 }).toMatch(/holds one channel\./);
    await page.getByRole('button', { name: 'Restore these channels' }).click();
    await expect.poll(() => page.getByTestId('backup-restored').textContent(), { timeout: 10_000 }).toBe('Nothing to restore: this wallet knows every channel in the file already.');
    await b.shot('settings-backup-restore-known');

    // Watchtowers: none yet, and what a tower learns said first; this node's own tower (the playground
    // runs one) is shown; an address that is not a tower's is refused in words; the tower at its
    // address is added and listed with what it backs up.
    const own = await appCall<{ pubkey: string; listeners: string[] }>(app, 'towerinfo');
    expect(await page.getByTestId('tower-none').textContent()).toMatch(/^No watchtower yet/);
    await expect.poll(() => page.getByTestId('tower-own').textContent()).toContain(own.pubkey);
    await page.getByTestId('tower-uri').fill('not a tower');
    await page.getByTestId('tower-add').click();
    await expect.poll(() => page.getByTestId('tower-error').textContent()).toMatch(/^[A-Z]/);
    await page.getByTestId('tower-uri').fill(`${own.pubkey}@${own.listeners[0]}`);
    await page.getByTestId('tower-add').click();
    await expect.poll(() => page.getByTestId('tower-list').textContent(), { timeout: 10_000 }).toContain(own.pubkey.slice(0, 8));
    expect(await page.getByTestId('tower-list').textContent()).toMatch(/states backed up/);
    const towers = await appCall<{ towers: { pubkey: string }[] }>(app, 'wtclient_towers');
    expect(towers.towers.map((t) => t.pubkey)).toEqual([own.pubkey]);
    await b.shot('settings-watchtowers');
  });
});
