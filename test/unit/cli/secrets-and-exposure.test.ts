/**
 * Secrets stay off the command line (where `ps` and shell history see them), bitcoind's cookie goes only
 * to a bitcoind on this computer, and listening where other computers reach needs asking for.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonConfig, daemonWarnings } from '../../../core/cli/main.ts';
import { parseFlags } from '../../../core/cli/args.ts';
import { CLIENT_COMMANDS } from '../../../core/cli/commands.ts';
import { runCreate } from '../../../core/cli/wallet-flow.ts';
import type { Caller } from '../../../core/cli/wallet-flow.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

const WORDS = 'abandon '.repeat(23) + 'art';
const create = CLIENT_COMMANDS.find((c) => c.name === 'create')!;

describe('create and the recovery words', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cli-secrets');
    await writeFile(join(dir, 'pw'), 'pass phrase\n');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Runs create with these arguments against a caller that records what it is asked. */
  async function createWith(argv: string[], stdin = ''): Promise<{ calls: [string, unknown][]; warnings: string[] }> {
    const calls: [string, unknown][] = [];
    const warnings: string[] = [];
    const call = (async (method: string, params: unknown) => {
      calls.push([method, params]);
      return method === 'genseed' ? { mnemonic: WORDS.split(' ') } : {};
    }) as Caller;
    await runCreate(parseFlags(create, argv).flags, call, { stdin: async () => stdin, warn: (l) => warnings.push(l) });
    return { calls, warnings };
  }

  it('restores from the words in a file, or on standard input with -, with no warning', async () => {
    await writeFile(join(dir, 'words'), `  ${WORDS.split(' ').join('\n')}\n`);
    const fromFile = await createWith(['--password_file', join(dir, 'pw'), '--words_file', join(dir, 'words')]);
    expect(fromFile.calls).toEqual([['create', { password: 'pass phrase', words: WORDS, birthday_height: 0 }]]);
    expect(fromFile.warnings).toEqual([]);
    const fromStdin = await createWith(['--password_file', join(dir, 'pw'), '--words_file', '-', '--birthday', '7'], WORDS + '\n');
    expect(fromStdin.calls).toEqual([['create', { password: 'pass phrase', words: WORDS, birthday_height: 7 }]]);
  });

  it('still takes --words, but warns that others can see them', async () => {
    const r = await createWith(['--password_file', join(dir, 'pw'), '--words', WORDS]);
    expect(r.calls).toEqual([['create', { password: 'pass phrase', words: WORDS, birthday_height: 0 }]]);
    expect(r.warnings.join('')).toMatch(/^Warning: words given with --words are visible to other programs on this computer \(ps\) and stay in your shell history; next time use --words_file F/);
  });

  it('refuses a words file that cannot be recovery words before asking the daemon anything', async () => {
    await writeFile(join(dir, 'big'), 'x'.repeat(10_000));
    await expect(createWith(['--password_file', join(dir, 'pw'), '--words_file', join(dir, 'big')])).rejects.toThrow(/too long to be recovery words/);
    await expect(createWith(['--password_file', join(dir, 'pw'), '--words_file', join(dir, 'missing')])).rejects.toThrow(/cannot read the words file/);
  });
});

describe('daemon flags that expose something', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cli-exposure');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('the control channel is the data directory socket unless --rpclisten asks for TCP; a non-loopback address needs --allow-remote and is warned about', () => {
    expect(daemonConfig({ datadir: dir }).rpcListen).toBeUndefined();
    expect(daemonConfig({ datadir: dir, rpclisten: '127.0.0.1:0' }).rpcListen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => daemonConfig({ datadir: dir, rpclisten: '0.0.0.0:10009' })).toThrow(/^--rpclisten 0\.0\.0\.0:10009 would let other computers reach the control channel; use 127\.0\.0\.1, or add --allow-remote/);
    expect(() => daemonConfig({ datadir: dir, rpclisten: '[::]:10009' })).toThrow(/would let other computers reach/);
    const flags = { datadir: dir, rpclisten: '0.0.0.0:10009', 'allow-remote': true };
    expect(daemonWarnings(flags, daemonConfig(flags))).toEqual([expect.stringMatching(/^the control channel listens on 0\.0\.0\.0:10009, reachable from other computers: anyone there who also holds the token in control\.json can spend this wallet/)]);
    expect(daemonWarnings({ datadir: dir }, daemonConfig({ datadir: dir }))).toEqual([]);
  });

  it("bitcoind's password comes from a file; on the command line it is warned about", async () => {
    await writeFile(join(dir, 'rpcpass'), 'sekrit\n');
    const base = { datadir: dir, network: 'regtest', 'bitcoind.rpcuser': 'u' };
    const fromFile = daemonConfig({ ...base, 'bitcoind.rpcpass_file': join(dir, 'rpcpass') });
    expect(fromFile.chain).toMatchObject({ kind: 'bitcoind', rpcUser: 'u', rpcPass: 'sekrit' });
    expect(daemonWarnings({ ...base, 'bitcoind.rpcpass_file': join(dir, 'rpcpass') }, fromFile)).toEqual([]);
    const flag = { ...base, 'bitcoind.rpcpass': 'sekrit' };
    expect(daemonWarnings(flag, daemonConfig(flag))).toEqual([expect.stringMatching(/^--bitcoind\.rpcpass shows bitcoind's password to every program on this computer/)]);
  });

  it("--bitcoind.rpccookie takes only a file named .cookie, and only with a bitcoind on this computer", () => {
    const base = { datadir: dir, network: 'regtest' };
    expect(daemonConfig({ ...base, 'bitcoind.rpccookie': '/home/u/.bitcoin/regtest/.cookie' }).chain).toMatchObject({ rpcCookie: '/home/u/.bitcoin/regtest/.cookie' });
    expect(() => daemonConfig({ ...base, 'bitcoind.rpccookie': '/home/u/.ssh/id_ed25519' })).toThrow(/^\/home\/u\/\.ssh\/id_ed25519 is not a bitcoind cookie file \(those are named \.cookie/);
    expect(() => daemonConfig({ ...base, 'bitcoind.rpchost': '203.0.113.5:18443', 'bitcoind.rpccookie': '/home/u/.bitcoin/regtest/.cookie' })).toThrow(
      /^A cookie file only works with a bitcoind on this computer, and 203\.0\.113\.5 is another one, so the cookie was not sent; use that bitcoind's RPC user and password instead/,
    );
    expect(daemonConfig({ ...base, 'bitcoind.rpchost': '[::1]:18443', 'bitcoind.rpccookie': '/b/.cookie' }).chain).toMatchObject({ rpcCookie: '/b/.cookie' });
  });
});
