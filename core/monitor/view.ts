/**
 * The commitments a monitor knows, seen on chain (BOLT 5): which one spent the funding output, and
 * what each of its outputs is. Our commitment is built again (and signed, to publish it); the peer's
 * are read from the transaction itself, each output recognised by its script (BOLT 3), so a revoked
 * one needs no more than its number, the secret the peer gave up and its HTLCs.
 */
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import { secp } from '../crypto/secp256k1.ts';
import { sha256 } from '../crypto/hash.ts';
import { buildCommitment, signInput } from '../tx/commitment.ts';
import type { Commitment, CommitmentKeys } from '../tx/commitment.ts';
import { derivePubkey, obscuringFactor, revocationPubkey } from '../tx/keys.ts';
import { compareBytes, fundingScript, offeredHtlcScript, p2wpkh, p2wsh, receivedHtlcScript, toLocalScript, toRemoteAnchorsScript } from '../tx/scripts.ts';
import { FIRST_INDEX, perCommitmentSecret } from '../tx/shachain.ts';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import { bytesEqual } from '../util/bytes.ts';
import { revealedSecret, revokedHtlcsAt } from './state.ts';
import type { MonitorData, MonitorHtlc } from './state.ts';

/** What spent the funding output. */
export type FundingSpendKind =
  | { kind: 'cooperative' }
  | { kind: 'local'; number: bigint }
  | { kind: 'remote'; number: bigint; next: boolean }
  | { kind: 'revoked'; number: bigint; secret: Uint8Array }
  /** A commitment of the peer's later than any we know: our data is out of date (only to_remote is ours). */
  | { kind: 'remote_unknown'; number: bigint }
  /** Not a commitment (no obscured number) and not a closing we signed: both signed it all the same. */
  | { kind: 'other' };

/** An output of a commitment on chain, and what it is to us. */
export type CommitmentOut =
  | { vout: number; valueSat: bigint; kind: 'to_local' | 'to_remote'; witnessScript?: Uint8Array }
  | { vout: number; valueSat: bigint; kind: 'htlc'; htlc: MonitorHtlc; witnessScript: Uint8Array; index: number };

const factorOf = (d: MonitorData): bigint => (d.params.funder ? obscuringFactor(d.params.local.basepoints.paymentBasepoint, d.params.remote.basepoints.paymentBasepoint) : obscuringFactor(d.params.remote.basepoints.paymentBasepoint, d.params.local.basepoints.paymentBasepoint));

/** The commitment number a commitment transaction carries in its locktime and sequence (BOLT 3), if it is one. */
export function commitmentNumberOf(d: MonitorData, tx: Transaction): bigint | undefined {
  if (tx.ins.length !== 1 || tx.locktime >>> 24 !== 0x20 || tx.ins[0]!.sequence >>> 24 !== 0x80) return undefined;
  const obscured = (BigInt(tx.ins[0]!.sequence & 0xffffff) << 24n) | BigInt(tx.locktime & 0xffffff);
  return obscured ^ factorOf(d);
}

export function ourPoint(secrets: ChannelSecrets, number: bigint): Uint8Array {
  return secp.getPublicKey(perCommitmentSecret(secrets.commitmentSeed, FIRST_INDEX - number));
}

/** Our current commitment as the peer signed it (unsigned by us), with its keys and point. */
export function localCommitment(d: MonitorData, secrets: ChannelSecrets): { c: Commitment; keys: CommitmentKeys; point: Uint8Array } {
  const { params: p, local: l } = d;
  const point = ourPoint(secrets, l.number);
  const keys: CommitmentKeys = {
    revocationPubkey: revocationPubkey(p.remote.basepoints.revocationBasepoint, point),
    localDelayedPubkey: derivePubkey(p.local.basepoints.delayedPaymentBasepoint, point),
    localHtlcPubkey: derivePubkey(p.local.basepoints.htlcBasepoint, point),
    remoteHtlcPubkey: derivePubkey(p.remote.basepoints.htlcBasepoint, point),
    remotePaymentPubkey: p.remote.basepoints.paymentBasepoint,
  };
  const c = buildCommitment({
    funding: { ...p.funding, localPubkey: p.local.basepoints.fundingPubkey, remotePubkey: p.remote.basepoints.fundingPubkey },
    commitmentNumber: l.number,
    obscuringFactor: factorOf(d),
    toSelfDelay: p.remote.toSelfDelay,
    dustLimitSat: p.local.dustLimitSat,
    feeratePerKw: l.feeratePerKw,
    anchors: p.anchors,
    localIsFunder: p.funder,
    toLocalMsat: l.toLocalMsat,
    toRemoteMsat: l.toRemoteMsat,
    htlcs: l.htlcs.map((h) => ({ id: h.id, offered: !h.incoming, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry })),
    keys,
  });
  return { c, keys, point };
}

/** Our commitment signed by both, ready to publish (BOLT 3: the funding witness in key order). */
export function signedLocalCommitment(d: MonitorData, secrets: ChannelSecrets): Transaction {
  const { c } = localCommitment(d, secrets);
  const tx = c.tx.clone();
  const ours = signInput(tx, 0, c.fundingScript, d.params.funding.amountSat, secrets.fundingSecret);
  const theirs = bscript.signature.encode(d.local.remoteSig, Transaction.SIGHASH_ALL);
  const oursFirst = compareBytes(d.params.local.basepoints.fundingPubkey, d.params.remote.basepoints.fundingPubkey) < 0;
  tx.setWitness(0, [new Uint8Array(0), ...(oursFirst ? [ours, theirs] : [theirs, ours]), fundingScript(d.params.local.basepoints.fundingPubkey, d.params.remote.basepoints.fundingPubkey)]);
  return tx;
}

/** Which commitment (or closing) `tx`, a spend of the funding output, is. */
export function classify(d: MonitorData, tx: Transaction, secrets: ChannelSecrets): FundingSpendKind {
  const txid = tx.getId();
  if (d.closingTxids.includes(txid)) return { kind: 'cooperative' };
  const number = commitmentNumberOf(d, tx);
  if (number === undefined) return { kind: 'other' };
  if (txid === d.remote.txid) return { kind: 'remote', number, next: false };
  if (txid === d.remoteNext?.txid) return { kind: 'remote', number, next: true };
  if (number === d.local.number && localCommitment(d, secrets).c.tx.getId() === txid) return { kind: 'local', number };
  const secret = revealedSecret(d, number);
  if (secret) return { kind: 'revoked', number, secret };
  if (number > d.remote.number) return { kind: 'remote_unknown', number };
  return { kind: 'other' };
}

/** The keys of the peer's commitment at its point `point` (its own outputs "local"). */
export function remoteKeys(d: MonitorData, point: Uint8Array): CommitmentKeys {
  const p = d.params;
  return {
    revocationPubkey: revocationPubkey(p.local.basepoints.revocationBasepoint, point),
    localDelayedPubkey: derivePubkey(p.remote.basepoints.delayedPaymentBasepoint, point),
    localHtlcPubkey: derivePubkey(p.remote.basepoints.htlcBasepoint, point),
    remoteHtlcPubkey: derivePubkey(p.local.basepoints.htlcBasepoint, point),
    remotePaymentPubkey: p.local.basepoints.paymentBasepoint,
  };
}

/** Our to_remote output's script on the peer's commitment: untweaked payment basepoint (static_remotekey, anchors). */
export function ourToRemote(d: MonitorData): { script: Uint8Array; witnessScript?: Uint8Array } {
  const key = d.params.local.basepoints.paymentBasepoint;
  if (!d.params.anchors) return { script: p2wpkh(key) };
  const ws = toRemoteAnchorsScript(key);
  return { script: p2wsh(ws), witnessScript: ws };
}

/**
 * The outputs of the peer's commitment `tx` that matter to us, by script: its to_local (revocable),
 * our to_remote, and each HTLC of `htlcs` (amount and script both must match; identical ones take
 * successive outputs). `point` may be unknown (a commitment from after our data): then only to_remote.
 */
export function remoteOutputs(d: MonitorData, tx: Transaction, point: Uint8Array | undefined, htlcs: readonly MonitorHtlc[]): CommitmentOut[] {
  const out: CommitmentOut[] = [];
  const taken = new Set<number>();
  const find = (script: Uint8Array, value?: bigint): number => tx.outs.findIndex((o, i) => !taken.has(i) && (value === undefined || o.value === value) && bytesEqual(o.script, script));
  const toRemote = ourToRemote(d);
  for (let i = find(toRemote.script); i >= 0; i = find(toRemote.script)) {
    taken.add(i);
    out.push({ vout: i, valueSat: tx.outs[i]!.value, kind: 'to_remote', ...(toRemote.witnessScript ? { witnessScript: toRemote.witnessScript } : {}) });
  }
  if (!point) return out;
  const k = remoteKeys(d, point);
  const toLocal = toLocalScript(k.revocationPubkey, d.params.local.toSelfDelay, k.localDelayedPubkey);
  const tl = find(p2wsh(toLocal));
  if (tl >= 0) {
    taken.add(tl);
    out.push({ vout: tl, valueSat: tx.outs[tl]!.value, kind: 'to_local', witnessScript: toLocal });
  }
  const hk = { revocationPubkey: k.revocationPubkey, localHtlcPubkey: k.localHtlcPubkey, remoteHtlcPubkey: k.remoteHtlcPubkey };
  htlcs.forEach((h, index) => {
    // The peer's commitment: an HTLC incoming to us is one it offered.
    const ws = h.incoming ? offeredHtlcScript(hk, h.paymentHash, d.params.anchors) : receivedHtlcScript(hk, h.paymentHash, h.cltvExpiry, d.params.anchors);
    const i = find(p2wsh(ws), h.amountMsat / 1000n);
    if (i < 0) return; // trimmed
    taken.add(i);
    out.push({ vout: i, valueSat: tx.outs[i]!.value, kind: 'htlc', htlc: h, witnessScript: ws, index });
  });
  return out.sort((a, b) => a.vout - b.vout);
}

/** The point and HTLCs of the peer's commitment `number`, as far as we know them. */
export function remoteCommitmentData(d: MonitorData, kind: FundingSpendKind): { point?: Uint8Array; htlcs: MonitorHtlc[] } {
  if (kind.kind === 'remote') {
    const info = kind.next ? d.remoteNext! : d.remote;
    return { point: info.point, htlcs: info.htlcs };
  }
  if (kind.kind === 'revoked') return { point: secp.getPublicKey(kind.secret), htlcs: revokedHtlcsAt(d, kind.number) };
  return { htlcs: [] };
}

/** A preimage of `paymentHash` among a spending input's witness items (a claim with the preimage reveals it). */
export function preimageIn(witness: readonly Uint8Array[], paymentHash: Uint8Array): Uint8Array | undefined {
  return witness.find((w) => w.length === 32 && bytesEqual(sha256(w), paymentHash));
}
