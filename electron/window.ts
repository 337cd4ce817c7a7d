/**
 * The desktop shell's pure pieces: the window's security settings, the IPC channel names, and the
 * checks on URLs and command lines that the main process applies to untrusted input. Nothing here
 * imports Electron at run time, so the preload bundle can inline the constants and the tests can run
 * without an Electron binary.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/** Renderer → main: one API call, answered with an ApiResult. */
export const IPC_CALL = 'coulomb:call';
/** Main → renderer: one AppEvent. */
export const IPC_EVENT = 'coulomb:event';

/** The URI schemes the app registers for and accepts from the system. */
export const PROTOCOL_SCHEMES = ['lightning', 'bitcoin'] as const;

/** Longer than any invoice or BIP21 URI seen in practice; anything longer is not worth parsing. */
export const MAX_URI_LENGTH = 4000;

/**
 * Options for the one window. The renderer is treated as untrusted: no Node, a sandboxed and
 * context-isolated preload that exposes only `window.coulomb`, and no way to embed other content.
 */
export function secureWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    title: 'Coulomb',
    width: 1120,
    height: 760,
    minWidth: 760,
    minHeight: 560,
    // The renderer's background, so that no white flash shows before the first paint.
    backgroundColor: '#0f1720',
    // Shown on 'ready-to-show', once there is something to see.
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    },
  };
}

function decodedPath(u: URL): string | undefined {
  try {
    return decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` is the app's own page: a file: URL naming exactly the same file as `appIndexUrl`
 * (the file: URL of dist/renderer/index.html). The query and fragment are ignored, since the renderer
 * may use either for its own state. Percent-encoding is compared decoded, because Chromium and Node
 * do not escape exactly the same characters in file paths.
 */
export function isAppUrl(url: string, appIndexUrl: string): boolean {
  let u: URL;
  let app: URL;
  try {
    u = new URL(url);
    app = new URL(appIndexUrl);
  } catch {
    return false;
  }
  if (u.protocol !== 'file:' || app.protocol !== 'file:') return false;
  // file://host/... names a file on another machine (a UNC share on Windows).
  if (u.host !== app.host || u.username !== '' || u.password !== '') return false;
  const p = decodedPath(u);
  const q = decodedPath(app);
  return p !== undefined && q !== undefined && !p.includes('\0') && p === q;
}

// C0 and C1 control characters, DEL included.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const SCHEME = new RegExp(`^(${PROTOCOL_SCHEMES.join('|')}):`, 'i');

/**
 * Finds a `lightning:` or `bitcoin:` URI in a command line, as the system passes it when the user
 * clicks such a link (argv on Windows and Linux; macOS uses the 'open-url' event, whose URL goes
 * through here too). The scheme is matched case-insensitively (QR codes often carry `LIGHTNING:`) and
 * returned in lower case; the rest is returned as given, for the renderer to parse. Anything too long,
 * empty after the scheme, or with control characters is ignored.
 */
export function parseProtocolUri(argv: readonly string[]): string | undefined {
  for (const arg of argv) {
    if (typeof arg !== 'string' || arg.length > MAX_URI_LENGTH) continue;
    const m = SCHEME.exec(arg);
    if (!m || CONTROL_CHARS.test(arg)) continue;
    const scheme = m[1]!.toLowerCase();
    const rest = arg.slice(m[0].length);
    if (rest.length === 0) continue;
    return `${scheme}:${rest}`;
  }
  return undefined;
}

/**
 * The app's directory: `--datadir=<path>` on the command line, else $COULOMB_APPDIR, else `fallback`
 * (Electron's userData folder). Empty values count as absent.
 */
export function appDirFrom(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, fallback: string): string {
  for (const arg of argv) {
    if (arg.startsWith('--datadir=') && arg.length > '--datadir='.length) return arg.slice('--datadir='.length);
  }
  const fromEnv = env.COULOMB_APPDIR;
  return fromEnv ? fromEnv : fallback;
}

/**
 * Links the renderer may hand to the system browser: https, and the playground shop's page on
 * 127.0.0.1 (plain http on loopback, with a port); nothing else local, nothing scripted.
 */
export function isExternalLink(url: string): boolean {
  if (url.length > MAX_URI_LENGTH) return false;
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') return false;
    if (u.protocol === 'http:') return u.hostname === '127.0.0.1' && u.port !== '';
    return u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The permissions the app grants, and only to our own page: writing to the clipboard (the Copy buttons
 * beside invoices and addresses use navigator.clipboard.writeText) and notifications (off until turned
 * on in Settings). Everything else (camera, clipboard reading, devices, …) is refused.
 */
export function allowPermission(permission: string, requestingUrl: string | undefined, appIndexUrl: string): boolean {
  return (permission === 'clipboard-sanitized-write' || permission === 'notifications') && requestingUrl !== undefined && isAppUrl(requestingUrl, appIndexUrl);
}
