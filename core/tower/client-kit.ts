/**
 * The client's side of one backup: from a commitment of the peer's that the peer just revoked
 * (core/monitor/state.ts, RemoteCommitmentInfo) to what a tower gets: the hint and the encrypted kit.
 *
 * The commitment is built again from the channel's parameters (BOLT 3, the peer's side) and must
 * have the txid we signed; its to_local output is the one the kit spends. A commitment whose to_local
 * is absent (the peer's balance was dust) or too small to sweep at the session's feerate has nothing
 * for a tower to take: it is skipped, and said so. HTLC outputs of the revoked commitment stay with
 * the node's own monitor (kit version 0 carries none).
 */
import { buildCommitment } from '../tx/commitment.ts';
import { derivePubkey, obscuringFactor, revocationPubkey } from '../tx/keys.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { revokedCommitmentSecrets } from '../monitor/keys.ts';
import type { MonitorParams, RemoteCommitmentInfo } from '../monitor/state.ts';
import { breachHint, sealKit } from './blob.ts';
import type { JusticeKit } from './blob.ts';
import { justiceTx, JusticeError, signJustice } from './justice.ts';
import type { JusticeOutput } from './justice.ts';

/** The revoked commitment's to_local output, found from the channel's parameters; undefined when it has none. */
export function revokedToLocal(params: MonitorParams, c: RemoteCommitmentInfo): { out: JusticeOutput; keys: { revocationPubkey: Uint8Array; localDelayedPubkey: Uint8Array; csvDelay: number } } | undefined {
  const p = params;
  const keys = {
    revocationPubkey: revocationPubkey(p.local.basepoints.revocationBasepoint, c.point),
    localDelayedPubkey: derivePubkey(p.remote.basepoints.delayedPaymentBasepoint, c.point),
    localHtlcPubkey: derivePubkey(p.remote.basepoints.htlcBasepoint, c.point),
    remoteHtlcPubkey: derivePubkey(p.local.basepoints.htlcBasepoint, c.point),
    remotePaymentPubkey: p.local.basepoints.paymentBasepoint,
  };
  const factor = p.funder ? obscuringFactor(p.local.basepoints.paymentBasepoint, p.remote.basepoints.paymentBasepoint) : obscuringFactor(p.remote.basepoints.paymentBasepoint, p.local.basepoints.paymentBasepoint);
  // The peer's commitment: its outputs are "local" to it, and an HTLC incoming to us is one it offered.
  const built = buildCommitment({
    funding: { ...p.funding, localPubkey: p.remote.basepoints.fundingPubkey, remotePubkey: p.local.basepoints.fundingPubkey },
    commitmentNumber: c.number,
    obscuringFactor: factor,
    toSelfDelay: p.local.toSelfDelay,
    dustLimitSat: p.remote.dustLimitSat,
    feeratePerKw: c.feeratePerKw,
    anchors: p.anchors,
    localIsFunder: !p.funder,
    toLocalMsat: c.toLocalMsat,
    toRemoteMsat: c.toRemoteMsat,
    htlcs: c.htlcs.map((h) => ({ id: h.id, offered: h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry })),
    keys,
  });
  if (built.tx.getId() !== c.txid) throw new Error(`the peer's commitment ${c.number} built again has txid ${built.tx.getId()}, not ${c.txid} as signed: its backup would not match the chain`);
  const vout = built.outputs.findIndex((o) => o.kind === 'to_local');
  if (vout < 0) return undefined;
  return { out: { txid: c.txid, vout, valueSat: built.outputs[vout]!.amountSat }, keys: { revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey, csvDelay: p.local.toSelfDelay } };
}

export interface BackupOptions {
  params: MonitorParams;
  commitment: RemoteCommitmentInfo;
  /** The per-commitment secret the peer revealed for it. */
  perCommitmentSecret: Uint8Array;
  secrets: ChannelSecrets;
  sweepScript: Uint8Array;
  /** The session's sweep feerate (sat/kw): the justice transaction pays exactly this. */
  feeratePerKw: number;
  nonce: Uint8Array;
}

export type Backup = { ok: true; hint: Uint8Array; blob: Uint8Array; kit: JusticeKit; justiceTxid: string; sweptSat: bigint } | { ok: false; reason: 'no_to_local' | 'dust'; message: string };

/** The hint and blob for one revoked commitment, or why there is nothing to back up. */
export function backupFor(o: BackupOptions): Backup {
  const found = revokedToLocal(o.params, o.commitment);
  if (!found) return { ok: false, reason: 'no_to_local', message: `the peer's commitment ${o.commitment.number} has no to_local output (its balance was below the dust limit): nothing for a tower to take` };
  const { revocationSecret } = revokedCommitmentSecrets(o.secrets, o.perCommitmentSecret);
  const kitKeys = { sweepScript: o.sweepScript, ...found.keys };
  let plan;
  try {
    plan = justiceTx(kitKeys, found.out, o.feeratePerKw);
  } catch (e) {
    if (e instanceof JusticeError) return { ok: false, reason: 'dust', message: e.message };
    throw e;
  }
  const kit: JusticeKit = { ...kitKeys, toLocalSig: signJustice(plan, found.out, revocationSecret) };
  return { ok: true, hint: breachHint(o.commitment.txid), blob: sealKit(kit, o.commitment.txid, o.nonce), kit, justiceTxid: plan.tx.getId(), sweptSat: plan.valueSat };
}
