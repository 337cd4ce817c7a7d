/**
 * BOLT 3 transactions on a chain that runs a real script interpreter: a channel's funding output, a
 * signed commitment with HTLCs, and every way out of it — the penalty that takes a revoked to_local,
 * the other side's to_remote, HTLC-success with the preimage, HTLC-timeout only after its CLTV, and
 * the penalty on an HTLC transaction's output. Keys come from per-channel derivations.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Transaction, script as bscript, payments, networks } from 'bitcoinjs-lib';
import { PlaygroundChain, TxRejected, Faucet } from '../../../core/chain/playground/index.ts';
import { deriveChannelSecrets, basepointsOf } from '../../../core/keys/channel-keys.ts';
import { derivePubkey, derivePrivkey, revocationPubkey, revocationPrivkey, obscuringFactor } from '../../../core/tx/keys.ts';
import { perCommitmentSecret, FIRST_INDEX } from '../../../core/tx/shachain.ts';
import { buildCommitment, buildHtlcTx, signInput, SIGHASH_ALL } from '../../../core/tx/commitment.ts';
import { fundingScript, p2wsh, p2wpkh, compareBytes } from '../../../core/tx/scripts.ts';
import { secp, sha256 } from '../../../core/crypto/index.ts';
import { newKey } from '../../helpers/txbuilder.ts';

const seed = () => new Uint8Array(randomBytes(64));

function spend(prev: { txid: string; vout: number }, sequence: number, locktime: number, out: Uint8Array, value: bigint): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = locktime;
  tx.addInput(Uint8Array.from(Buffer.from(prev.txid, 'hex')).reverse(), prev.vout, sequence);
  tx.addOutput(out, value);
  return tx;
}

describe('BOLT 3 transactions against the script interpreter', () => {
  it('funding → commitment → penalty, to_remote, HTLC-success, HTLC-timeout and its penalty', async () => {
    const chain = await PlaygroundChain.open();
    const faucet = new Faucet(chain);
    const wallet = newKey();

    // Two channel parties; A opens, so A's commitment is the one built here.
    const A = deriveChannelSecrets(seed(), 'regtest', 0);
    const B = deriveChannelSecrets(seed(), 'regtest', 0);
    const a = basepointsOf(A);
    const b = basepointsOf(B);
    const fScript = fundingScript(a.fundingPubkey, b.fundingPubkey);
    const capacity = 1_000_000n;
    const fundingTxid = await faucet.send(payments.p2wsh({ redeem: { output: fScript }, network: networks.regtest }).address!, capacity);
    const fundingVout = chain.mempool.get(fundingTxid)!.tx.outs.findIndex((o) => compareBytes(o.script, p2wsh(fScript)) === 0);
    await chain.mine(1, wallet.script);

    // A's commitment number 0 and its per-commitment point.
    const aSecret = perCommitmentSecret(A.commitmentSeed, FIRST_INDEX);
    const aPoint = secp.getPublicKey(aSecret);
    const keys = {
      revocationPubkey: revocationPubkey(b.revocationBasepoint, aPoint),
      localDelayedPubkey: derivePubkey(a.delayedPaymentBasepoint, aPoint),
      localHtlcPubkey: derivePubkey(a.htlcBasepoint, aPoint),
      remoteHtlcPubkey: derivePubkey(b.htlcBasepoint, aPoint),
      remotePaymentPubkey: b.paymentBasepoint,
    };
    const preimage = new Uint8Array(randomBytes(32));
    const cltv = chain.height + 20;
    const offered = { id: 0n, offered: true, amountMsat: 50_000_000n, paymentHash: sha256(new Uint8Array(randomBytes(32))), cltvExpiry: cltv };
    const received = { id: 0n, offered: false, amountMsat: 40_000_000n, paymentHash: sha256(preimage), cltvExpiry: cltv + 5 };
    const toSelfDelay = 10;
    const feeratePerKw = 1000;
    const commitment = buildCommitment({
      funding: { txid: fundingTxid, vout: fundingVout, amountSat: capacity, localPubkey: a.fundingPubkey, remotePubkey: b.fundingPubkey },
      commitmentNumber: 0n,
      obscuringFactor: obscuringFactor(a.paymentBasepoint, b.paymentBasepoint),
      toSelfDelay,
      dustLimitSat: 546n,
      feeratePerKw,
      anchors: false,
      localIsFunder: true,
      toLocalMsat: 600_000_000n,
      toRemoteMsat: 310_000_000n,
      htlcs: [offered, received],
      keys,
    });
    const ctx = commitment.tx;
    const sa = signInput(ctx, 0, fScript, capacity, A.fundingSecret);
    const sb = signInput(ctx, 0, fScript, capacity, B.fundingSecret);
    const aFirst = compareBytes(a.fundingPubkey, b.fundingPubkey) < 0;
    ctx.setWitness(0, [new Uint8Array(0), ...(aFirst ? [sa, sb] : [sb, sa]), fScript]);
    const ctxid = chain.acceptToMempool(ctx.toHex());
    await chain.mine(1, wallet.script);
    const at = (kind: string, offeredSide?: boolean) => {
      const i = commitment.outputs.findIndex((o) => o.kind === kind && (o.kind !== 'htlc' || o.htlc.offered === offeredSide));
      return { index: i, out: commitment.outputs[i]! };
    };
    const dest = newKey().script;

    // A cannot take to_local before the delay...
    const toLocal = at('to_local');
    const early = spend({ txid: ctxid, vout: toLocal.index }, toSelfDelay, 0, dest, toLocal.out.amountSat - 1000n);
    early.setWitness(0, [signInput(early, 0, toLocal.out.witnessScript!, toLocal.out.amountSat, derivePrivkey(A.delayedPaymentBasepointSecret, aPoint)), new Uint8Array(0), toLocal.out.witnessScript!]);
    expect(() => chain.acceptToMempool(early.toHex())).toThrow(/non-BIP68-final/);
    // ...and once A has revealed the secret (the state is revoked), B takes it all at once: the penalty.
    const penalty = spend({ txid: ctxid, vout: toLocal.index }, 0xffffffff, 0, dest, toLocal.out.amountSat - 1000n);
    const revSecret = revocationPrivkey(B.revocationBasepointSecret, aSecret);
    expect(secp.getPublicKey(revSecret)).toEqual(keys.revocationPubkey);
    penalty.setWitness(0, [signInput(penalty, 0, toLocal.out.witnessScript!, toLocal.out.amountSat, revSecret), Uint8Array.of(1), toLocal.out.witnessScript!]);
    chain.acceptToMempool(penalty.toHex());

    // B's to_remote is an ordinary P2WPKH of its payment basepoint (option_static_remotekey).
    const toRemote = at('to_remote');
    expect(toRemote.out.script).toEqual(p2wpkh(b.paymentBasepoint));
    const sweep = spend({ txid: ctxid, vout: toRemote.index }, 0xffffffff, 0, dest, toRemote.out.amountSat - 1000n);
    const sweepSig = (() => {
      const digest = sweep.hashForWitnessV0(0, bscript.compile([0x76, 0xa9, Buffer.from(toRemote.out.script.subarray(2)), 0x88, 0xac]), toRemote.out.amountSat, SIGHASH_ALL);
      return bscript.signature.encode(secp.sign(digest, B.paymentBasepointSecret), SIGHASH_ALL);
    })();
    sweep.setWitness(0, [sweepSig, b.paymentBasepoint]);
    chain.acceptToMempool(sweep.toHex());

    // HTLC-success: A knows the preimage of the HTLC B offered; both HTLC signatures are needed.
    const rec = at('htlc', false);
    if (rec.out.kind !== 'htlc') throw new Error('expected an HTLC output');
    const success = buildHtlcTx({ commitmentTxid: ctxid, outputIndex: rec.index, htlc: rec.out.htlc, feeratePerKw, anchors: false, toSelfDelay, revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey }).tx;
    const remoteHtlcSecret = derivePrivkey(B.htlcBasepointSecret, aPoint);
    const localHtlcSecret = derivePrivkey(A.htlcBasepointSecret, aPoint);
    const sign2 = (tx: Transaction, o: { witnessScript: Uint8Array; amountSat: bigint }) => [signInput(tx, 0, o.witnessScript, o.amountSat, remoteHtlcSecret), signInput(tx, 0, o.witnessScript, o.amountSat, localHtlcSecret)];
    success.setWitness(0, [new Uint8Array(0), ...sign2(success, rec.out), new Uint8Array(32), rec.out.witnessScript]);
    expect(() => chain.acceptToMempool(success.toHex())).toThrow(TxRejected); // a wrong preimage fails
    success.setWitness(0, [new Uint8Array(0), ...sign2(success, rec.out), preimage, rec.out.witnessScript]);
    chain.acceptToMempool(success.toHex());

    // HTLC-timeout: A's own offered HTLC comes back only after its CLTV.
    const off = at('htlc', true);
    if (off.out.kind !== 'htlc') throw new Error('expected an HTLC output');
    const timeout = buildHtlcTx({ commitmentTxid: ctxid, outputIndex: off.index, htlc: off.out.htlc, feeratePerKw, anchors: false, toSelfDelay, revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey }).tx;
    timeout.setWitness(0, [new Uint8Array(0), ...sign2(timeout, off.out), new Uint8Array(0), off.out.witnessScript]);
    expect(() => chain.acceptToMempool(timeout.toHex())).toThrow(/non-final/);
    await chain.mine(cltv - chain.height, wallet.script);
    const timeoutId = chain.acceptToMempool(timeout.toHex());
    await chain.mine(1, wallet.script);

    // The HTLC-timeout output is delayed for A and revocable: with the revealed secret, B takes it.
    const htlcOut = { script: timeout.outs[0]!.script, value: timeout.outs[0]!.value };
    const ws = buildHtlcTx({ commitmentTxid: ctxid, outputIndex: off.index, htlc: off.out.htlc, feeratePerKw, anchors: false, toSelfDelay, revocationPubkey: keys.revocationPubkey, localDelayedPubkey: keys.localDelayedPubkey }).witnessScriptOut;
    const second = spend({ txid: timeoutId, vout: 0 }, 0xffffffff, 0, dest, htlcOut.value - 1000n);
    second.setWitness(0, [signInput(second, 0, ws, htlcOut.value, revSecret), Uint8Array.of(1), ws]);
    chain.acceptToMempool(second.toHex());
    await chain.mine(1, wallet.script);
    expect(chain.mempool.size).toBe(0);
  });
});
