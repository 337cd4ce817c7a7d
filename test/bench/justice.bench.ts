/**
 * Building and signing the justice transaction for a revoked commitment with 0, 30 and 483 HTLCs
 * (revocation key, inputs, weight, fee, signatures), against two references in the same run: the same
 * number of bare signInput calls over the same transaction (bitcoinjs-lib's sighash, which hashes every
 * input's prevouts again for each one), and as many raw secp256k1 signatures over ready digests.
 */
import { randomBytes } from 'node:crypto';
import { buildCommitment, signInput } from '../../core/tx/commitment.ts';
import type { CommitmentHtlc } from '../../core/tx/commitment.ts';
import { derivePubkey, revocationPubkey } from '../../core/tx/keys.ts';
import { secp, sha256 } from '../../core/crypto/index.ts';
import { deriveChannelSecrets, basepointsOf } from '../../core/keys/channel-keys.ts';
import { buildJustice, revokedCommitmentInputs, revokedCommitmentSecrets } from '../../core/monitor/index.ts';
import { p2wpkh } from '../../core/tx/scripts.ts';
import { table } from './harness.ts';

export async function run(): Promise<void> {
  const us = deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'regtest', 0);
  const them = deriveChannelSecrets(new Uint8Array(randomBytes(64)), 'regtest', 0);
  const ub = basepointsOf(us);
  const tb = basepointsOf(them);
  const theirSecret = new Uint8Array(randomBytes(32));
  const point = secp.getPublicKey(theirSecret);
  const keys = {
    revocationPubkey: revocationPubkey(ub.revocationBasepoint, point),
    localDelayedPubkey: derivePubkey(tb.delayedPaymentBasepoint, point),
    localHtlcPubkey: derivePubkey(tb.htlcBasepoint, point),
    remoteHtlcPubkey: derivePubkey(ub.htlcBasepoint, point),
    remotePaymentPubkey: ub.paymentBasepoint,
  };
  const sweepTo = p2wpkh(ub.paymentBasepoint);
  const rows: (string | number)[][] = [['HTLCs', 'inputs', 'transactions', 'justice ms', 'signInput ms', 'ratio', 'raw sign ms', 'ratio']];
  for (const n of [0, 30, 483]) {
    const htlcs: CommitmentHtlc[] = Array.from({ length: n }, (_, i) => ({ id: BigInt(i), offered: i % 2 === 0, amountMsat: 5_000_000n + BigInt(i) * 1000n, paymentHash: sha256(Uint8Array.of(i & 0xff, i >> 8)), cltvExpiry: 500 + i }));
    const commitment = buildCommitment({
      funding: { txid: 'ab'.repeat(32), vout: 0, amountSat: 100_000_000n, localPubkey: tb.fundingPubkey, remotePubkey: ub.fundingPubkey },
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
    });
    const txid = commitment.tx.getId();
    const justice = () => {
      const { revocationSecret } = revokedCommitmentSecrets(us, theirSecret);
      const inputs = revokedCommitmentInputs({ commitmentTxid: txid, outputs: commitment.outputs, revocationSecret });
      return buildJustice({ inputs, sweepTo, feeratePerKw: 2500 });
    };
    const iterations = n > 100 ? 3 : 30;
    const sample = justice();
    const tx = sample.built[0]!.tx;
    const { revocationSecret } = revokedCommitmentSecrets(us, theirSecret);
    const spends = tx.ins.map((input) => commitment.outputs[input.index]!);
    const bare = () => spends.forEach((o, i) => signInput(tx, i, o.witnessScript!, o.amountSat, revocationSecret));
    // The floor: one secp256k1 signature per input, digests already hashed.
    const digests = spends.map((_o, i) => sha256(Uint8Array.of(i & 0xff, i >> 8)));
    const raw = () => digests.forEach((d) => secp.sign(d, revocationSecret));
    // Interleaved, so a busy machine slows both alike.
    let justiceMs = 0;
    let bareMs = 0;
    let rawMs = 0;
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      justice();
      const t1 = performance.now();
      bare();
      const t2 = performance.now();
      raw();
      rawMs += performance.now() - t2;
      bareMs += t2 - t1;
      justiceMs += t1 - t0;
    }
    rows.push([String(n), String(tx.ins.length), String(sample.built.length), justiceMs / iterations, bareMs / iterations, justiceMs / bareMs, rawMs / iterations, justiceMs / rawMs]);
  }
  table(`Justice transaction (${secp.name}), build and sign vs bare signInput and raw signatures over the same inputs`, rows);
}
