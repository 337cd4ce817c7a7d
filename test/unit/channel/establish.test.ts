/**
 * Channel establishment between two Coulomb state machines, with the funding and both first
 * commitments checked by the playground chain's interpreter: what each side signed really spends.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { script as bscript } from 'bitcoinjs-lib';
import { deriveChannelSecrets } from '../../../core/keys/channel-keys.ts';
import { openChannel, acceptChannel, step } from '../../../core/channel/establish.ts';
import { commitmentFor, initialBalances, signCommitment } from '../../../core/channel/commitments.ts';
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from '../../../core/channel/config.ts';
import type { ChannelState, Step } from '../../../core/channel/types.ts';
import { fundingScript, compareBytes } from '../../../core/tx/scripts.ts';
import { SIGHASH_ALL } from '../../../core/tx/commitment.ts';
import { CHAIN_HASHES } from '../../../core/wire/index.ts';
import type { OpenChannelMessage } from '../../../core/wire/index.ts';
import { chainWithCoin, fundingFrom, wire } from '../../helpers/channel.ts';

const secrets = () => deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'regtest', 0);

/** Messages cross the wire as bytes, exactly as between peers. */
function open(type: 'static_remotekey' | 'anchors' = 'static_remotekey'): Step {
  return openChannel({
    temporaryChannelId: new Uint8Array(randomBytes(32)),
    chainHash: CHAIN_HASHES.regtest,
    capacitySat: 1_000_000n,
    pushMsat: 100_000_000n,
    feeratePerKw: 2500,
    channelType: type,
    announce: false,
    secrets: secrets(),
    config: DEFAULT_CONFIG,
  });
}

const acceptCtx = () => ({ chainHash: CHAIN_HASHES.regtest, secrets: secrets(), config: DEFAULT_CONFIG, limits: DEFAULT_LIMITS, acceptTypes: ['anchors', 'static_remotekey'] as ('anchors' | 'static_remotekey')[] });

/** A commitment with both signatures in place, ready to publish. */
function signedCommitment(s: ChannelState): string {
  const c = commitmentFor(s, 'local', s.local.firstPerCommitmentPoint, 0n, initialBalances(s));
  const fs = fundingScript(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey);
  const ours = bscript.signature.encode(signCommitment(s, c), SIGHASH_ALL);
  const theirs = bscript.signature.encode(s.remoteSigOnLocalCommitment!, SIGHASH_ALL);
  const oursFirst = compareBytes(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey) < 0;
  c.tx.setWitness(0, [new Uint8Array(0), ...(oursFirst ? [ours, theirs] : [theirs, ours]), fs]);
  return c.tx.toHex();
}

describe('channel establishment (BOLT 2 v1)', () => {
  it.each(['static_remotekey', 'anchors'] as const)('%s: open, accept, fund, sign, confirm, channel_ready; both first commitments spend the funding', async (type) => {
    const { chain, miner, coinbase: cb } = await chainWithCoin();

    let a = open(type);
    const [openMsg] = wire(a.actions);
    let b = acceptChannel(openMsg as OpenChannelMessage, acceptCtx());
    expect(b.state.phase).toBe('WAIT_FUNDING_CREATED');
    a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
    const build = a.actions.find((x) => x.type === 'build_funding');
    if (build?.type !== 'build_funding') throw new Error('expected build_funding');

    // The funder's wallet builds the funding transaction; it is not published yet.
    const fundingTx = fundingFrom(miner, cb, build.script, build.amountSat);
    a = step(a.state, { type: 'funding_built', txid: fundingTx.getId(), vout: 0 }, DEFAULT_LIMITS);
    expect(a.actions.map((x) => x.type)).toEqual(['store', 'send']);

    b = step(b.state, { type: 'message', msg: wire(a.actions)[0]! }, DEFAULT_LIMITS);
    expect(b.actions.map((x) => x.type)).toEqual(['store', 'send', 'watch_funding']);
    a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
    expect(a.actions.map((x) => x.type)).toEqual(['store', 'publish_funding', 'watch_funding']);
    expect(a.state.channelId).toEqual(b.state.channelId);

    chain.acceptToMempool(fundingTx.toHex());
    await chain.mine(3, miner.script);
    // Both sides could now publish their first commitment: the chain accepts either.
    expect(chain.testAccept(signedCommitment(a.state)).allowed).toBe(true);
    expect(chain.testAccept(signedCommitment(b.state)).allowed).toBe(true);

    const depth = { type: 'funding_depth' as const, depth: 3, shortChannelId: 102n << 40n };
    a = step(a.state, depth, DEFAULT_LIMITS);
    b = step(b.state, depth, DEFAULT_LIMITS);
    const aReady = wire(a.actions)[0]!;
    const bReady = wire(b.actions)[0]!;
    a = step(a.state, { type: 'message', msg: bReady }, DEFAULT_LIMITS);
    b = step(b.state, { type: 'message', msg: aReady }, DEFAULT_LIMITS);
    expect([a.state.phase, b.state.phase]).toEqual(['NORMAL', 'NORMAL']);
    expect(a.actions.at(-1)).toEqual({ type: 'ready' });
    const txid = chain.acceptToMempool(signedCommitment(b.state));
    await chain.mine(1, miner.script);
    expect(chain.txHeight(txid)).toBe(105);
  });

  it('refuses unreasonable offers with the reason, as an error for that channel', () => {
    const base = wire(open().actions)[0] as OpenChannelMessage;
    const cases: [Partial<OpenChannelMessage>, RegExp][] = [
      [{ to_self_delay: 5000 }, /to_self_delay 5000 is more than the 2016 blocks/],
      [{ feerate_per_kw: 10 }, /feerate_per_kw 10 is outside/],
      [{ funding_satoshis: 1000n }, /below our minimum/],
      [{ push_msat: 2_000_000_000n }, /push_msat is more than the channel holds/],
      [{ dust_limit_satoshis: 100n }, /dust_limit_satoshis 100 is below/],
      [{ channel_reserve_satoshis: 500_000n }, /more than 20% of the channel/],
      [{ max_accepted_htlcs: 484 }, /max_accepted_htlcs 484 is over 483/],
      [{ tlvs: {} }, /must name a channel_type/],
      [{ chain_hash: CHAIN_HASHES.mainnet }, /another chain/],
    ];
    for (const [patch, reason] of cases) {
      const r = acceptChannel({ ...base, ...patch }, acceptCtx());
      expect(r.state.phase).toBe('FAILED');
      expect(r.state.failure).toMatch(reason);
      const err = wire(r.actions)[0]!;
      expect(err.type).toBe('error');
      if (err.type === 'error') expect(err.channel_id).toEqual(base.temporary_channel_id);
    }
  });

  it('a wrong signature in funding_signed fails the channel before anything is published', () => {
    let a = open();
    let b = acceptChannel(wire(a.actions)[0] as OpenChannelMessage, acceptCtx());
    a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
    a = step(a.state, { type: 'funding_built', txid: 'cd'.repeat(32), vout: 1 }, DEFAULT_LIMITS);
    b = step(b.state, { type: 'message', msg: wire(a.actions)[0]! }, DEFAULT_LIMITS);
    const signed = wire(b.actions)[0]!;
    if (signed.type !== 'funding_signed') throw new Error('expected funding_signed');
    signed.signature = Uint8Array.from(signed.signature).reverse();
    const r = step(a.state, { type: 'message', msg: signed }, DEFAULT_LIMITS);
    expect(r.state.phase).toBe('FAILED');
    expect(r.actions.some((x) => x.type === 'publish_funding')).toBe(false);
    expect(r.state.failure).toMatch(/does not sign our first commitment/);
  });

  it('reestablish: a peer at the same state gets channel_ready again; one claiming a later state flags the channel and nothing is published', () => {
    let a = open();
    let b = acceptChannel(wire(a.actions)[0] as OpenChannelMessage, acceptCtx());
    a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
    a = step(a.state, { type: 'funding_built', txid: 'cd'.repeat(32), vout: 0 }, DEFAULT_LIMITS);
    b = step(b.state, { type: 'message', msg: wire(a.actions)[0]! }, DEFAULT_LIMITS);
    a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
    a = step(a.state, { type: 'funding_depth', depth: 3, shortChannelId: 1n }, DEFAULT_LIMITS);
    const same = { type: 'channel_reestablish' as const, channel_id: a.state.channelId!, next_commitment_number: 1n, next_revocation_number: 0n, your_last_per_commitment_secret: new Uint8Array(32), my_current_per_commitment_point: b.state.local.firstPerCommitmentPoint };
    const r = step(a.state, { type: 'message', msg: same }, DEFAULT_LIMITS);
    expect(wire(r.actions).map((m) => m.type)).toEqual(['channel_ready']);
    const ahead = step(a.state, { type: 'message', msg: { ...same, next_commitment_number: 5n, next_revocation_number: 4n } }, DEFAULT_LIMITS);
    expect(ahead.state.phase).toBe('FAILED');
    expect(ahead.state.failure).toMatch(/later channel state .* nothing is published/);
    expect(ahead.actions.some((x) => x.type === 'publish_funding' || x.type === 'publish_closing')).toBe(false);
  });

  it('out-of-order messages fail the channel', () => {
    const a = open();
    const r = step(a.state, { type: 'message', msg: { type: 'channel_ready', channel_id: new Uint8Array(32), second_per_commitment_point: a.state.local.firstPerCommitmentPoint } }, DEFAULT_LIMITS);
    expect(r.state.phase).toBe('FAILED');
    expect(r.state.failure).toMatch(/channel_ready before the funding was signed/);
    const b = acceptChannel(wire(open().actions)[0] as OpenChannelMessage, acceptCtx());
    expect(step(b.state, { type: 'message', msg: { type: 'funding_signed', channel_id: new Uint8Array(32), signature: new Uint8Array(64) } }, DEFAULT_LIMITS).state.failure).toMatch(/unexpected funding_signed/);
  });
});
