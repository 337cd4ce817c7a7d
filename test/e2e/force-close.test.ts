/**
 * Force close in a real browser against the real app on the playground: open a channel to the
 * counterparty and pay over it, read the channel's page against the node's getchannel, press
 * "Force close…" and read what it says (the delay in blocks and hours, who gets what when), confirm,
 * find our side on Home under "Not spendable yet" with the block it waits for and the time, mine to
 * that block, and see the coins spendable on-chain and the channel in the closed list as force-closed.
 */
import { describe, expect, it } from 'vitest';
import { appCall, firstAmount, fundAndOpenChannel, onboardOnPlayground, useAppInBrowser } from './harness.ts';
import type { ChannelDetailView, MethodOutput } from '../../core/api/contract.ts';
import { formatSats } from '../../renderer/format.ts';

describe('force close in the desktop app, on the playground', () => {
  const ctx = useAppInBrowser('force-close');

  it('says what a force close does, shows the money in limbo with its block and time, and brings it back', async () => {
    const { app, b } = ctx;
    const { page } = b;
    const nav = (name: string) => page.getByRole('navigation').getByRole('button', { name, exact: true });
    const sats = (v: string | number): string => formatSats(v, 'sat');
    await page.goto(app.url);
    await onboardOnPlayground(b, 'a force close password');
    await fundAndOpenChannel(b);

    // A payment, so both sides hold something and the commitment has moved on from number 0.
    const inv = await appCall<{ payment_request: string }>(app, 'app_counterparty_invoice', { amt: 20_000, memo: 'before the force close' });
    const paid = await appCall<{ status: string }>(app, 'payinvoice', { pay_req: inv.payment_request });
    expect(paid.status).toBe('SUCCEEDED');
    const chanPoint = (await appCall<MethodOutput<'listchannels'>>(app, 'listchannels')).channels[0]!.channel_point;
    // The payer hears of success at the fulfill; the HTLC leaves both commitments a signing round later.
    const detail = (): Promise<ChannelDetailView> => appCall<ChannelDetailView>(app, 'getchannel', { chan_point: chanPoint });
    await expect.poll(async () => (await detail()).pending_htlcs.length, { timeout: 10_000 }).toBe(0);
    const node = await detail();
    expect(node.channel.remote_balance).toBe('20000');
    expect(Number(node.local_commit_height)).toBeGreaterThanOrEqual(1);

    // The channel's page: the node's numbers, in words.
    const channel = page.getByTestId('channel-list').getByTestId('channel').first();
    await expect.poll(() => channel.getByTestId('channel-local').textContent()).toBe(sats(node.channel.local_balance));
    await channel.getByRole('button', { name: 'Details' }).click();
    await page.getByRole('heading', { name: 'Channel with the playground counterparty' }).waitFor();
    expect(await page.getByTestId('detail-local').textContent()).toBe(sats(node.channel.local_balance));
    expect(await page.getByTestId('detail-remote').textContent()).toBe(sats('20000'));
    expect(await page.getByTestId('detail-local-commit').textContent()).toBe(node.local_commit_height);
    expect(await page.getByTestId('detail-remote-commit').textContent()).toBe(node.remote_commit_height);
    expect(await page.getByTestId('detail-revoked-local').textContent()).toBe(node.revoked_local_states);
    expect(await page.getByTestId('detail-revoked-remote').textContent()).toBe(node.revoked_remote_states);
    const delay = node.local_constraints.csv_delay;
    expect(delay).toBe(144);
    expect(await page.getByTestId('detail-our-delay').textContent()).toContain(`your side waits ${delay} blocks (about 24 hours) after your commitment confirms`);
    expect(await page.getByTestId('detail-their-delay').textContent()).toContain(`their side waits ${node.remote_constraints.csv_delay} blocks`);
    expect(await page.getByTestId('detail-no-htlcs').isVisible()).toBe(true);
    await b.shot('channel-page');
    await page.getByRole('button', { name: '← All channels' }).click();

    // Before leaving, the on-chain balance the channel's side comes back to.
    await nav('Home').click();
    const before = firstAmount(await page.getByTestId('onchain-balance').textContent());
    await nav('Channels').click();

    // Force close is the secondary action, and says what it does before anything is published.
    await channel.getByRole('button', { name: 'Force close…' }).click();
    const confirm = page.getByRole('group', { name: 'Force-close this channel' });
    await expect.poll(() => confirm.textContent()).toContain(`comes back to your on-chain wallet ${delay} blocks after that (about 24 hours)`);
    const said = (await confirm.textContent())!;
    expect(said).toContain('Coulomb publishes its latest commitment transaction');
    expect(said).toContain(`Their side, ${sats('20000')}, is theirs as soon as a block confirms it.`);
    expect(said).toContain(`Your side, ${sats(node.channel.local_balance)}, comes back`);
    expect(said).toContain('“Close channel” is faster and cheaper');
    await b.shot('force-close-confirm');
    await confirm.getByRole('button', { name: 'Force-close the channel' }).click();
    await expect.poll(() => channel.getAttribute('data-status'), { timeout: 15_000 }).toBe('force-closing');

    // Once a block holds our commitment, the channel says when our side comes back.
    await expect.poll(() => channel.getByTestId('channel-state').textContent(), { timeout: 30_000 }).toMatch(/^Force-closed by you — your side comes back at block [\d,]+ \(in about 2[34] hours\)$/);
    await b.shot('force-closing');

    // Home: the money in limbo, with the block it waits for and the time.
    await nav('Home').click();
    const limbo = page.locator('[data-testid=pending-fund][data-kind=FORCE_CLOSE_OUTPUT]');
    await expect.poll(() => limbo.getAttribute('data-maturity'), { timeout: 15_000 }).not.toBe('0');
    const closing = (await appCall<MethodOutput<'pendingchannels'>>(app, 'pendingchannels')).pending_force_closing_channels[0]!;
    expect(closing.close_type).toBe('LOCAL_FORCE_CLOSE');
    expect(await limbo.getAttribute('data-maturity')).toBe(String(closing.maturity_height));
    expect(await limbo.textContent()).toMatch(
      new RegExp(`^Coming back from the force-closed channel with the playground counterparty: ${sats(closing.limbo_balance)}, spendable at block ${closing.maturity_height.toLocaleString('en-US')}, in about 2[34] hours\\.$`),
    );
    expect(BigInt(closing.limbo_balance)).toBe(BigInt(node.channel.local_balance));
    await b.shot('home-limbo');

    // Mine to that block: the node sweeps our side, the playground confirms the sweep by itself.
    await appCall(app, 'playground_mine', { blocks: closing.blocks_til_maturity });
    await expect.poll(() => limbo.count(), { timeout: 30_000 }).toBe(0);
    // Six blocks make every spend final: the channel is closed, and listed as force-closed.
    await appCall(app, 'playground_mine', { blocks: 6 });
    await nav('Channels').click();
    const closed = page.getByTestId('closed-list').getByTestId('channel').first();
    await expect.poll(() => closed.getAttribute('data-close-type'), { timeout: 30_000 }).toBe('LOCAL_FORCE_CLOSE');
    expect(await closed.getByTestId('channel-state').textContent()).toBe('Force-closed by you');
    const settled = firstAmount(await closed.getByTestId('channel-settled').textContent());
    expect(await closed.getByTestId('channel-close-note').textContent()).toBe('Your commitment was published without the other node; your side came back after its delay, less the network fees.');
    // Our side less the fees of the anchor's child and the sweep.
    expect(settled).toBeLessThan(Number(closing.limbo_balance));
    expect(settled).toBeGreaterThan(Number(closing.limbo_balance) - 5_000);
    await b.shot('force-closed');

    // Spendable: on-chain, confirmed.
    await nav('Home').click();
    await expect.poll(() => page.getByTestId('onchain-balance').textContent().then(firstAmount), { timeout: 15_000 }).toBe(before + settled);
    expect(await page.getByTestId('pending-funds').count()).toBe(0);
  }, 150_000);
});
