/**
 * What the channel tells its chain monitor (BOLT 5), as small updates each stored with the channel
 * state they come from, and what they fold into: everything the monitor needs to recognise any
 * commitment that can spend the funding output and to take what is ours from it, without the channel.
 *
 * Vocabulary (core/channel/updates.ts): "local" is our commitment, "remote" the peer's; an HTLC is
 * `incoming` when the peer offered it to us, whichever commitment holds it; numbers are commitment
 * numbers (ctn). A revoked commitment's HTLCs are kept as ranges, one per HTLC: the commitment numbers
 * it was in (Electrum's `lnhtlc.py` derives HTLC sets per commitment number the same way), so a payment
 * costs one entry however many commitments it lived through, and a revoked commitment without HTLCs
 * costs nothing (its number and secret follow from its locktime, sequence and the shachain).
 */
import { FIRST_INDEX, SecretStore } from '../tx/shachain.ts';
import type { StoredSecret } from '../tx/shachain.ts';
import { sha256 } from '../crypto/hash.ts';
import { bytesEqual } from '../util/bytes.ts';
import type { ChannelBasepoints } from '../keys/channel-keys.ts';

/** Stored records carry this; a reader refuses what it does not know. */
export const MONITOR_VERSION = 1;

/** What never changes for a channel: enough to rebuild any of its commitments (BOLT 3). */
export interface MonitorParams {
  funding: { txid: string; vout: number; amountSat: bigint };
  /** We opened (funded) the channel: we pay the commitment fee and the anchors. */
  funder: boolean;
  anchors: boolean;
  local: MonitorSide;
  remote: MonitorSide;
}

export interface MonitorSide {
  basepoints: ChannelBasepoints;
  /** The delay this side imposes on the other's to_local. */
  toSelfDelay: number;
  dustLimitSat: bigint;
}

/** An HTLC of a commitment, from our point of view. */
export interface MonitorHtlc {
  id: bigint;
  /** Offered by the peer to us. */
  incoming: boolean;
  amountMsat: bigint;
  paymentHash: Uint8Array;
  cltvExpiry: number;
}

/** A commitment of the peer's that we signed (BOLT 2 commitment_signed). */
export interface RemoteCommitmentInfo {
  number: bigint;
  txid: string;
  /** The peer's per-commitment point for it. */
  point: Uint8Array;
  feeratePerKw: number;
  /** The peer's balance and ours, before fees. */
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  /** Its HTLCs, each with its output index (null when trimmed: no output). */
  htlcs: (MonitorHtlc & { vout: number | null })[];
}

/** Our current commitment, with the peer's signatures that let us publish it. */
export interface LocalCommitmentInfo {
  number: bigint;
  feeratePerKw: number;
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  htlcs: MonitorHtlc[];
  /** The peer's signature (compact, 64 bytes) on it, and on each HTLC transaction in output order. */
  remoteSig: Uint8Array;
  remoteHtlcSigs: Uint8Array[];
}

/** An HTLC of the peer's revoked commitments `from`..`to` (inclusive). */
export interface RevokedHtlc {
  htlc: MonitorHtlc;
  from: bigint;
  to: bigint;
}

/**
 * One change, stored before the message that depends on it leaves (core/node/monitor-records.ts):
 * - `open`: the channel's parameters and where it stands when its monitor starts;
 * - `local_commitment`: the peer signed our next commitment (before our revoke_and_ack);
 * - `remote_commitment`: we signed the peer's next commitment (before our commitment_signed);
 * - `revocation`: the peer revoked commitment `number` with this secret;
 * - `preimage`: a preimage we learned (update_fulfill_htlc) or released (before our fulfill);
 * - `closing`: a cooperative closing transaction both signed;
 * - `stale`: the peer proved our state is out of date (option_data_loss_protect): never publish ours.
 */
export type MonitorUpdate =
  | { type: 'open'; params: MonitorParams; local: LocalCommitmentInfo; remote: RemoteCommitmentInfo; remoteNext?: RemoteCommitmentInfo; secrets: StoredSecret[]; preimages: Uint8Array[] }
  | { type: 'local_commitment'; commitment: LocalCommitmentInfo }
  | { type: 'remote_commitment'; commitment: RemoteCommitmentInfo }
  | { type: 'revocation'; number: bigint; secret: Uint8Array }
  | { type: 'preimage'; preimage: Uint8Array }
  | { type: 'closing'; txid: string }
  | { type: 'stale' };

/** Everything the updates fold into. */
export interface MonitorData {
  v: number;
  params: MonitorParams;
  local: LocalCommitmentInfo;
  /** The peer's current commitment, and the next one we signed while it has not revoked the current. */
  remote: RemoteCommitmentInfo;
  remoteNext?: RemoteCommitmentInfo;
  /** The peer's revealed per-commitment secrets (compact shachain store, BOLT 3). */
  secrets: StoredSecret[];
  revokedHtlcs: RevokedHtlc[];
  /** Preimages of HTLCs still in a commitment that may be published. */
  preimages: Uint8Array[];
  closingTxids: string[];
  stale: boolean;
}

/** A monitor update that does not fit the data it is applied to: the records are damaged. */
export class MonitorUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorUpdateError';
  }
}

const sameHtlc = (a: MonitorHtlc, b: MonitorHtlc): boolean => a.id === b.id && a.incoming === b.incoming;

/** Folds one update in (a new object; `d` is left as it was). `open` starts from nothing. */
export function applyUpdate(d: MonitorData | undefined, u: MonitorUpdate): MonitorData {
  if (u.type === 'open') {
    return { v: MONITOR_VERSION, params: u.params, local: u.local, remote: u.remote, ...(u.remoteNext ? { remoteNext: u.remoteNext } : {}), secrets: u.secrets, revokedHtlcs: [], preimages: u.preimages, closingTxids: [], stale: false };
  }
  if (!d) throw new MonitorUpdateError(`a ${u.type} update comes before the monitor's open record`);
  switch (u.type) {
    case 'local_commitment':
      if (u.commitment.number <= d.local.number) throw new MonitorUpdateError(`our commitment ${u.commitment.number} is not after ${d.local.number}`);
      return prune({ ...d, local: u.commitment });
    case 'remote_commitment':
      if (u.commitment.number !== d.remote.number + 1n || d.remoteNext) throw new MonitorUpdateError(`the peer's commitment ${u.commitment.number} does not follow ${d.remote.number}${d.remoteNext ? ' (one is pending already)' : ''}`);
      return { ...d, remoteNext: u.commitment };
    case 'revocation': {
      if (u.number !== d.remote.number || !d.remoteNext) throw new MonitorUpdateError(`a revocation of commitment ${u.number}, but the peer's current one is ${d.remote.number}`);
      const store = SecretStore.fromJSON(d.secrets);
      store.insert(FIRST_INDEX - u.number, u.secret);
      const revokedHtlcs = d.revokedHtlcs.slice();
      for (const h of d.remote.htlcs) {
        const at = revokedHtlcs.findIndex((r) => r.to === u.number - 1n && sameHtlc(r.htlc, h));
        const htlc: MonitorHtlc = { id: h.id, incoming: h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry };
        if (at >= 0) revokedHtlcs[at] = { ...revokedHtlcs[at]!, to: u.number };
        else revokedHtlcs.push({ htlc, from: u.number, to: u.number });
      }
      const { remoteNext: _gone, ...rest } = d;
      return prune({ ...rest, remote: d.remoteNext, secrets: store.toJSON(), revokedHtlcs });
    }
    case 'preimage':
      if (d.preimages.some((p) => bytesEqual(p, u.preimage))) return d;
      return { ...d, preimages: [...d.preimages, u.preimage] };
    case 'closing':
      return d.closingTxids.includes(u.txid) ? d : { ...d, closingTxids: [...d.closingTxids, u.txid] };
    case 'stale':
      return { ...d, stale: true };
  }
}

/** Preimages no commitment that may still be published holds an HTLC of are dropped. */
function prune(d: MonitorData): MonitorData {
  const live = [...d.local.htlcs, ...d.remote.htlcs, ...(d.remoteNext?.htlcs ?? [])].map((h) => h.paymentHash);
  const preimages = d.preimages.filter((p) => {
    const hash = sha256(p);
    return live.some((h) => bytesEqual(h, hash));
  });
  return preimages.length === d.preimages.length ? d : { ...d, preimages };
}

/** The peer's per-commitment secret for a revoked commitment, if it revealed it. */
export function revealedSecret(d: MonitorData, number: bigint): Uint8Array | undefined {
  if (number >= d.remote.number) return undefined;
  return SecretStore.fromJSON(d.secrets).lookup(FIRST_INDEX - number);
}

/** The HTLCs of the peer's revoked commitment `number`. */
export function revokedHtlcsAt(d: MonitorData, number: bigint): MonitorHtlc[] {
  return d.revokedHtlcs.filter((r) => r.from <= number && number <= r.to).map((r) => r.htlc);
}

/** The preimage of a payment hash, if known. */
export function preimageFor(d: MonitorData, paymentHash: Uint8Array): Uint8Array | undefined {
  return d.preimages.find((p) => bytesEqual(sha256(p), paymentHash));
}
