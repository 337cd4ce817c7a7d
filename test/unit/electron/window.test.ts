import { describe, expect, it } from 'vitest';
import { IPC_CALL, IPC_EVENT, allowPermission, appDirFrom, isExternalLink, secureWindowOptions } from '../../../electron/window.ts';

describe('the window is created with every Electron security setting locked down', () => {
  const opts = secureWindowOptions('/x/preload.cjs');
  const web = opts.webPreferences ?? {};

  it('isolates and sandboxes the renderer, with no Node anywhere', () => {
    expect(web.preload).toBe('/x/preload.cjs');
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and every optional surface off', () => {
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
    expect(web.webviewTag).toBe(false);
    expect(web.spellcheck).toBe(false);
    expect(web.experimentalFeatures).toBe(false);
    expect(web.navigateOnDragDrop).toBe(false);
  });

  it('sets nothing that would loosen those settings', () => {
    for (const key of ['enableBlinkFeatures', 'additionalArguments', 'plugins', 'partition', 'session'] as const) {
      expect(web, key).not.toHaveProperty(key);
    }
  });

  it('opens hidden with a title, a background and a sensible size', () => {
    expect(opts.title).toBe('Coulomb');
    expect(opts.show).toBe(false);
    expect(opts.backgroundColor).toMatch(/^#[0-9a-f]{6}$/i);
    expect(opts.width).toBeGreaterThanOrEqual(opts.minWidth ?? 0);
    expect(opts.height).toBeGreaterThanOrEqual(opts.minHeight ?? 0);
    expect(opts.minWidth).toBeGreaterThan(0);
    expect(opts.minHeight).toBeGreaterThan(0);
  });

  it('returns a fresh object each time', () => {
    const a = secureWindowOptions('/a');
    a.webPreferences!.sandbox = false;
    expect(secureWindowOptions('/a').webPreferences?.sandbox).toBe(true);
  });

  it('names its two IPC channels', () => {
    expect(IPC_CALL).toBe('coulomb:call');
    expect(IPC_EVENT).toBe('coulomb:event');
  });
});

describe('the app directory', () => {
  it('comes from --datadir=, then $COULOMB_APPDIR, then the fallback', () => {
    expect(appDirFrom(['electron', '.', '--datadir=/d'], { COULOMB_APPDIR: '/e' }, '/f')).toBe('/d');
    expect(appDirFrom(['electron', '.'], { COULOMB_APPDIR: '/e' }, '/f')).toBe('/e');
    expect(appDirFrom(['electron', '.', '--datadir='], { COULOMB_APPDIR: '' }, '/f')).toBe('/f');
    expect(appDirFrom([], {}, '/f')).toBe('/f');
  });
});

describe('links handed to the system browser', () => {
  it('are https, or the playground shop on loopback', () => {
    expect(isExternalLink('https://mempool.space/tx/ab')).toBe(true);
    expect(isExternalLink('http://127.0.0.1:41234/')).toBe(true);
    for (const bad of ['http://example.com', 'http://127.0.0.1/', 'http://localhost:8080/', 'http://user:pw@127.0.0.1:80/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'https://user:pw@example.com', 'lightning:lnbc1', 'not a url', 'https://x/' + 'a'.repeat(5000)]) {
      expect(isExternalLink(bad), bad).toBe(false);
    }
  });
});

describe('permissions', () => {
  const index = 'file:///opt/Coulomb/dist/renderer/index.html';

  it('grants only clipboard writes and notifications, and only to our page', () => {
    expect(allowPermission('clipboard-sanitized-write', index + '#/receive', index)).toBe(true);
    expect(allowPermission('clipboard-sanitized-write', 'https://evil.example/', index)).toBe(false);
    expect(allowPermission('clipboard-sanitized-write', undefined, index)).toBe(false);
    expect(allowPermission('notifications', index, index)).toBe(true);
    expect(allowPermission('notifications', 'https://evil.example/', index)).toBe(false);
    for (const p of ['clipboard-read', 'media', 'geolocation', 'openExternal', 'hid', 'usb', 'serial', 'fullscreen', 'unknown']) {
      expect(allowPermission(p, index, index), p).toBe(false);
    }
  });
});
