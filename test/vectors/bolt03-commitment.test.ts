/**
 * BOLT 3 Appendix C (option_static_remotekey) and Appendix F (option_anchors): every commitment and
 * HTLC transaction rebuilt and signed byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { Transaction } from 'bitcoinjs-lib';
import { loadVectors } from '../helpers/vectors.ts';
import { buildCommitment, buildHtlcTx, signInput, verifyInput, SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY } from '../../core/tx/commitment.ts';
import type { CommitmentHtlc } from '../../core/tx/commitment.ts';
import { obscuringFactor } from '../../core/tx/keys.ts';
import { compareBytes } from '../../core/tx/scripts.ts';

interface HtlcTxVec {
  commitment_output_index?: number;
  type?: 'htlc-success' | 'htlc-timeout';
  htlc_id?: number;
  remote_htlc_signature: string;
  local_htlc_signature?: string;
  tx: string;
  derived?: { type: 'htlc-success' | 'htlc-timeout'; htlc_id: number; commitment_output_index: number; local_htlc_signature: string };
}
interface Case {
  name: string;
  to_local_msat: number;
  to_remote_msat: number;
  dust_limit_satoshi: number;
  local_feerate_per_kw: number;
  remote_signature: string;
  local_signature?: string;
  commitment_tx: string;
  htlc_txs: HtlcTxVec[];
  derived: { local_signature?: string };
}
interface Vectors {
  common: {
    funding_txid: string; funding_output_index: number; funding_amount_satoshi: number; commitment_number: number; to_self_delay: number;
    local_payment_basepoint: string; remote_payment_basepoint: string; local_funding_privkey: string; local_funding_pubkey: string; remote_funding_pubkey: string;
    local_privkey: string; local_htlcpubkey: string; remote_htlcpubkey: string; local_delayedpubkey: string; local_revocation_pubkey: string;
    htlcs: { id: number; direction: 'remote->local' | 'local->remote'; amount_msat: number; cltv_expiry: number; payment_preimage: string; payment_hash: string }[];
  };
  static_remotekey: { test_cases: Case[] };
  anchors: { test_cases: Case[] };
}

const v = loadVectors<Vectors>('bolt03-commitment-txs.json');
const c = v.common;
const h = hex.decode;
const derSig = (withType: Uint8Array) => hex.encode(withType.subarray(0, withType.length - 1));

function htlcsFor(t: Case): CommitmentHtlc[] {
  const total = t.to_local_msat + t.to_remote_msat;
  if (total === c.funding_amount_satoshi * 1000) return [];
  const ids = /same amount/.test(t.name) ? [1, 5, 6] : [0, 1, 2, 3, 4];
  return c.htlcs
    .filter((x) => ids.includes(x.id))
    .map((x) => ({ id: BigInt(x.id), offered: x.direction === 'local->remote', amountMsat: BigInt(x.amount_msat), paymentHash: h(x.payment_hash), cltvExpiry: x.cltv_expiry }));
}

function run(t: Case, anchors: boolean): void {
  const htlcs = htlcsFor(t);
  const commitment = buildCommitment({
    funding: { txid: c.funding_txid, vout: c.funding_output_index, amountSat: BigInt(c.funding_amount_satoshi), localPubkey: h(c.local_funding_pubkey), remotePubkey: h(c.remote_funding_pubkey) },
    commitmentNumber: BigInt(c.commitment_number),
    obscuringFactor: obscuringFactor(h(c.local_payment_basepoint), h(c.remote_payment_basepoint)),
    toSelfDelay: c.to_self_delay,
    dustLimitSat: BigInt(t.dust_limit_satoshi),
    feeratePerKw: t.local_feerate_per_kw,
    anchors,
    localIsFunder: true,
    toLocalMsat: BigInt(t.to_local_msat),
    toRemoteMsat: BigInt(t.to_remote_msat),
    htlcs,
    keys: {
      revocationPubkey: h(c.local_revocation_pubkey),
      localDelayedPubkey: h(c.local_delayedpubkey),
      localHtlcPubkey: h(c.local_htlcpubkey),
      remoteHtlcPubkey: h(c.remote_htlcpubkey),
      remotePaymentPubkey: h(c.remote_payment_basepoint),
    },
  });
  const tx = commitment.tx;
  const funding = BigInt(c.funding_amount_satoshi);
  const localSig = signInput(tx, 0, commitment.fundingScript, funding, h(c.local_funding_privkey));
  expect(derSig(localSig)).toBe(t.local_signature ?? t.derived.local_signature);
  const remoteSig = Uint8Array.from([...h(t.remote_signature), SIGHASH_ALL]);
  expect(verifyInput(tx, 0, commitment.fundingScript, funding, h(c.remote_funding_pubkey), remoteSig)).toBe(true);
  // Signatures go in the order of the keys in the 2-of-2 script.
  const localFirst = compareBytes(h(c.local_funding_pubkey), h(c.remote_funding_pubkey)) < 0;
  tx.setWitness(0, [new Uint8Array(0), ...(localFirst ? [localSig, remoteSig] : [remoteSig, localSig]), commitment.fundingScript]);
  expect(tx.toHex()).toBe(t.commitment_tx);

  const txid = tx.getId();
  for (const ht of t.htlc_txs) {
    const index = ht.commitment_output_index ?? ht.derived!.commitment_output_index;
    const out = commitment.outputs[index]!;
    if (out.kind !== 'htlc') throw new Error(`output ${index} is not an HTLC`);
    const { tx: htx } = buildHtlcTx({
      commitmentTxid: txid,
      outputIndex: index,
      htlc: out.htlc,
      feeratePerKw: t.local_feerate_per_kw,
      anchors,
      toSelfDelay: c.to_self_delay,
      revocationPubkey: h(c.local_revocation_pubkey),
      localDelayedPubkey: h(c.local_delayedpubkey),
    });
    const local = signInput(htx, 0, out.witnessScript, out.amountSat, h(c.local_privkey));
    expect(derSig(local)).toBe(ht.local_htlc_signature ?? ht.derived!.local_htlc_signature);
    const remote = Uint8Array.from([...h(ht.remote_htlc_signature), anchors ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL]);
    expect(verifyInput(htx, 0, out.witnessScript, out.amountSat, h(c.remote_htlcpubkey), remote)).toBe(true);
    const preimage = out.htlc.offered ? new Uint8Array(0) : h(c.htlcs.find((x) => BigInt(x.id) === out.htlc.id)!.payment_preimage);
    htx.setWitness(0, [new Uint8Array(0), remote, local, preimage, out.witnessScript]);
    expect(htx.toHex()).toBe(ht.tx);
  }
  // Every untrimmed HTLC has its HTLC transaction in the vectors.
  expect(t.htlc_txs.length).toBe(commitment.outputs.filter((o) => o.kind === 'htlc').length);
  expect(Transaction.fromHex(t.commitment_tx).getId()).toBe(txid);
}

describe('BOLT 3 Appendix C: option_static_remotekey', () => {
  it.each(v.static_remotekey.test_cases.map((t) => [t.name, t] as const))('%s', (_n, t) => run(t, false));
});

describe('BOLT 3 Appendix F: option_anchors', () => {
  it.each(v.anchors.test_cases.map((t) => [t.name, t] as const))('%s', (_n, t) => run(t, true));
});
