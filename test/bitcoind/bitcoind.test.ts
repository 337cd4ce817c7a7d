/**
 * Coulomb daemons against a real Bitcoin Core: regtest, no -txindex, no bitcoind wallet (what users
 * run), started and stopped here in a temporary directory on free loopback ports. It needs `bitcoind`
 * on PATH, or its path in BITCOIND; without one the suite is skipped and says so.
 *
 * Covered: a fresh chain in initial block download, funding from a coinbase (counted once mature),
 * sendcoins between two daemons with confirmations, balances and listchaintxns, channels with LDK
 * (fed bitcoind's blocks) opened both ways, paid over both ways and closed cooperatively, a restart of
 * bitcoind mid-run (cookie rewritten), and user/password authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transaction } from 'bitcoinjs-lib';
import { findBitcoind, bitcoindVersion, startBitcoind } from '../helpers/bitcoind.ts';
import type { Bitcoind } from '../helpers/bitcoind.ts';
import { cli, cliJson, startDaemonProcess, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';
import { newKey } from '../helpers/txbuilder.ts';
import { startLdkNode } from '../interop/ldk/node.ts';
import type { LdkNode } from '../interop/ldk/node.ts';
import { LdkEventDriver } from '../interop/ldk/events.ts';
import { ldkInvoice, ldkPay } from '../interop/ldk/payments.ts';
import { RpcError } from '../../core/chain/index.ts';

const found = findBitcoind();
const skipReason = 'reason' in found ? found.reason : undefined;
if (skipReason) {
  console.log(`Skipping the Bitcoin Core suite (test/bitcoind): ${skipReason}. To run it, put Bitcoin Core's bitcoind on PATH or set BITCOIND=/path/to/bitcoind.`);
}

/** Waits long enough for a daemon polling every 2 s on a busy 2-core machine. */
const SLOW = 60_000;

interface Balance {
  confirmed_balance: string;
  unconfirmed_balance: string;
  immature_balance: string;
  total_balance: string;
}
interface ChainTx {
  tx_hash: string;
  amount: string;
  num_confirmations: number;
  block_height: number;
  total_fees: string;
}
interface Info {
  block_height: number;
  synced_to_chain: boolean;
  chain_error?: string;
}

describe.skipIf(skipReason !== undefined)('Coulomb against a real bitcoind (regtest, no -txindex, no wallet)', () => {
  let btc: Bitcoind;
  let alice: DaemonProcess;
  let bob: DaemonProcess;
  /** Where mined coins we do not need go. */
  const burn = newKey().address;

  const info = (d: DaemonProcess): Promise<Info> => cliJson<Info>(d.datadir, 'getinfo');
  const balance = (d: DaemonProcess): Promise<Balance> => cliJson<Balance>(d.datadir, 'walletbalance');
  const chainTxns = async (d: DaemonProcess): Promise<ChainTx[]> => (await cliJson<{ transactions: ChainTx[] }>(d.datadir, 'listchaintxns')).transactions;
  const height = (): Promise<number> => btc.rpc.call<number>('getblockcount');
  /** Resolves once every daemon has followed bitcoind to its tip. */
  const synced = async (...ds: DaemonProcess[]): Promise<void> => {
    const tip = await height();
    for (const d of ds) await waitFor(`${d.datadir} to reach height ${tip}`, async () => ((await info(d)).block_height === tip ? true : undefined), SLOW, 200);
  };
  const mine = async (n: number, ...ds: DaemonProcess[]): Promise<string[]> => {
    const hashes = await btc.mine(n, burn);
    await synced(...ds);
    return hashes;
  };
  const inMempool = (txid: string): Promise<boolean> => waitFor(`${txid} in bitcoind's mempool`, async () => ((await btc.rpc.call<string[]>('getrawmempool')).includes(txid) ? true : undefined), SLOW, 100);

  beforeAll(async () => {
    console.log(`Bitcoin Core suite: ${bitcoindVersion((found as { path: string }).path)} at ${(found as { path: string }).path}`);
    btc = await startBitcoind((found as { path: string }).path, { kind: 'cookie' });
    [alice, bob] = await Promise.all([startDaemonProcess('btc-alice', btc.coulombFlags()), startDaemonProcess('btc-bob', btc.coulombFlags())]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
    await btc?.destroy();
  });

  it('waits while a fresh regtest bitcoind is in initial block download, and follows it once a block is mined', { timeout: 120_000 }, async () => {
    // A fresh regtest chain's tip is the 2011 genesis block: bitcoind reports initial block download.
    expect((await btc.rpc.call<{ initialblockdownload: boolean }>('getblockchaininfo')).initialblockdownload).toBe(true);
    expect((await info(alice)).synced_to_chain).toBe(false);
    await btc.mine(1, burn);
    for (const d of [alice, bob]) await waitFor('the daemon to be synced', async () => ((await info(d)).synced_to_chain ? true : undefined), SLOW, 200);
  });

  it('a coinbase paid to the wallet counts once mature (100 confirmations)', { timeout: 180_000 }, async () => {
    const { address } = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    const [hash] = await btc.mine(1, address);
    const coinbase = (await btc.rpc.call<{ tx: string[] }>('getblock', hash, 1)).tx[0]!;
    const subsidy = 5_000_000_000;
    await synced(alice);
    await waitFor('the coinbase to show as immature', async () => ((await balance(alice)).immature_balance === String(subsidy) ? true : undefined), SLOW, 200);
    expect(await balance(alice)).toMatchObject({ confirmed_balance: '0', unconfirmed_balance: '0', immature_balance: String(subsidy) });
    // 99 confirmations: a spend could not enter the next block yet.
    await mine(98, alice);
    expect(await balance(alice)).toMatchObject({ confirmed_balance: '0', immature_balance: String(subsidy) });
    await mine(1, alice);
    await waitFor('the coinbase to be spendable', async () => ((await balance(alice)).confirmed_balance === String(subsidy) ? true : undefined), SLOW, 200);
    expect((await balance(alice)).immature_balance).toBe('0');
    const tx = (await chainTxns(alice)).find((t) => t.tx_hash === coinbase);
    expect(tx).toMatchObject({ amount: String(subsidy), num_confirmations: 100 });
  });

  it('sendcoins from one daemon funds another: mempool, confirmation, balances and listchaintxns', { timeout: 180_000 }, async () => {
    const before = BigInt((await balance(alice)).confirmed_balance);
    const { address } = await cliJson<{ address: string }>(bob.datadir, 'newaddress', 'p2wkh');
    const amount = 10_000_000;
    // No fee data on a fresh regtest chain: estimatesmartfee has no answer and the fallback is used.
    const est = await btc.rpc.call<{ feerate?: number; errors?: string[] }>('estimatesmartfee', 6, 'CONSERVATIVE');
    expect(est.feerate).toBeUndefined();
    const { txid } = await cliJson<{ txid: string }>(alice.datadir, 'sendcoins', '--addr', address, '--amt', String(amount));
    await inMempool(txid);
    await waitFor('bob to see the payment unconfirmed', async () => ((await balance(bob)).unconfirmed_balance === String(amount) ? true : undefined), SLOW, 200);
    expect((await chainTxns(bob)).find((t) => t.tx_hash === txid)).toMatchObject({ amount: String(amount), num_confirmations: 0 });

    const [block] = await mine(1, alice, bob);
    await waitFor('bob to see the payment confirmed', async () => ((await balance(bob)).confirmed_balance === String(amount) ? true : undefined), SLOW, 200);
    expect((await balance(bob)).unconfirmed_balance).toBe('0');
    const tip = await height();
    const sent = (await chainTxns(alice)).find((t) => t.tx_hash === txid)!;
    expect(sent).toMatchObject({ num_confirmations: 1, block_height: tip });
    const fee = BigInt(sent.total_fees);
    expect(fee > 0n).toBe(true);
    expect(BigInt(sent.amount)).toBe(-(BigInt(amount) + fee));
    expect(BigInt((await balance(alice)).confirmed_balance)).toBe(before - BigInt(amount) - fee);
    expect((await chainTxns(bob)).find((t) => t.tx_hash === txid)).toMatchObject({ amount: String(amount), num_confirmations: 1, block_height: tip });
    // What the node must live with: without -txindex bitcoind finds a confirmed transaction only in its block.
    await expect(btc.rpc.call('getrawtransaction', txid, true)).rejects.toMatchObject({ code: -5 });
    expect(await btc.rpc.call('getrawtransaction', txid, true, block)).toMatchObject({ txid, confirmations: 1 });

    // Bob spends what he received, back to alice; both follow it to one confirmation.
    const back = await cliJson<{ address: string }>(alice.datadir, 'newaddress', 'p2wkh');
    const r = await cliJson<{ txid: string }>(bob.datadir, 'sendcoins', '--addr', back.address, '--amt', '2000000', '--sat_per_vbyte', '2');
    await inMempool(r.txid);
    await mine(1, alice, bob);
    await waitFor('alice to see bob\'s payment confirmed', async () => ((await chainTxns(alice)).find((t) => t.tx_hash === r.txid)?.num_confirmations === 1 ? true : undefined), SLOW, 200);
  });

  describe('channels with LDK, fed bitcoind\'s blocks', () => {
    let ldk: LdkNode;
    let ldkPort: number;
    const driver = new LdkEventDriver();

    /** Hands LDK every block it has not seen, from bitcoind. */
    const feedLdk = async (): Promise<void> => {
      const tip = await height();
      const blocks = new Map<number, Uint8Array>();
      for (let h = ldk.fedHeight + 1; h <= tip; h++) blocks.set(h, await btc.rawBlock(h));
      ldk.syncTo(tip, (h) => blocks.get(h)!);
    };
    /** Sends what LDK broadcast to bitcoind (already known is fine). */
    const relayLdk = async (): Promise<string[]> => {
      const txids: string[] = [];
      for (const raw of ldk.broadcasted.splice(0)) {
        const hex = Buffer.from(raw).toString('hex');
        txids.push(Transaction.fromHex(hex).getId());
        await btc.rpc.call('sendrawtransaction', hex).catch((e: unknown) => {
          if (!(e instanceof RpcError) || !/already|txn-already-known/.test(e.message)) throw e;
        });
      }
      return txids;
    };
    const mineAll = async (n: number): Promise<void> => {
      await mine(n, alice);
      await feedLdk();
    };
    const channels = async (): Promise<{ channel_point: string; remote_pubkey: string; active: boolean; initiator: boolean; capacity: string; local_balance: string }[]> =>
      (await cliJson<{ channels: { channel_point: string; remote_pubkey: string; active: boolean; initiator: boolean; capacity: string; local_balance: string }[] }>(alice.datadir, 'listchannels')).channels;

    beforeAll(async () => {
      ldk = await startLdkNode({ alias: 'ldk-btc', onEvent: driver.onEvent });
      ldkPort = await ldk.listen(0, '127.0.0.1');
      await feedLdk();
      await cliJson(alice.datadir, 'connect', `${ldk.nodeId}@127.0.0.1:${ldkPort}`);
    }, 60_000);
    afterAll(async () => {
      await ldk?.stop();
    });

    it('we open a channel to LDK; its funding is followed to depth without -txindex', { timeout: 180_000 }, async () => {
      const { funding_txid } = await cliJson<{ funding_txid: string }>(alice.datadir, 'openchannel', '--node_key', ldk.nodeId, '--local_amt', '1000000', '--push_amt', '100000', '--private');
      await inMempool(funding_txid);
      await mineAll(1);
      await waitFor('one confirmation of the funding in pendingchannels', async () => {
        const p = await cliJson<{ pending_open_channels: { confirmations: number; channel: { channel_point: string } }[] }>(alice.datadir, 'pendingchannels');
        return p.pending_open_channels.find((c) => c.channel.channel_point.startsWith(funding_txid))?.confirmations === 1 ? true : undefined;
      }, SLOW, 200);
      await mineAll(5);
      await waitFor('LDK to see the channel ready', () => (ldk.channelManager.list_channels().some((c) => c.get_is_usable()) ? true : undefined), SLOW, 200);
      await waitFor('our channel to be active', async () => ((await channels()).some((c) => c.channel_point.startsWith(funding_txid) && c.active) ? true : undefined), SLOW, 200);
      expect((await channels()).find((c) => c.channel_point.startsWith(funding_txid))).toMatchObject({ remote_pubkey: ldk.nodeId, capacity: '1000000', initiator: true });
    });

    it('LDK opens a channel to us, funded from a coin bob sent it', { timeout: 180_000 }, async () => {
      const key = newKey();
      const { txid } = await cliJson<{ txid: string }>(bob.datadir, 'sendcoins', '--addr', key.address, '--amt', '3000000');
      await inMempool(txid);
      const [block] = await mine(1, alice, bob);
      await feedLdk();
      const coinTx = Transaction.fromHex(await btc.rpc.call<string>('getrawtransaction', txid, false, block));
      const vout = coinTx.outs.findIndex((o) => Buffer.from(o.script).equals(Buffer.from(key.script)));
      driver.fundingCoin = { key, txid, vout, value: coinTx.outs[vout]!.value };
      const before = (await channels()).length;
      expect(ldk.channelManager.create_channel(Buffer.from(alice.nodeId, 'hex'), 2_000_000n, 0n, 7n, null, null).is_ok()).toBeTruthy();
      ldk.processEvents();
      await waitFor('LDK to broadcast the funding', () => (ldk.broadcasted.length > 0 ? true : undefined), SLOW, 100);
      expect(driver.errors).toEqual([]);
      const [fundingTxid] = await relayLdk();
      await inMempool(fundingTxid!);
      await mineAll(6);
      await waitFor('the inbound channel to be active on our side', async () => ((await channels()).filter((c) => c.active).length === before + 1 ? true : undefined), SLOW, 200);
      expect((await channels()).find((c) => !c.initiator)).toMatchObject({ remote_pubkey: ldk.nodeId, capacity: '2000000', local_balance: '0' });
      await waitFor('LDK to see both channels usable', () => (ldk.channelManager.list_channels().filter((c) => c.get_is_usable()).length === 2 ? true : undefined), SLOW, 200);
    });

    it('payments both ways', { timeout: 120_000 }, async () => {
      const inv = ldkInvoice(ldk, 20_000_000n, 'to ldk');
      const paid = await cliJson<{ status: string; payment_preimage: string }>(alice.datadir, 'sendpayment', '--pay_req', inv.bolt11);
      expect(paid.status).toBe('SUCCEEDED');
      await driver.until('LDK to claim the payment', () => driver.claimed.has(inv.paymentHash), SLOW);
      expect(driver.claimed.get(inv.paymentHash)!.amountMsat).toBe(20_000_000n);

      const ours = await cliJson<{ r_hash: string; payment_request: string }>(alice.datadir, 'addinvoice', '--amt', '15000', '--memo', 'from ldk');
      const hash = ldkPay(ldk, ours.payment_request, { retries: 2 });
      expect(await driver.paymentEnded(hash, SLOW)).toBe('sent');
      await waitFor('our invoice to be settled', async () => ((await cliJson<{ state: string }>(alice.datadir, 'lookupinvoice', ours.r_hash)).state === 'SETTLED' ? true : undefined), SLOW, 200);
    });

    it('both channels close cooperatively; the funds are back on chain', { timeout: 180_000 }, async () => {
      const mineClose = async (closingTxid: string): Promise<string> => {
        await relayLdk();
        await inMempool(closingTxid);
        const [block] = await btc.mine(1, burn);
        await synced(alice);
        await feedLdk();
        return block!;
      };
      // The channel we opened: we close it.
      const ours = (await channels()).find((c) => c.initiator)!;
      const before = BigInt((await balance(alice)).total_balance);
      const { closing_txid } = await cliJson<{ closing_txid: string }>(alice.datadir, 'closechannel', '--chan_point', ours.channel_point);
      const block = await mineClose(closing_txid);
      await waitFor('the channel to be closed', async () => ((await channels()).some((c) => c.channel_point === ours.channel_point) ? undefined : true), SLOW, 200);
      const closing = Transaction.fromHex(await btc.rpc.call<string>('getrawtransaction', closing_txid, false, block));
      await waitFor('the closing payout in our confirmed balance', async () => {
        const t = (await chainTxns(alice)).find((x) => x.tx_hash === closing_txid);
        return t?.num_confirmations === 1 ? t : undefined;
      }, SLOW, 200);
      const toUs = BigInt((await chainTxns(alice)).find((x) => x.tx_hash === closing_txid)!.amount);
      expect(closing.outs.some((o) => BigInt(o.value) === toUs)).toBe(true);
      expect(BigInt((await balance(alice)).total_balance)).toBe(before + toUs);
      const closed = await cliJson<{ channels: { channel_point: string; closing_tx_hash: string }[] }>(alice.datadir, 'closedchannels');
      expect(closed.channels.find((c) => c.channel_point === ours.channel_point)?.closing_tx_hash).toBe(closing_txid);

      // The channel LDK opened: LDK closes it, we agree and sign.
      const inbound = (await channels()).find((c) => !c.initiator)!;
      const theirs = ldk.channelManager.list_channels().find((c) => c.get_channel_value_satoshis() === 2_000_000n)!;
      expect(ldk.channelManager.close_channel(theirs.get_channel_id(), Buffer.from(alice.nodeId, 'hex')).is_ok()).toBeTruthy();
      ldk.processEvents();
      const closingTxid = await waitFor('our side to have the agreed closing transaction', async () => {
        const p = await cliJson<{ waiting_close_channels: { closing_txid: string; channel: { channel_point: string } }[] }>(alice.datadir, 'pendingchannels');
        return p.waiting_close_channels.find((w) => w.channel.channel_point === inbound.channel_point && w.closing_txid !== '')?.closing_txid;
      }, SLOW, 200);
      await mineClose(closingTxid);
      await waitFor('the inbound channel to be closed', async () => ((await channels()).some((c) => c.channel_point === inbound.channel_point) ? undefined : true), SLOW, 200);
      await waitFor('LDK to have no channel left', () => (ldk.channelManager.list_channels().length === 0 ? true : undefined), SLOW, 200);
    });
  });

  it('a restart of bitcoind: the daemon says the chain is unreachable, then follows it again (new cookie)', { timeout: 180_000 }, async () => {
    await btc.stop();
    const down = await waitFor('the daemon to report bitcoind unreachable', async () => {
      const i = await info(alice);
      // bitcoind removes its cookie when it stops: the cookie is missing, or the port refuses.
      return i.chain_error && /is (bitcoind|it) running/.test(i.chain_error) ? i : undefined;
    }, SLOW, 200);
    expect(down.chain_error).toMatch(/cannot read bitcoind's cookie file .*\.cookie; is bitcoind running|cannot reach bitcoind at http:\/\/127\.0\.0\.1:\d+/);
    expect(down.synced_to_chain).toBe(false);
    // The wallet still answers from what it knows.
    expect((await balance(alice)).confirmed_balance).toMatch(/^\d+$/);

    await btc.start();
    await waitFor('the daemon to recover', async () => {
      const i = await info(alice);
      return !i.chain_error && i.synced_to_chain ? true : undefined;
    }, SLOW, 200);
    const { address } = await cliJson<{ address: string }>(bob.datadir, 'newaddress', 'p2wkh');
    const { txid } = await cliJson<{ txid: string }>(alice.datadir, 'sendcoins', '--addr', address, '--amt', '50000');
    await inMempool(txid);
    await mine(1, alice, bob);
    await waitFor('bob to see the payment confirmed after the restart', async () => ((await chainTxns(bob)).find((t) => t.tx_hash === txid)?.num_confirmations === 1 ? true : undefined), SLOW, 200);
  });
});

describe.skipIf(skipReason !== undefined)('Coulomb against a bitcoind with an RPC user and password', () => {
  it('follows the chain with --bitcoind.rpcuser/--bitcoind.rpcpass, and says so when the password is wrong', { timeout: 180_000 }, async () => {
    const btc = await startBitcoind((found as { path: string }).path, { kind: 'password', user: 'coulomb', password: 'correct horse' });
    let good: DaemonProcess | undefined;
    let bad: DaemonProcess | undefined;
    try {
      await btc.mine(3, newKey().address);
      good = await startDaemonProcess('btc-pass', btc.coulombFlags());
      await waitFor('the daemon to follow bitcoind', async () => {
        const i = await cliJson<Info>(good!.datadir, 'getinfo');
        return i.block_height === 3 && i.synced_to_chain ? true : undefined;
      }, SLOW, 200);
      bad = await startDaemonProcess('btc-badpass', ['--network', 'regtest', '--bitcoind.rpchost', btc.rpcHost, '--bitcoind.rpcuser', 'coulomb', '--bitcoind.rpcpass', 'wrong'], undefined, { wallet: false });
      const i = await cliJson<Info>(bad.datadir, 'getinfo');
      expect(i.chain_error).toMatch(/rejected the RPC user or password/);
      const pw = join(bad.datadir, 'pw');
      await writeFile(pw, 'test password\n');
      const r = await cli(bad.datadir, 'create', '--password_file', pw);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/rejected the RPC user or password/);
    } finally {
      await good?.stop();
      await bad?.stop();
      await btc.destroy();
    }
  });
});
