/**
 * End-to-end harness: the real app in browser mode (`coulomb app --browser`, a child process with the
 * playground inside it) and a real headless Chromium driven by playwright-core. Screenshots of every
 * screen go to test-results/e2e/ (kept by CI as artifacts, never committed).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { BIN, REPO, removeDir, tempDir } from '../helpers/daemon.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join(REPO, 'test-results', 'e2e');

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
}

export interface AppProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `coulomb app --browser` on a fresh or existing app folder and waits for its address. */
export async function startApp(appDir: string): Promise<AppProcess> {
  const child = spawn(process.execPath, [BIN, 'app', '--browser', '--appdir', appDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COULOMB_APPDIR: appDir } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the app printed no address within 60 s:\n${out}`)), 60_000);
    const look = (): void => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before printing its address:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A browser with a fresh profile. Screenshots are numbered in order, after `prefix` when given (so test files do not overwrite each other's). */
export async function openBrowser(prefix = ''): Promise<Browser> {
  requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'coulomb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 820 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await mkdir(SHOTS, { recursive: true });
  let n = 0;
  return {
    context,
    page,
    async shot(name) {
      n++;
      await page.screenshot({ path: join(SHOTS, `${prefix ? `${prefix}-` : ''}${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The newcomer's way in, through the UI: choose the playground, create a wallet, type three of the 24
 * words back, choose a password, and arrive at Home. With `careful`, it also makes the usual mistakes
 * on the way (testing a bitcoind without credentials, a wrong word, two different passwords), checks
 * each is caught, and takes a screenshot of every step. Returns the 24 words.
 */
export async function onboardOnPlayground(b: Browser, password: string, opts: { careful?: boolean; onWelcome?: () => Promise<void> } = {}): Promise<string[]> {
  const { page } = b;
  const careful = !!opts.careful;
  await page.getByRole('heading', { name: 'Where should Coulomb run?' }).waitFor();
  if (careful) {
    await b.shot('network-choice');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('user and password');
  }
  await page.getByRole('button', { name: 'Use the playground' }).click();

  await page.getByRole('button', { name: 'Create a new wallet' }).waitFor({ timeout: 60_000 });
  await opts.onWelcome?.();
  await page.getByRole('button', { name: 'Create a new wallet' }).click();
  await page.locator('[data-testid=seed-words] .w').first().waitFor();
  const words = await page.locator('[data-testid=seed-words] .w').allTextContents();
  expect(words).toHaveLength(24);
  const next = page.getByRole('button', { name: 'Next' });
  if (careful) {
    await b.shot('recovery-words');
    expect(await next.isDisabled()).toBe(true);
  }
  await page.getByLabel('I have written down all 24 words').check();
  await next.click();
  await page.getByRole('heading', { name: 'Check your words' }).waitFor();
  const labels = await page.locator('.field-label').allTextContents();
  const positions = labels.map((l) => Number(/#(\d+)/.exec(l)![1]));
  expect(positions).toHaveLength(3);
  if (careful) {
    // A wrong word is caught.
    await page.getByLabel(`Word #${positions[0]}`, { exact: true }).fill('wrong');
    for (const p of positions.slice(1)) await page.getByLabel(`Word #${p}`, { exact: true }).fill(words[p - 1]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(`Word #${positions[0]} is not right`);
  }
  for (const p of positions) await page.getByLabel(`Word #${p}`, { exact: true }).fill(words[p - 1]!);
  if (careful) await b.shot('confirm-words');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  if (careful) {
    await page.getByLabel('Repeat the password').fill(password + 'x');
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the same');
  }
  await page.getByLabel('Repeat the password').fill(password);
  if (careful) await b.shot('password');
  await page.getByRole('button', { name: 'Create wallet' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor({ timeout: 60_000 });
  return words;
}

/**
 * One call to the running app over browser mode's WebSocket, as its page makes them: for what a test
 * needs from outside the screens (an invoice of the playground counterparty to paste, say).
 */
export async function appCall<T = unknown>(app: AppProcess, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const url = new URL(app.url);
  const token = /token=([\w-]+)/.exec(url.hash)![1]!;
  const ws = new WebSocket(`ws://${url.host}/api`, { headers: { origin: url.origin } });
  try {
    return await new Promise<T>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type?: string; id?: number; ok?: boolean; result?: T; error?: { message: string } };
        if (msg.type === 'ready') ws.send(JSON.stringify({ id: 1, method, params }));
        else if (msg.id === 1 && msg.ok) resolve(msg.result as T);
        else if (msg.id === 1) reject(new Error(`${method}: ${msg.error?.message}`));
      });
    });
  } finally {
    ws.close();
  }
}

/** The first amount in a text such as "1 234 sat" or "282 sat (2 sat/vB)", as a number of sats. */
export function firstAmount(text: string | null): number {
  return Number((/[\d\u202f]+/.exec(text ?? '')?.[0] ?? 'NaN').replace(/\u202f/g, ''));
}

/**
 * The app in browser mode on a fresh app folder, and a browser on it, for one describe block: started
 * before its tests, stopped (and the folder removed) after. Read `app` and `b` inside the tests.
 */
export function useAppInBrowser(name: string): { readonly app: AppProcess; readonly b: Browser } {
  let appDir: string | undefined;
  let app: AppProcess | undefined;
  let b: Browser | undefined;
  beforeAll(async () => {
    appDir = await tempDir(`e2e-${name}`);
    app = await startApp(appDir);
    b = await openBrowser(name);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await app?.stop();
    if (appDir) await removeDir(appDir);
  });
  return {
    get app() {
      return app!;
    },
    get b() {
      return b!;
    },
  };
}

/** On Home with test coins, opens the one-click channel to the playground counterparty and waits until it is active. */
export async function fundAndOpenChannel(b: Browser): Promise<void> {
  const { page } = b;
  const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
  await page.getByRole('button', { name: /Get test coins/ }).click();
  await expect.poll(() => page.getByTestId('onchain-balance').textContent(), { timeout: 30_000 }).toBe('1\u202f000\u202f000 sat');
  await nav('Channels').click();
  await page.getByRole('button', { name: 'Open a channel to the playground counterparty' }).click({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Open the channel' }).click();
  await page.getByTestId('open-result').waitFor({ timeout: 30_000 });
  await expect.poll(() => page.getByTestId('channel-list').locator('[data-status=active]').count(), { timeout: 60_000 }).toBe(1);
}
