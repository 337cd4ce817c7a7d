/**
 * The Electron main process. It runs the AppHost (the node and everything behind the screens), one
 * window showing the renderer, and the IPC channel between them, and it treats the renderer as
 * untrusted: sandboxed, no navigation away from our page, no new windows, no webviews, no permission
 * but clipboard writes, and every call checked for its sender and shape before the host sees it.
 *
 * Bundled by esbuild to dist/electron/main.mjs; the preload (preload.cjs) sits next to it and the
 * renderer in dist/renderer/.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppHost } from '../core/app/host.ts';
import { contentSecurityPolicy } from '../core/app/web-server.ts';
import { createLogger } from '../core/log/logger.ts';
import { makeIpcHandler } from './ipc.ts';
import { IPC_CALL, IPC_EVENT, PROTOCOL_SCHEMES, allowPermission, appDirFrom, isAppUrl, isExternalLink, parseProtocolUri, secureWindowOptions } from './window.ts';

const here = dirname(fileURLToPath(import.meta.url));
const preloadPath = join(here, 'preload.cjs');
const indexPath = join(here, '..', 'renderer', 'index.html');
const appIndexUrl = pathToFileURL(indexPath).href;

const LOOP_DELAY_LOG_MS = 60_000;
/** How long quitting waits for the node to shut down before leaving anyway. */
const STOP_TIMEOUT_MS = 20_000;

const log = createLogger([(l) => process.stderr.write(l + '\n')], process.env.COULOMB_DEBUG ? 'debug' : 'info', 'SHELL');

let mainWindow: BrowserWindow | undefined;
/** True once the page has loaded (and so subscribed to events); open_uri events wait for it. */
let rendererReady = false;
const pendingUris: string[] = [];
let host: AppHost | undefined;

function routeUri(uri: string): void {
  if (host && rendererReady) host.emit({ type: 'open_uri', uri });
  // Keep only the latest few: a burst of clicks should not queue without bound.
  else if (pendingUris.push(uri) > 8) pendingUris.shift();
}

function flushUris(): void {
  if (!host || !rendererReady) return;
  for (const uri of pendingUris.splice(0)) host.emit({ type: 'open_uri', uri });
}

function focusWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function createWindow(): void {
  const win = new BrowserWindow(secureWindowOptions(preloadPath));
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.webContents.on('did-start-loading', () => (rendererReady = false));
  win.webContents.on('did-finish-load', () => {
    rendererReady = true;
    flushUris();
  });
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
    rendererReady = false;
  });
  // An absolute path: loadFile resolves relative ones against the app's root, not against this file.
  win.loadFile(indexPath).catch((e: unknown) => log.error('could not load the renderer', { path: indexPath, error: String(e) }));
}

/** Rules for every WebContents the app ever creates, the main window's included. */
function guardWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.on('will-navigate', (e) => {
      if (!isAppUrl(e.url, appIndexUrl)) {
        e.preventDefault();
        log.warn('blocked a navigation', { url: e.url.slice(0, 200) });
      }
    });
    contents.on('will-redirect', (e) => {
      if (!isAppUrl(e.url, appIndexUrl)) {
        e.preventDefault();
        log.warn('blocked a redirect', { url: e.url.slice(0, 200) });
      }
    });
    // No new windows, ever. An https link (documentation, a block explorer) goes to the user's browser.
    contents.setWindowOpenHandler(({ url }) => {
      if (isExternalLink(url)) shell.openExternal(url).catch((e: unknown) => log.warn('could not open a link', { error: String(e) }));
      return { action: 'deny' };
    });
  });
}

function guardSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, permission, callback, details) => callback(allowPermission(permission, details.requestingUrl, appIndexUrl)));
  s.setPermissionCheckHandler((_wc, permission, _origin, details) => allowPermission(permission, details.requestingUrl, appIndexUrl));
  // The same policy browser mode sends. Chromium does not run webRequest for every scheme (file: in
  // particular), so the renderer's index.html should carry the policy in a <meta> tag as well.
  const csp = contentSecurityPolicy();
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
}

function registerProtocols(): void {
  // Only a packaged build claims the schemes: a development run registering itself would take the
  // links away from the user's installed wallet.
  if (!app.isPackaged) return;
  for (const scheme of PROTOCOL_SCHEMES) {
    if (!app.setAsDefaultProtocolClient(scheme)) log.warn('could not register as the handler for a URI scheme', { scheme });
  }
}

function logLoopDelay(h: AppHost): NodeJS.Timeout {
  const timer = setInterval(() => {
    // The histogram counts nanoseconds; reset it so that each line covers one interval.
    log.debug('main event loop delay', { p99_ms: (h.loopDelay.percentile(99) / 1e6).toFixed(1), max_ms: (h.loopDelay.max / 1e6).toFixed(1) });
    h.loopDelay.reset();
  }, LOOP_DELAY_LOG_MS);
  timer.unref();
  return timer;
}

function main(): void {
  if (!app.requestSingleInstanceLock()) {
    // Another instance runs (and has been told about our command line through 'second-instance').
    app.quit();
    return;
  }

  // Before 'ready': forces the sandbox on every renderer, whatever options a window is given.
  app.enableSandbox();

  const first = parseProtocolUri(process.argv);
  if (first) routeUri(first);

  app.on('second-instance', (_event, argv) => {
    focusWindow();
    const uri = parseProtocolUri(argv);
    if (uri) routeUri(uri);
  });

  // macOS hands links over through this event, possibly before 'ready'; hence it is registered now.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    const uri = parseProtocolUri([url]);
    if (uri) routeUri(uri);
    focusWindow();
  });

  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (app.isReady() && host && !mainWindow) createWindow();
  });

  guardWebContents();

  app
    .whenReady()
    .then(() => {
      guardSession();
      registerProtocols();

      const appDir = resolve(appDirFrom(process.argv, process.env, app.getPath('userData')));
      log.info('starting', { appDir, version: app.getVersion() });
      const h = new AppHost({ appDir, logToStderr: !app.isPackaged });
      host = h;
      const started = h.start();
      started.catch((e: unknown) => {
        log.error('the app could not start', { error: String(e) });
        dialog.showErrorBox('Coulomb could not start', `${e instanceof Error ? e.message : String(e)}\n\nApp directory: ${appDir}`);
        app.exit(1);
      });

      // The window opens at once; calls made while the host is still starting wait for it.
      const gated = {
        async call(method: unknown, params: unknown) {
          await started;
          return h.call(method, params);
        },
      };
      ipcMain.handle(IPC_CALL, makeIpcHandler(gated, appIndexUrl));
      h.onEvent((e) => {
        if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT, e);
      });
      const loopTimer = logLoopDelay(h);

      // A signal (Ctrl+C in the terminal, `npm start` stopped, a SIGTERM) quits as closing the window does: the node stops first.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
      let stopped = false;
      let stopping = false;
      app.on('before-quit', (event) => {
        if (stopped) return;
        event.preventDefault();
        if (stopping) return;
        stopping = true;
        clearInterval(loopTimer);
        log.info('stopping');
        let timeout: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((done) => {
          timeout = setTimeout(() => {
            log.warn('the node did not stop in time; quitting anyway');
            done();
          }, STOP_TIMEOUT_MS);
        });
        // A quit during start-up waits for the start to settle, so that stop() sees the whole node.
        const stop = started.catch(() => undefined).then(() => h.stop());
        Promise.race([stop, deadline])
          .catch((e: unknown) => log.error('stopping failed', { error: String(e) }))
          .finally(() => {
            clearTimeout(timeout);
            stopped = true;
            app.quit();
          });
      });

      createWindow();
    })
    .catch((e: unknown) => {
      log.error('startup failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      app.exit(1);
    });
}

main();
