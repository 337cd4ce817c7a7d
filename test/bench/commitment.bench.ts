/**
 * Building and signing a commitment transaction with 0, 30 and 483 HTLCs (its HTLC transactions
 * signed too), and verifying the peer's signatures on all of it; the secp256k1 backend's raw
 * sign/verify rate in the same run as the reference.
 */
import { randomBytes } from 'node:crypto';
import { buildCommitment, buildHtlcTx, signInput, verifyInput } from '../../core/tx/commitment.ts';
import type { CommitmentHtlc } from '../../core/tx/commitment.ts';
import { secp, sha256 } from '../../core/crypto/index.ts';
import { opsPerSec, table } from './harness.ts';

const key = () => new Uint8Array(randomBytes(32));

export async function run(): Promise<void> {
  const fundingLocal = key();
  const fundingRemote = key();
  const htlcLocal = key();
  const htlcRemote = key();
  const pub = (k: Uint8Array) => secp.getPublicKey(k);
  const keys = { revocationPubkey: pub(key()), localDelayedPubkey: pub(key()), localHtlcPubkey: pub(htlcLocal), remoteHtlcPubkey: pub(htlcRemote), remotePaymentPubkey: pub(key()) };
  const rows: (string | number)[][] = [['HTLCs', 'build+sign ms', 'verify ms', 'signatures', 'sign ms / raw sign ms']];
  const msg = sha256(key());
  const rawSign = 1000 / opsPerSec(() => secp.sign(msg, fundingLocal));
  const sig = secp.sign(msg, fundingLocal);
  const pk = pub(fundingLocal);
  const rawVerify = 1000 / opsPerSec(() => secp.verify(sig, msg, pk));
  for (const n of [0, 30, 483]) {
    const htlcs: CommitmentHtlc[] = Array.from({ length: n }, (_, i) => ({ id: BigInt(i), offered: i % 2 === 0, amountMsat: 5_000_000n + BigInt(i) * 1000n, paymentHash: sha256(Uint8Array.of(i & 0xff, i >> 8)), cltvExpiry: 500 + i }));
    const params = {
      funding: { txid: 'ab'.repeat(32), vout: 0, amountSat: 100_000_000n, localPubkey: pub(fundingLocal), remotePubkey: pub(fundingRemote) },
      commitmentNumber: 42n,
      obscuringFactor: 0x2bb038521914n,
      toSelfDelay: 144,
      dustLimitSat: 546n,
      feeratePerKw: 253,
      anchors: true,
      localIsFunder: true,
      toLocalMsat: 60_000_000_000n,
      toRemoteMsat: 40_000_000_000n - htlcs.reduce((a, x) => a + x.amountMsat, 0n),
      htlcs,
      keys,
    };
    let signed: { commitment: ReturnType<typeof buildCommitment>; sigs: { tx: ReturnType<typeof buildHtlcTx>['tx']; ws: Uint8Array; amount: bigint; sig: Uint8Array }[]; fsig: Uint8Array } | undefined;
    const iterations = n > 100 ? 3 : 20;
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) {
      const commitment = buildCommitment(params);
      const fsig = signInput(commitment.tx, 0, commitment.fundingScript, params.funding.amountSat, fundingRemote);
      const txid = commitment.tx.getId();
      const sigs = commitment.outputs.flatMap((o, index) => {
        if (o.kind !== 'htlc') return [];
        const { tx } = buildHtlcTx({ commitmentTxid: txid, outputIndex: index, htlc: o.htlc, feeratePerKw: 253, anchors: true, toSelfDelay: 144, revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey });
        return [{ tx, ws: o.witnessScript, amount: o.amountSat, sig: signInput(tx, 0, o.witnessScript, o.amountSat, htlcRemote, 0x83) }];
      });
      signed = { commitment, sigs, fsig };
    }
    const buildMs = (performance.now() - t0) / iterations;
    const t1 = performance.now();
    for (let i = 0; i < iterations; i++) {
      const s = signed!;
      if (!verifyInput(s.commitment.tx, 0, s.commitment.fundingScript, params.funding.amountSat, pub(fundingRemote), s.fsig)) throw new Error('bad commitment signature');
      for (const x of s.sigs) if (!verifyInput(x.tx, 0, x.ws, x.amount, keys.remoteHtlcPubkey, x.sig)) throw new Error('bad HTLC signature');
    }
    const verifyMs = (performance.now() - t1) / iterations;
    const nsig = 1 + signed!.sigs.length;
    rows.push([String(n), buildMs, verifyMs, String(nsig), buildMs / nsig / rawSign]);
  }
  table(`Commitment transactions (${secp.name}; raw sign ${rawSign.toFixed(3)} ms, raw verify ${rawVerify.toFixed(3)} ms)`, rows);
}
