/**
 * Mining to the wallet, through the CLI on the playground: walletbalance counts a coinbase as
 * confirmed only once it is mature and shows the rest apart, listunspent leaves immature coins out (as
 * lncli does), and sendcoins never spends them, saying how much is spendable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, removeDir, startDaemonProcess, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';

interface Balance {
  total_balance: string;
  confirmed_balance: string;
  unconfirmed_balance: string;
  immature_balance: string;
  maturing_coins: { blocks_to_maturity: number; amount_sat: string }[];
}

const REWARD = 5_000_000_000n; // regtest's subsidy below height 150

describe('mining rewards over the CLI', () => {
  let alice: DaemonProcess;

  beforeAll(async () => {
    alice = await startDaemonProcess('alice-miner');
  });
  afterAll(async () => {
    await alice?.stop();
    if (alice) await removeDir(alice.datadir);
  });

  it('walletbalance counts only mature coinbases, and sendcoins refuses more than that', { timeout: 120_000 }, async () => {
    const { address } = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    // A fresh playground starts at its genesis block: these are blocks 1 to 100, all paying alice.
    const mined = await cliJson<{ block_hashes: string[] }>(alice.datadir, 'playground', 'mine', '100', '--addr', address);
    expect(mined.block_hashes).toHaveLength(100);
    // Only block 1's coinbase has 100 confirmations: a spend of it can enter block 101.
    const balance = await waitFor('the wallet to scan the 100 blocks', async () => {
      const b = await cliJson<Balance>(alice.datadir, 'walletbalance');
      return BigInt(b.confirmed_balance) + BigInt(b.immature_balance) === 100n * REWARD ? b : undefined;
    }, 30_000);
    expect(balance).toMatchObject({
      confirmed_balance: REWARD.toString(),
      unconfirmed_balance: '0',
      total_balance: REWARD.toString(),
      immature_balance: (99n * REWARD).toString(),
    });
    expect(balance.maturing_coins).toHaveLength(99);
    expect(balance.maturing_coins[0]).toEqual({ blocks_to_maturity: 1, amount_sat: REWARD.toString() });
    expect(balance.maturing_coins[98]).toEqual({ blocks_to_maturity: 99, amount_sat: REWARD.toString() });

    const { utxos } = await cliJson<{ utxos: { amount_sat: string; confirmations: string }[] }>(alice.datadir, 'listunspent');
    expect(utxos).toEqual([expect.objectContaining({ amount_sat: REWARD.toString(), confirmations: '100' })]);

    const { address: elsewhere } = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    const tooMuch = await cli(alice.datadir, 'sendcoins', '--addr', elsewhere, '--amt', (REWARD + 1n).toString());
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toContain(`the ${REWARD} sat spendable`);
    expect(tooMuch.stderr).toContain(`${99n * REWARD} sat more from mining becomes spendable over the next 99 blocks`);

    // What is mature can be sent, and the chain takes it.
    const sent = await cliJson<{ txid: string }>(alice.datadir, 'sendcoins', '--addr', elsewhere, '--amt', '100000000');
    expect(sent.txid).toMatch(/^[0-9a-f]{64}$/);

    // One more block: block 2's coinbase matures too (the send stays the wallet's own, less its fee).
    await cliJson(alice.datadir, 'playground', 'mine', '1');
    const after = await waitFor('block 101 and the send to be scanned', async () => {
      const b = await cliJson<Balance>(alice.datadir, 'walletbalance');
      return b.immature_balance === (98n * REWARD).toString() && b.unconfirmed_balance === '0' ? b : undefined;
    }, 30_000);
    expect(BigInt(after.confirmed_balance)).toBeGreaterThan(2n * REWARD - 10_000n);
    expect(BigInt(after.confirmed_balance)).toBeLessThan(2n * REWARD);
  });
});
