/**
 * The main process's wiring, run against a stand-in for the 'electron' module (the real binary is
 * not needed): the window's options, the IPC channel in front of a real AppHost, link routing, the
 * navigation and permission guards, and the clean stop on quit.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IPC_CALL, IPC_EVENT, secureWindowOptions } from '../../../electron/window.ts';

const fake = await vi.hoisted(async () => {
  // vi.hoisted runs before the imports above, so node:events is loaded here by itself.
  const { EventEmitter: Emitter } = await import('node:events');
  const app = Object.assign(new Emitter(), {
    quitCalls: 0,
    exitCode: undefined as number | undefined,
    quitted: false,
    requestSingleInstanceLock: () => true,
    enableSandbox: () => undefined,
    whenReady: () => Promise.resolve(),
    isReady: () => true,
    isPackaged: false,
    getPath: () => '/nonexistent-userdata',
    getVersion: () => '0.0.0-test',
    setAsDefaultProtocolClient: () => true,
    quit() {
      app.quitCalls++;
      let prevented = false;
      app.emit('before-quit', { preventDefault: () => (prevented = true) });
      if (!prevented) app.quitted = true;
    },
    exit(code: number) {
      app.exitCode = code;
    },
  });
  const state = {
    app,
    windows: [] as { options: unknown; webContents: EventEmitter & { sent: unknown[][]; openHandler?: (d: { url: string }) => unknown }; loaded?: string }[],
    ipcHandlers: new Map<string, (...args: unknown[]) => unknown>(),
    permissionRequest: undefined as undefined | ((...args: unknown[]) => void),
    permissionCheck: undefined as undefined | ((...args: unknown[]) => boolean),
    headers: undefined as undefined | ((...args: unknown[]) => void),
    opened: [] as string[],
  };
  class BrowserWindow extends Emitter {
    readonly webContents: EventEmitter & { sent: unknown[][]; openHandler?: (d: { url: string }) => unknown };
    constructor(readonly options: unknown) {
      super();
      const wc = Object.assign(new Emitter(), {
        sent: [] as unknown[][],
        openHandler: undefined as undefined | ((d: { url: string }) => unknown),
        send: (...args: unknown[]) => wc.sent.push(args),
        setWindowOpenHandler: (h: (d: { url: string }) => unknown) => (wc.openHandler = h),
      });
      this.webContents = wc;
      const record: (typeof state.windows)[number] = { options, webContents: wc };
      state.windows.push(record);
      app.emit('web-contents-created', {}, wc);
      this.loadFile = async (p: string) => {
        record.loaded = p;
      };
    }
    loadFile: (p: string) => Promise<void>;
    isMinimized = () => false;
    restore = () => undefined;
    show = () => undefined;
    focus = () => undefined;
    isDestroyed = () => false;
  }
  return {
    state,
    module: {
      app,
      BrowserWindow,
      ipcMain: { handle: (ch: string, h: (...args: unknown[]) => unknown) => state.ipcHandlers.set(ch, h) },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (h: (...args: unknown[]) => void) => (state.permissionRequest = h),
          setPermissionCheckHandler: (h: (...args: unknown[]) => boolean) => (state.permissionCheck = h),
          webRequest: { onHeadersReceived: (h: (...args: unknown[]) => void) => (state.headers = h) },
        },
      },
      shell: { openExternal: async (url: string) => void state.opened.push(url) },
      dialog: { showErrorBox: () => undefined },
    },
  };
});

vi.mock('electron', () => fake.module);

const electronDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'electron');
const appIndexUrl = pathToFileURL(join(electronDir, '..', 'renderer', 'index.html')).href;
const { state } = fake;

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

describe('the main process', () => {
  let dir: string;
  const argv = process.argv;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coulomb-main-'));
    // A link on the first command line, as Windows and Linux pass it.
    process.argv = [...argv, `--datadir=${dir}`, 'lightning:lnbc1first'];
    await import('../../../electron/main.ts');
    await until(() => state.windows.length === 1);
  });

  afterAll(async () => {
    process.argv = argv;
    if (!state.app.quitted) state.app.quit();
    await until(() => state.app.quitted);
    await rm(dir, { recursive: true, force: true });
  });

  it('opens one window with the secure options and our page', () => {
    const w = state.windows[0]!;
    expect(w.options).toEqual(secureWindowOptions(join(electronDir, 'preload.cjs')));
    expect(pathToFileURL(w.loaded!).href).toBe(appIndexUrl);
  });

  it('answers IPC calls from our page through the AppHost, in the app directory given', async () => {
    const handle = state.ipcHandlers.get(IPC_CALL)!;
    expect(await handle({ senderFrame: { url: appIndexUrl } }, { method: 'app_status' })).toMatchObject({ ok: true, result: { configured: false } });
    expect(await handle({ senderFrame: { url: 'https://evil.example/' } }, { method: 'app_status' })).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await handle({ senderFrame: { url: appIndexUrl } }, { method: 'app_test_bitcoind', params: { network: 'nope' } })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('holds links until the page has loaded, then passes them on as events', async () => {
    const wc = state.windows[0]!.webContents;
    const uris = () => wc.sent.filter(([ch, e]) => ch === IPC_EVENT && (e as { type: string }).type === 'open_uri').map(([, e]) => (e as { uri: string }).uri);
    state.app.emit('second-instance', {}, ['/opt/coulomb', 'BITCOIN:bc1qsecond'], '/');
    expect(uris()).toEqual([]);
    wc.emit('did-finish-load');
    expect(uris()).toEqual(['lightning:lnbc1first', 'bitcoin:bc1qsecond']);
    state.app.emit('open-url', { preventDefault: () => undefined }, 'lightning:lnbc1third');
    state.app.emit('second-instance', {}, ['/opt/coulomb', 'lightning:bad\u0000'], '/');
    expect(uris()).toEqual(['lightning:lnbc1first', 'bitcoin:bc1qsecond', 'lightning:lnbc1third']);
  });

  it('blocks navigation away from our page, new windows and webviews', () => {
    const wc = state.windows[0]!.webContents;
    const navigate = (event: string, url: string): boolean => {
      let prevented = false;
      wc.emit(event, { url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigate('will-redirect', 'https://evil.example/')).toBe(true);
    expect(navigate('will-navigate', appIndexUrl)).toBe(false);
    expect(navigate('will-attach-webview', appIndexUrl)).toBe(true);

    expect(wc.openHandler!({ url: 'https://mempool.space/' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(state.opened).toEqual(['https://mempool.space/']);
  });

  it('refuses permissions but clipboard writes and notifications from our page, and sets the CSP header', () => {
    const asked: boolean[] = [];
    state.permissionRequest!({}, 'media', (ok: boolean) => asked.push(ok), { requestingUrl: appIndexUrl });
    state.permissionRequest!({}, 'clipboard-sanitized-write', (ok: boolean) => asked.push(ok), { requestingUrl: appIndexUrl });
    expect(asked).toEqual([false, true]);
    expect(state.permissionCheck!({}, 'notifications', 'file://', { requestingUrl: appIndexUrl })).toBe(true);
    expect(state.permissionCheck!({}, 'notifications', 'https://example.com', { requestingUrl: 'https://example.com/' })).toBe(false);
    expect(state.permissionCheck!({}, 'media', 'file://', { requestingUrl: appIndexUrl })).toBe(false);

    let headers: Record<string, string[]> | undefined;
    state.headers!({ responseHeaders: { 'X-Other': ['1'] } }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders));
    expect(headers?.['X-Other']).toEqual(['1']);
    expect(headers?.['Content-Security-Policy']?.[0]).toContain("default-src 'none'");
  });

  it('stops the host before quitting', async () => {
    state.app.quit();
    // The first quit is held back while the host stops; the second goes through.
    expect(state.app.quitted).toBe(false);
    await until(() => state.app.quitted);
    expect(state.app.quitCalls).toBe(2);
    expect(state.app.exitCode).toBeUndefined();
  });
});
