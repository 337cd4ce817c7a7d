/**
 * A lost copy of the wallet, brought back in a real browser on the playground: a channel with the
 * counterparty, its backup downloaded, then the app's node folder lost (the playground's chain and the
 * counterparty, with its side of the channel, stay). The same 24 words restore the wallet; Settings →
 * Back up channels lists the channel coming back with its step in words, the counterparty closes it
 * with its commitment, the amount coming back is shown, and once the sweep is deep it is in the
 * on-chain balance. The backup file chosen under "Restore channels from a backup file" is read as this
 * wallet's, with the channel known already: the counterparty had handed back the copy it kept for us
 * (peer storage), and that started the recovery at once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { appCall, firstAmount, fundAndOpenChannel, onboardOnPlayground, openBrowser, startApp } from './harness.ts';
import type { AppProcess, Browser } from './harness.ts';
import { removeDir, tempDir } from '../helpers/daemon.ts';
import { PLAYGROUND_DIR } from '../../core/node/chain-backend.ts';
import type { MethodOutput } from '../../core/api/contract.ts';
import { formatSats } from '../../renderer/format.ts';

const STEPS = ['RECOVERING_CONNECTING', 'RECOVERING_ASKED_TO_CLOSE', 'RECOVERING_CLOSED_BY_PEER'];
/** What the list says at each step. */
const WORDS: Record<string, string> = {
  RECOVERING_CONNECTING: 'Connecting to the other node to ask it to close the channel.',
  RECOVERING_ASKED_TO_CLOSE: 'Asked the other node to close the channel; waiting for its closing transaction in a block.',
  RECOVERING_CLOSED_BY_PEER: 'The other node closed the channel; your side is being swept into your wallet.',
};

describe('restoring channels from a backup in the desktop app, on the playground', () => {
  let appDir = '';
  let app: AppProcess | undefined;
  let b: Browser | undefined;
  afterAll(async () => {
    await b?.close();
    await app?.stop();
    if (appDir) await removeDir(appDir);
  });

  it('shows the channel coming back step by step, the amount, and the swept coins on-chain', { timeout: 120_000 }, async () => {
    appDir = await tempDir('e2e-backup-restore');
    app = await startApp(appDir);
    b = await openBrowser('backup-restore');
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    await page.goto(app.url);
    const words = await onboardOnPlayground(b, 'a restore password');
    await fundAndOpenChannel(b);
    const [channel] = (await appCall<MethodOutput<'listchannels'>>(app, 'listchannels')).channels;
    const nodeId = (await appCall<{ identity_pubkey: string }>(app, 'getinfo')).identity_pubkey;
    // What the words bring back by themselves: the funding's change.
    const onchain = Number((await appCall<MethodOutput<'walletbalance'>>(app, 'walletbalance')).confirmed_balance);

    await nav('Settings').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('backup-download').click()]);
    const file = await download.path();
    await expect.poll(() => page.getByTestId('backup-saved').textContent()).toMatch(/one channel\./);

    // The copy is lost: the app stops and its node's folder goes, all but the playground's chain.
    await app.stop();
    const nodeDir = join(appDir, 'networks', 'playground');
    for (const name of await readdir(nodeDir)) if (name !== PLAYGROUND_DIR) await rm(join(nodeDir, name), { recursive: true, force: true });
    app = await startApp(appDir);
    await page.goto(app.url);

    // The same words, typed into "Restore from recovery words".
    await page.getByRole('button', { name: 'Restore from recovery words' }).click({ timeout: 60_000 });
    await page.getByLabel('Recovery words').fill(words.join(' '));
    await page.getByLabel('Password', { exact: true }).fill('a new restore password');
    await page.getByLabel('Repeat the password').fill('a new restore password');
    // Every step the list shows, in order, as the page draws it.
    // (Page code as text: the tests are typed without the DOM's names.)
    await page.evaluate(`(() => {
      const seen = [];
      const look = () => {
        for (const li of document.querySelectorAll('[data-testid=recovering-channel]')) {
          const s = li.getAttribute('data-state') + '|' + li.textContent;
          if (seen[seen.length - 1] !== s) seen.push(s);
        }
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      globalThis.seen = seen;
    })()`);
    await page.getByRole('button', { name: 'Restore wallet' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor({ timeout: 60_000 });
    // Straight to the list: the counterparty's commitment waits about five seconds for the
    // playground's next block, and the step before it is shown meanwhile.
    await nav('Settings').click();
    const item = page.getByTestId('recovering-channel');
    await item.waitFor({ timeout: 30_000 });
    await item.scrollIntoViewIfNeeded();
    await b.shot('recovering');
    // The same node, with no channel of its own: the words alone brought none back.
    expect((await appCall<{ identity_pubkey: string }>(app, 'getinfo')).identity_pubkey).toBe(nodeId);
    expect((await appCall<MethodOutput<'listchannels'>>(app, 'listchannels')).channels).toEqual([]);

    // The backup file opens with these words and holds the channel, which is being recovered already.
    await page.getByText('Restore channels from a backup file').click();
    await page.getByTestId('backup-file').setInputFiles(file);
    await expect.poll(() => page.getByTestId('backup-picked').textContent(), { timeout: 10_000 }).toMatch(/holds one channel\./);
    await page.getByRole('button', { name: 'Restore these channels' }).click();
    await expect.poll(() => page.getByTestId('backup-restored').textContent(), { timeout: 10_000 }).toBe('Nothing to restore: this wallet knows every channel in the file already.');

    // The counterparty closes with its commitment; our output in it is the amount coming back.
    await expect.poll(() => item.getAttribute('data-state'), { timeout: 40_000 }).toBe('RECOVERING_CLOSED_BY_PEER');
    const pending = await appCall<MethodOutput<'pendingchannels'>>(app, 'pendingchannels');
    const rec = pending.waiting_close_channels.find((c) => c.channel.channel_point === channel!.channel_point)!;
    expect(rec.state).toBe('RECOVERING_CLOSED_BY_PEER');
    const back = Number(rec.limbo_balance);
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThanOrEqual(Number(channel!.local_balance));
    await expect.poll(() => item.textContent()).toContain(`Coming back: ${formatSats(back, 'sat')}.`);
    expect(await item.textContent()).toContain('The other node closed the channel; your side is being swept into your wallet.');
    expect(await item.textContent()).toContain(formatSats(channel!.capacity, 'sat'));
    await b.shot('closed-by-peer');

    const seen = await page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
    const states = seen.map((s) => s.split('|')[0]!);
    expect(states.map((s) => STEPS.indexOf(s))).toEqual([...states.map((s) => STEPS.indexOf(s))].sort((x, y) => x - y));
    expect(states.every((s) => STEPS.includes(s))).toBe(true);
    // Each step drawn says what it is. The steps before the close are shown for as long as the
    // counterparty's commitment waits for a block (seconds): a busy machine may draw none of them.
    for (const step of seen) expect(step).toContain(WORDS[step.split('|')[0]!]!);
    expect(states[states.length - 1]).toBe('RECOVERING_CLOSED_BY_PEER');

    // The sweep deep enough: the channel leaves the list, its coins are on-chain.
    await appCall(app, 'playground_mine', { blocks: 6 });
    await expect.poll(() => page.getByTestId('recovering-channel').count(), { timeout: 30_000 }).toBe(0);
    await nav('Home').click();
    await expect.poll(async () => firstAmount(await page.getByTestId('onchain-balance').textContent()), { timeout: 30_000 }).toBeGreaterThan(onchain);
    const gained = firstAmount(await page.getByTestId('onchain-balance').textContent()) - onchain;
    // The sweep's fee is all that is missing.
    expect(gained).toBeLessThanOrEqual(back);
    expect(gained).toBeGreaterThan(back - 5_000);
    await b.shot('swept');
  });
});
