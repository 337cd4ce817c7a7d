/**
 * Two open channel ends driven by hand (the pure state machine, messages crossing as bytes), for tests
 * of what the shell stores: each side records whether its last step asked for a `store`.
 */
import { randomBytes } from 'node:crypto';
import { deriveChannelSecrets } from '../../core/keys/channel-keys.ts';
import { openChannel, acceptChannel, step } from '../../core/channel/establish.ts';
import { DEFAULT_CONFIG, DEFAULT_LIMITS } from '../../core/channel/config.ts';
import type { ChannelInput, ChannelState } from '../../core/channel/types.ts';
import { CHAIN_HASHES } from '../../core/wire/index.ts';
import type { Message, OpenChannelMessage } from '../../core/wire/index.ts';
import { chainWithCoin, fundingFrom, wire } from './channel.ts';
import type { ChannelRecord, ChannelStore } from '../../core/node/channel-store.ts';

export interface PairSide {
  state: ChannelState;
  outbox: Message[];
  /** Whether the last input asked the shell to store the state. */
  stored: boolean;
}

/** Two channel ends in NORMAL, funded on a playground chain; each side's secrets from its seed and key index. */
export async function openPair(a: { seed: Uint8Array; index: number }, b: { seed: Uint8Array; index: number }): Promise<{ funder: PairSide; fundee: PairSide }> {
  const { chain, miner, coinbase } = await chainWithCoin();
  let x = openChannel({ temporaryChannelId: new Uint8Array(randomBytes(32)), chainHash: CHAIN_HASHES.regtest, capacitySat: 1_000_000n, pushMsat: 300_000_000n, feeratePerKw: 2500, channelType: 'anchors', announce: false, secrets: deriveChannelSecrets(a.seed, 'regtest', a.index), config: DEFAULT_CONFIG });
  let y = acceptChannel(wire(x.actions)[0] as OpenChannelMessage, { chainHash: CHAIN_HASHES.regtest, secrets: deriveChannelSecrets(b.seed, 'regtest', b.index), config: DEFAULT_CONFIG, limits: DEFAULT_LIMITS, acceptTypes: ['anchors', 'static_remotekey'] });
  x = step(x.state, { type: 'message', msg: wire(y.actions)[0]! }, DEFAULT_LIMITS);
  const build = x.actions.find((s) => s.type === 'build_funding');
  if (build?.type !== 'build_funding') throw new Error('expected build_funding');
  const fundingTx = fundingFrom(miner, coinbase, build.script, build.amountSat);
  x = step(x.state, { type: 'funding_built', txid: fundingTx.getId(), vout: 0 }, DEFAULT_LIMITS);
  y = step(y.state, { type: 'message', msg: wire(x.actions)[0]! }, DEFAULT_LIMITS);
  x = step(x.state, { type: 'message', msg: wire(y.actions)[0]! }, DEFAULT_LIMITS);
  chain.acceptToMempool(fundingTx.toHex());
  await chain.mine(3, miner.script);
  const depth = { type: 'funding_depth' as const, depth: 3, shortChannelId: 102n << 40n };
  x = step(x.state, depth, DEFAULT_LIMITS);
  y = step(y.state, depth, DEFAULT_LIMITS);
  const [xr, yr] = [wire(x.actions)[0]!, wire(y.actions)[0]!];
  x = step(x.state, { type: 'message', msg: yr }, DEFAULT_LIMITS);
  y = step(y.state, { type: 'message', msg: xr }, DEFAULT_LIMITS);
  if (x.state.phase !== 'NORMAL' || y.state.phase !== 'NORMAL') throw new Error(`the pair did not open: ${x.state.phase} ${y.state.phase}`);
  return { funder: { state: x.state, outbox: [], stored: true }, fundee: { state: y.state, outbox: [], stored: true } };
}

/** Feeds one input to a side; its messages wait in its outbox. */
export function feed(side: PairSide, i: ChannelInput): void {
  const r = step(side.state, i, DEFAULT_LIMITS);
  side.state = r.state;
  side.stored = r.actions.some((a) => a.type === 'store');
  side.outbox.push(...wire(r.actions));
}

/** Delivers the first message waiting in `from`'s outbox to `to`. */
export function deliverOne(from: PairSide, to: PairSide): Message {
  const m = from.outbox.shift();
  if (!m) throw new Error('nothing to deliver');
  feed(to, { type: 'message', msg: m });
  return m;
}

export const onion = (): Uint8Array => new Uint8Array(randomBytes(1366));

/** A channel end with the store it is saved to, as the node keeps it. */
export interface StoredSide {
  side: PairSide;
  rec: ChannelRecord;
  store: ChannelStore;
}

/** Stores a side's state whenever its last step asked for it, as the node does. */
export async function stored(p: StoredSide): Promise<void> {
  if (p.side.stored) await p.store.save(p.rec, p.side.state);
}

/** Feeds one input to a side and stores the result if the step asked for it. */
export async function input(p: StoredSide, i: ChannelInput): Promise<void> {
  feed(p.side, i);
  await stored(p);
}

/** Delivers everything in flight and signs whatever is to sign, storing each step, until both are quiet. */
export async function settle(x: StoredSide, y: StoredSide): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await input(x, { type: 'sign' });
    await input(y, { type: 'sign' });
    if (!x.side.outbox.length && !y.side.outbox.length) return;
    for (const [from, to] of [
      [x, y],
      [y, x],
    ] as const) {
      while (from.side.outbox.length) {
        deliverOne(from.side, to.side);
        await stored(to);
      }
    }
  }
  throw new Error('the channel never went quiet');
}
