/**
 * Commitment updates between two Coulomb state machines, messages crossing as bytes: HTLCs added,
 * fulfilled and failed in both directions, fee updates, retransmission after a reconnect, and what a
 * hostile peer gets. The commitments and HTLC transactions they sign are checked by the playground
 * chain's script interpreter.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { script as bscript } from 'bitcoinjs-lib';
import { deriveChannelSecrets } from '../../../core/keys/channel-keys.ts';
import { openChannel, acceptChannel, step } from '../../../core/channel/establish.ts';
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from '../../../core/channel/config.ts';
import type { ChannelAction, ChannelInput, ChannelState } from '../../../core/channel/types.ts';
import { buildFromSpec, commitmentsOf, isQuiet } from '../../../core/channel/updates.ts';
import { signCommitment } from '../../../core/channel/commitments.ts';
import { reestablishMessage } from '../../../core/channel/reestablish.ts';
import { fromStored, toStored } from '../../../core/channel/codec.ts';
import { fundingScript, compareBytes } from '../../../core/tx/scripts.ts';
import { SIGHASH_ALL, buildHtlcTx } from '../../../core/tx/commitment.ts';
import { derivePrivkey, derivePubkey, revocationPubkey } from '../../../core/tx/keys.ts';
import { FIRST_INDEX, perCommitmentSecret } from '../../../core/tx/shachain.ts';
import { secp } from '../../../core/crypto/secp256k1.ts';
import { sha256 } from '../../../core/crypto/hash.ts';
import { CHAIN_HASHES } from '../../../core/wire/index.ts';
import type { Message, OpenChannelMessage } from '../../../core/wire/index.ts';
import { chainWithCoin, fundingFrom, wire } from '../../helpers/channel.ts';

type Kind = 'static_remotekey' | 'anchors';

interface Side {
  state: ChannelState;
  events: ChannelAction[];
  outbox: Message[];
  /** What the shell last stored (through the channel codec), as a restart would read it back. */
  disk?: unknown;
}

/** Two open channel ends (after channel_ready both ways), funded on a playground chain. */
async function openPair(type: Kind, pushMsat = 400_000_000n) {
  const { chain, miner, coinbase: cb } = await chainWithCoin();
  let a = openChannel({ temporaryChannelId: new Uint8Array(randomBytes(32)), chainHash: CHAIN_HASHES.regtest, capacitySat: 1_000_000n, pushMsat, feeratePerKw: 2500, channelType: type, announce: false, secrets: deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'regtest', 0), config: DEFAULT_CONFIG });
  let b = acceptChannel(wire(a.actions)[0] as OpenChannelMessage, { chainHash: CHAIN_HASHES.regtest, secrets: deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'regtest', 0), config: DEFAULT_CONFIG, limits: DEFAULT_LIMITS, acceptTypes: ['anchors', 'static_remotekey'] });
  a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
  const build = a.actions.find((x) => x.type === 'build_funding');
  if (build?.type !== 'build_funding') throw new Error('expected build_funding');
  const fundingTx = fundingFrom(miner, cb, build.script, build.amountSat);
  a = step(a.state, { type: 'funding_built', txid: fundingTx.getId(), vout: 0 }, DEFAULT_LIMITS);
  b = step(b.state, { type: 'message', msg: wire(a.actions)[0]! }, DEFAULT_LIMITS);
  a = step(a.state, { type: 'message', msg: wire(b.actions)[0]! }, DEFAULT_LIMITS);
  chain.acceptToMempool(fundingTx.toHex());
  await chain.mine(3, miner.script);
  const depth = { type: 'funding_depth' as const, depth: 3, shortChannelId: 102n << 40n };
  a = step(a.state, depth, DEFAULT_LIMITS);
  b = step(b.state, depth, DEFAULT_LIMITS);
  const [ar, br] = [wire(a.actions)[0]!, wire(b.actions)[0]!];
  a = step(a.state, { type: 'message', msg: br }, DEFAULT_LIMITS);
  b = step(b.state, { type: 'message', msg: ar }, DEFAULT_LIMITS);
  expect([a.state.phase, b.state.phase]).toEqual(['NORMAL', 'NORMAL']);
  const alice: Side = { state: a.state, events: [], outbox: [] };
  const bob: Side = { state: b.state, events: [], outbox: [] };
  return { chain, miner, alice, bob };
}

function input(side: Side, i: ChannelInput): ChannelAction[] {
  const r = step(side.state, i, DEFAULT_LIMITS);
  side.state = r.state;
  if (r.actions.some((x) => x.type === 'store')) side.disk = toStored(r.state);
  side.outbox.push(...wire(r.actions));
  const events = r.actions.filter((x) => x.type !== 'send' && x.type !== 'store');
  side.events.push(...events);
  return r.actions;
}

/** Delivers everything in flight, signing whenever there is something to sign, until both are quiet. */
function settle(x: Side, y: Side, opts: { drop?: (m: Message) => boolean } = {}): void {
  for (let round = 0; round < 50; round++) {
    input(x, { type: 'sign' });
    input(y, { type: 'sign' });
    if (!x.outbox.length && !y.outbox.length) return;
    for (const [from, to] of [
      [x, y],
      [y, x],
    ] as const) {
      const batch = from.outbox.splice(0);
      for (const m of batch) if (!opts.drop?.(m)) input(to, { type: 'message', msg: m });
    }
  }
  throw new Error('the channel never went quiet');
}

/**
 * The process is killed and started again: only what was stored survives (the secrets come back from
 * the seed), and nothing was disconnected in memory.
 */
function restart(side: Side): void {
  side.state = fromStored(side.disk, side.state.secrets);
  side.outbox.length = 0;
  side.events.length = 0;
}

const onion = () => new Uint8Array(randomBytes(1366));
const balances = (s: Side) => {
  const spec = commitmentsOf(s.state).localSpec;
  return [spec.toLocalMsat, spec.toRemoteMsat];
};

/** Our current commitment with both signatures: what we would publish. */
function signedLocal(s: ChannelState) {
  const c = commitmentsOf(s);
  const point = secp.getPublicKey(perCommitmentSecret(s.secrets.commitmentSeed, FIRST_INDEX - c.localIndex));
  const tx = buildFromSpec(s, 'local', c.localSpec, c.localIndex, point);
  const fs = fundingScript(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey);
  const ours = bscript.signature.encode(signCommitment(s, tx), SIGHASH_ALL);
  const theirs = bscript.signature.encode(c.localSig, SIGHASH_ALL);
  const oursFirst = compareBytes(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey) < 0;
  tx.tx.setWitness(0, [new Uint8Array(0), ...(oursFirst ? [ours, theirs] : [theirs, ours]), fs]);
  return { commitment: tx, point, c };
}

describe('commitment updates (BOLT 2)', () => {
  it.each(['static_remotekey', 'anchors'] as const)('%s: an HTLC each way, fulfilled and failed; balances move exactly', async (type) => {
    const { alice, bob } = await openPair(type);
    const [a0, b0] = balances(alice);
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 50_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    expect(alice.events).toContainEqual({ type: 'htlc_added', id: 0n });
    const bobPre = new Uint8Array(randomBytes(32));
    input(bob, { type: 'add_htlc', amountMsat: 20_000_000n, paymentHash: sha256(bobPre), cltvExpiry: 600, onion: onion() });
    settle(alice, bob);
    const lockedAtBob = bob.events.filter((e) => e.type === 'htlc_locked_in');
    const lockedAtAlice = alice.events.filter((e) => e.type === 'htlc_locked_in');
    expect(lockedAtBob).toHaveLength(1);
    expect(lockedAtAlice).toHaveLength(1);
    expect(commitmentsOf(alice.state).localSpec.htlcs).toHaveLength(2);
    expect(commitmentsOf(bob.state).remoteSpec.htlcs).toHaveLength(2);

    // Bob settles Alice's HTLC; Alice fails Bob's.
    input(bob, { type: 'fulfill_htlc', id: 0n, preimage });
    input(alice, { type: 'fail_htlc', id: 0n, reason: new Uint8Array(292) });
    settle(alice, bob);
    expect(alice.events).toContainEqual({ type: 'htlc_fulfilled', id: 0n, preimage });
    expect(bob.events.find((e) => e.type === 'htlc_failed')).toMatchObject({ type: 'htlc_failed', id: 0n });
    expect(isQuiet(alice.state) && isQuiet(bob.state)).toBe(true);
    expect(balances(alice)).toEqual([a0! - 50_000_000n, b0! + 50_000_000n]);
    expect(balances(bob)).toEqual([b0! + 50_000_000n, a0! - 50_000_000n]);
  });

  it('the commitment it holds with HTLCs, and the HTLC-success transaction, are valid on chain', async () => {
    const { chain, miner, alice, bob } = await openPair('static_remotekey');
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 60_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    input(alice, { type: 'add_htlc', amountMsat: 1_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    settle(alice, bob);
    const { commitment, point, c } = signedLocal(bob.state);
    const commitTxid = chain.acceptToMempool(commitment.tx.toHex());
    // Bob's HTLC-success for the 60 000 sat HTLC: Alice's signature from commitment_signed plus his own.
    const idx = commitment.outputs.findIndex((o) => o.kind === 'htlc');
    const out = commitment.outputs[idx]!;
    if (out.kind !== 'htlc') throw new Error('no htlc output');
    const s = bob.state;
    const { tx } = buildHtlcTx({ commitmentTxid: commitTxid, outputIndex: idx, htlc: out.htlc, feeratePerKw: c.localSpec.feeratePerKw, anchors: false, toSelfDelay: s.remote!.toSelfDelay, revocationPubkey: revocationPubkey(s.remote!.basepoints.revocationBasepoint, point), localDelayedPubkey: derivePubkey(s.local.basepoints.delayedPaymentBasepoint, point) });
    const digest = tx.hashForWitnessV0(0, out.witnessScript, out.amountSat, SIGHASH_ALL);
    const ours = bscript.signature.encode(secp.sign(digest, derivePrivkey(s.secrets.htlcBasepointSecret, point)), SIGHASH_ALL);
    const theirs = bscript.signature.encode(c.localHtlcSigs[0]!, SIGHASH_ALL);
    tx.setWitness(0, [new Uint8Array(0), theirs, ours, preimage, out.witnessScript]);
    expect(chain.testAccept(tx.toHex())).toMatchObject({ allowed: true });
    await chain.mine(1, miner.script);
  });

  it('many HTLCs in flight at once in both directions, then all settled', async () => {
    const { alice, bob } = await openPair('anchors');
    const pre: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      const p = new Uint8Array(randomBytes(32));
      pre.push(p);
      input(i % 2 ? bob : alice, { type: 'add_htlc', amountMsat: BigInt(1_000_000 + i * 100_000), paymentHash: sha256(p), cltvExpiry: 500 + i, onion: onion() });
      if (i % 3 === 0) settle(alice, bob);
    }
    settle(alice, bob);
    expect(commitmentsOf(alice.state).localSpec.htlcs).toHaveLength(12);
    for (const e of [...alice.events, ...bob.events].filter((x) => x.type === 'htlc_locked_in')) {
      if (e.type !== 'htlc_locked_in') continue;
      const p = pre.find((x) => Buffer.from(sha256(x)).equals(Buffer.from(e.htlc.paymentHash)))!;
      const receiver = alice.events.includes(e) ? alice : bob;
      input(receiver, { type: 'fulfill_htlc', id: e.htlc.id, preimage: p });
    }
    settle(alice, bob);
    expect(isQuiet(alice.state) && isQuiet(bob.state)).toBe(true);
    expect(alice.events.filter((e) => e.type === 'htlc_fulfilled')).toHaveLength(6);
  });

  it('refuses to send more than can be afforded, above the reserve and fees, without touching the channel', async () => {
    const { alice, bob } = await openPair('anchors');
    const before = structuredClone(commitmentsOf(alice.state));
    const acts = input(alice, { type: 'add_htlc', amountMsat: 599_000_000n, paymentHash: new Uint8Array(32), cltvExpiry: 500, onion: onion() });
    expect(acts[0]).toMatchObject({ type: 'add_refused', reason: expect.stringContaining('not enough in the channel') });
    expect(commitmentsOf(alice.state)).toEqual(before);
    // Bob's side: 400 000 sat pushed; he can spend up to his balance less Alice's reserve demand.
    expect(input(bob, { type: 'add_htlc', amountMsat: 395_000_000n, paymentHash: new Uint8Array(32), cltvExpiry: 500, onion: onion() })[0]).toMatchObject({ type: 'add_refused' });
    expect(input(bob, { type: 'add_htlc', amountMsat: 300_000_000n, paymentHash: new Uint8Array(32), cltvExpiry: 500, onion: onion() }).map((x) => x.type)).toEqual(['send', 'htlc_added']);
  });

  it('update_fee from the funder moves both commitments', async () => {
    const { alice, bob } = await openPair('static_remotekey');
    input(alice, { type: 'update_fee', feeratePerKw: 5000 });
    settle(alice, bob);
    expect(commitmentsOf(alice.state).localSpec.feeratePerKw).toBe(5000);
    expect(commitmentsOf(bob.state).localSpec.feeratePerKw).toBe(5000);
    expect(commitmentsOf(bob.state).remoteSpec.feeratePerKw).toBe(5000);
  });

  it('a lost commitment_signed or revoke_and_ack is sent again after reestablish, in order', async () => {
    const { alice, bob } = await openPair('anchors');
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 10_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    input(alice, { type: 'sign' });
    // The connection drops with Alice's add and signature in flight.
    alice.outbox.length = 0;
    input(alice, { type: 'disconnected' });
    input(bob, { type: 'disconnected' });
    const ra = reestablishMessage(alice.state);
    const rb = reestablishMessage(bob.state);
    input(alice, { type: 'message', msg: rb });
    input(bob, { type: 'message', msg: ra });
    // Both still at commitment 0, so channel_ready goes again too (BOLT 2), then the lost update and signature.
    expect(alice.outbox.map((m) => m.type)).toEqual(['channel_ready', 'update_add_htlc', 'commitment_signed']);
    settle(alice, bob);
    expect(bob.events.filter((e) => e.type === 'htlc_locked_in')).toHaveLength(1);

    // Now Bob's revoke_and_ack for the fulfill round is lost.
    input(bob, { type: 'fulfill_htlc', id: 0n, preimage });
    input(bob, { type: 'sign' });
    for (const m of bob.outbox.splice(0)) input(alice, { type: 'message', msg: m });
    input(alice, { type: 'sign' });
    expect(alice.outbox.map((m) => m.type)).toEqual(['revoke_and_ack', 'commitment_signed']);
    for (const m of alice.outbox.splice(0)) if (m.type !== 'commitment_signed') input(bob, { type: 'message', msg: m });
    // Alice revoked and signed; her commitment_signed was lost. Reconnect.
    input(alice, { type: 'disconnected' });
    input(bob, { type: 'disconnected' });
    bob.outbox.length = 0;
    input(alice, { type: 'message', msg: reestablishMessage(bob.state) });
    input(bob, { type: 'message', msg: reestablishMessage(alice.state) });
    expect(alice.outbox.map((m) => m.type)).toEqual(['commitment_signed']);
    settle(alice, bob);
    expect(isQuiet(alice.state) && isQuiet(bob.state)).toBe(true);
    expect(alice.events).toContainEqual({ type: 'htlc_fulfilled', id: 0n, preimage });
  });

  it('a fulfill the peer never saw signed survives a disconnect and is sent again after reestablish', async () => {
    const { alice, bob } = await openPair('static_remotekey');
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 10_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    settle(alice, bob);
    // Bob settles; the connection drops before he signs (his update_fulfill_htlc may or may not have arrived).
    input(bob, { type: 'fulfill_htlc', id: 0n, preimage });
    bob.outbox.length = 0;
    input(alice, { type: 'disconnected' });
    input(bob, { type: 'disconnected' });
    input(alice, { type: 'message', msg: reestablishMessage(bob.state) });
    input(bob, { type: 'message', msg: reestablishMessage(alice.state) });
    expect(bob.outbox.map((m) => m.type)).toEqual(['update_fulfill_htlc']);
    settle(alice, bob);
    expect(isQuiet(alice.state) && isQuiet(bob.state)).toBe(true);
    expect(alice.events).toContainEqual({ type: 'htlc_fulfilled', id: 0n, preimage });
    expect(balances(bob)).toEqual([410_000_000n, 590_000_000n]);
  });

  it.each(['alone', 'with an add of the peer'] as const)('a fulfill the payer stored but never saw signed (%s) is taken again after it restarts: the channel survives and the payment settles once', async (variant) => {
    const { alice, bob } = await openPair('anchors');
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 10_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    settle(alice, bob);
    const [a0, b0] = balances(alice);
    const bobPre = new Uint8Array(randomBytes(32));
    if (variant === 'with an add of the peer') input(bob, { type: 'add_htlc', amountMsat: 3_000_000n, paymentHash: sha256(bobPre), cltvExpiry: 500, onion: onion() });
    input(bob, { type: 'fulfill_htlc', id: 0n, preimage });
    input(bob, { type: 'sign' });
    // Alice takes Bob's updates (storing the fulfill: the preimage is her proof of payment) and is
    // killed before his commitment_signed.
    for (const m of bob.outbox.splice(0)) if (m.type !== 'commitment_signed') input(alice, { type: 'message', msg: m });
    expect(alice.events).toContainEqual({ type: 'htlc_fulfilled', id: 0n, preimage });
    restart(alice);
    input(bob, { type: 'disconnected' });
    input(alice, { type: 'message', msg: reestablishMessage(bob.state) });
    input(bob, { type: 'message', msg: reestablishMessage(alice.state) });
    // Bob sends his updates and signature again; Alice takes them as new, since she never signed them.
    expect(bob.outbox.map((m) => m.type)).toContain('update_fulfill_htlc');
    settle(alice, bob);
    expect([alice.state.phase, bob.state.phase], alice.state.failure ?? bob.state.failure).toEqual(['NORMAL', 'NORMAL']);
    expect(alice.events.filter((e) => e.type === 'htlc_fulfilled').every((e) => e.type === 'htlc_fulfilled' && e.id === 0n)).toBe(true);
    if (variant === 'with an add of the peer') {
      const locked = alice.events.filter((e) => e.type === 'htlc_locked_in');
      expect(locked).toHaveLength(1);
      input(alice, { type: 'fulfill_htlc', id: 0n, preimage: bobPre });
      settle(alice, bob);
    }
    expect(isQuiet(alice.state) && isQuiet(bob.state)).toBe(true);
    // Paid once: the 10 000 sat in flight went to Bob (and his 3 000 came back to Alice when she settled it).
    const back = variant === 'with an add of the peer' ? 3_000_000n : 0n;
    expect(balances(alice)).toEqual([a0! + back, b0! + 10_000_000n - back]);
    expect(balances(bob)).toEqual([b0! + 10_000_000n - back, a0! + back]);
  });

  it('a hostile peer: a bad signature, a wrong preimage, an unknown HTLC, a replayed id each fail the channel with a reason', async () => {
    for (const attack of ['sig', 'preimage', 'unknown', 'id'] as const) {
      const { alice, bob } = await openPair('static_remotekey');
      const preimage = new Uint8Array(randomBytes(32));
      input(alice, { type: 'add_htlc', amountMsat: 10_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
      if (attack === 'id') {
        const add = alice.outbox[0]!;
        input(bob, { type: 'message', msg: add });
        input(bob, { type: 'message', msg: add });
        expect(bob.state.phase).toBe('FAILED');
        expect(bob.state.failure).toMatch(/id 0, expected 1/);
        continue;
      }
      if (attack === 'sig') {
        input(alice, { type: 'sign' });
        const [add, sig] = alice.outbox.splice(0);
        input(bob, { type: 'message', msg: add! });
        const bad = { ...(sig as Extract<Message, { type: 'commitment_signed' }>), signature: new Uint8Array(64).fill(1) };
        input(bob, { type: 'message', msg: bad });
        expect(bob.state.phase).toBe('FAILED');
        expect(bob.state.failure).toMatch(/signature does not sign/);
        continue;
      }
      settle(alice, bob);
      const msg: Message = attack === 'preimage' ? { type: 'update_fulfill_htlc', channel_id: bob.state.channelId!, id: 0n, payment_preimage: new Uint8Array(32) } : { type: 'update_fail_htlc', channel_id: bob.state.channelId!, id: 7n, reason: new Uint8Array(10) };
      input(alice, { type: 'message', msg });
      expect(alice.state.phase).toBe('FAILED');
      expect(alice.state.failure).toMatch(attack === 'preimage' ? /does not match/ : /not committed/);
      expect(alice.outbox.at(-1)?.type).toBe('error');
    }
  });

  it('a cooperative close started with an HTLC in flight waits for it, then negotiates with the new balances', async () => {
    const { alice, bob } = await openPair('static_remotekey');
    const preimage = new Uint8Array(randomBytes(32));
    input(alice, { type: 'add_htlc', amountMsat: 70_000_000n, paymentHash: sha256(preimage), cltvExpiry: 500, onion: onion() });
    settle(alice, bob);
    const script = (n: number) => Uint8Array.of(0, 20, ...new Uint8Array(20).fill(n));
    input(alice, { type: 'close', script: script(1), feeratePerKw: 2500 });
    for (const m of alice.outbox.splice(0)) input(bob, { type: 'message', msg: m });
    expect(bob.events).toContainEqual({ type: 'need_shutdown_script' });
    input(bob, { type: 'shutdown_script', script: script(2), feeratePerKw: 2500 });
    for (const m of bob.outbox.splice(0)) input(alice, { type: 'message', msg: m });
    // Both said shutdown, but the HTLC is still there: no closing_signed yet, and no new HTLC either.
    expect([alice.state.phase, bob.state.phase]).toEqual(['SHUTDOWN', 'SHUTDOWN']);
    expect(alice.outbox.some((m) => m.type === 'closing_signed')).toBe(false);
    expect(input(alice, { type: 'add_htlc', amountMsat: 1_000_000n, paymentHash: new Uint8Array(32), cltvExpiry: 500, onion: onion() })[0]).toMatchObject({ type: 'add_refused', reason: 'the channel is closing' });
    // Bob settles it; once both commitments are clean the funder offers a fee and they agree.
    input(bob, { type: 'fulfill_htlc', id: 0n, preimage });
    settle(alice, bob);
    expect([alice.state.phase, bob.state.phase]).toEqual(['CLOSING', 'CLOSING']);
    const closing = alice.events.find((e) => e.type === 'publish_closing');
    expect(closing).toBeDefined();
    expect(alice.state.close!.closingTxid).toBe(bob.state.close!.closingTxid);
    // Bob's output carries his 400 000 sat plus the 70 000 he was paid.
    const { Transaction } = await import('bitcoinjs-lib');
    const tx = Transaction.fromHex(alice.state.close!.closingTxHex!);
    expect(tx.outs.map((o) => o.value)).toContain(470_000n);
  });
});
