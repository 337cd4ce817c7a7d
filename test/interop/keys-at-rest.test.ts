/**
 * Nothing secret at rest: after a whole life of two daemons — wallets created, coins, a channel opened,
 * payments both ways, a restart and unlock, a cooperative close — no file of either data directory
 * holds any private key the nodes hold (node identity, every channel key, the wallet's keys for the
 * addresses used, each payment's onion session key, the BIP39 seed, the words), whether as raw bytes, hex in either case, or base64.
 * Only the encrypted vault holds the root of them all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { lstat, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { hex } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { cli, cliJson, removeDir, startDaemonProcess, tempDir, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';
import { mnemonicToSeed } from '../../core/wallet/mnemonic.ts';
import { deriveNodeKeys } from '../../core/keys/node-key.ts';
import { deriveChannelSecrets } from '../../core/keys/channel-keys.ts';
import { Bip84Account } from '../../core/wallet/bip84.ts';
import { ORIGINS_DONE_NS, ORIGINS_NS, onionSessionKey } from '../../core/node/htlc-switch.ts';
import { openKvStore } from '../../core/store/kv/open.ts';
import { freePort } from '../helpers/ports.ts';

interface Channels {
  channels: { remote_pubkey: string; active: boolean; channel_point: string }[];
}

/** A port nobody listens on now, for a daemon that must come back at the same address. */

/** Every regular file under `dir`, recursively, as bytes. */
async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const st = await lstat(p);
    if (st.isDirectory()) out.push(...(await filesUnder(p)));
    else if (st.isFile()) out.push({ path: p, bytes: await readFile(p) });
  }
  return out;
}

/**
 * The base64 text of `key` wherever it sits in a longer base64 text: for each of the three alignments,
 * the characters made of the key's bits alone.
 */
function base64Forms(key: Uint8Array): string[] {
  return [0, 1, 2].map((shift) => {
    const b64 = Buffer.concat([Buffer.alloc(shift), Buffer.from(key)]).toString('base64');
    const first = Math.ceil((8 * shift) / 6);
    const last = Math.floor((8 * (shift + key.length)) / 6);
    return b64.slice(first, last);
  });
}

interface Secret {
  what: string;
  bytes?: Uint8Array;
  text?: string;
}

/** Where each secret is found, as "what in file (form)". */
function findSecrets(files: { path: string; bytes: Buffer }[], secrets: Secret[], root: string): string[] {
  const found: string[] = [];
  for (const f of files) {
    const lower = f.bytes.toString('latin1').toLowerCase();
    const asIs = f.bytes.toString('latin1');
    const where = relative(root, f.path);
    for (const s of secrets) {
      if (s.bytes) {
        if (f.bytes.indexOf(Buffer.from(s.bytes)) >= 0) found.push(`${s.what} in ${where} (raw bytes)`);
        if (lower.includes(hex.encode(s.bytes))) found.push(`${s.what} in ${where} (hex)`);
        for (const b of base64Forms(s.bytes)) if (asIs.includes(b)) found.push(`${s.what} in ${where} (base64)`);
      }
      if (s.text && asIs.includes(s.text)) found.push(`${s.what} in ${where}`);
    }
  }
  return found;
}

describe('keys at rest', () => {
  const daemons: DaemonProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of [...daemons].reverse()) await d.stop();
    for (const d of dirs) await removeDir(d);
  });

  /** Starts a daemon without a wallet, creates one with a password file, and returns the words. */
  async function withNewWallet(name: string, extra: string[], datadir?: string): Promise<{ d: DaemonProcess; words: string }> {
    const dir = datadir ?? (await tempDir(name));
    if (!datadir) dirs.push(dir);
    const d = await startDaemonProcess(name, extra, dir, { wallet: false });
    daemons.push(d);
    // The name the daemon helper unlocks with after a restart.
    await writeFile(join(dir, 'test-password'), 'test password\n');
    const created = await cliJson<{ mnemonic: string[] | string }>(dir, 'create', '--password_file', join(dir, 'test-password'));
    const words = Array.isArray(created.mnemonic) ? created.mnemonic.join(' ') : created.mnemonic;
    expect(words.split(' ')).toHaveLength(24);
    return { d: await restartedInfo(d), words };
  }

  /** The helper's view of a daemon, with its node id and address once the wallet is unlocked. */
  async function restartedInfo(d: DaemonProcess): Promise<DaemonProcess> {
    const info = await cliJson<{ identity_pubkey: string; uris: string[] }>(d.datadir, 'getinfo');
    return Object.assign(d, { nodeId: info.identity_pubkey, uri: info.uris[0] ?? '' });
  }

  it('after create, coins, a channel, payments both ways, a restart and a close, no private key is on disk', { timeout: 240_000 }, async () => {
    const alice = await withNewWallet('kar-alice', []);
    const rpc = JSON.parse(await readFile(join(alice.d.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const bobPort = await freePort();
    const bobFlags = ['--listen', `127.0.0.1:${bobPort}`, '--network', 'regtest', '--bitcoind.rpchost', rpc.url.replace('http://', ''), '--bitcoind.rpccookie', rpc.cookie];
    const bob = await withNewWallet('kar-bob', bobFlags);
    const a = alice.d.datadir;
    const b = bob.d.datadir;

    for (const dir of [a, b]) {
      const { address } = await cliJson<{ address: string }>(dir, 'newaddress', 'p2wkh');
      await cliJson(a, 'playground', 'faucet', address, '3000000');
    }
    await waitFor('both to see their coins', async () => {
      for (const dir of [a, b]) if ((await cliJson<{ confirmed_balance: string }>(dir, 'walletbalance')).confirmed_balance !== '3000000') return undefined;
      return true;
    }, 30_000);

    await cliJson(a, 'connect', `${bob.d.nodeId}@127.0.0.1:${bobPort}`);
    await cliJson(a, 'openchannel', '--node_key', bob.d.nodeId, '--local_amt', '1000000', '--push_amt', '50000');
    await cliJson(a, 'playground', 'mine', '3');
    const active = (dir: string) => async () => ((await cliJson<Channels>(dir, 'listchannels')).channels.find((c) => c.active) ?? undefined);
    await waitFor('the channel to be active on both sides', async () => (await active(a)()) && (await active(b)()), 60_000);

    const pay = async (payer: string, payee: string, sat: number) => {
      const inv = await cliJson<{ payment_request: string; r_hash: string }>(payee, 'addinvoice', '--amt', String(sat));
      const paid = await cliJson<{ status: string }>(payer, 'sendpayment', '--pay_req', inv.payment_request);
      expect(paid.status).toBe('SUCCEEDED');
    };
    await pay(a, b, 12_345);
    await pay(b, a, 2_345);

    // Bob restarts and unlocks; alice dials him again at the address she used.
    await bob.d.stop();
    const bob2 = await startDaemonProcess('kar-bob', bobFlags, b);
    daemons.push(bob2);
    await waitFor('the channel to be active again', async () => (await active(a)()) && (await active(b)()), 90_000);
    await pay(b, a, 1_000);

    const point = (await cliJson<Channels>(a, 'listchannels')).channels[0]!.channel_point;
    await cliJson(b, 'closechannel', '--chan_point', point);
    await cliJson(a, 'playground', 'mine', '1');
    await waitFor('the close to confirm on both sides', async () => {
      for (const dir of [a, b]) if ((await cliJson<Channels>(dir, 'listchannels')).channels.length > 0) return undefined;
      const closed = await cliJson<{ channels: unknown[] }>(b, 'closedchannels');
      return closed.channels.length === 1 || undefined;
    }, 60_000);
    const closedA = await cli(a, 'closedchannels');
    expect(closedA.code).toBe(0);

    // Stopped first: a daemon holds its store, and the test reads each node's channel key indexes from it.
    for (const d of daemons) await d.stop();
    // Everything either node holds, derived from its words.
    const secrets: Secret[] = [];
    for (const [who, words, dir] of [['alice', alice.words, a], ['bob', bob.words, b]] as const) {
      const seed = mnemonicToSeed(words);
      secrets.push({ what: `${who}'s BIP39 seed`, bytes: seed });
      secrets.push({ what: `${who}'s words`, text: words });
      secrets.push({ what: `${who}'s words (as a list)`, text: words.split(' ').slice(0, 6).join('","') });
      secrets.push({ what: `${who}'s master xprv`, text: HDKey.fromMasterSeed(seed).privateExtendedKey });
      secrets.push({ what: `${who}'s node secret`, bytes: deriveNodeKeys(seed, 'regtest').nodeSecret });
      const store = await openKvStore({ backend: 'embedded', dir: join(dir, 'store') });
      const indexes = (await store.range('channels')).map((r) => (JSON.parse(Buffer.from(r.value).toString('utf8')) as { index: number }).index);
      // The HTLC switch's origins, ended or not: each payment attempt's names its onion session key's salt.
      const origins = [...(await store.range(ORIGINS_NS)), ...(await store.range(ORIGINS_DONE_NS))].map((r) => JSON.parse(Buffer.from(r.value).toString('utf8')) as { kind: string; sessionSalt?: string; sessionKey?: string });
      await store.close();
      expect(indexes.length).toBeGreaterThan(0);
      for (const i of indexes) {
        const cs = deriveChannelSecrets(seed, 'regtest', i);
        for (const [k, v] of Object.entries(cs)) secrets.push({ what: `${who}'s channel ${i} ${k}`, bytes: v });
      }
      // Each payment attempt's onion session key: derived from the node secret and a stored salt.
      const attempts = origins.filter((o) => o.kind === 'local');
      expect(attempts.length).toBeGreaterThan(0);
      for (const o of attempts) {
        expect(o.sessionKey).toBeUndefined();
        expect(o.sessionSalt).toMatch(/^[0-9a-f]{64}$/);
        secrets.push({ what: `${who}'s onion session key`, bytes: onionSessionKey(deriveNodeKeys(seed, 'regtest').nodeSecret, hex.decode(o.sessionSalt!)) });
      }
      const account = new Bip84Account(seed, 'regtest');
      secrets.push({ what: `${who}'s account xprv`, text: account.xprv });
      for (const chain of [0, 1] as const) for (let i = 0; i < 20; i++) secrets.push({ what: `${who}'s wallet key ${chain}/${i}`, bytes: account.privateKey(chain, i) });
    }

    const found: string[] = [];
    let files = 0;
    for (const dir of [a, b]) {
      const all = await filesUnder(dir);
      files += all.length;
      found.push(...findSecrets(all, secrets, dir));
    }
    // The scan saw the stores and the logs.
    expect(files).toBeGreaterThan(8);
    expect(found).toEqual([]);
    // The vault is there, and it is encrypted: the words are not in it.
    const vault = await readFile(join(a, 'wallet.vault.json'), 'utf8');
    expect(vault).not.toContain(alice.words.split(' ')[0]! + ' ' + alice.words.split(' ')[1]!);
  });
});
