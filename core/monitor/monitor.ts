/**
 * The chain monitor of one channel (BOLT 5), pure: `step(state, input, env) → { state, actions }`.
 * Inputs are the channel's monitor updates, blocks connected (with what the chain watch matched in
 * them) and disconnected, and the user's force-close; actions are transactions to broadcast (each with
 * a deadline for fee bumping), outputs to watch, HTLC outcomes for the switch, and `store`.
 *
 * Decisions are not remembered but derived again at every input from what is on chain (the funding
 * spend, the spends of watched outputs, each at its height) and the tip: a block disconnected takes
 * its spends away, and whatever depended on them is no longer planned. A transaction once built for a
 * claim is kept under the claim's id (what it spends) and reused, so a claim planned again after a
 * reorg is the same transaction, never a second sweep of the same output. An outcome that fails an
 * HTLC upstream is told only once its spend is ANTI_REORG_DELAY deep; a preimage found on chain is
 * told at once (knowing it cannot be undone). LDK's ChannelMonitor and OnchainTxHandler, lnd's
 * contractcourt resolvers and lightning-kmp's `Closing` state do the same work.
 */
import { Transaction } from 'bitcoinjs-lib';
import { script as bscript } from 'bitcoinjs-lib';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { toLocalScript, p2wsh } from '../tx/scripts.ts';
import { bytesEqual } from '../util/bytes.ts';
import { buildJustice, revokedSecondStageInputs } from './justice.ts';
import { revokedDelayedInput, revokedHtlcInput } from './inputs.ts';
import { ourCommitmentSecrets, revokedCommitmentSecrets, theirCommitmentSecrets } from './keys.ts';
import { htlcSecondStage, sweepDelayed } from './local.ts';
import { claimRemoteHtlcs, sweepToRemote } from './remote.ts';
import { applyUpdate, MONITOR_VERSION, preimageFor } from './state.ts';
import { claimTxids, claimVersion, scheduledFeerate } from './bump.ts';
import type { Claim, ClaimBuilder, FeeEstimates } from './bump.ts';
import { bumpCommitment } from './anchor.ts';
import { htlcDeadlinePassed } from './deadline.ts';
import type { MonitorData, MonitorHtlc, MonitorUpdate } from './state.ts';
import type { OutPoint, SpendInput, WalletCoin, WalletSigner } from './types.ts';
import { classify, localCommitment, preimageIn, remoteCommitmentData, remoteKeys, remoteOutputs, signedLocalCommitment } from './view.ts';
import type { FundingSpendKind } from './view.ts';

/** Depth at which a spend is final: what depends on it is no longer revisited (LDK's ANTI_REORG_DELAY). */
export const ANTI_REORG_DELAY = 6;
/** Blocks we give a claim that no one can take from us before its fee should be raised. */
export const RELAXED_DEADLINE = 144;

/** A spend of an output the monitor follows, as the chain watch reported it. */
export interface Spend {
  txid: string;
  rawTx: string;
  height: number;
}

export type { Claim };

/** What the monitor learned from the chain and decided: stored by the shell on `store`. */
export interface MonitorChain {
  v: number;
  /** The tip the monitor last saw. */
  height: number;
  forceClose: boolean;
  fundingSpend?: Spend;
  /** Spends of watched outputs, by `txid:vout`. */
  spends: Record<string, Spend>;
  claims: Record<string, Claim>;
  /** Ids of the events told already (each is told once). */
  told: string[];
  /** Outputs asked of the chain watch already. */
  watched: string[];
  /**
   * Why an HTLC's deadline sent us on chain (BOLT 2), when one did: told to the channel again at each
   * start until the funding is spent, so a stop before the channel stored its failure does not leave
   * it open beside our published commitment.
   */
  deadline?: string;
}

export interface MonitorState {
  /** The channel's key: the owner tag of what the monitor watches. */
  channel: string;
  data: MonitorData;
  chain: MonitorChain;
}

/** What the shell hands every step: keys (never stored), where sweeps go, the feerate now. */
export interface MonitorEnv {
  secrets: ChannelSecrets;
  sweepScript: Uint8Array;
  feeratePerKw: number;
  /**
   * The node's estimates for 2, 6 and 144 blocks, from which each claim's feerate follows its deadline
   * (core/monitor/bump.ts); `feeratePerKw` for all three when absent.
   */
  feerates?: FeeEstimates;
  /** Wallet coins and their signer, for the HTLC transactions of an anchors channel (zero fee of their own). */
  wallet?: { coins: readonly WalletCoin[]; changeScript: Uint8Array; signer: WalletSigner };
}

export type MonitorInput =
  | { type: 'update'; update: MonitorUpdate }
  /** A block: its height, and the spends the chain watch matched in it (ChainWatch BlockMatches `spent`). */
  | { type: 'block_connected'; height: number; spent: readonly { outpoint: OutPoint; txid: string; rawTx: string; height: number }[] }
  /** The block at `height` left the chain: what it held is forgotten. */
  | { type: 'block_disconnected'; height: number }
  /** The user closes the channel unilaterally: publish our commitment. */
  | { type: 'force_close' }
  /**
   * The node started: every HTLC outcome the chain holds is told again, those told before too. An
   * outcome is stored as told before the switch has acted on it (a stop in between would lose it);
   * the switch takes one it acted on already as a replay.
   */
  | { type: 'restart' };

/** How an HTLC ended on chain. */
export interface HtlcRef {
  id: bigint;
  /** Offered by the peer to us. */
  incoming: boolean;
  paymentHash: Uint8Array;
  amountMsat: bigint;
}

export type MonitorAction =
  /** Store `state.chain` (the data part is stored by the channel). Comes before the broadcasts. */
  | { type: 'store' }
  /** Register with the chain watch under the channel's owner tag. */
  | { type: 'watch'; owner: string; outpoints: OutPoint[] }
  /** Publish (again, each block until it or a conflict confirms); raise the fee as `deadline` nears. */
  | { type: 'broadcast'; label: string; txid: string; txHex: string; deadline: number }
  | { type: 'funding_spent'; txid: string; spentBy: FundingSpendKind['kind']; number?: bigint }
  /** A preimage found on chain for an HTLC we offered: settle upstream. */
  | { type: 'claimed'; htlc: HtlcRef; preimage: Uint8Array; txid: string }
  /** An HTLC's fate is final: `failed` fails it upstream (ours), `succeeded` is ours claimed. */
  | { type: 'resolved'; htlc: HtlcRef; outcome: 'failed' | 'succeeded'; txid: string }
  /** Every output is settled and final: the monitor can be archived and its watches dropped. */
  | { type: 'closed'; txid: string }
  /** A claim that could not be built (dust at this feerate, no wallet coins), said once. */
  | { type: 'not_built'; label: string; reason: string; message: string }
  /** The force-close was refused, with the reason for people. */
  | { type: 'refused'; reason: string }
  /**
   * A block passed an HTLC's deadline (BOLT 2; core/monitor/deadline.ts): our commitment goes out as on
   * force_close, and the channel is failed with the peer told. `reason` says which HTLC and why.
   */
  | { type: 'deadline'; reason: string };

export function newMonitor(channel: string, data: MonitorData): MonitorState {
  return { channel, data, chain: { v: MONITOR_VERSION, height: 0, forceClose: false, spends: {}, claims: {}, told: [], watched: [] } };
}

const key = (o: OutPoint): string => `${o.txid}:${o.vout}`;
const ref = (h: MonitorHtlc): HtlcRef => ({ id: h.id, incoming: h.incoming, paymentHash: h.paymentHash, amountMsat: h.amountMsat });
const hid = (h: MonitorHtlc): string => `${h.incoming ? 'in' : 'out'}:${h.id}`;

export function step(s: MonitorState, input: MonitorInput, env: MonitorEnv): { state: MonitorState; actions: MonitorAction[] } {
  let chain = s.chain;
  let data = s.data;
  let rebroadcast = false;
  let dirty = false;
  /** The deadline to tell the channel of; `crossed` when this block crossed it. */
  let deadline: string | undefined;
  let crossed = false;
  switch (input.type) {
    case 'update':
      data = applyUpdate(data, input.update);
      break;
    case 'force_close':
      if (data.stale) return { state: s, actions: [{ type: 'refused', reason: 'the peer proved our channel data out of date: publishing our commitment could publish a revoked one and lose the channel; wait for the peer to close it' }] };
      if (chain.fundingSpend) return { state: s, actions: [{ type: 'refused', reason: 'the channel is closed on chain already' }] };
      chain = { ...chain, forceClose: true };
      rebroadcast = true;
      break;
    case 'restart':
      if (chain.deadline && !chain.fundingSpend) deadline = chain.deadline;
      break;
    case 'block_connected': {
      const f = data.params.funding;
      let spends = chain.spends;
      let fundingSpend = chain.fundingSpend;
      for (const m of input.spent) {
        const sp = { txid: m.txid, rawTx: m.rawTx, height: m.height };
        if (m.outpoint.txid === f.txid && m.outpoint.vout === f.vout) fundingSpend = sp;
        else if (chain.watched.includes(key(m.outpoint))) spends = { ...spends, [key(m.outpoint)]: sp };
      }
      dirty = spends !== chain.spends || fundingSpend !== chain.fundingSpend;
      chain = { ...chain, height: input.height, spends, ...(fundingSpend ? { fundingSpend } : {}) };
      rebroadcast = true;
      // An HTLC still open off chain past its deadline: we go on chain as a force close does (never
      // with stale data, which could publish a revoked commitment).
      if (!chain.forceClose && !chain.fundingSpend && !data.stale) {
        deadline = htlcDeadlinePassed(data, input.height);
        crossed = deadline !== undefined;
        if (deadline) chain = { ...chain, forceClose: true, deadline };
      }
      break;
    }
    case 'block_disconnected': {
      const spends = Object.fromEntries(Object.entries(chain.spends).filter(([, sp]) => sp.height < input.height));
      const { fundingSpend, ...rest } = chain;
      dirty = Object.keys(spends).length !== Object.keys(chain.spends).length || (!!fundingSpend && fundingSpend.height >= input.height);
      // What is still planned goes out again: the node's mempool may have lost it with the block.
      rebroadcast = true;
      chain = { ...rest, height: input.height - 1, spends, ...(fundingSpend && fundingSpend.height < input.height ? { fundingSpend } : {}) };
      // The channel forgets a funding spend that left (funding_unspent): it is told again when a block
      // holds it again, the same commitment at its new height or another.
      if (fundingSpend && !chain.fundingSpend) chain = { ...chain, told: chain.told.filter((id) => id !== `spent:${fundingSpend.txid}`) };
      break;
    }
  }
  // Fees are raised as blocks come (a restart or an update keeps what was built: the estimates may not
  // be known yet at a start, and a block follows soon).
  const p = plan({ ...s, data, chain }, env, input.type === 'block_connected');
  // Claims built now are kept; a broadcast goes out for new ones, and for all live ones each block.
  const claims = { ...chain.claims };
  const broadcasts: MonitorAction[] = [];
  let versions = 0;
  for (const c of p.claims) {
    // A new claim, or a new version of one (its fee raised), goes out at once.
    const isNew = claims[c.id]?.txid !== c.txid;
    if (isNew && claims[c.id]) versions++;
    claims[c.id] = c;
    if (isNew || rebroadcast) broadcasts.push({ type: 'broadcast', label: c.label, txid: c.txid, txHex: c.txHex, deadline: c.deadline });
  }
  const told = [...chain.told];
  const retell = (e: { id: string; action: MonitorAction }): boolean => input.type === 'restart' && (e.action.type === 'claimed' || e.action.type === 'resolved') && told.includes(e.id);
  const events = p.events.filter((e) => retell(e) || (told.includes(e.id) ? false : (told.push(e.id), true))).map((e) => e.action);
  const watch = p.watch.filter((o) => !chain.watched.includes(key(o)));
  const next: MonitorChain = { ...chain, claims, told, watched: [...chain.watched, ...watch.map(key)] };
  // The tip alone is not worth a write: the shell delivers the blocks from its scan point again.
  const changed = dirty || input.type === 'force_close' || crossed || next.told.length !== s.chain.told.length || Object.keys(claims).length !== Object.keys(s.chain.claims).length || versions > 0 || watch.length > 0;
  const actions: MonitorAction[] = [];
  if (changed) actions.push({ type: 'store' });
  if (watch.length) actions.push({ type: 'watch', owner: s.channel, outpoints: watch });
  actions.push(...events);
  if (deadline) actions.push({ type: 'deadline', reason: deadline });
  actions.push(...broadcasts);
  return { state: { ...s, data, chain: next }, actions };
}

// ---------------------------------------------------------------------------------------------------

interface Plan {
  claims: Claim[];
  events: { id: string; action: MonitorAction }[];
  watch: OutPoint[];
}

/** What the chain as the monitor sees it calls for now. */
function plan(s: MonitorState, env: MonitorEnv, bump: boolean): Plan {
  const { data: d, chain } = s;
  const out: Plan = { claims: [], events: [], watch: [] };
  const fs = chain.fundingSpend;
  if (!fs) {
    if (chain.forceClose && !d.stale) {
      const tx = signedLocalCommitment(d, env.secrets);
      const cltvs = d.local.htlcs.map((h) => h.cltvExpiry);
      const deadline = Math.min(chain.height + RELAXED_DEADLINE, ...cltvs);
      out.claims.push({ id: `commitment:${d.local.number}`, label: `our commitment ${d.local.number}`, txid: tx.getId(), txHex: tx.toHex(), deadline });
      if (d.params.anchors && env.wallet) planAnchorChild(s, env, tx, deadline, out, bump);
    }
    return out;
  }
  const tx = Transaction.fromHex(fs.rawTx);
  const kind = classify(d, tx, env.secrets);
  const number = 'number' in kind ? kind.number : undefined;
  out.events.push({ id: `spent:${fs.txid}`, action: { type: 'funding_spent', txid: fs.txid, spentBy: kind.kind, ...(number !== undefined ? { number } : {}) } });
  const ctx = new Ctx(s, env, fs, out, bump);
  if (kind.kind === 'local') planLocal(ctx);
  else if (kind.kind === 'remote' || kind.kind === 'revoked' || kind.kind === 'remote_unknown') planRemote(ctx, tx, kind);
  ctx.finish();
  return out;
}

/** The working state of one plan: the tip, the funding spend, and what is still open. */
class Ctx {
  readonly d: MonitorData;
  readonly tip: number;
  /** Outputs not yet spent for good, and HTLCs whose outcome is not final yet. */
  open = 0;
  /** HTLCs with an output in the confirmed commitment (the others end with it). */
  readonly onChain = new Set<string>();

  constructor(
    readonly s: MonitorState,
    readonly env: MonitorEnv,
    readonly fs: Spend,
    readonly out: Plan,
    /** New versions of kept claims may be built (at blocks). */
    readonly bump: boolean,
  ) {
    this.d = s.data;
    this.tip = s.chain.height;
  }

  final(height: number): boolean {
    return this.tip - height + 1 >= ANTI_REORG_DELAY;
  }

  spend(o: OutPoint): Spend | undefined {
    return this.s.chain.spends[key(o)];
  }

  /** Follows an output: watched, and open until its spend is final. */
  follow(o: OutPoint): Spend | undefined {
    this.out.watch.push(o);
    const sp = this.spend(o);
    if (!sp || !this.final(sp.height)) this.open++;
    return sp;
  }

  /** Is this spend one of our claims, in any version we published? */
  ours(sp: Spend): boolean {
    return Object.values(this.s.chain.claims).some((c) => claimTxids(c).includes(sp.txid));
  }

  /**
   * A claim: the transaction kept under `id`, a new version of it when its deadline or the estimates
   * call for a higher fee (core/monitor/bump.ts), or the first one built now.
   */
  claim(id: string, label: string, deadline: number, build: ClaimBuilder, opts: { fixedFee?: boolean } = {}): void {
    const kept = this.s.chain.claims[id];
    const wallet = this.env.wallet;
    const r = claimVersion({ id, label, deadline, tip: this.tip, estimates: estimatesOf(this.env), build, hold: !this.bump, ...(kept ? { kept } : {}), ...(wallet ? { walletCoins: () => wallet.coins } : {}), ...opts });
    if (r.claim) this.out.claims.push(r.claim);
    if (r.notBuilt) {
      const nb = r.notBuilt;
      if (kept) this.out.events.push({ id: `not-bumped:${kept.txid}`, action: { type: 'not_built', label: `${label} (fee raise)`, reason: nb.reason, message: nb.message } });
      else this.out.events.push({ id: `not-built:${id}`, action: { type: 'not_built', label, reason: nb.reason, message: nb.message } });
    }
  }

  event(id: string, action: MonitorAction): void {
    this.out.events.push({ id, action });
  }

  /** An HTLC of ours settled on chain with its preimage: told at once. */
  claimed(h: MonitorHtlc, sp: Spend, witness: readonly Uint8Array[]): boolean {
    const preimage = preimageIn(witness, h.paymentHash);
    if (!preimage) return false;
    this.event(`claimed:${hid(h)}`, { type: 'claimed', htlc: ref(h), preimage, txid: sp.txid });
    return true;
  }

  resolved(h: MonitorHtlc, outcome: 'failed' | 'succeeded', sp: Spend): void {
    if (this.final(sp.height)) this.event(`resolved:${hid(h)}`, { type: 'resolved', htlc: ref(h), outcome, txid: sp.txid });
    else this.open++;
  }

  /**
   * Our outgoing HTLCs with no output in the confirmed commitment (trimmed, or not in that one): failed
   * upstream once the commitment is final (BOLT 5). Then, with nothing open, the channel is closed.
   */
  finish(): void {
    const d = this.d;
    const outgoing = new Map<string, MonitorHtlc>();
    for (const h of [...d.local.htlcs, ...d.remote.htlcs, ...(d.remoteNext?.htlcs ?? [])]) if (!h.incoming) outgoing.set(hid(h), h);
    for (const [id, h] of outgoing) {
      if (this.onChain.has(id)) continue;
      if (this.final(this.fs.height)) this.event(`resolved:${id}`, { type: 'resolved', htlc: ref(h), outcome: 'failed', txid: this.fs.txid });
      else this.open++;
    }
    if (!this.open && this.final(this.fs.height)) this.event('closed', { type: 'closed', txid: this.fs.txid });
  }
}

const witnessOf = (sp: Spend, o: OutPoint): Uint8Array[] => {
  const tx = Transaction.fromHex(sp.rawTx);
  const input = tx.ins.find((i) => i.index === o.vout && Buffer.from(i.hash).reverse().toString('hex') === o.txid);
  return input?.witness ?? [];
};

/** Our commitment confirmed: to_local after the delay, our HTLCs through their second stage. */
function planLocal(x: Ctx): void {
  const { d, env, fs, tip } = x;
  const { c, keys, point } = localCommitment(d, env.secrets);
  const { delayedSecret, htlcSecret } = ourCommitmentSecrets(env.secrets, point);
  const delay = d.params.remote.toSelfDelay;
  const secondScript = toLocalScript(keys.revocationPubkey, delay, keys.localDelayedPubkey);
  let htlcIndex = 0;
  c.outputs.forEach((o, vout) => {
    const op = { txid: fs.txid, vout };
    if (o.kind === 'to_local') {
      const sp = x.follow(op);
      if (!sp && tip >= fs.height + delay - 1) {
        x.claim(`to_local:${key(op)}`, 'to_local', fs.height + delay + RELAXED_DEADLINE, (rate) => sweepDelayed({ output: { outpoint: op, valueSat: o.amountSat, witnessScript: o.witnessScript! }, toSelfDelay: delay, delayedSecret, sweepTo: env.sweepScript, feeratePerKw: rate }));
      }
      return;
    }
    if (o.kind !== 'htlc') return;
    const sig = d.local.remoteHtlcSigs[htlcIndex++]!;
    const h = d.local.htlcs.find((m) => m.id === o.htlc.id && m.incoming === !o.htlc.offered)!;
    x.onChain.add(hid(h));
    const sp = x.follow(op);
    const preimage = h.incoming ? preimageFor(d, h.paymentHash) : undefined;
    if (!sp) {
      if (h.incoming ? !preimage : tip < h.cltvExpiry) return;
      x.claim(`htlc:${key(op)}`, h.incoming ? `htlc-success ${h.id}` : `htlc-timeout ${h.id}`, h.incoming ? h.cltvExpiry : h.cltvExpiry + RELAXED_DEADLINE, (rate, coins) =>
        htlcSecondStage({
          commitmentTxid: fs.txid,
          output: { vout, valueSat: o.amountSat, witnessScript: o.witnessScript, htlc: o.htlc },
          anchors: d.params.anchors,
          commitmentFeeratePerKw: d.local.feeratePerKw,
          toSelfDelay: delay,
          revocationPubkey: keys.revocationPubkey,
          localDelayedPubkey: keys.localDelayedPubkey,
          localHtlcSecret: htlcSecret,
          remoteHtlcSig: bscript.signature.encode(sig, d.params.anchors ? 0x83 : 0x01),
          ...(preimage ? { preimage } : {}),
          ...(d.params.anchors && env.wallet ? { fees: { feeratePerKw: rate, coins: coins(), changeScript: env.wallet.changeScript, signer: env.wallet.signer } } : {}),
        }),
        // Without anchors (or wallet coins) its fee is what the peer signed: nothing to raise.
        { fixedFee: !(d.params.anchors && env.wallet) },
      );
      return;
    }
    const spender = Transaction.fromHex(sp.rawTx);
    const second = spender.outs.findIndex((out) => bytesEqual(out.script, p2wsh(secondScript)));
    if (second < 0) {
      // The peer's: with the preimage (an HTLC we offered), or by timeout (one it offered).
      if (!h.incoming && x.claimed(h, sp, witnessOf(sp, op))) return;
      x.resolved(h, h.incoming ? 'failed' : 'succeeded', sp);
      return;
    }
    // Our HTLC transaction: its output comes back after the delay.
    const sop = { txid: sp.txid, vout: second };
    const ssp = x.follow(sop);
    if (!ssp && tip >= sp.height + delay - 1) {
      x.claim(`delayed:${key(sop)}`, `htlc ${h.id} output`, sp.height + delay + RELAXED_DEADLINE, (rate) => sweepDelayed({ output: { outpoint: sop, valueSat: spender.outs[second]!.value, witnessScript: secondScript }, toSelfDelay: delay, delayedSecret, sweepTo: env.sweepScript, feeratePerKw: rate }));
    }
    x.resolved(h, h.incoming ? 'succeeded' : 'failed', sp);
  });
}

/** The peer's commitment confirmed: current or next (claims), revoked (justice), or later than we know (to_remote). */
function planRemote(x: Ctx, tx: Transaction, kind: FundingSpendKind): void {
  const { d, env, fs, tip } = x;
  const { point, htlcs } = remoteCommitmentData(d, kind);
  const anchors = d.params.anchors;
  const revoked = kind.kind === 'revoked' ? revokedCommitmentSecrets(env.secrets, kind.secret) : undefined;
  const htlcSecret = point ? theirCommitmentSecrets(env.secrets, point).htlcSecret : undefined;
  const justice: SpendInput[] = [];
  for (const o of remoteOutputs(d, tx, point, htlcs)) {
    const op = { txid: fs.txid, vout: o.vout };
    if (o.kind === 'to_remote') {
      const sp = x.follow(op);
      if (!sp && (!anchors || tip >= fs.height)) {
        x.claim(`to_remote:${key(op)}`, 'to_remote', fs.height + RELAXED_DEADLINE, (rate) => sweepToRemote({ output: { outpoint: op, valueSat: o.valueSat, ...(o.witnessScript ? { witnessScript: o.witnessScript } : {}) }, anchors, paymentSecret: env.secrets.paymentBasepointSecret, sweepTo: env.sweepScript, feeratePerKw: rate }));
      }
      continue;
    }
    if (o.kind === 'to_local') {
      if (!revoked) continue;
      if (!x.follow(op)) justice.push(revokedDelayedInput({ outpoint: op, valueSat: o.valueSat, witnessScript: o.witnessScript!, revocationSecret: revoked.revocationSecret, label: 'revoked to_local' }));
      continue;
    }
    if (o.kind !== 'htlc') continue;
    const h = o.htlc;
    x.onChain.add(hid(h));
    const sp = x.follow(op);
    if (revoked) {
      if (!sp) {
        justice.push(revokedHtlcInput({ outpoint: op, valueSat: o.valueSat, witnessScript: o.witnessScript, revocationSecret: revoked.revocationSecret, label: `revoked htlc ${h.id}` }));
        continue;
      }
      if (!x.ours(sp)) {
        // The cheater's HTLC transaction: a preimage in it settles ours upstream; its output is ours too.
        if (!h.incoming) x.claimed(h, sp, witnessOf(sp, op));
        const second = revokedSecondStageInputs({ htlcTx: Transaction.fromHex(sp.rawTx), revocationSecret: revoked.revocationSecret, theirDelayedPubkey: remoteKeys(d, point!).localDelayedPubkey, toSelfDelay: d.params.local.toSelfDelay });
        for (const i of second) if (!x.follow(i.outpoint)) justice.push(i);
      }
      if (!h.incoming) x.resolved(h, 'failed', sp);
      continue;
    }
    if (!sp) {
      const preimage = h.incoming ? preimageFor(d, h.paymentHash) : undefined;
      if (h.incoming ? !preimage : tip < h.cltvExpiry) continue;
      if (anchors && tip < fs.height) continue;
      x.claim(`htlc:${key(op)}`, h.incoming ? `htlc ${h.id} (preimage)` : `htlc ${h.id} (timeout)`, h.incoming ? h.cltvExpiry : h.cltvExpiry + RELAXED_DEADLINE, (rate) =>
        claimRemoteHtlcs({ claims: [{ output: { outpoint: op, valueSat: o.valueSat, witnessScript: o.witnessScript }, cltvExpiry: h.cltvExpiry, ...(preimage ? { preimage } : {}) }], anchors, htlcSecret: htlcSecret!, sweepTo: env.sweepScript, feeratePerKw: rate }),
      );
      continue;
    }
    if (x.ours(sp)) x.resolved(h, h.incoming ? 'succeeded' : 'failed', sp);
    else if (h.incoming || !x.claimed(h, sp, witnessOf(sp, op))) x.resolved(h, h.incoming ? 'failed' : 'succeeded', sp);
  }
  if (!revoked || !justice.length) return;
  // One penalty for everything revoked and unspent now (split only past the weight limit): kept under
  // what it spends, so it is built again only when that changes (the cheater took an output first), or
  // in a new version of each batch, split the same way, when its fee must rise as the deadline nears.
  const group = `justice:${justice.map((i) => key(i.outpoint)).sort().join(',')}`;
  const deadline = fs.height + d.params.local.toSelfDelay;
  const batches = (rate: number) => buildJustice({ inputs: justice, sweepTo: env.sweepScript, feeratePerKw: rate });
  let count = Object.values(x.s.chain.claims).filter((c) => c.id.startsWith(`${group}#`)).length;
  if (!count) {
    const r = batches(scheduledFeerate(deadline - tip, estimatesOf(env)));
    for (const nb of r.notBuilt) x.event(`not-built:${group}:${nb.reason}`, { type: 'not_built', label: 'justice', reason: nb.reason, message: nb.message });
    count = r.built.length;
  }
  for (let i = 0; i < count; i++) {
    x.claim(`${group}#${i}`, 'justice', deadline, (rate) => {
      const r = batches(rate);
      if (r.built.length === count) return r.built[i]!;
      return r.notBuilt[0] ?? { ok: false, reason: 'nothing-to-sweep', message: `at ${rate} sat/kw the penalty splits into ${r.built.length} transactions, not ${count}` };
    });
  }
}

/** The estimates a monitor's fees follow: the node's three, or its one feerate for all. */
function estimatesOf(env: MonitorEnv): FeeEstimates {
  return env.feerates ?? { urgent: env.feeratePerKw, normal: env.feeratePerKw, economy: env.feeratePerKw };
}

/**
 * Our commitment of an anchors channel waits to confirm: a CPFP child through our anchor and wallet
 * coins brings the package to the feerate its deadline calls for, replaced by one paying more as the
 * deadline nears (BOLT 3 "Anchor Outputs"). Kept as a claim, so it is stored and sent again each block;
 * none while the commitment pays enough on its own.
 */
function planAnchorChild(s: MonitorState, env: MonitorEnv, commitment: Transaction, deadline: number, out: Plan, bump: boolean): void {
  const wallet = env.wallet!;
  const { c } = localCommitment(s.data, env.secrets);
  const vout = c.outputs.findIndex((o) => o.kind === 'anchor_local');
  if (vout < 0) return;
  const txid = commitment.getId();
  const id = `anchor:${txid}`;
  const kept = s.chain.claims[id];
  const r = claimVersion({
    id,
    label: 'anchor CPFP child',
    deadline,
    tip: s.chain.height,
    estimates: estimatesOf(env),
    hold: !bump,
    ...(kept ? { kept } : {}),
    walletCoins: () => wallet.coins,
    build: (rate, coins) =>
      bumpCommitment({
        commitment,
        commitmentFeeSat: c.feeSat,
        anchor: { outpoint: { txid, vout }, valueSat: c.outputs[vout]!.amountSat, witnessScript: c.outputs[vout]!.witnessScript! },
        fundingSecret: env.secrets.fundingSecret,
        feeratePerKw: rate,
        coins: coins(),
        changeScript: wallet.changeScript,
        signer: wallet.signer,
      }),
  });
  if (r.claim) out.claims.push(r.claim);
  const nb = r.notBuilt;
  // The commitment paying enough alone is no failure: a child is built when the feerate asks more.
  if (nb && nb.reason !== 'nothing-to-sweep') out.events.push({ id: kept ? `not-bumped:${kept.txid}` : `not-built:${id}`, action: { type: 'not_built', label: 'anchor CPFP child', reason: nb.reason, message: nb.message } });
}
