/**
 * A funder that publishes a funding output other than the one agreed: the fundee sees it when it
 * confirms and fails the channel with the reason, instead of treating it as open.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode } from '../helpers/node.ts';
import type { TestNode } from '../helpers/node.ts';
import { waitFor } from '../helpers/daemon.ts';

describe('a funding output that does not match', () => {
  const nodes: TestNode[] = [];
  afterAll(async () => {
    for (const n of nodes.reverse()) await n.close();
  });

  it('is caught by the fundee when it confirms', { timeout: 60_000 }, async () => {
    const funder = await startTestNode('bad-funder');
    nodes.push(funder);
    const rpc = JSON.parse(await readFile(join(funder.node.config.datadir, 'playground', 'rpc.json'), 'utf8')) as { url: string; cookie: string };
    const fundee = await startTestNode('fundee', undefined, { kind: 'bitcoind', rpcHost: rpc.url.replace('http://', ''), rpcCookie: rpc.cookie });
    nodes.push(fundee);
    const f = funder.node.handlers();
    const { address } = await f.newaddress({});
    await f.playground_faucet({ addr: address, amt: 3_000_000 });
    await f.connect({ addr: fundee.uri });

    // The misbehaving funder pays 1,000 sat less into the 2-of-2 than the channel it announced.
    const wallet = funder.node.wallet;
    const honest = wallet.buildPayment.bind(wallet);
    wallet.buildPayment = (opts) => honest({ ...opts, ...(opts.amount ? { amount: opts.amount - 1000n } : {}) });
    await f.openchannel({ node_key: fundee.node.nodeId, local_amt: 1_000_000 });
    await f.playground_mine({ blocks: 3 });
    await fundee.node.chain.source.poke();
    await waitFor('the fundee to fail the channel', () => fundee.logs.some((l) => /channel failed .*funding output does not match/.test(l)) || undefined, 15_000);
    const g = fundee.node.handlers();
    expect((await g.listchannels({})).channels).toEqual([]);
    expect((await g.pendingchannels({})).pending_open_channels).toEqual([]);
  });
});
