/**
 * BOLT 3 Appendix C and F: every HTLC-timeout and HTLC-success transaction of the spec, built by the
 * monitor's htlcSecondStage from the commitment output, our HTLC key and the peer's signature, comes
 * out byte for byte as the spec prints it (without anchors the fee is the one the peer signed; with
 * anchors, no fee inputs: the spec's zero-fee transaction).
 */
import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../../helpers/vectors.ts';
import { buildCommitment, SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY } from '../../../core/tx/commitment.ts';
import { obscuringFactor } from '../../../core/tx/keys.ts';
import { htlcSecondStage } from '../../../core/monitor/index.ts';

interface HtlcTxVec {
  commitment_output_index?: number;
  remote_htlc_signature: string;
  tx: string;
  derived?: { commitment_output_index: number };
}
interface Case { name: string; to_local_msat: number; to_remote_msat: number; dust_limit_satoshi: number; local_feerate_per_kw: number; commitment_tx: string; htlc_txs: HtlcTxVec[] }
interface Vectors {
  common: {
    funding_txid: string; funding_output_index: number; funding_amount_satoshi: number; commitment_number: number; to_self_delay: number;
    local_payment_basepoint: string; remote_payment_basepoint: string; local_funding_pubkey: string; remote_funding_pubkey: string;
    local_privkey: string; local_htlcpubkey: string; remote_htlcpubkey: string; local_delayedpubkey: string; local_revocation_pubkey: string;
    htlcs: { id: number; direction: 'remote->local' | 'local->remote'; amount_msat: number; cltv_expiry: number; payment_preimage: string; payment_hash: string }[];
  };
  static_remotekey: { test_cases: Case[] };
  anchors: { test_cases: Case[] };
}

const v = loadVectors<Vectors>('bolt03-commitment-txs.json');
const c = v.common;
const h = hex.decode;

function check(t: Case, anchors: boolean): void {
  const total = t.to_local_msat + t.to_remote_msat;
  const ids = total === c.funding_amount_satoshi * 1000 ? [] : /same amount/.test(t.name) ? [1, 5, 6] : [0, 1, 2, 3, 4];
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
    htlcs: c.htlcs.filter((x) => ids.includes(x.id)).map((x) => ({ id: BigInt(x.id), offered: x.direction === 'local->remote', amountMsat: BigInt(x.amount_msat), paymentHash: h(x.payment_hash), cltvExpiry: x.cltv_expiry })),
    keys: { revocationPubkey: h(c.local_revocation_pubkey), localDelayedPubkey: h(c.local_delayedpubkey), localHtlcPubkey: h(c.local_htlcpubkey), remoteHtlcPubkey: h(c.remote_htlcpubkey), remotePaymentPubkey: h(c.remote_payment_basepoint) },
  });
  // The spec's commitment transaction id (its witness does not change it).
  const commitmentTxid = commitment.tx.getId();
  for (const ht of t.htlc_txs) {
    const vout = ht.commitment_output_index ?? ht.derived!.commitment_output_index;
    const out = commitment.outputs[vout]!;
    if (out.kind !== 'htlc') throw new Error(`output ${vout} is not an HTLC`);
    const r = htlcSecondStage({
      commitmentTxid,
      output: { vout, valueSat: out.amountSat, witnessScript: out.witnessScript, htlc: out.htlc },
      anchors,
      commitmentFeeratePerKw: t.local_feerate_per_kw,
      toSelfDelay: c.to_self_delay,
      revocationPubkey: h(c.local_revocation_pubkey),
      localDelayedPubkey: h(c.local_delayedpubkey),
      localHtlcSecret: h(c.local_privkey),
      remoteHtlcSig: Uint8Array.from([...h(ht.remote_htlc_signature), anchors ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL]),
      ...(out.htlc.offered ? {} : { preimage: h(c.htlcs.find((x) => BigInt(x.id) === out.htlc.id)!.payment_preimage) }),
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.tx.toHex()).toBe(ht.tx);
    expect(r.secondStage!.outpoint).toEqual({ txid: r.txid, vout: 0 });
  }
}

describe('BOLT 3 HTLC transactions through the monitor', () => {
  it.each(v.static_remotekey.test_cases.filter((t) => t.htlc_txs.length).map((t) => [t.name, t] as const))('static_remotekey: %s', (_n, t) => check(t, false));
  it.each(v.anchors.test_cases.filter((t) => t.htlc_txs.length).map((t) => [t.name, t] as const))('anchors: %s', (_n, t) => check(t, true));
});
