/**
 * The control channel as people use it, through real `coulomb` processes: one daemon per data
 * directory, and a CLI that sends recovery words and passwords only to a daemon that proved itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { lstat, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, cli, removeDir, startDaemonProcess, tempDir } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

/** Every file under `dir`: its bytes, or for a socket its identity. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name);
    const st = await lstat(path);
    if (st.isDirectory()) out.set(name, 'dir');
    else if (st.isSocket()) out.set(name, `socket ${st.ino}`);
    else out.set(name, (await readFile(path)).toString('base64'));
  }
  return out;
}

function run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('the control channel between coulomb processes', () => {
  const daemons: DaemonProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const d of [...daemons.map((x) => x.datadir), ...dirs]) await removeDir(d);
  });

  it('refuses a second daemon on a data directory in use, naming it, and leaves the first one\'s files as they were', { timeout: 90_000 }, async () => {
    const first = await startDaemonProcess('first', ['--debuglevel', 'error'], undefined, { wallet: false });
    daemons.push(first);
    const before = await snapshot(first.datadir);
    expect([...before.keys()]).toEqual(expect.arrayContaining(['control.json', 'control.sock']));
    const second = await run(['daemon', '--datadir', first.datadir, '--listen', '127.0.0.1:0']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`The data directory ${first.datadir} is already in use by another Coulomb (pid ${first.child.pid}), so this one did not start; stop that one first (coulomb --datadir ${first.datadir} stop)`);
    expect(await snapshot(first.datadir)).toEqual(before);
    expect((await cli(first.datadir, 'getinfo')).code).toBe(0);
  });

  it('create reads the words from a file or standard input and sends them to no program that is not the daemon', { timeout: 60_000 }, async () => {
    const dir = await tempDir('fake-daemon');
    dirs.push(dir);
    let seen = '';
    const fake = createServer((req, res) => {
      seen += JSON.stringify(req.headers);
      req.on('data', (c: Buffer) => (seen += c.toString()));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: {}, nonce: '1'.repeat(64), proof: '2'.repeat(64) })));
    });
    await new Promise<void>((r) => fake.listen(join(dir, 'control.sock'), r));
    try {
      await writeFile(join(dir, 'control.json'), JSON.stringify({ socket: join(dir, 'control.sock'), token: '3'.repeat(64), pid: process.pid }), { mode: 0o600 });
      const words = 'abandon '.repeat(23) + 'art';
      await writeFile(join(dir, 'pw'), 'a secret password\n');
      await writeFile(join(dir, 'words'), words + '\n');
      const fromFile = await run(['--datadir', dir, 'create', '--password_file', join(dir, 'pw'), '--words_file', join(dir, 'words')]);
      const fromStdin = await run(['--datadir', dir, 'create', '--password_file', join(dir, 'pw'), '--words_file', '-'], words + '\n');
      const unlock = await run(['--datadir', dir, 'unlock', '--password_file', join(dir, 'pw')]);
      for (const r of [fromFile, fromStdin, unlock]) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/could not prove it is the Coulomb daemon of .*, so nothing was sent to it/);
      }
      expect(seen).toContain('"host"');
      expect(seen).not.toContain('abandon');
      expect(seen).not.toContain('a secret password');
      expect(seen).not.toContain('3'.repeat(64));
    } finally {
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });

  it('refuses a control channel on an address other computers reach, unless asked to with --allow-remote', { timeout: 60_000 }, async () => {
    const dir = await tempDir('remote');
    dirs.push(dir);
    const r = await run(['daemon', '--datadir', dir, '--rpclisten', '0.0.0.0:0', '--nolisten']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--rpclisten 0\.0\.0\.0:0 would let other computers reach the control channel; use 127\.0\.0\.1, or add --allow-remote/);
    expect(await readdir(dir)).toEqual([]);
    const app = await run(['app', '--browser', '--listen', '0.0.0.0:0', '--appdir', join(dir, 'app')]);
    expect(app.code).toBe(1);
    expect(app.stderr).toMatch(/--listen 0\.0\.0\.0:0 would let other computers reach the app; use 127\.0\.0\.1, or add --allow-remote/);
    expect(await readdir(dir)).toEqual([]);
  });
});
