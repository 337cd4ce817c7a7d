/**
 * Cooperative close (BOLT 2): shutdown from either side, then closing_signed fee negotiation with the
 * fee_range TLV. Without pending HTLCs (payments arrive with a later issue) the funder opens the
 * negotiation as soon as both shutdowns are exchanged.
 */
import { Transaction, script as bscript } from 'bitcoinjs-lib';
import { hex } from '@scure/base';
import { secp } from '../crypto/secp256k1.ts';
import { SIGHASH_ALL, commitmentFee } from '../tx/commitment.ts';
import { compareBytes, fundingScript } from '../tx/scripts.ts';
import { currentSpec, isQuiet } from './updates.ts';

/** Both balances of our current commitment, as funder and fundee. */
function balancesNow(st: ChannelState): { funderMsat: bigint; fundeeMsat: bigint } {
  const spec = currentSpec(st);
  return st.funder ? { funderMsat: spec.toLocalMsat, fundeeMsat: spec.toRemoteMsat } : { funderMsat: spec.toRemoteMsat, fundeeMsat: spec.toLocalMsat };
}
import type { ChannelInput, ChannelState, Step } from './types.ts';
import type { ClosingSignedMessage, Message, ShutdownMessage } from '../wire/index.ts';

/** Weight of a mutual close with two P2WPKH outputs, to price its fee. */
const CLOSING_WEIGHT = 672;

/** BOLT 2: shutdown scripts must be one of the standard forms (here: P2PKH, P2SH, segwit v0, and v1-16 with anysegwit). */
export function isValidShutdownScript(s: Uint8Array): boolean {
  if (s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 20 && s[23] === 0x88 && s[24] === 0xac) return true;
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 20 && s[22] === 0x87) return true;
  if (s[0] === 0 && ((s.length === 22 && s[1] === 20) || (s.length === 34 && s[1] === 32))) return true;
  if (s.length >= 4 && s.length <= 42 && s[0]! >= 0x51 && s[0]! <= 0x60 && s[1] === s.length - 2) return true;
  return false;
}

export function closingTx(st: ChannelState, feeSat: bigint): Transaction {
  const b = balancesNow(st);
  const funderGets = b.funderMsat / 1000n - feeSat;
  const fundeeGets = b.fundeeMsat / 1000n;
  const [localAmt, remoteAmt] = st.funder ? [funderGets, fundeeGets] : [fundeeGets, funderGets];
  const outs: { script: Uint8Array; value: bigint }[] = [];
  // Outputs below the dust limit are left out (their value goes to the fee).
  const dust = st.local.dustLimitSat > st.remote!.dustLimitSat ? st.local.dustLimitSat : st.remote!.dustLimitSat;
  if (localAmt >= dust) outs.push({ script: st.close!.localScript!, value: localAmt });
  if (remoteAmt >= dust) outs.push({ script: st.close!.remoteScript!, value: remoteAmt });
  outs.sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : compareBytes(x.script, y.script)));
  const tx = new Transaction();
  tx.version = 2;
  tx.addInput(Uint8Array.from(hex.decode(st.funding!.txid)).reverse(), st.funding!.vout, 0xffffffff);
  for (const o of outs) tx.addOutput(o.script, o.value);
  return tx;
}

function digest(st: ChannelState, tx: Transaction): Uint8Array {
  return tx.hashForWitnessV0(0, fundingScript(st.local.basepoints.fundingPubkey, st.remote!.basepoints.fundingPubkey), st.capacitySat, SIGHASH_ALL);
}

function fail(state: ChannelState, reason: string): Step {
  return {
    state: { ...state, phase: 'FAILED', failure: reason },
    actions: [{ type: 'send', msg: { type: 'error', channel_id: state.channelId!, data: new TextEncoder().encode(reason) } }, { type: 'failed', reason }],
  };
}

function feeRange(st: ChannelState, feeratePerKw: number): { min: bigint; max: bigint; proposal: bigint } {
  const min = BigInt(Math.ceil((253 * CLOSING_WEIGHT) / 1000));
  // Never more than the fee of the commitment it replaces (the legacy rule peers still check).
  const max = commitmentFee(0, currentSpec(st).feeratePerKw, st.channelType === 'anchors');
  const want = BigInt(Math.ceil((feeratePerKw * CLOSING_WEIGHT) / 1000));
  const proposal = want < min ? min : want > max ? max : want;
  return { min, max: max < min ? min : max, proposal };
}

function signedOffer(st: ChannelState, fee: bigint, range?: { min: bigint; max: bigint }): ClosingSignedMessage {
  const sig = secp.sign(digest(st, closingTx(st, fee)), st.secrets.fundingSecret);
  return { type: 'closing_signed', channel_id: st.channelId!, fee_satoshis: fee, signature: sig, ...(range ? { tlvs: { fee_range: { min_fee_satoshis: range.min, max_fee_satoshis: range.max } } } : {}) };
}

/** Both shutdowns exchanged: the funder makes the first offer. */
function afterShutdowns(st: ChannelState, feeratePerKw: number, actions: Step['actions']): Step {
  if (!st.close?.localScript || !st.close.remoteScript || !st.close.sentShutdown) return { state: st, actions };
  // Payments in flight finish first (BOLT 2): negotiation starts once no HTLC and no update is pending.
  if (!isQuiet(st)) return { state: { ...st, phase: 'SHUTDOWN' }, actions };
  if (!st.funder) return { state: { ...st, phase: 'NEGOTIATING' }, actions };
  const r = feeRange(st, feeratePerKw);
  const next: ChannelState = { ...st, phase: 'NEGOTIATING', close: { ...st.close, lastOfferedFee: r.proposal, feeRange: { min: r.min, max: r.max } } };
  return { state: next, actions: [...actions, { type: 'store' }, { type: 'send', msg: signedOffer(next, r.proposal, { min: r.min, max: r.max }) }] };
}

function shutdownMsg(st: ChannelState, script: Uint8Array): ShutdownMessage {
  return { type: 'shutdown', channel_id: st.channelId!, scriptpubkey: script };
}

/** After an update in SHUTDOWN: the last HTLC may just have gone, and negotiation can begin. */
export function maybeNegotiate(step: Step): Step {
  const st = step.state;
  if (st.phase !== 'SHUTDOWN' || !isQuiet(st)) return step;
  return afterShutdowns(st, st.feeratePerKw, step.actions);
}

/** The close-related transitions, from NORMAL onwards. Returns undefined for inputs it does not handle. */
export function closeStep(state: ChannelState, input: ChannelInput): Step | undefined {
  if (input.type === 'close') {
    if (state.phase !== 'NORMAL') return { state, actions: [{ type: 'failed', reason: `cannot close a channel that is ${state.phase.toLowerCase()}` }] };
    const st: ChannelState = { ...state, phase: 'SHUTDOWN', close: { ...state.close, localScript: input.script, sentShutdown: true } };
    return afterShutdowns(st, input.feeratePerKw, [{ type: 'store' }, { type: 'send', msg: shutdownMsg(st, input.script) }]);
  }
  if (input.type === 'shutdown_script') {
    if (state.close?.sentShutdown) return { state, actions: [] };
    const st: ChannelState = { ...state, close: { ...state.close, localScript: input.script, sentShutdown: true } };
    return afterShutdowns(st, input.feeratePerKw, [{ type: 'store' }, { type: 'send', msg: shutdownMsg(st, input.script) }]);
  }
  if (input.type === 'closing_confirmed') {
    return state.phase === 'CLOSING' ? { state: { ...state, phase: 'CLOSED' }, actions: [{ type: 'store' }] } : { state, actions: [] };
  }
  if (input.type !== 'message') return undefined;
  const m: Message = input.msg;
  if (m.type === 'shutdown') {
    if (!['NORMAL', 'SHUTDOWN'].includes(state.phase)) return fail(state, `unexpected shutdown while ${state.phase.toLowerCase()}`);
    if (!isValidShutdownScript(m.scriptpubkey)) return fail(state, 'shutdown scriptpubkey is not a standard script');
    if (state.close?.remoteScript && hex.encode(state.close.remoteScript) !== hex.encode(m.scriptpubkey)) return fail(state, 'shutdown scriptpubkey changed');
    const st: ChannelState = { ...state, phase: 'SHUTDOWN', close: { ...state.close, remoteScript: m.scriptpubkey } };
    // If we have not said shutdown yet, the shell must give us a script to be paid to.
    if (!st.close!.sentShutdown) return { state: st, actions: [{ type: 'store' }, { type: 'need_shutdown_script' }] };
    return afterShutdowns(st, 253, [{ type: 'store' }]);
  }
  if (m.type === 'closing_signed') {
    if (state.phase !== 'NEGOTIATING') return fail(state, `unexpected closing_signed while ${state.phase.toLowerCase()}`);
    const b = balancesNow(state);
    if (m.fee_satoshis > b.funderMsat / 1000n) return fail(state, `closing fee ${m.fee_satoshis} sat is more than the funder's balance`);
    const tx = closingTx(state, m.fee_satoshis);
    if (!secp.verify(m.signature, digest(state, tx), state.remote!.basepoints.fundingPubkey)) return fail(state, 'closing_signed signature does not sign the closing transaction');
    const theirRange = m.tlvs?.fee_range ? { min: m.tlvs.fee_range.min_fee_satoshis, max: m.tlvs.fee_range.max_fee_satoshis } : undefined;
    // Agreed when they sign the fee we last offered, or when their offer is acceptable to us.
    const ours = state.close?.feeRange ?? (state.funder ? feeRange(state, 253) : { min: 0n, max: b.funderMsat / 1000n });
    const acceptable = m.fee_satoshis === state.close?.lastOfferedFee || (m.fee_satoshis >= ours.min && m.fee_satoshis <= ours.max);
    if (!acceptable) {
      // Counter with the nearest fee we accept inside their range.
      const counter = m.fee_satoshis < ours.min ? ours.min : ours.max;
      if (theirRange && (counter < theirRange.min || counter > theirRange.max)) return fail(state, `no closing fee both sides accept (theirs ${theirRange.min}-${theirRange.max}, ours ${ours.min}-${ours.max})`);
      const st: ChannelState = { ...state, close: { ...state.close, lastOfferedFee: counter } };
      return { state: st, actions: [{ type: 'store' }, { type: 'send', msg: signedOffer(st, counter, ours) }] };
    }
    const ourSig = secp.sign(digest(state, tx), state.secrets.fundingSecret);
    const fs = fundingScript(state.local.basepoints.fundingPubkey, state.remote!.basepoints.fundingPubkey);
    const localFirst = compareBytes(state.local.basepoints.fundingPubkey, state.remote!.basepoints.fundingPubkey) < 0;
    const a = bscript.signature.encode(ourSig, SIGHASH_ALL);
    const c = bscript.signature.encode(m.signature, SIGHASH_ALL);
    tx.setWitness(0, [new Uint8Array(0), ...(localFirst ? [a, c] : [c, a]), fs]);
    const txHex = tx.toHex();
    const st: ChannelState = { ...state, phase: 'CLOSING', close: { ...state.close, closingTxHex: txHex, closingTxid: tx.getId() } };
    // Echo the agreed fee back (if we did not offer it ourselves) so the peer can publish too.
    const echo = m.fee_satoshis !== state.close?.lastOfferedFee ? [{ type: 'send' as const, msg: signedOffer(st, m.fee_satoshis, theirRange) }] : [];
    return { state: st, actions: [{ type: 'store' }, ...echo, { type: 'publish_closing', txHex, txid: tx.getId() }] };
  }
  return undefined;
}
