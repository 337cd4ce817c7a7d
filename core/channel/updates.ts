/**
 * Commitment updates (BOLT 2): HTLCs added, fulfilled and failed, fee updates, and the
 * commitment_signed / revoke_and_ack dance that moves both commitments forward. Pure: the shell feeds
 * messages and requests in, and executes the actions that come out (a `store` always before the
 * `send` that depends on it).
 *
 * Bookkeeping (every amount and direction from our point of view):
 *   localChanges   our updates: proposed (sent, not yet signed by us) → signed (in a commitment_signed
 *                  we sent) → acked (the peer revoked the commitment before it: in its commitment for good,
 *                  waiting to enter ours with the peer's next signature)
 *   remoteChanges  the peer's updates: proposed (received) → acked (in our commitment, which we revoked
 *                  the predecessor of) → signed (in a commitment_signed we sent) → gone when the peer revokes
 * An incoming HTLC is ours to act on (settle, forward) once the peer revokes the commitment before the
 * one we signed with it: then it is irrevocably in both commitments.
 */
import { hex } from '@scure/base';
import { sha256 } from '../crypto/hash.ts';
import { secp } from '../crypto/secp256k1.ts';
import { bytesEqual } from '../util/bytes.ts';
import { FIRST_INDEX, perCommitmentSecret, SecretStore, ShachainError } from '../tx/shachain.ts';
import type { StoredSecret } from '../tx/shachain.ts';
import { buildHtlcTx, commitmentFee, isTrimmed, SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY, ANCHOR_SAT } from '../tx/commitment.ts';
import type { Commitment, CommitmentHtlc } from '../tx/commitment.ts';
import { derivePrivkey } from '../tx/keys.ts';
import { commitmentFor, commitmentKeys, initialBalances, ourCommitmentSecret, perCommitmentPoint, signCommitment, verifyCommitmentSig } from './commitments.ts';
import type { ChannelLimits } from './config.ts';
import type { ChannelState, Step, ChannelAction } from './types.ts';
import type { CommitmentSignedMessage, Message, RevokeAndAckMessage, UpdateAddHtlcMessage } from '../wire/index.ts';

export const ONION_PACKET_SIZE = 1366;
/** BOLT 2: an HTLC's cltv_expiry is a block height, never a timestamp. */
const MAX_CLTV = 500_000_000;
/** Largest sum of dust HTLCs we let ride on one commitment: they go to fees if it is published. */
export const MAX_DUST_EXPOSURE_MSAT = 5_000_000n;

export interface Htlc {
  id: bigint;
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
  onion: Uint8Array;
}

export interface DirectedHtlc extends Htlc {
  /** Offered by the peer to us. */
  incoming: boolean;
}

/** What a commitment holds, from our point of view (whichever side holds it). */
export interface Spec {
  htlcs: DirectedHtlc[];
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
}

export type Update =
  | { kind: 'add'; htlc: Htlc }
  | { kind: 'fulfill'; id: bigint; preimage: Uint8Array }
  | { kind: 'fail'; id: bigint; reason: Uint8Array }
  | { kind: 'fail_malformed'; id: bigint; sha256OfOnion: Uint8Array; failureCode: number }
  | { kind: 'fee'; feeratePerKw: number };

export interface Commitments {
  localIndex: bigint;
  localSpec: Spec;
  /** The peer's signatures on our current commitment: what lets us publish it. */
  localSig: Uint8Array;
  localHtlcSigs: Uint8Array[];
  remoteIndex: bigint;
  remoteSpec: Spec;
  /** The peer's per-commitment point for remoteIndex, and for the one after. */
  remotePoint: Uint8Array;
  remoteNextPoint: Uint8Array;
  /**
   * Set while we wait for the peer to revoke remoteIndex: the commitment we signed for it, with its
   * txid and each spec HTLC's output index (null: trimmed) for the chain monitor (absent in states
   * stored before they were kept: core/channel/monitor-updates.ts builds the commitment again).
   */
  remoteNext?: { spec: Spec; point: Uint8Array; msg: CommitmentSignedMessage; txid?: string; htlcVouts?: (number | null)[] };
  localChanges: { proposed: Update[]; signed: Update[]; acked: Update[] };
  remoteChanges: { proposed: Update[]; acked: Update[]; signed: Update[] };
  localNextHtlcId: bigint;
  remoteNextHtlcId: bigint;
  /** The peer's revealed per-commitment secrets (compact shachain store). */
  remoteSecrets: StoredSecret[];
  /** Which of commitment_signed and revoke_and_ack we sent last: a reconnect resends them in order. */
  lastSent?: 'commit' | 'revoke';
}

export type UpdateInput =
  | { type: 'add_htlc'; amountMsat: bigint; paymentHash: Uint8Array; cltvExpiry: number; onion: Uint8Array }
  | { type: 'fulfill_htlc'; id: bigint; preimage: Uint8Array }
  | { type: 'fail_htlc'; id: bigint; reason: Uint8Array }
  | { type: 'fail_malformed_htlc'; id: bigint; sha256OfOnion: Uint8Array; failureCode: number }
  | { type: 'update_fee'; feeratePerKw: number }
  /** Sign a new commitment for the peer if there is anything to sign and we may. */
  | { type: 'sign' }
  /** The connection dropped: updates nobody signed are forgotten (BOLT 2). */
  | { type: 'disconnected' };

export type UpdateAction =
  /** Our add was accepted into the channel with this id. */
  | { type: 'htlc_added'; id: bigint }
  /** Our add was refused before it left (the reason is for people; nothing changed). */
  | { type: 'add_refused'; reason: string }
  /** An incoming HTLC is irrevocably committed: settle it, fail it or forward it. */
  | { type: 'htlc_locked_in'; htlc: Htlc }
  /** The peer fulfilled one of our outgoing HTLCs: the preimage is ours from now on. */
  | { type: 'htlc_fulfilled'; id: bigint; preimage: Uint8Array }
  /** One of our outgoing HTLCs is gone from both commitments without a preimage. */
  | { type: 'htlc_failed'; id: bigint; reason?: Uint8Array; malformed?: { code: number; sha256OfOnion: Uint8Array }; local?: string };

// ---------------------------------------------------------------------------------------------------

function initialSpec(s: ChannelState): Spec {
  const b = initialBalances(s);
  return { htlcs: [], toLocalMsat: s.funder ? b.funderMsat : b.fundeeMsat, toRemoteMsat: s.funder ? b.fundeeMsat : b.funderMsat, feeratePerKw: s.feeratePerKw };
}

/** The channel's commitment bookkeeping, created on first use from the funding state. */
export function commitmentsOf(s: ChannelState): Commitments {
  if (s.commit) return s.commit;
  const spec = initialSpec(s);
  return {
    localIndex: 0n,
    localSpec: spec,
    localSig: s.remoteSigOnLocalCommitment!,
    localHtlcSigs: [],
    remoteIndex: 0n,
    remoteSpec: spec,
    remotePoint: s.remote!.firstPerCommitmentPoint,
    remoteNextPoint: s.remoteSecondPoint!,
    localChanges: { proposed: [], signed: [], acked: [] },
    remoteChanges: { proposed: [], acked: [], signed: [] },
    localNextHtlcId: 0n,
    remoteNextHtlcId: 0n,
    remoteSecrets: [],
  };
}

const NO_ONION = new Uint8Array(0);

/**
 * A spec as it is kept: an HTLC's 1366-byte onion only where it is still needed — with the incoming
 * HTLCs of our own commitment (to settle or forward them, also after a restart). Outgoing onions live
 * in the add updates until the peer has them; the peer's commitment needs none. Every commitment would
 * otherwise carry (and store) a copy of every onion.
 */
function keep(spec: Spec, holder: 'local' | 'remote'): Spec {
  return { ...spec, htlcs: spec.htlcs.map((h) => (holder === 'local' && h.incoming) || h.onion.length === 0 ? h : { ...h, onion: NO_ONION }) };
}

/** Applies updates to a spec: `ours` are our updates, `theirs` the peer's. */
export function reduce(spec: Spec, ours: readonly Update[], theirs: readonly Update[]): Spec {
  let { toLocalMsat, toRemoteMsat, feeratePerKw } = spec;
  let htlcs = spec.htlcs.slice();
  for (const u of ours) {
    if (u.kind === 'add') {
      htlcs.push({ ...u.htlc, incoming: false });
      toLocalMsat -= u.htlc.amountMsat;
    }
  }
  for (const u of theirs) {
    if (u.kind === 'add') {
      htlcs.push({ ...u.htlc, incoming: true });
      toRemoteMsat -= u.htlc.amountMsat;
    }
  }
  const remove = (id: bigint, incoming: boolean): DirectedHtlc | undefined => {
    const h = htlcs.find((x) => x.id === id && x.incoming === incoming);
    if (h) htlcs = htlcs.filter((x) => x !== h);
    return h;
  };
  for (const u of ours) {
    if (u.kind === 'fulfill') {
      const h = remove(u.id, true);
      if (h) toLocalMsat += h.amountMsat;
    } else if (u.kind === 'fail' || u.kind === 'fail_malformed') {
      const h = remove(u.id, true);
      if (h) toRemoteMsat += h.amountMsat;
    }
  }
  for (const u of theirs) {
    if (u.kind === 'fulfill') {
      const h = remove(u.id, false);
      if (h) toRemoteMsat += h.amountMsat;
    } else if (u.kind === 'fail' || u.kind === 'fail_malformed') {
      const h = remove(u.id, false);
      if (h) toLocalMsat += h.amountMsat;
    }
  }
  for (const u of [...ours, ...theirs]) if (u.kind === 'fee') feeratePerKw = u.feeratePerKw;
  return { htlcs, toLocalMsat, toRemoteMsat, feeratePerKw };
}

/** The commitment transaction `holder` holds for `spec`, at `index`, with the holder's point. */
export function buildFromSpec(s: ChannelState, holder: 'local' | 'remote', spec: Spec, index: bigint, point: Uint8Array): Commitment {
  const funderMsat = s.funder ? spec.toLocalMsat : spec.toRemoteMsat;
  const fundeeMsat = s.funder ? spec.toRemoteMsat : spec.toLocalMsat;
  const htlcs: CommitmentHtlc[] = spec.htlcs.map((h) => ({
    id: h.id,
    // "offered" is from the holder's side: our outgoing HTLCs are offered in ours, received in theirs.
    offered: holder === 'local' ? !h.incoming : h.incoming,
    amountMsat: h.amountMsat,
    paymentHash: h.paymentHash,
    cltvExpiry: h.cltvExpiry,
  }));
  return commitmentFor({ ...s, feeratePerKw: spec.feeratePerKw }, holder, point, index, { funderMsat, fundeeMsat }, htlcs);
}

/** The second-stage transactions of a commitment's HTLC outputs, in output order, with what signs them. */
function htlcTxs(s: ChannelState, holder: 'local' | 'remote', c: Commitment, point: Uint8Array, feeratePerKw: number) {
  const remote = s.remote!;
  const anchors = s.channelType === 'anchors';
  const [own, other] = holder === 'local' ? [s.local, remote] : [remote, s.local];
  const keys = commitmentKeys(own, other, point);
  const txid = c.tx.getId();
  const out: { tx: ReturnType<typeof buildHtlcTx>['tx']; witnessScript: Uint8Array; valueSat: bigint }[] = [];
  c.outputs.forEach((o, i) => {
    if (o.kind !== 'htlc') return;
    const { tx } = buildHtlcTx({
      commitmentTxid: txid,
      outputIndex: i,
      htlc: o.htlc,
      feeratePerKw,
      anchors,
      toSelfDelay: other.toSelfDelay,
      revocationPubkey: keys.revocationPubkey,
      localDelayedPubkey: keys.localDelayedPubkey,
    });
    out.push({ tx, witnessScript: o.witnessScript, valueSat: o.amountSat });
  });
  return out;
}

function htlcSighash(s: ChannelState): number {
  return s.channelType === 'anchors' ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL;
}

function fail(state: ChannelState, reason: string): Step {
  return {
    state: { ...state, phase: 'FAILED', failure: reason },
    actions: [{ type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode(reason) } }, { type: 'failed', reason }, { type: 'store' }],
  };
}

function withCommit(s: ChannelState, c: Commitments): ChannelState {
  return { ...s, commit: c };
}

function reserveOf(sat: bigint): bigint {
  return sat * 1000n;
}

/** The fee the funder pays on a commitment with this spec, seen by `holder` (its dust limit decides trimming). */
export function feeOf(s: ChannelState, spec: Spec, dustLimitSat: bigint, holder: 'local' | 'remote', feeratePerKw = spec.feeratePerKw, extraHtlcs = 0): bigint {
  const anchors = s.channelType === 'anchors';
  const untrimmed = spec.htlcs.filter((h) => !isTrimmed({ id: 0n, offered: holder === 'local' ? !h.incoming : h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry }, dustLimitSat, feeratePerKw, anchors)).length;
  return (commitmentFee(untrimmed + extraHtlcs, feeratePerKw, anchors) + (anchors ? 2n * ANCHOR_SAT : 0n)) * 1000n;
}

/** Sum of HTLCs that are dust on either commitment: money that would go to miners if published. */
function dustExposure(s: ChannelState, spec: Spec): bigint {
  const anchors = s.channelType === 'anchors';
  let sum = 0n;
  for (const h of spec.htlcs) {
    const asLocal = { id: 0n, offered: !h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry };
    const asRemote = { ...asLocal, offered: h.incoming };
    if (isTrimmed(asLocal, s.local.dustLimitSat, spec.feeratePerKw, anchors) || isTrimmed(asRemote, s.remote!.dustLimitSat, spec.feeratePerKw, anchors)) sum += h.amountMsat;
  }
  return sum;
}

function addMessage(s: ChannelState, h: Htlc): UpdateAddHtlcMessage {
  return { type: 'update_add_htlc', channel_id: s.channelId!, id: h.id, amount_msat: h.amountMsat, payment_hash: h.paymentHash, cltv_expiry: h.cltvExpiry, onion_routing_packet: h.onion };
}

function updateMessage(s: ChannelState, u: Update): Message {
  const channel_id = s.channelId!;
  switch (u.kind) {
    case 'add':
      return addMessage(s, u.htlc);
    case 'fulfill':
      return { type: 'update_fulfill_htlc', channel_id, id: u.id, payment_preimage: u.preimage };
    case 'fail':
      return { type: 'update_fail_htlc', channel_id, id: u.id, reason: u.reason };
    case 'fail_malformed':
      return { type: 'update_fail_malformed_htlc', channel_id, id: u.id, sha256_of_onion: u.sha256OfOnion, failure_code: u.failureCode };
    case 'fee':
      return { type: 'update_fee', channel_id, feerate_per_kw: u.feeratePerKw };
  }
}

/** Is an update already removing this HTLC (fulfill or fail), in any stage? */
function beingRemoved(changes: readonly Update[][], id: bigint): boolean {
  return changes.some((list) => list.some((u) => (u.kind === 'fulfill' || u.kind === 'fail' || u.kind === 'fail_malformed') && u.id === id));
}

// ---------------------------------------------------------------------------------------------------
// Our requests

function sendAdd(s: ChannelState, c: Commitments, input: Extract<UpdateInput, { type: 'add_htlc' }>): Step {
  const refuse = (reason: string): Step => ({ state: s, actions: [{ type: 'add_refused', reason }] });
  const remote = s.remote!;
  if (s.phase !== 'NORMAL') return refuse(s.phase === 'SHUTDOWN' || s.phase === 'NEGOTIATING' ? 'the channel is closing' : 'the channel is not open yet');
  if (input.amountMsat <= 0n) return refuse('the amount must be positive');
  if (input.amountMsat < remote.htlcMinimumMsat) return refuse(`the peer accepts HTLCs of at least ${remote.htlcMinimumMsat} msat`);
  if (input.cltvExpiry >= MAX_CLTV || input.cltvExpiry <= 0) return refuse('cltv_expiry must be a block height');
  if (input.onion.length !== ONION_PACKET_SIZE) return refuse(`an onion is ${ONION_PACKET_SIZE} bytes`);
  const htlc: Htlc = { id: c.localNextHtlcId, amountMsat: input.amountMsat, paymentHash: input.paymentHash, cltvExpiry: input.cltvExpiry, onion: input.onion };
  const update: Update = { kind: 'add', htlc };
  // The peer's next commitment with this HTLC, and ours: both must stay within every limit.
  const theirs = reduce(c.remoteNext?.spec ?? c.remoteSpec, [...c.localChanges.proposed, update], c.remoteChanges.acked);
  const ours = reduce(c.localSpec, [...c.localChanges.acked, ...c.localChanges.signed, ...c.localChanges.proposed, update], c.remoteChanges.proposed);
  const outgoing = theirs.htlcs.filter((h) => !h.incoming);
  if (outgoing.length > remote.maxAcceptedHtlcs) return refuse(`the peer accepts at most ${remote.maxAcceptedHtlcs} HTLCs at once`);
  const inFlight = outgoing.reduce((t, h) => t + h.amountMsat, 0n);
  if (inFlight > remote.maxHtlcValueInFlightMsat) return refuse(`the peer accepts at most ${remote.maxHtlcValueInFlightMsat} msat in flight`);
  // What we can spend: our balance less the reserve the peer asked for, and, as the funder, the
  // commitment fee with room for a fee spike (twice the feerate, one more HTLC).
  let need = reserveOf(remote.reserveSat);
  if (s.funder) need += feeOf(s, theirs, remote.dustLimitSat, 'remote', theirs.feeratePerKw * 2, 1);
  const balance = theirs.toLocalMsat < ours.toLocalMsat ? theirs.toLocalMsat : ours.toLocalMsat;
  if (balance < need) {
    const canSend = balance + input.amountMsat - need;
    return refuse(`not enough in the channel: at most ${canSend > 0n ? canSend / 1000n : 0n} sat can be sent now (the rest is the channel reserve and fees)`);
  }
  if (dustExposure(s, theirs) > MAX_DUST_EXPOSURE_MSAT || dustExposure(s, ours) > MAX_DUST_EXPOSURE_MSAT) return refuse('too much in tiny payments at once on this channel; try again shortly');
  const next: Commitments = { ...c, localNextHtlcId: c.localNextHtlcId + 1n, localChanges: { ...c.localChanges, proposed: [...c.localChanges.proposed, update] } };
  return { state: withCommit(s, next), actions: [{ type: 'send', msg: addMessage(s, htlc) }, { type: 'htlc_added', id: htlc.id }] };
}

function sendRemoval(s: ChannelState, c: Commitments, update: Update & { id: bigint }): Step {
  const h = c.localSpec.htlcs.find((x) => x.incoming && x.id === update.id);
  if (!h) return { state: s, actions: [{ type: 'add_refused', reason: `no incoming HTLC ${update.id} to settle` }] };
  if (beingRemoved([c.localChanges.proposed, c.localChanges.signed, c.localChanges.acked], update.id)) return { state: s, actions: [] };
  if (update.kind === 'fulfill' && !bytesEqual(sha256(update.preimage), h.paymentHash)) return { state: s, actions: [{ type: 'add_refused', reason: 'that preimage does not match the HTLC' }] };
  const next: Commitments = { ...c, localChanges: { ...c.localChanges, proposed: [...c.localChanges.proposed, update] } };
  return { state: withCommit(s, next), actions: [{ type: 'send', msg: updateMessage(s, update) }] };
}

function sendFee(s: ChannelState, c: Commitments, feeratePerKw: number): Step {
  if (!s.funder || s.phase !== 'NORMAL') return { state: s, actions: [] };
  const update: Update = { kind: 'fee', feeratePerKw };
  const next: Commitments = { ...c, localChanges: { ...c.localChanges, proposed: [...c.localChanges.proposed.filter((u) => u.kind !== 'fee'), update] } };
  return { state: withCommit(s, next), actions: [{ type: 'send', msg: updateMessage(s, update) }] };
}

function sendCommit(s: ChannelState, c: Commitments): Step {
  if (c.remoteNext || (!c.localChanges.proposed.length && !c.remoteChanges.acked.length)) return { state: s, actions: [] };
  const spec = reduce(c.remoteSpec, c.localChanges.proposed, c.remoteChanges.acked);
  const index = c.remoteIndex + 1n;
  const tx = buildFromSpec(s, 'remote', spec, index, c.remoteNextPoint);
  const htlcKey = derivePrivkey(s.secrets.htlcBasepointSecret, c.remoteNextPoint);
  const sighash = htlcSighash(s);
  const htlc_signature = htlcTxs(s, 'remote', tx, c.remoteNextPoint, spec.feeratePerKw).map((h) => secp.sign(h.tx.hashForWitnessV0(0, h.witnessScript, h.valueSat, sighash), htlcKey));
  const msg: CommitmentSignedMessage = { type: 'commitment_signed', channel_id: s.channelId!, signature: signCommitment(s, tx), htlc_signature };
  const next: Commitments = {
    ...c,
    remoteNext: { spec: keep(spec, 'remote'), point: c.remoteNextPoint, msg, txid: tx.tx.getId(), htlcVouts: htlcVouts(spec, tx) },
    localChanges: { ...c.localChanges, proposed: [], signed: c.localChanges.proposed },
    remoteChanges: { ...c.remoteChanges, acked: [], signed: c.remoteChanges.acked },
    lastSent: 'commit',
  };
  // Stored before it leaves: once the peer has this signature it may act on it.
  return { state: withCommit(s, next), actions: [{ type: 'store' }, { type: 'send', msg }] };
}

/**
 * Updates nobody signed are forgotten on a disconnect (BOLT 2): the peer's, and our adds, which are
 * failed back to their payments. Our fulfills, fails and fee updates stay proposed and are sent again
 * after channel_reestablish (`onReestablishUpdates`): the peer forgot them, but an incoming HTLC we
 * settled must still be settled (the preimage may already be paid out upstream), and one we failed
 * must still be failed; dropping them would leave the HTLC hanging until it expires on-chain.
 *
 * A restart is a disconnect nobody saw: a stored state may still hold the peer's unsigned updates (a
 * fulfill is stored as it arrives, for its preimage), so channel_reestablish forgets them again
 * (`forgetUnsigned`) before it resends anything; after a disconnect that finds nothing left to drop.
 */
export function forgetUnsigned(s: ChannelState): Step {
  return s.commit ? onDisconnect(s, s.commit) : { state: s, actions: [] };
}

function onDisconnect(s: ChannelState, c: Commitments): Step {
  const droppedAdds = c.localChanges.proposed.filter((u): u is Extract<Update, { kind: 'add' }> => u.kind === 'add');
  const theirAdds = c.remoteChanges.proposed.filter((u) => u.kind === 'add').length;
  if (!droppedAdds.length && !c.remoteChanges.proposed.length) return { state: s, actions: [] };
  const next: Commitments = {
    ...c,
    localNextHtlcId: c.localNextHtlcId - BigInt(droppedAdds.length),
    remoteNextHtlcId: c.remoteNextHtlcId - BigInt(theirAdds),
    localChanges: { ...c.localChanges, proposed: c.localChanges.proposed.filter((u) => u.kind !== 'add') },
    remoteChanges: { ...c.remoteChanges, proposed: [] },
  };
  return {
    state: withCommit(s, next),
    actions: [{ type: 'store' }, ...droppedAdds.map((u) => ({ type: 'htlc_failed' as const, id: u.htlc.id, local: 'the connection to the peer dropped before the payment was committed' }))],
  };
}

// ---------------------------------------------------------------------------------------------------
// The peer's messages

function onAdd(s: ChannelState, c: Commitments, m: UpdateAddHtlcMessage): Step {
  if (s.phase !== 'NORMAL') return fail(s, `update_add_htlc while the channel is ${s.phase.toLowerCase()}`);
  if (m.id !== c.remoteNextHtlcId) return fail(s, `update_add_htlc id ${m.id}, expected ${c.remoteNextHtlcId}`);
  if (m.amount_msat <= 0n || m.amount_msat < s.local.htlcMinimumMsat) return fail(s, `update_add_htlc of ${m.amount_msat} msat is below our minimum of ${s.local.htlcMinimumMsat}`);
  if (m.cltv_expiry >= MAX_CLTV) return fail(s, `update_add_htlc cltv_expiry ${m.cltv_expiry} is not a block height`);
  const htlc: Htlc = { id: m.id, amountMsat: m.amount_msat, paymentHash: m.payment_hash, cltvExpiry: m.cltv_expiry, onion: m.onion_routing_packet };
  const update: Update = { kind: 'add', htlc };
  const ours = reduce(c.localSpec, c.localChanges.acked, [...c.remoteChanges.proposed, update]);
  const incoming = ours.htlcs.filter((h) => h.incoming);
  if (incoming.length > s.local.maxAcceptedHtlcs) return fail(s, `more than our max_accepted_htlcs (${s.local.maxAcceptedHtlcs}) HTLCs`);
  const inFlight = incoming.reduce((t, h) => t + h.amountMsat, 0n);
  if (inFlight > s.local.maxHtlcValueInFlightMsat) return fail(s, `more than our max_htlc_value_in_flight_msat in flight`);
  let need = reserveOf(s.local.reserveSat);
  if (!s.funder) need += feeOf(s, ours, s.local.dustLimitSat, 'local');
  if (ours.toRemoteMsat < need) return fail(s, `update_add_htlc of ${m.amount_msat} msat is more than the peer can afford above its reserve and fees`);
  const next: Commitments = { ...c, remoteNextHtlcId: c.remoteNextHtlcId + 1n, remoteChanges: { ...c.remoteChanges, proposed: [...c.remoteChanges.proposed, update] } };
  return { state: withCommit(s, next), actions: [] };
}

function onRemoval(s: ChannelState, c: Commitments, update: Extract<Update, { id: bigint }>): Step {
  // The peer may only remove our HTLCs that are in a commitment it signed.
  const h = c.localSpec.htlcs.find((x) => !x.incoming && x.id === update.id) ?? c.remoteSpec.htlcs.find((x) => !x.incoming && x.id === update.id);
  if (!h) return fail(s, `the peer removed HTLC ${update.id}, which is not committed`);
  if (beingRemoved([c.remoteChanges.proposed, c.remoteChanges.acked, c.remoteChanges.signed], update.id)) return fail(s, `the peer removed HTLC ${update.id} twice`);
  const actions: ChannelAction[] = [];
  if (update.kind === 'fulfill') {
    if (!bytesEqual(sha256(update.preimage), h.paymentHash)) return fail(s, `update_fulfill_htlc ${update.id} carries a preimage that does not match its payment hash`);
    // The preimage is proof of payment from this moment on, whatever happens to the channel.
    actions.push({ type: 'htlc_fulfilled', id: update.id, preimage: update.preimage });
  }
  const next: Commitments = { ...c, remoteChanges: { ...c.remoteChanges, proposed: [...c.remoteChanges.proposed, update] } };
  return { state: withCommit(s, next), actions: [...actions, ...(actions.length ? [{ type: 'store' } as const] : [])] };
}

function onFee(s: ChannelState, c: Commitments, feeratePerKw: number, limits: ChannelLimits): Step {
  if (s.funder) return fail(s, 'update_fee from the peer, but we are the funder');
  if (feeratePerKw < 253 || feeratePerKw > limits.maxFeeratePerKw) return fail(s, `update_fee of ${feeratePerKw} sat/kw is unreasonable`);
  const update: Update = { kind: 'fee', feeratePerKw };
  const ours = reduce(c.localSpec, c.localChanges.acked, [...c.remoteChanges.proposed, update]);
  if (ours.toRemoteMsat < feeOf(s, ours, s.local.dustLimitSat, 'local')) return fail(s, `update_fee of ${feeratePerKw} sat/kw is more than the funder can pay`);
  const next: Commitments = { ...c, remoteChanges: { ...c.remoteChanges, proposed: [...c.remoteChanges.proposed.filter((u) => u.kind !== 'fee'), update] } };
  return { state: withCommit(s, next), actions: [] };
}

function onCommit(s: ChannelState, c: Commitments, m: CommitmentSignedMessage): Step {
  const spec = reduce(c.localSpec, c.localChanges.acked, c.remoteChanges.proposed);
  const index = c.localIndex + 1n;
  const point = pointAt(s, index);
  const tx = buildFromSpec(s, 'local', spec, index, point);
  if (!verifyCommitmentSig(s, tx, m.signature)) return fail(s, `commitment_signed: the signature does not sign our commitment ${index}`);
  const txs = htlcTxs(s, 'local', tx, point, spec.feeratePerKw);
  if (m.htlc_signature.length !== txs.length) return fail(s, `commitment_signed carries ${m.htlc_signature.length} HTLC signatures for ${txs.length} HTLC outputs`);
  const theirHtlcKey = commitmentKeys(s.local, s.remote!, point).remoteHtlcPubkey;
  const sighash = htlcSighash(s);
  for (const [i, h] of txs.entries()) {
    if (!secp.verify(m.htlc_signature[i]!, h.tx.hashForWitnessV0(0, h.witnessScript, h.valueSat, sighash), theirHtlcKey)) return fail(s, `commitment_signed: HTLC signature ${i} does not verify`);
  }
  const revoke: RevokeAndAckMessage = {
    type: 'revoke_and_ack',
    channel_id: s.channelId!,
    per_commitment_secret: ourCommitmentSecret(s.secrets.commitmentSeed, c.localIndex),
    next_per_commitment_point: pointAt(s, index + 1n),
  };
  const next: Commitments = {
    ...c,
    localIndex: index,
    localSpec: keep(spec, 'local'),
    localSig: m.signature,
    localHtlcSigs: m.htlc_signature,
    localChanges: { ...c.localChanges, acked: [] },
    remoteChanges: { ...c.remoteChanges, proposed: [], acked: [...c.remoteChanges.acked, ...c.remoteChanges.proposed] },
    lastSent: 'revoke',
  };
  // The new commitment (and its signatures) on disk before the old one is revoked.
  return { state: withCommit(s, next), actions: [{ type: 'store' }, { type: 'send', msg: revoke }] };
}

function onRevoke(s: ChannelState, c: Commitments, m: RevokeAndAckMessage): Step {
  if (!c.remoteNext) return fail(s, 'revoke_and_ack without a commitment to revoke');
  if (!bytesEqual(secp.getPublicKey(m.per_commitment_secret), c.remotePoint)) return fail(s, `revoke_and_ack: the secret does not match commitment ${c.remoteIndex}`);
  if (!secp.isPoint(m.next_per_commitment_point)) return fail(s, 'revoke_and_ack carries an invalid next point');
  const store = SecretStore.fromJSON(c.remoteSecrets);
  try {
    store.insert(FIRST_INDEX - c.remoteIndex, m.per_commitment_secret);
  } catch (e) {
    if (e instanceof ShachainError) return fail(s, `revoke_and_ack: ${e.message}`);
    throw e;
  }
  const events: ChannelAction[] = [];
  for (const u of c.remoteChanges.signed) {
    if (u.kind === 'add') events.push({ type: 'htlc_locked_in', htlc: u.htlc });
    else if (u.kind === 'fail') events.push({ type: 'htlc_failed', id: u.id, reason: u.reason });
    else if (u.kind === 'fail_malformed') events.push({ type: 'htlc_failed', id: u.id, malformed: { code: u.failureCode, sha256OfOnion: u.sha256OfOnion } });
  }
  // Stored lazily (`lazy`: on disk with the next durable write of the node's store, in call order)
  // unless an HTLC of ours failed with it. This step sends nothing and commits us to nothing, and
  // losing it in a crash is a revoke_and_ack lost on the way, which BOLT 2 recovers from:
  // - our channel_reestablish then asks for the revocation of commitment remoteIndex again
  //   (next_revocation_number), and the peer must send the same revoke_and_ack again; its secret is
  //   the peer's to give, and until it comes we hold what we held before it came (remoteNext pending,
  //   no commitment_signed of ours built on the point it brought);
  // - every message that depends on it is preceded by a durable write of this channel (our next
  //   commitment_signed, built on next_per_commitment_point; a fulfill of an HTLC it locked in) or
  //   depends on nothing stored (an update_fail_htlc of an HTLC it locked in is an unsigned update:
  //   lost in the crash too, and decided again when the HTLC locks in again);
  // - what the node does with a lock-in (an invoice settled, an HTLC forwarded with its origin) rides
  //   on those durable writes too, or is done again when the retransmitted revocation locks it in
  //   again. A failure is different: the payment it ends is reported failed (or failed back
  //   upstream) at once, and must not come back after a crash, so such a step is durable.
  const lazy = !events.some((a) => a.type === 'htlc_failed');
  const actions: ChannelAction[] = [lazy ? { type: 'store', lazy: true } : { type: 'store' }, ...events];
  const next: Commitments = {
    ...c,
    remoteIndex: c.remoteIndex + 1n,
    remoteSpec: c.remoteNext.spec,
    remotePoint: c.remoteNext.point,
    remoteNextPoint: m.next_per_commitment_point,
    remoteNext: undefined,
    remoteSecrets: store.toJSON(),
    localChanges: { ...c.localChanges, signed: [], acked: [...c.localChanges.acked, ...c.localChanges.signed] },
    remoteChanges: { ...c.remoteChanges, signed: [] },
  };
  delete next.remoteNext;
  return { state: withCommit(s, next), actions };
}

/** Each spec HTLC's output index in the peer's commitment `c` (null when trimmed), in spec order. */
export function htlcVouts(spec: Spec, c: Commitment): (number | null)[] {
  const at = new Map<string, number>();
  c.outputs.forEach((o, vout) => {
    // The peer's commitment: an HTLC it offered is one incoming to us.
    if (o.kind === 'htlc') at.set(`${o.htlc.offered ? 'in' : 'out'}:${o.htlc.id}`, vout);
  });
  return spec.htlcs.map((h) => at.get(`${h.incoming ? 'in' : 'out'}:${h.id}`) ?? null);
}

function pointAt(s: ChannelState, index: bigint): Uint8Array {
  return perCommitmentPoint(s.secrets.commitmentSeed, index);
}

// ---------------------------------------------------------------------------------------------------

export const UPDATE_MESSAGES = ['update_add_htlc', 'update_fulfill_htlc', 'update_fail_htlc', 'update_fail_malformed_htlc', 'update_fee', 'commitment_signed', 'revoke_and_ack'] as const;

/** Is this a message or request for the update machinery? */
export function isUpdate(input: { type: string; msg?: { type: string } }): boolean {
  if (input.type === 'message') return (UPDATE_MESSAGES as readonly string[]).includes(input.msg!.type);
  return ['add_htlc', 'fulfill_htlc', 'fail_htlc', 'fail_malformed_htlc', 'update_fee', 'sign', 'disconnected'].includes(input.type);
}

export function updateStep(state: ChannelState, input: UpdateInput | { type: 'message'; msg: Message }, limits: ChannelLimits): Step {
  if (!['NORMAL', 'SHUTDOWN', 'NEGOTIATING'].includes(state.phase)) {
    if (input.type === 'message') return fail(state, `${input.msg.type} while the channel is ${state.phase.toLowerCase()}`);
    if (input.type === 'add_htlc') return { state, actions: [{ type: 'add_refused', reason: 'the channel is not open' }] };
    return { state, actions: [] };
  }
  const c = commitmentsOf(state);
  const s = withCommit(state, c);
  if (input.type === 'message') {
    const m = input.msg;
    switch (m.type) {
      case 'update_add_htlc':
        return onAdd(s, c, m);
      case 'update_fulfill_htlc':
        return onRemoval(s, c, { kind: 'fulfill', id: m.id, preimage: m.payment_preimage });
      case 'update_fail_htlc':
        return onRemoval(s, c, { kind: 'fail', id: m.id, reason: m.reason });
      case 'update_fail_malformed_htlc':
        // BOLT 2: the BADONION bit must be set, or the channel fails.
        if (!(m.failure_code & 0x8000)) return fail(s, 'update_fail_malformed_htlc without the BADONION bit');
        return onRemoval(s, c, { kind: 'fail_malformed', id: m.id, sha256OfOnion: m.sha256_of_onion, failureCode: m.failure_code });
      case 'update_fee':
        return onFee(s, c, m.feerate_per_kw, limits);
      case 'commitment_signed':
        return onCommit(s, c, m);
      case 'revoke_and_ack':
        return onRevoke(s, c, m);
      default:
        return { state, actions: [] };
    }
  }
  switch (input.type) {
    case 'add_htlc':
      return sendAdd(s, c, input);
    case 'fulfill_htlc':
      return sendRemoval(s, c, { kind: 'fulfill', id: input.id, preimage: input.preimage });
    case 'fail_htlc':
      return sendRemoval(s, c, { kind: 'fail', id: input.id, reason: input.reason });
    case 'fail_malformed_htlc':
      return sendRemoval(s, c, { kind: 'fail_malformed', id: input.id, sha256OfOnion: input.sha256OfOnion, failureCode: input.failureCode });
    case 'update_fee':
      return sendFee(s, c, input.feeratePerKw);
    case 'sign':
      return sendCommit(s, c);
    case 'disconnected':
      return onDisconnect(s, c);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reestablish

/** Our channel_reestablish numbers and proof, once commitments have moved. */
export function reestablishFields(s: ChannelState): { next_commitment_number: bigint; next_revocation_number: bigint; your_last_per_commitment_secret: Uint8Array; my_current_per_commitment_point: Uint8Array } {
  const c = commitmentsOf(s);
  const last = c.remoteIndex > 0n ? SecretStore.fromJSON(c.remoteSecrets).lookup(FIRST_INDEX - (c.remoteIndex - 1n)) : undefined;
  return {
    next_commitment_number: c.localIndex + 1n,
    next_revocation_number: c.remoteIndex,
    your_last_per_commitment_secret: last ?? new Uint8Array(32),
    my_current_per_commitment_point: pointAt(s, c.localIndex),
  };
}

/**
 * The peer's channel_reestablish: what it missed of ours is sent again, in the order we first sent
 * it. A peer that knows of later states than ours means our data is stale: the channel is flagged and
 * nothing is published.
 */
export function onReestablishUpdates(s: ChannelState, m: { next_commitment_number: bigint; next_revocation_number: bigint; your_last_per_commitment_secret: Uint8Array }): { messages: Message[]; problem?: string } {
  const c = commitmentsOf(s);
  const messages: Message[] = [];
  // Their next_commitment_number: the commitment they expect us to sign next.
  let resendCommit = false;
  if (c.remoteNext) {
    if (m.next_commitment_number === c.remoteIndex + 1n) resendCommit = true;
    else if (m.next_commitment_number !== c.remoteIndex + 2n) return { messages, problem: `the peer expects commitment ${m.next_commitment_number}, we signed up to ${c.remoteIndex + 1n}` };
  } else if (m.next_commitment_number !== c.remoteIndex + 1n) {
    return { messages, problem: `the peer expects commitment ${m.next_commitment_number}, we signed up to ${c.remoteIndex}` };
  }
  // Their next_revocation_number: the revocation they expect from us next.
  let resendRevoke = false;
  if (m.next_revocation_number === c.localIndex - 1n && c.localIndex > 0n) resendRevoke = true;
  else if (m.next_revocation_number !== c.localIndex) {
    return { messages, problem: `the peer expects our revocation of commitment ${m.next_revocation_number}, but our current commitment is ${c.localIndex}` };
  }
  // option_data_loss_protect: the last secret they claim to have from us must be ours.
  if (c.localIndex > 0n && m.next_revocation_number > 0n) {
    const expected = perCommitmentSecret(s.secrets.commitmentSeed, FIRST_INDEX - (m.next_revocation_number - 1n));
    if (!bytesEqual(expected, m.your_last_per_commitment_secret)) return { messages, problem: 'the peer claims a per-commitment secret we never gave it' };
  }
  const revoke = (): RevokeAndAckMessage => ({
    type: 'revoke_and_ack',
    channel_id: s.channelId!,
    per_commitment_secret: ourCommitmentSecret(s.secrets.commitmentSeed, c.localIndex - 1n),
    next_per_commitment_point: pointAt(s, c.localIndex + 1n),
  });
  const commit = (): Message[] => [...c.localChanges.signed.map((u) => updateMessage(s, u)), c.remoteNext!.msg];
  if (resendRevoke && resendCommit) {
    // In the order they first went: the one sent last goes last.
    if (c.lastSent === 'commit') messages.push(revoke(), ...commit());
    else messages.push(...commit(), revoke());
  } else if (resendRevoke) messages.push(revoke());
  else if (resendCommit) messages.push(...commit());
  // Then our updates that are in no commitment_signed yet: kept over the disconnect, or made while
  // no connection could carry them. The peer has none of them; the next signature covers them.
  messages.push(...c.localChanges.proposed.map((u) => updateMessage(s, u)));
  return { messages };
}

/**
 * What we can offer in one more HTLC now, in msat: the same arithmetic sendAdd applies, on both
 * commitments as they will be once our pending updates are signed (our fulfills credit us at once).
 */
export function spendableMsat(s: ChannelState): bigint {
  if (s.phase !== 'NORMAL' || !s.remote) return 0n;
  const c = commitmentsOf(s);
  const theirs = reduce(c.remoteNext?.spec ?? c.remoteSpec, c.localChanges.proposed, c.remoteChanges.acked);
  const ours = reduce(c.localSpec, [...c.localChanges.acked, ...c.localChanges.signed, ...c.localChanges.proposed], c.remoteChanges.proposed);
  let v = (theirs.toLocalMsat < ours.toLocalMsat ? theirs.toLocalMsat : ours.toLocalMsat) - reserveOf(s.remote.reserveSat);
  // As the funder: the commitment fee with room for a fee spike (twice the feerate, one more HTLC),
  // counting the HTLC this amount makes too, as sendAdd does (an amount this large is never trimmed).
  if (s.funder) v -= feeOf(s, theirs, s.remote.dustLimitSat, 'remote', theirs.feeratePerKw * 2, 2);
  return v > 0n ? v : 0n;
}

/**
 * May our outgoing HTLC `id` be on a commitment now or later: in either side's commitment, in the one
 * we signed for the peer, or an add of ours stored and not yet forgotten? When this is false and the
 * HTLC's end never reached its payment, it failed (a fulfill's preimage is recorded before the channel
 * moves on), or it never left.
 */
export function mayCarryOutgoing(s: ChannelState, id: bigint): boolean {
  const c = s.commit;
  if (!c) return false;
  const inSpec = (spec: Spec | undefined): boolean => !!spec?.htlcs.some((h) => !h.incoming && h.id === id);
  const changes = [...c.localChanges.proposed, ...c.localChanges.signed, ...c.localChanges.acked];
  return inSpec(c.localSpec) || inSpec(c.remoteSpec) || inSpec(c.remoteNext?.spec) || changes.some((u) => u.kind === 'add' && u.htlc.id === id);
}

/** Current balances (our commitment), in msat. */
export function currentSpec(s: ChannelState): Spec {
  return s.commit?.localSpec ?? initialSpec(s);
}

/** True when nothing is in flight: no HTLC in either commitment and no update pending. */
export function isQuiet(s: ChannelState): boolean {
  const c = s.commit;
  if (!c) return true;
  return (
    !c.localSpec.htlcs.length &&
    !c.remoteSpec.htlcs.length &&
    !c.remoteNext &&
    !c.localChanges.proposed.length &&
    !c.localChanges.signed.length &&
    !c.localChanges.acked.length &&
    !c.remoteChanges.proposed.length &&
    !c.remoteChanges.acked.length &&
    !c.remoteChanges.signed.length
  );
}

export function describeHtlcs(s: ChannelState): string {
  const c = commitmentsOf(s);
  return c.localSpec.htlcs.map((h) => `${h.incoming ? 'in' : 'out'}#${h.id}:${h.amountMsat}:${hex.encode(h.paymentHash).slice(0, 8)}`).join(',');
}
