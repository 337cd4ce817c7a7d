import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { MAX_URI_LENGTH, isAppUrl, parseProtocolUri } from '../../../electron/window.ts';

describe('parseProtocolUri finds a lightning: or bitcoin: link in a command line', () => {
  const exe = '/opt/Coulomb/coulomb';

  it('finds the link among the other arguments', () => {
    expect(parseProtocolUri([exe, 'lightning:lnbc10n1pexample'])).toBe('lightning:lnbc10n1pexample');
    expect(parseProtocolUri([exe, '--no-sandbox', '--datadir=/d', 'bitcoin:bc1qexample?amount=0.001&label=Caf%C3%A9'])).toBe('bitcoin:bc1qexample?amount=0.001&label=Caf%C3%A9');
    // Windows passes the executable, Chromium's own switches and then the link.
    expect(parseProtocolUri(['C:\\Program Files\\Coulomb\\Coulomb.exe', '--allow-file-access-from-files', 'lightning:LNBC1'])).toBe('lightning:LNBC1');
  });

  it('matches the scheme in any case and returns it in lower case', () => {
    expect(parseProtocolUri(['LIGHTNING:LNBC10N1PEXAMPLE'])).toBe('lightning:LNBC10N1PEXAMPLE');
    expect(parseProtocolUri(['BitCoin:bc1q'])).toBe('bitcoin:bc1q');
  });

  it('returns the first acceptable link', () => {
    expect(parseProtocolUri(['lightning:a', 'bitcoin:b'])).toBe('lightning:a');
    expect(parseProtocolUri(['lightning:bad\nline', 'bitcoin:b'])).toBe('bitcoin:b');
  });

  it('ignores other schemes and look-alikes', () => {
    for (const arg of ['https://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'xlightning:abc', ' lightning:abc', 'lightning', 'lightning//abc', 'litecoin:abc', 'lightning:', 'bitcoin:']) {
      expect(parseProtocolUri([exe, arg]), arg).toBeUndefined();
    }
    expect(parseProtocolUri([])).toBeUndefined();
  });

  it('refuses control characters anywhere', () => {
    for (const c of ['\0', '\n', '\r', '\t', '\x1b', '\x7f', '\u0085', '\u009b']) {
      expect(parseProtocolUri([`lightning:lnbc1${c}x`]), JSON.stringify(c)).toBeUndefined();
    }
  });

  it('refuses anything longer than the limit', () => {
    const head = 'lightning:';
    expect(parseProtocolUri([head + 'a'.repeat(MAX_URI_LENGTH - head.length)])).toHaveLength(MAX_URI_LENGTH);
    expect(parseProtocolUri([head + 'a'.repeat(MAX_URI_LENGTH - head.length + 1)])).toBeUndefined();
    expect(MAX_URI_LENGTH).toBe(4000);
  });
});

describe('isAppUrl accepts only the app page itself', () => {
  const index = pathToFileURL('/opt/Coulomb/resources/app.asar/dist/renderer/index.html').href;

  it('accepts the page, with or without a query or fragment', () => {
    expect(isAppUrl(index, index)).toBe(true);
    expect(isAppUrl(index + '#/channels', index)).toBe(true);
    expect(isAppUrl(index + '?x=1#/send', index)).toBe(true);
  });

  it('compares percent-encoding decoded', () => {
    const spaced = pathToFileURL('/home/a user/Coulomb/dist/renderer/index.html').href;
    expect(spaced).toContain('a%20user');
    expect(isAppUrl('file:///home/a user/Coulomb/dist/renderer/index.html', spaced)).toBe(true);
    expect(isAppUrl('file:///home/a%20user/Coulomb/dist/renderer/ind%65x.html', spaced)).toBe(true);
  });

  it('refuses other files, other hosts and other schemes', () => {
    const refused = [
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/other.html',
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/index.html.evil',
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/',
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/sub/index.html',
      'file:///tmp/dist/renderer/index.html',
      'file://evil.example/opt/Coulomb/resources/app.asar/dist/renderer/index.html',
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/index.html%00',
      'https://opt/Coulomb/resources/app.asar/dist/renderer/index.html',
      'http://localhost/opt/Coulomb/resources/app.asar/dist/renderer/index.html',
      'about:blank',
      'data:text/html,<script>alert(1)</script>',
      'devtools://devtools/bundled/index.html',
      '',
      'not a url',
      'file:///opt/Coulomb/resources/app.asar/dist/renderer/index%ZZ.html',
    ];
    for (const url of refused) expect(isAppUrl(url, index), url).toBe(false);
  });

  it('resolves dot segments before comparing', () => {
    expect(isAppUrl('file:///opt/Coulomb/resources/app.asar/dist/x/../renderer/index.html', index)).toBe(true);
    expect(isAppUrl('file:///opt/Coulomb/resources/app.asar/dist/renderer/../../index.html', index)).toBe(false);
  });

  it('refuses everything when the app URL itself is not a file URL', () => {
    expect(isAppUrl('https://example.com/', 'https://example.com/')).toBe(false);
    expect(isAppUrl(index, 'garbage')).toBe(false);
  });
});
