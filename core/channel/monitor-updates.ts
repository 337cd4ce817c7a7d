/**
 * The chain monitor's updates (core/monitor/state.ts) a channel step made: what changed between the
 * state stored last and the one being stored, so they go into the same atomic write as the state and
 * are durable before any message the new state sends (core/node/monitor-records.ts). Pure, and cheap
 * for the steps that change nothing the monitor keeps (a few identity checks).
 */
import { FIRST_INDEX, SecretStore } from '../tx/shachain.ts';
import { bytesEqual } from '../util/bytes.ts';
import type { LocalCommitmentInfo, MonitorParams, MonitorUpdate, RemoteCommitmentInfo } from '../monitor/state.ts';
import type { ChannelState } from './types.ts';
import { buildFromSpec, commitmentsOf, htlcVouts } from './updates.ts';
import type { Commitments, Spec, Update } from './updates.ts';

/** Has the channel a funded commitment both sides signed: something that can reach the chain? */
export function monitorable(s: ChannelState): boolean {
  return !!s.funding && !!s.remote && !!s.remoteSigOnLocalCommitment && (!!s.commit || !!s.remoteSecondPoint || s.phase !== 'WAIT_FUNDING_SIGNED');
}

/**
 * The updates from `prev` to `next`: `prev` undefined (or a state with nothing to monitor) starts the
 * monitor with an `open` update holding everything as it stands.
 */
export function monitorUpdatesFor(prev: ChannelState | undefined, next: ChannelState): MonitorUpdate[] {
  if (!monitorable(next)) return [];
  if (!prev || !monitorable(prev)) return openUpdates(next);
  const p = commitmentsOf(prev);
  const c = commitmentsOf(next);
  const out: MonitorUpdate[] = [];
  if (c !== p) {
    if (c.remoteIndex > p.remoteIndex) {
      // The peer revoked one commitment (BOLT 2 allows no more per revoke_and_ack).
      const store = SecretStore.fromJSON(c.remoteSecrets);
      for (let n = p.remoteIndex; n < c.remoteIndex; n++) {
        const secret = store.lookup(FIRST_INDEX - n);
        if (secret) out.push({ type: 'revocation', number: n, secret });
      }
    }
    if (c.remoteNext && c.remoteNext !== p.remoteNext) out.push({ type: 'remote_commitment', commitment: remoteNextInfo(next, c) });
    if (c.localIndex !== p.localIndex) out.push({ type: 'local_commitment', commitment: localInfo(c) });
    for (const preimage of newPreimages(p, c)) out.push({ type: 'preimage', preimage });
  }
  const txid = next.close?.closingTxid;
  if (txid && txid !== prev.close?.closingTxid) out.push({ type: 'closing', txid });
  if (next.staleData && !prev.staleData) out.push({ type: 'stale' });
  return out;
}

function paramsOf(s: ChannelState): MonitorParams {
  const side = (x: NonNullable<ChannelState['remote']>) => ({ basepoints: x.basepoints, toSelfDelay: x.toSelfDelay, dustLimitSat: x.dustLimitSat });
  return { funding: { ...s.funding!, amountSat: s.capacitySat }, funder: s.funder, anchors: s.channelType === 'anchors', local: side(s.local), remote: side(s.remote!) };
}

function openUpdates(s: ChannelState): MonitorUpdate[] {
  const c = commitmentsOf(s);
  const preimages: Uint8Array[] = [];
  for (const list of [...Object.values(c.localChanges), ...Object.values(c.remoteChanges)] as Update[][]) for (const u of list) if (u.kind === 'fulfill') preimages.push(u.preimage);
  const up: MonitorUpdate = {
    type: 'open',
    params: paramsOf(s),
    local: localInfo(c),
    remote: remoteInfo(s, c.remoteSpec, c.remoteIndex, c.remotePoint),
    secrets: c.remoteSecrets,
    preimages,
  };
  if (c.remoteNext) up.remoteNext = remoteNextInfo(s, c);
  const out: MonitorUpdate[] = [up];
  if (s.close?.closingTxid) out.push({ type: 'closing', txid: s.close.closingTxid });
  if (s.staleData) out.push({ type: 'stale' });
  return out;
}

const htlcOf = (h: Spec['htlcs'][number]) => ({ id: h.id, incoming: h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry });

function localInfo(c: Commitments): LocalCommitmentInfo {
  return {
    number: c.localIndex,
    feeratePerKw: c.localSpec.feeratePerKw,
    toLocalMsat: c.localSpec.toLocalMsat,
    toRemoteMsat: c.localSpec.toRemoteMsat,
    htlcs: c.localSpec.htlcs.map(htlcOf),
    remoteSig: c.localSig,
    remoteHtlcSigs: c.localHtlcSigs,
  };
}

function remoteNextInfo(s: ChannelState, c: Commitments): RemoteCommitmentInfo {
  const n = c.remoteNext!;
  if (n.txid && n.htlcVouts) return infoOf(n.spec, c.remoteIndex + 1n, n.point, n.txid, n.htlcVouts);
  return remoteInfo(s, n.spec, c.remoteIndex + 1n, n.point);
}

/** The peer's commitment built again, for its txid and output indexes (once per channel, or for states kept before they were stored). */
function remoteInfo(s: ChannelState, spec: Spec, number: bigint, point: Uint8Array): RemoteCommitmentInfo {
  const tx = buildFromSpec(s, 'remote', spec, number, point);
  return infoOf(spec, number, point, tx.tx.getId(), htlcVouts(spec, tx));
}

function infoOf(spec: Spec, number: bigint, point: Uint8Array, txid: string, vouts: (number | null)[]): RemoteCommitmentInfo {
  return {
    number,
    txid,
    point,
    feeratePerKw: spec.feeratePerKw,
    // Seen from the peer, whose commitment it is: its balance is its to_local.
    toLocalMsat: spec.toRemoteMsat,
    toRemoteMsat: spec.toLocalMsat,
    htlcs: spec.htlcs.map((h, i) => ({ ...htlcOf(h), vout: vouts[i] ?? null })),
  };
}

/**
 * Preimages in fulfills `c` holds that `p` did not: ours as we send them (the shell stores a fulfill
 * before it leaves), the peer's as they arrive; in whatever stage a step left them.
 */
function newPreimages(p: Commitments, c: Commitments): Uint8Array[] {
  const fulfills = (x: Commitments): Update[] => [...x.localChanges.proposed, ...x.localChanges.signed, ...x.localChanges.acked, ...x.remoteChanges.proposed, ...x.remoteChanges.acked, ...x.remoteChanges.signed].filter((u) => u.kind === 'fulfill');
  const now = fulfills(c);
  if (!now.length) return [];
  const before = fulfills(p);
  const out: Uint8Array[] = [];
  for (const u of now) {
    if (u.kind !== 'fulfill' || before.includes(u)) continue;
    if (before.some((b) => b.kind === 'fulfill' && bytesEqual(b.preimage, u.preimage))) continue;
    out.push(u.preimage);
  }
  return out;
}
