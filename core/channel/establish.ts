/**
 * Channel establishment v1 (BOLT 2): open_channel → accept_channel → funding_created →
 * funding_signed → channel_ready, as pure transitions. Validate first, change state last; any
 * violation fails the channel with a reason the peer and the user can read.
 */
import { hex } from '@scure/base';
import { secp } from '../crypto/secp256k1.ts';
import { FeatureSet } from '../wire/index.ts';
import type { AcceptChannelMessage, FundingCreatedMessage, FundingSignedMessage, Message, OpenChannelMessage } from '../wire/index.ts';
import { fundingScript, p2wsh } from '../tx/scripts.ts';
import { commitmentFee } from '../tx/commitment.ts';
import { basepointsOf } from '../keys/channel-keys.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { commitmentFor, initialBalances, perCommitmentPoint, signCommitment, verifyCommitmentSig } from './commitments.ts';
import { reserveFor } from './config.ts';
import type { ChannelConfig, ChannelLimits } from './config.ts';
import type { ChannelAction, ChannelInput, ChannelState, ChannelTypeName, SideParams, Step } from './types.ts';
import { onReestablish } from './reestablish.ts';
import { isUpdate, updateStep } from './updates.ts';
import { closeStep, maybeNegotiate } from './close.ts';
import { isOnChainInput, onChainStep } from './force-close.ts';

const MAX_HTLCS = 483;

export function channelTypeBytes(t: ChannelTypeName): Uint8Array {
  return FeatureSet.fromBits(t === 'anchors' ? [12, 22] : [12]).toBytes();
}

export function parseChannelType(b: Uint8Array | undefined): ChannelTypeName | undefined {
  if (!b) return undefined;
  const bits = FeatureSet.fromBytes(b).bits().join(',');
  return bits === '12' ? 'static_remotekey' : bits === '12,22' ? 'anchors' : undefined;
}

/** BOLT 2: channel_id = funding_txid (as in the transaction) XOR the output index in its last two bytes. */
export function channelIdFrom(txid: string, vout: number): Uint8Array {
  const id = Uint8Array.from(hex.decode(txid)).reverse();
  id[30]! ^= vout >> 8;
  id[31]! ^= vout & 0xff;
  return id;
}

export function pointAt(secrets: ChannelSecrets, commitmentNumber: bigint): Uint8Array {
  return perCommitmentPoint(secrets.commitmentSeed, commitmentNumber);
}

function localSide(secrets: ChannelSecrets, cfg: ChannelConfig, capacitySat: bigint): SideParams {
  return {
    basepoints: basepointsOf(secrets),
    dustLimitSat: cfg.dustLimitSat,
    reserveSat: reserveFor(capacitySat, cfg),
    htlcMinimumMsat: cfg.htlcMinimumMsat,
    maxHtlcValueInFlightMsat: cfg.maxHtlcValueInFlightMsat,
    maxAcceptedHtlcs: cfg.maxAcceptedHtlcs,
    toSelfDelay: cfg.toSelfDelay,
    firstPerCommitmentPoint: pointAt(secrets, 0n),
  };
}

function remoteSide(m: OpenChannelMessage | AcceptChannelMessage): SideParams {
  return {
    basepoints: {
      fundingPubkey: m.funding_pubkey,
      revocationBasepoint: m.revocation_basepoint,
      paymentBasepoint: m.payment_basepoint,
      delayedPaymentBasepoint: m.delayed_payment_basepoint,
      htlcBasepoint: m.htlc_basepoint,
    },
    dustLimitSat: m.dust_limit_satoshis,
    reserveSat: m.channel_reserve_satoshis,
    htlcMinimumMsat: m.htlc_minimum_msat,
    maxHtlcValueInFlightMsat: m.max_htlc_value_in_flight_msat,
    maxAcceptedHtlcs: m.max_accepted_htlcs,
    toSelfDelay: m.to_self_delay,
    firstPerCommitmentPoint: m.first_per_commitment_point,
  };
}

/** Checks shared by open_channel and accept_channel; returns a sentence when something is wrong. */
function checkSide(m: OpenChannelMessage | AcceptChannelMessage, capacitySat: bigint, ourDust: bigint, limits: ChannelLimits): string | undefined {
  const points = [m.funding_pubkey, m.revocation_basepoint, m.payment_basepoint, m.delayed_payment_basepoint, m.htlc_basepoint, m.first_per_commitment_point];
  if (!points.every((p) => secp.isPoint(p))) return 'a basepoint or the per-commitment point is not a valid public key';
  if (m.to_self_delay > limits.maxToSelfDelay) return `to_self_delay ${m.to_self_delay} is more than the ${limits.maxToSelfDelay} blocks we accept`;
  if (m.max_accepted_htlcs > MAX_HTLCS) return `max_accepted_htlcs ${m.max_accepted_htlcs} is over ${MAX_HTLCS}`;
  if (m.max_accepted_htlcs === 0) return 'max_accepted_htlcs is zero';
  if (m.dust_limit_satoshis < limits.minDustLimitSat) return `dust_limit_satoshis ${m.dust_limit_satoshis} is below ${limits.minDustLimitSat}`;
  if (m.dust_limit_satoshis > limits.maxDustLimitSat) return `dust_limit_satoshis ${m.dust_limit_satoshis} is absurd (over ${limits.maxDustLimitSat})`;
  if (m.dust_limit_satoshis > m.channel_reserve_satoshis) return 'dust_limit_satoshis is greater than channel_reserve_satoshis';
  if (m.channel_reserve_satoshis < ourDust) return `channel_reserve_satoshis ${m.channel_reserve_satoshis} is below our dust limit ${ourDust}`;
  if (Number(m.channel_reserve_satoshis) > Number(capacitySat) * limits.maxReserveRatio) return `channel_reserve_satoshis ${m.channel_reserve_satoshis} is more than ${limits.maxReserveRatio * 100}% of the channel`;
  return undefined;
}

function fail(state: ChannelState, reason: string, channelId?: Uint8Array): Step {
  const id = channelId ?? state.channelId ?? state.temporaryChannelId;
  return {
    state: { ...state, phase: 'FAILED', failure: reason },
    actions: [{ type: 'send', msg: { type: 'error', channel_id: id, data: new TextEncoder().encode(reason) } }, { type: 'failed', reason }],
  };
}

export interface OpenRequest {
  temporaryChannelId: Uint8Array;
  chainHash: Uint8Array;
  capacitySat: bigint;
  pushMsat: bigint;
  feeratePerKw: number;
  channelType: ChannelTypeName;
  announce: boolean;
  secrets: ChannelSecrets;
  config: ChannelConfig;
}

/** Funder: the first step, sending open_channel. */
export function openChannel(r: OpenRequest): Step {
  const local = localSide(r.secrets, r.config, r.capacitySat);
  const state: ChannelState = {
    phase: 'WAIT_ACCEPT',
    funder: true,
    temporaryChannelId: r.temporaryChannelId,
    channelType: r.channelType,
    capacitySat: r.capacitySat,
    pushMsat: r.pushMsat,
    feeratePerKw: r.feeratePerKw,
    minimumDepth: r.config.minimumDepth,
    secrets: r.secrets,
    local,
  };
  const msg: Message = {
    type: 'open_channel',
    chain_hash: r.chainHash,
    temporary_channel_id: r.temporaryChannelId,
    funding_satoshis: r.capacitySat,
    push_msat: r.pushMsat,
    dust_limit_satoshis: local.dustLimitSat,
    max_htlc_value_in_flight_msat: local.maxHtlcValueInFlightMsat,
    channel_reserve_satoshis: local.reserveSat,
    htlc_minimum_msat: local.htlcMinimumMsat,
    feerate_per_kw: r.feeratePerKw,
    to_self_delay: local.toSelfDelay,
    max_accepted_htlcs: local.maxAcceptedHtlcs,
    funding_pubkey: local.basepoints.fundingPubkey,
    revocation_basepoint: local.basepoints.revocationBasepoint,
    payment_basepoint: local.basepoints.paymentBasepoint,
    delayed_payment_basepoint: local.basepoints.delayedPaymentBasepoint,
    htlc_basepoint: local.basepoints.htlcBasepoint,
    first_per_commitment_point: local.firstPerCommitmentPoint,
    channel_flags: r.announce ? 1 : 0,
    tlvs: { channel_type: { type: channelTypeBytes(r.channelType) } },
  };
  return { state, actions: [{ type: 'send', msg }] };
}

export interface AcceptContext {
  chainHash: Uint8Array;
  secrets: ChannelSecrets;
  config: ChannelConfig;
  limits: ChannelLimits;
  /** Channel types we accept, in order of preference. */
  acceptTypes: ChannelTypeName[];
}

/** Fundee: answers an open_channel, or refuses it with a reason. */
export function acceptChannel(m: OpenChannelMessage, ctx: AcceptContext): Step {
  const capacity = m.funding_satoshis;
  const blank: ChannelState = {
    phase: 'FAILED',
    funder: false,
    temporaryChannelId: m.temporary_channel_id,
    channelType: 'static_remotekey',
    capacitySat: capacity,
    pushMsat: m.push_msat,
    feeratePerKw: m.feerate_per_kw,
    minimumDepth: ctx.config.minimumDepth,
    secrets: ctx.secrets,
    local: localSide(ctx.secrets, ctx.config, capacity),
  };
  if (hex.encode(m.chain_hash) !== hex.encode(ctx.chainHash)) return fail(blank, 'open_channel is for another chain');
  if (capacity < ctx.limits.minFundingSat) return fail(blank, `funding of ${capacity} sat is below our minimum of ${ctx.limits.minFundingSat}`);
  if (capacity > ctx.limits.maxFundingSat) return fail(blank, `funding of ${capacity} sat is above ${ctx.limits.maxFundingSat} (large channels are not supported)`);
  if (m.push_msat > capacity * 1000n) return fail(blank, 'push_msat is more than the channel holds');
  if (m.feerate_per_kw < ctx.limits.minFeeratePerKw || m.feerate_per_kw > ctx.limits.maxFeeratePerKw) return fail(blank, `feerate_per_kw ${m.feerate_per_kw} is outside ${ctx.limits.minFeeratePerKw}-${ctx.limits.maxFeeratePerKw}`);
  const type = parseChannelType(m.tlvs?.channel_type?.type);
  if (!type) return fail(blank, 'open_channel must name a channel_type we support (static_remotekey or anchors)');
  if (!ctx.acceptTypes.includes(type)) return fail(blank, `we do not accept ${type} channels`);
  const problem = checkSide(m, capacity, ctx.config.dustLimitSat, ctx.limits);
  if (problem) return fail(blank, problem);
  const state: ChannelState = { ...blank, phase: 'WAIT_FUNDING_CREATED', channelType: type, remote: remoteSide(m) };
  // The funder must afford the fee of the first commitment plus the reserve we ask of it.
  const fee = commitmentFee(0, m.feerate_per_kw, type === 'anchors') + (type === 'anchors' ? 660n : 0n);
  if (capacity - m.push_msat / 1000n < fee + state.local.reserveSat) return fail(blank, "the funder's balance cannot pay the first commitment's fee and the reserve");
  const l = state.local;
  const accept: Message = {
    type: 'accept_channel',
    temporary_channel_id: m.temporary_channel_id,
    dust_limit_satoshis: l.dustLimitSat,
    max_htlc_value_in_flight_msat: l.maxHtlcValueInFlightMsat,
    channel_reserve_satoshis: l.reserveSat,
    htlc_minimum_msat: l.htlcMinimumMsat,
    minimum_depth: ctx.config.minimumDepth,
    to_self_delay: l.toSelfDelay,
    max_accepted_htlcs: l.maxAcceptedHtlcs,
    funding_pubkey: l.basepoints.fundingPubkey,
    revocation_basepoint: l.basepoints.revocationBasepoint,
    payment_basepoint: l.basepoints.paymentBasepoint,
    delayed_payment_basepoint: l.basepoints.delayedPaymentBasepoint,
    htlc_basepoint: l.basepoints.htlcBasepoint,
    first_per_commitment_point: l.firstPerCommitmentPoint,
    tlvs: { channel_type: { type: channelTypeBytes(type) } },
  };
  return { state, actions: [{ type: 'send', msg: accept }] };
}

/** The transitions after the first message, for both sides. */
export function step(state: ChannelState, input: ChannelInput, limits: ChannelLimits): Step {
  if (isOnChainInput(input)) return onChainStep(state, input);
  if (state.phase === 'FAILED' || state.phase === 'CLOSED' || state.phase === 'FORCE_CLOSING') {
    if (input.type === 'add_htlc') return { state, actions: [{ type: 'add_refused', reason: 'the channel is closed' }] };
    return { state, actions: [] };
  }
  if (isUpdate(input)) return maybeNegotiate(updateStep(state, input as Parameters<typeof updateStep>[1], limits));
  const closing = closeStep(state, input);
  if (closing) return closing;
  if (input.type === 'message') {
    const m = input.msg;
    switch (m.type) {
      case 'accept_channel':
        return onAccept(state, m, limits);
      case 'funding_created':
        return onFundingCreated(state, m);
      case 'funding_signed':
        return onFundingSigned(state, m);
      case 'channel_reestablish':
        return onReestablish(state, m);
      case 'channel_ready':
        // A resent channel_ready after a reconnect changes nothing.
        if (state.phase === 'NORMAL' || state.phase === 'SHUTDOWN' || state.phase === 'NEGOTIATING') return { state, actions: [] };
        if (!['WAIT_FUNDING_CONFIRMED', 'WAIT_CHANNEL_READY'].includes(state.phase)) return fail(state, `channel_ready before the funding was signed`);
        if (!secp.isPoint(m.second_per_commitment_point)) return fail(state, 'channel_ready carries an invalid per-commitment point');
        return maybeNormal({ ...state, remoteSecondPoint: m.second_per_commitment_point }, []);
      case 'error': {
        // eslint-disable-next-line no-control-regex -- control characters from the peer are masked
        const reason = `the peer refused: ${new TextDecoder().decode(m.data).replace(/[\x00-\x1f]/g, '?').slice(0, 300)}`;
        return { state: { ...state, phase: 'FAILED', failure: reason }, actions: [{ type: 'failed', reason }] };
      }
      default:
        return fail(state, `unexpected ${m.type} while ${state.phase.toLowerCase()}`);
    }
  }
  if (input.type === 'funding_built') {
    if (state.phase !== 'WAIT_FUNDING_TX') return fail(state, 'funding transaction built at the wrong time');
    // From funding_created on, the channel is known by its real id.
    const s: ChannelState = { ...state, funding: { txid: input.txid, vout: input.vout }, channelId: channelIdFrom(input.txid, input.vout), phase: 'WAIT_FUNDING_SIGNED' };
    // We sign the fundee's first commitment; it signs ours in funding_signed.
    const theirs = commitmentFor(s, 'remote', s.remote!.firstPerCommitmentPoint, 0n, initialBalances(s));
    const msg: FundingCreatedMessage = {
      type: 'funding_created',
      temporary_channel_id: s.temporaryChannelId,
      funding_txid: Uint8Array.from(hex.decode(input.txid)).reverse(),
      funding_output_index: input.vout,
      signature: signCommitment(s, theirs),
    };
    return { state: s, actions: [{ type: 'store' }, { type: 'send', msg }] };
  }
  if (input.type !== 'funding_depth') return { state, actions: [] };
  if (state.phase !== 'WAIT_FUNDING_CONFIRMED' && state.phase !== 'WAIT_CHANNEL_READY') return { state, actions: [] };
  if (input.depth < state.minimumDepth || state.sentChannelReady) return { state, actions: [] };
  const ready: Message = { type: 'channel_ready', channel_id: state.channelId!, second_per_commitment_point: pointAt(state.secrets, 1n) };
  return maybeNormal({ ...state, sentChannelReady: true, shortChannelId: input.shortChannelId }, [{ type: 'store' }, { type: 'send', msg: ready }]);
}

function maybeNormal(s: ChannelState, actions: ChannelAction[]): Step {
  if (s.sentChannelReady && s.remoteSecondPoint) return { state: { ...s, phase: 'NORMAL' }, actions: [...actions, { type: 'store' }, { type: 'ready' }] };
  if (s.sentChannelReady) return { state: { ...s, phase: 'WAIT_CHANNEL_READY' }, actions };
  return { state: s, actions: [...actions, { type: 'store' }] };
}

function onAccept(state: ChannelState, m: AcceptChannelMessage, limits: ChannelLimits): Step {
  if (state.phase !== 'WAIT_ACCEPT') return fail(state, 'unexpected accept_channel');
  const type = parseChannelType(m.tlvs?.channel_type?.type);
  if (type !== state.channelType) return fail(state, `accept_channel must confirm channel_type ${state.channelType}`);
  if (m.minimum_depth > limits.maxMinimumDepth) return fail(state, `minimum_depth ${m.minimum_depth} is unreasonably large`);
  const problem = checkSide(m, state.capacitySat, state.local.dustLimitSat, limits);
  if (problem) return fail(state, problem);
  if (state.local.reserveSat < m.dust_limit_satoshis) return fail(state, 'our channel_reserve_satoshis is below their dust_limit_satoshis');
  const s: ChannelState = { ...state, phase: 'WAIT_FUNDING_TX', remote: remoteSide(m), minimumDepth: Math.max(1, m.minimum_depth) };
  const script = p2wsh(fundingScript(s.local.basepoints.fundingPubkey, s.remote!.basepoints.fundingPubkey));
  return { state: s, actions: [{ type: 'build_funding', script, amountSat: s.capacitySat }] };
}

function onFundingCreated(state: ChannelState, m: FundingCreatedMessage): Step {
  if (state.phase !== 'WAIT_FUNDING_CREATED') return fail(state, 'unexpected funding_created');
  const txid = hex.encode(Uint8Array.from(m.funding_txid).reverse());
  const s: ChannelState = { ...state, funding: { txid, vout: m.funding_output_index }, channelId: channelIdFrom(txid, m.funding_output_index) };
  const ours = commitmentFor(s, 'local', s.local.firstPerCommitmentPoint, 0n, initialBalances(s));
  if (!verifyCommitmentSig(s, ours, m.signature)) return fail(state, 'funding_created signature does not sign our first commitment');
  const theirs = commitmentFor(s, 'remote', s.remote!.firstPerCommitmentPoint, 0n, initialBalances(s));
  const msg: FundingSignedMessage = { type: 'funding_signed', channel_id: s.channelId!, signature: signCommitment(s, theirs) };
  const next: ChannelState = { ...s, phase: 'WAIT_FUNDING_CONFIRMED', remoteSigOnLocalCommitment: m.signature };
  // Store before we send: from funding_signed on, the funder may publish, and we must be able to act.
  return {
    state: next,
    actions: [{ type: 'store' }, { type: 'send', msg }, { type: 'watch_funding', txid, vout: m.funding_output_index, minimumDepth: next.minimumDepth }],
  };
}

function onFundingSigned(state: ChannelState, m: FundingSignedMessage): Step {
  if (state.phase !== 'WAIT_FUNDING_SIGNED') return fail(state, 'unexpected funding_signed');
  const channelId = channelIdFrom(state.funding!.txid, state.funding!.vout);
  if (hex.encode(m.channel_id) !== hex.encode(channelId)) return fail(state, 'funding_signed for another channel_id', channelId);
  const s: ChannelState = { ...state, channelId };
  const ours = commitmentFor(s, 'local', s.local.firstPerCommitmentPoint, 0n, initialBalances(s));
  if (!verifyCommitmentSig(s, ours, m.signature)) return fail(s, 'funding_signed signature does not sign our first commitment');
  const next: ChannelState = { ...s, phase: 'WAIT_FUNDING_CONFIRMED', remoteSigOnLocalCommitment: m.signature };
  // Only now is it safe to publish the funding: we hold a signed way back out.
  return {
    state: next,
    actions: [{ type: 'store' }, { type: 'publish_funding', txid: s.funding!.txid }, { type: 'watch_funding', txid: s.funding!.txid, vout: s.funding!.vout, minimumDepth: next.minimumDepth }],
  };
}
