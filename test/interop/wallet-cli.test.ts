/**
 * The on-chain wallet as a person uses it: daemons on the playground, driven only through the CLI.
 * A second and third daemon use the first one's playground chain through the bitcoind flags, exactly
 * as they would use a real bitcoind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, cliJson, removeDir, startDaemonProcess, tempDir, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

interface Balance {
  total_balance: string;
  confirmed_balance: string;
  unconfirmed_balance: string;
}

describe('wallet over the CLI', () => {
  const daemons: DaemonProcess[] = [];
  let alice: DaemonProcess;
  let bitcoindFlags: string[];
  let aliceWords: string[];
  let created: { mnemonic: string[]; identity_pubkey: string };

  beforeAll(async () => {
    const dir = await tempDir('alice-wallet');
    alice = await startDaemonProcess('alice', [], dir, { wallet: false });
    daemons.push(alice);
    const pw = join(dir, 'pw');
    await writeFile(pw, 'correct horse battery\n');
    created = await cliJson<{ mnemonic: string[]; identity_pubkey: string }>(dir, 'create', '--password_file', pw);
    expect(created.mnemonic).toHaveLength(24);
    aliceWords = created.mnemonic;
    const rpc = JSON.parse(await readFile(join(dir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    bitcoindFlags = ['--network', 'regtest', '--bitcoind.rpchost', rpc.url.replace('http://', ''), '--bitcoind.rpccookie', rpc.cookie];
  });
  afterAll(async () => {
    // The daemons that use alice's chain stop first.
    for (const d of [...daemons].reverse()) {
      await d.stop();
      await removeDir(d.datadir);
    }
  });

  it('funds, sends to another wallet, and restores from the 24 words with the same balance and history', { timeout: 120_000 }, async () => {
    const { address } = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    expect(address).toMatch(/^bcrt1q/);
    const faucet = await cliJson<{ txid: string }>(alice.datadir, 'playground', 'faucet', address, '250000000');
    expect(faucet.txid).toMatch(/^[0-9a-f]{64}$/);
    expect(await cliJson<Balance>(alice.datadir, 'walletbalance')).toMatchObject({ confirmed_balance: '250000000', unconfirmed_balance: '0', total_balance: '250000000' });

    const bob = await startDaemonProcess('bob', bitcoindFlags);
    daemons.push(bob);
    const bobAddr = (await cliJson<{ address: string }>(bob.datadir, 'newaddress', 'p2wkh')).address;
    const tooMuch = await cli(alice.datadir, 'sendcoins', '--addr', bobAddr, '--amt', '999999999999');
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toMatch(/not enough funds/);
    const badAddr = await cli(alice.datadir, 'sendcoins', '--addr', 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', '--amt', '1000');
    expect(badAddr.stderr).toMatch(/is a testnet address; this wallet is on regtest/);

    const sent = await cliJson<{ txid: string }>(alice.datadir, 'sendcoins', '--addr', bobAddr, '--amt', '100000000', '--sat_per_vbyte', '5', '--label', 'to bob');
    expect((await cliJson<Balance>(alice.datadir, 'walletbalance')).confirmed_balance).toBe('0');
    await cliJson(alice.datadir, 'playground', 'mine', '1');
    await waitFor('bob to see the coins', async () => (await cliJson<Balance>(bob.datadir, 'walletbalance')).confirmed_balance === '100000000' || undefined, 15_000);

    const txs = await cliJson<{ transactions: { tx_hash: string; amount: string; total_fees: string; label: string; num_confirmations: number }[] }>(alice.datadir, 'listchaintxns');
    expect(txs.transactions.map((t) => t.amount)).toEqual(['250000000', String(-(100000000 + Number(txs.transactions[1]!.total_fees)))]);
    expect(txs.transactions[1]).toMatchObject({ tx_hash: sent.txid, label: 'to bob', num_confirmations: 1 });
    const aliceBalance = await cliJson<Balance>(alice.datadir, 'walletbalance');
    const unspent = await cliJson<{ utxos: { amount_sat: string }[] }>(alice.datadir, 'listunspent');
    expect(unspent.utxos.map((u) => u.amount_sat)).toEqual([aliceBalance.confirmed_balance]);

    // Restore alice into a fresh data directory, on the same chain, from her words alone.
    const carolDir = await tempDir('restored');
    const carol = await startDaemonProcess('restored', bitcoindFlags, carolDir, { wallet: false });
    daemons.push(carol);
    const pw = join(carolDir, 'pw');
    await writeFile(pw, 'another password\n');
    const wordsFile = join(carolDir, 'words');
    await writeFile(wordsFile, aliceWords.join(' ') + '\n', { mode: 0o600 });
    await cliJson(carolDir, 'create', '--password_file', pw, '--words_file', wordsFile);
    expect((await cliJson<{ identity_pubkey: string }>(carolDir, 'getinfo')).identity_pubkey).toBe(created.identity_pubkey);
    await waitFor('the rescan to find alice\'s coins', async () => (await cliJson<Balance>(carolDir, 'walletbalance')).confirmed_balance === aliceBalance.confirmed_balance || undefined, 20_000);
    const restoredTxs = await cliJson<typeof txs>(carolDir, 'listchaintxns');
    expect(restoredTxs.transactions.map((t) => [t.tx_hash, t.amount])).toEqual(txs.transactions.map((t) => [t.tx_hash, t.amount]));
  });

  it('wrong password: a clear error and nothing changed; the right one unlocks after a restart', { timeout: 90_000 }, async () => {
    const d = daemons[1]!;
    const before = await cliJson<Balance>(d.datadir, 'walletbalance');
    await d.stop();
    const again = await startDaemonProcess('bob-again', bitcoindFlags, d.datadir, { wallet: false });
    daemons[1] = again;
    const locked = await cli(d.datadir, 'walletbalance');
    expect(locked.stderr).toMatch(/The wallet is locked; unlock it first/);
    const wrong = join(d.datadir, 'wrong');
    await writeFile(wrong, 'not the password\n');
    const r = await cli(d.datadir, 'unlock', '--password_file', wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Wrong password; nothing was changed/);
    await cliJson(d.datadir, 'unlock', '--password_file', join(d.datadir, 'test-password'));
    await waitFor('the same balance after restart', async () => (await cliJson<Balance>(d.datadir, 'walletbalance')).confirmed_balance === before.confirmed_balance || undefined, 15_000);
  });

  it('bitcoind unreachable or on another network: the daemon stays up and says what is wrong', { timeout: 90_000 }, async () => {
    const downDir = await tempDir('down');
    await writeFile(join(downDir, 'rpcpass'), 'p\n', { mode: 0o600 });
    const down = await startDaemonProcess('down', ['--network', 'regtest', '--bitcoind.rpchost', '127.0.0.1:1', '--bitcoind.rpcuser', 'u', '--bitcoind.rpcpass_file', join(downDir, 'rpcpass')], downDir, { wallet: false });
    daemons.push(down);
    const info = await cliJson<{ chain_error: string; wallet_state: string }>(down.datadir, 'getinfo');
    expect(info.wallet_state).toBe('NO_WALLET');
    expect(info.chain_error).toMatch(/cannot reach bitcoind at http:\/\/127\.0\.0\.1:1/);

    const wrongNet = await startDaemonProcess('wrongnet', [...bitcoindFlags.slice(2), '--network', 'testnet'], undefined, { wallet: false });
    daemons.push(wrongNet);
    const pw = join(wrongNet.datadir, 'pw');
    await writeFile(pw, 'password123\n');
    const r = await cli(wrongNet.datadir, 'create', '--password_file', pw);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bitcoind is on regtest but this wallet is for testnet.*nothing was changed/);
    expect((await cliJson<{ wallet_state: string }>(wrongNet.datadir, 'getinfo')).wallet_state).toBe('NO_WALLET');
  });
});
