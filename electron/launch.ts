/**
 * `npm start` / `coulomb app`: opens the desktop app. Where Electron's binary is present (or can be
 * fetched) and there is a display, the app opens in its own window; otherwise the same renderer is
 * served to a browser on 127.0.0.1 with the API over a local WebSocket, and the terminal says so and
 * prints the address to open.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseFlags, UsageError } from '../core/cli/args.ts';
import type { CommandSpec } from '../core/cli/args.ts';
import { AppHost } from '../core/app/host.ts';
import { startWebServer } from '../core/app/web-server.ts';
import { createLogger } from '../core/log/logger.ts';
import { parseHostPort } from '../core/peer/address.ts';
import { isLoopbackHost } from '../core/util/loopback.ts';
import { buildElectron, buildRenderer, ELECTRON_OUT, RENDERER_OUT, ROOT } from './build.ts';

export const APP_COMMAND: CommandSpec = {
  name: 'app',
  usage: 'app [--browser] [--listen 127.0.0.1:0 [--allow-remote]] [--appdir D]',
  summary: 'Opens the desktop app: in its own window with Electron, or served to a browser on this computer.',
  flags: [
    { name: 'browser', type: 'boolean', help: 'serve the app to a browser even where Electron could run (e.g. on a headless box)' },
    { name: 'listen', type: 'string', help: 'host:port for browser mode (default 127.0.0.1:0, any free port)' },
    { name: 'allow-remote', type: 'boolean', help: 'let --listen use an address other computers can reach (printed as a warning)' },
    { name: 'appdir', type: 'string', help: "the app's data folder (default: the system's app-data folder, or COULOMB_APPDIR)" },
  ],
};

/** Where Electron keeps the app's data (its userData folder), so both ways of running share a wallet. */
export function defaultAppDir(): string {
  if (process.env.COULOMB_APPDIR) return process.env.COULOMB_APPDIR;
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Coulomb');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Coulomb');
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Coulomb');
}

/** The Electron binary, fetching it on first use as the electron package does; or why there is none. */
function electronBinary(): { path: string } | { why: string } {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { why: 'there is no display (DISPLAY is not set)' };
  const r = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: ROOT, encoding: 'utf8', timeout: 10 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = r.stdout?.trim();
  if (r.status === 0 && path && existsSync(path)) return { path };
  return { why: "Electron's binary is not installed and could not be downloaded" };
}

async function runBrowserMode(appDir: string, listen: string, reason: string | undefined, allowRemote: boolean): Promise<number> {
  const hp = parseHostPort(listen, 0, true);
  if (!isLoopbackHost(hp.host)) {
    if (!allowRemote) throw new UsageError(`--listen ${listen} would let other computers reach the app; use 127.0.0.1, or add --allow-remote if that is what you want.`);
    process.stderr.write(`Warning: the app listens on ${listen}, reachable from other computers: anyone there who has the address with its token can use this wallet and spend its funds, and the page and its token cross the network unencrypted.\n`);
  }
  await buildRenderer();
  const log = createLogger([(l) => process.stderr.write(l + '\n')], 'warn', 'APP');
  const host = new AppHost({ appDir });
  await host.start();
  const web = await startWebServer({ host, rendererDir: RENDERER_OUT, listenHost: hp.host, port: hp.port, log, allowRemote });
  process.stdout.write(
    (reason ? `Coulomb is running in browser mode: ${reason}.\n` : 'Coulomb is running in browser mode.\n') +
      `Open this address in your browser (it includes the key that lets the page use your wallet):\n\n    ${web.url}\n\n` +
      `App data: ${appDir}. Press Ctrl+C to stop.\n`,
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      // A second Ctrl+C while the node closes: stop at once (what is stored stays stored).
      if (stopping) {
        process.stdout.write(`Stopped at once (${signal} again).\n`);
        process.exit(130);
      }
      stopping = true;
      process.stdout.write('Stopping Coulomb…\n');
      void web
        .close()
        .then(() => host.stop())
        .finally(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write('Coulomb has stopped.\n');
  // Nothing may keep the process alive once the node is down (a browser's idle keep-alive socket).
  process.exit(0);
}

export async function runApp(argv: string[]): Promise<number> {
  const { flags } = parseFlags(APP_COMMAND, argv);
  const appDir = resolve((flags.appdir as string | undefined) ?? defaultAppDir());
  const listen = (flags.listen as string | undefined) ?? '127.0.0.1:0';
  const allowRemote = flags['allow-remote'] === true;
  if (flags.browser) return runBrowserMode(appDir, listen, undefined, allowRemote);
  if (!existsSync(join(ROOT, 'electron', 'main.ts'))) throw new UsageError('this copy of Coulomb has no desktop shell; run coulomb app --browser');
  const bin = electronBinary();
  if ('why' in bin) return runBrowserMode(appDir, listen, bin.why, allowRemote);
  await buildRenderer();
  await buildElectron();
  const started = Date.now();
  const child = spawn(bin.path, [join(ELECTRON_OUT, 'main.mjs'), `--appdir=${appDir}`], { stdio: 'inherit', env: { ...process.env, COULOMB_APPDIR: appDir } });
  // Stopping `npm start` (Ctrl+C, or a SIGTERM to this process alone) stops the app too: Electron
  // quits as its window's close does, and a second signal ends it at once.
  let signalled = 0;
  const forward = (signal: NodeJS.Signals): void => {
    signalled++;
    child.kill(signalled > 1 ? 'SIGKILL' : signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((done) => {
    child.once('error', () => done(-1));
    child.once('exit', (c) => done(c ?? 1));
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (signalled) return 0;
  // An Electron that cannot start at all (missing system libraries) dies at once: offer the browser instead.
  if (code !== 0 && Date.now() - started < 5000) return runBrowserMode(appDir, listen, `Electron could not start (exit code ${code})`, allowRemote);
  return code;
}
