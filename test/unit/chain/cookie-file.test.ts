/**
 * bitcoind's cookie is a password: it is read only from a file named .cookie that holds one, and sent
 * only to a bitcoind on this computer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BitcoindRpc } from '../../../core/chain/index.ts';
import { readCookieFile } from '../../../core/chain/bitcoind/cookie-file.ts';
import { AppHost } from '../../../core/app/host.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

const GOOD = `__cookie__:${'ab'.repeat(32)}`;
const SECRET = 'PRIVATE KEY MATERIAL';

describe("bitcoind's cookie file", () => {
  let dir: string;
  let server: Server;
  let url: string;
  let seen: string[];
  beforeEach(async () => {
    dir = await tempDir('cookie');
    seen = [];
    server = createServer((req, res) => {
      seen.push(Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8'));
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { chain: 'regtest', blocks: 1, headers: 1, verificationprogress: 1, initialblockdownload: false, subversion: '/Satoshi:28.0.0/' }, error: null, id: 1 })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await removeDir(dir);
  });

  it('is read and sent when it is a .cookie file holding __cookie__:<64 hex>', async () => {
    await writeFile(join(dir, '.cookie'), GOOD + '\n');
    expect(await readCookieFile(join(dir, '.cookie'))).toBe(GOOD);
    await new BitcoindRpc({ url, cookieFile: join(dir, '.cookie'), retries: 0 }).call('getblockchaininfo');
    expect(seen).toEqual([GOOD]);
  });

  it('any other file is refused before a byte of it is sent: another name, other content, or too large', async () => {
    await writeFile(join(dir, 'id_ed25519'), SECRET);
    await mkdir(join(dir, 'k'));
    await writeFile(join(dir, 'k', '.cookie'), SECRET);
    await mkdir(join(dir, 'big'));
    await writeFile(join(dir, 'big', '.cookie'), GOOD + '\n'.repeat(100));
    for (const [file, why] of [
      ['id_ed25519', /id_ed25519 is not a bitcoind cookie file \(those are named \.cookie, in bitcoind's data directory\)/],
      ['k/.cookie', /\.cookie is not a bitcoind cookie file \(it does not hold __cookie__:<64 hex digits>\); check the path\./],
      ['big/.cookie', /\.cookie is not a bitcoind cookie file \(it is not a small file/],
    ] as const) {
      await expect(new BitcoindRpc({ url, cookieFile: join(dir, file), retries: 0 }).call('getblockchaininfo')).rejects.toThrow(why);
    }
    expect(seen).toEqual([]);
  });

  it('is never sent to a bitcoind on another computer', async () => {
    await writeFile(join(dir, '.cookie'), GOOD);
    // 192.0.2.1 (TEST-NET-1) answers nobody: refused at once, not after a connection attempt's timeout.
    await expect(new BitcoindRpc({ url: 'http://192.0.2.1:18443', cookieFile: join(dir, '.cookie'), retries: 0, timeoutMs: 600_000 }).call('getblockchaininfo')).rejects.toThrow(
      /^A cookie file only works with a bitcoind on this computer, and 192\.0\.2\.1 is another one, so the cookie was not sent/,
    );
  });

  it('the app\'s "Test connection" refuses other files and remote hosts in words, and sends nothing', async () => {
    await writeFile(join(dir, 'id_ed25519'), SECRET);
    await writeFile(join(dir, '.cookie'), GOOD);
    const host = new AppHost({ appDir: join(dir, 'app') });
    await host.start();
    try {
      const port = url.split(':').pop()!;
      const other = await host.call('app_test_bitcoind', { network: 'regtest', host: `127.0.0.1:${port}`, cookie: join(dir, 'id_ed25519') });
      expect(other).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: expect.stringMatching(/id_ed25519 is not a bitcoind cookie file/) } });
      const remote = await host.call('app_test_bitcoind', { network: 'regtest', host: `192.0.2.1:${port}`, cookie: join(dir, '.cookie') });
      expect(remote).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: expect.stringMatching(/^A cookie file only works with a bitcoind on this computer, and 192\.0\.2\.1 is another one/) } });
      expect(seen).toEqual([]);
      const good = await host.call('app_test_bitcoind', { network: 'regtest', host: `localhost:${port}`, cookie: join(dir, '.cookie') });
      expect(good).toMatchObject({ ok: true, result: { chain: 'regtest' } });
      expect(seen).toEqual([GOOD, GOOD]);
    } finally {
      await host.stop();
    }
  });
});
