/**
 * The chain monitor goes on chain by itself when an HTLC still open off chain reaches its BOLT 2
 * deadline: an HTLC we offered that the peer has not failed a few blocks after its cltv_expiry (we time
 * it out on chain), and one offered to us whose preimage we know while our fulfill is not committed, a
 * few blocks before its cltv_expiry (we claim it on chain). Driven block by block over a playground
 * chain: nothing a block early, our commitment published at the deadline with the reason said once, and
 * the HTLC then timed out or claimed in time; the reason told to the channel again at a start until the
 * commitment confirms. Never with stale data.
 */
import { describe, expect, it } from 'vitest';
import { openChannel } from '../../helpers/monitor-channel.ts';
import type { Channel } from '../../helpers/monitor-channel.ts';
import { Driver, monitorData } from '../../helpers/monitor-driver.ts';
import { ANTI_REORG_DELAY, FULFILL_DEADLINE_BUFFER, OFFERED_HTLC_GRACE } from '../../../core/monitor/index.ts';

const FEERATE = 1000;
const env = (ch: Channel) => ({ secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE });

describe('chain monitor: BOLT 2 deadlines of HTLCs open off chain', () => {
  it('an HTLC we offered, unresolved OFFERED_HTLC_GRACE blocks past its expiry: our commitment goes out, then the HTLC-timeout', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    // Ours expires at +20; the peer's (no preimage) at +10 is the peer's to time out, never a reason to close.
    const htlcs = ch.htlcs([
      { fromA: true, amountSat: 20_000n, cltvDelta: 20 },
      { fromA: false, amountSat: 15_000n, cltvDelta: 10 },
    ]);
    const local = ch.commitment('A', 4n, htlcs);
    const d = new Driver(ch, monitorData(ch, { local, localHtlcs: htlcs, remote: ch.commitment('B', 4n, htlcs), remoteHtlcs: htlcs }), env(ch));
    const expiry = htlcs[0]!.cltvExpiry;

    await d.mine(expiry + OFFERED_HTLC_GRACE - 1 - ch.chain.height);
    expect(d.of('deadline')).toEqual([]);
    expect(d.broadcasts()).toEqual([]);
    expect(d.state.chain.forceClose).toBe(false);

    const at = await d.mine(1);
    expect(at.map((a) => a.type)).toEqual(['store', 'deadline', 'broadcast']);
    expect(d.of('deadline')[0]!.reason).toMatch(new RegExp(`HTLC 0 \\(20000 sat\\) we offered expired at block ${expiry} and the peer has not failed or fulfilled it by block ${expiry + OFFERED_HTLC_GRACE}.*time it out`));
    expect(d.broadcasts().map((b) => [b.label, b.txid])).toEqual([['our commitment 4', local.txid]]);
    expect(d.state.chain.forceClose).toBe(true);
    // A start before the commitment confirms tells the channel again (it may have stopped before
    // storing its failure), without a write; the broadcasts go on.
    const reason = d.of('deadline')[0]!.reason;
    expect(d.input({ type: 'restart' })).toEqual([{ type: 'deadline', reason }]);

    // Our commitment confirms; the HTLC-timeout goes out at once (its locktime passed), and confirms.
    await d.mine(1);
    expect(d.of('funding_spent')).toMatchObject([{ txid: local.txid, spentBy: 'local' }]);
    expect(d.input({ type: 'restart' }).filter((a) => a.type === 'deadline')).toEqual([]);
    expect(d.broadcasts().map((b) => b.label)).toEqual(['our commitment 4', 'htlc-timeout 0']);
    await d.mine(ANTI_REORG_DELAY);
    const timeout = d.broadcasts()[1]!;
    expect(ch.chain.txHeight(timeout.txid)).toBe(ch.chain.txHeight(local.txid)! + 1);
    // Failed upstream once final; the deadline was said at its block and at the start only.
    expect(d.of('resolved').map((r) => [r.htlc.id, r.htlc.incoming, r.outcome])).toEqual([[0n, false, 'failed']]);
    expect(d.of('deadline')).toHaveLength(2);
    expect(d.refused).toEqual([]);
  });

  it('an HTLC offered to us whose preimage we know, fulfill not committed, FULFILL_DEADLINE_BUFFER blocks before its expiry: claimed on chain in time', { timeout: 60_000 }, async () => {
    const ch = await openChannel({ anchors: false });
    const htlcs = ch.htlcs([{ fromA: false, amountSat: 30_000n, cltvDelta: FULFILL_DEADLINE_BUFFER + 8 }]);
    const local = ch.commitment('A', 9n, htlcs);
    const d = new Driver(ch, monitorData(ch, { local, localHtlcs: htlcs, remote: ch.commitment('B', 9n, htlcs), remoteHtlcs: htlcs, preimages: [htlcs[0]!.preimage] }), env(ch));
    const expiry = htlcs[0]!.cltvExpiry;

    await d.mine(expiry - FULFILL_DEADLINE_BUFFER - 1 - ch.chain.height);
    expect(d.of('deadline')).toEqual([]);
    expect(d.broadcasts()).toEqual([]);

    await d.mine(1);
    expect(d.of('deadline').map((a) => a.reason)).toEqual([expect.stringMatching(new RegExp(`preimage of HTLC 0 \\(30000 sat\\).*expires at block ${expiry} \\(now ${expiry - FULFILL_DEADLINE_BUFFER}\\).*claim it`))]);
    expect(d.broadcasts().map((b) => b.txid)).toEqual([local.txid]);
    await d.mine(2);
    const success = d.broadcasts().find((b) => b.label === 'htlc-success 0')!;
    expect(ch.chain.txHeight(success.txid)).toBeLessThan(expiry);
    await d.mine(ANTI_REORG_DELAY);
    expect(d.of('resolved').map((r) => [r.htlc.id, r.htlc.incoming, r.outcome])).toEqual([[0n, true, 'succeeded']]);
    expect(d.of('deadline')).toHaveLength(1);
  });

  it('counts an HTLC of ours only the peer\'s commitment holds yet; never goes on chain with stale data, nor once the funding is spent', { timeout: 60_000 }, async () => {
    // We signed the peer's commitment with our new HTLC; ours does not hold it yet.
    const ch = await openChannel({ anchors: false });
    const htlcs = ch.htlcs([{ fromA: true, amountSat: 10_000n, cltvDelta: 5 }]);
    const local = ch.commitment('A', 2n, []);
    const d = new Driver(ch, monitorData(ch, { local, localHtlcs: [], remote: ch.commitment('B', 2n, htlcs), remoteHtlcs: htlcs }), env(ch));
    await d.mine(htlcs[0]!.cltvExpiry + OFFERED_HTLC_GRACE - ch.chain.height);
    expect(d.of('deadline')).toHaveLength(1);
    expect(d.broadcasts().map((b) => b.txid)).toEqual([local.txid]);

    // A force close the user asked for is not a deadline: nothing to tell the channel at a start.
    const user = await openChannel({ anchors: false });
    const u = new Driver(user, monitorData(user, { local: user.commitment('A', 2n, []), localHtlcs: [], remote: user.commitment('B', 2n, []), remoteHtlcs: [] }), env(user));
    u.input({ type: 'force_close' });
    expect(u.input({ type: 'restart' }).filter((a) => a.type === 'deadline')).toEqual([]);

    // The same channel, but the peer proved our data stale: our commitment may be revoked.
    const stale = await openChannel({ anchors: false });
    const sh = stale.htlcs([{ fromA: true, amountSat: 10_000n, cltvDelta: 5 }]);
    const s = new Driver(stale, monitorData(stale, { local: stale.commitment('A', 2n, sh), localHtlcs: sh, remote: stale.commitment('B', 2n, sh), remoteHtlcs: sh }), env(stale));
    s.input({ type: 'update', update: { type: 'stale' } });
    await s.mine(sh[0]!.cltvExpiry + OFFERED_HTLC_GRACE + 3 - stale.chain.height);
    expect(s.of('deadline')).toEqual([]);
    expect(s.broadcasts()).toEqual([]);

    // The peer's commitment confirmed before the deadline: its HTLCs are handled on chain, nothing to publish.
    const gone = await openChannel({ anchors: false });
    const gh = gone.htlcs([{ fromA: true, amountSat: 10_000n, cltvDelta: 5 }]);
    const theirs = gone.commitment('B', 2n, gh);
    const g = new Driver(gone, monitorData(gone, { local: gone.commitment('A', 2n, gh), localHtlcs: gh, remote: theirs, remoteHtlcs: gh }), env(gone));
    await gone.confirm(theirs.tx);
    g.sync();
    await g.mine(gh[0]!.cltvExpiry + OFFERED_HTLC_GRACE + 3 - gone.chain.height);
    expect(g.of('deadline')).toEqual([]);
    expect(g.broadcasts().map((b) => b.label)).toEqual(['to_remote', 'htlc 0 (timeout)']);
  });
});
