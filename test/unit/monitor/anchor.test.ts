/**
 * Fee-bumping our commitment through our anchor (option_anchors): the child spends the anchor and
 * wallet coins so that commitment and child together reach the target feerate; both enter a playground
 * mempool and are mined together.
 */
import { describe, expect, it } from 'vitest';
import { openChannel } from '../../helpers/monitor-channel.ts';
import { bumpCommitment } from '../../../core/monitor/index.ts';

async function anchoredCommitment(feeratePerKw: number) {
  const ch = await openChannel({ anchors: true });
  const c = ch.commitment('A', 3n, ch.htlcs([{ fromA: true, amountSat: 40_000n, cltvDelta: 30 }, { fromA: false, amountSat: 10_000n, cltvDelta: 30 }]), { feeratePerKw });
  const vout = c.commitment.outputs.findIndex((o) => o.kind === 'anchor_local');
  const anchor = { outpoint: { txid: c.txid, vout }, valueSat: c.commitment.outputs[vout]!.amountSat, witnessScript: c.commitment.outputs[vout]!.witnessScript! };
  return { ch, c, anchor };
}

describe('anchor CPFP', () => {
  it('brings the package of commitment and child to the target feerate with wallet coins', async () => {
    const { ch, c, anchor } = await anchoredCommitment(253);
    const coins = await ch.walletCoins(4, 6_000n);
    const r = bumpCommitment({ commitment: c.tx, commitmentFeeSat: c.commitment.feeSat, anchor, fundingSecret: ch.A.secrets.fundingSecret, feeratePerKw: 5000, coins, changeScript: ch.wallet.script, signer: ch.signer });
    if (!r.ok) throw new Error(r.message);
    expect(r.tx.ins.length).toBeGreaterThan(2);
    const pkgFee = c.commitment.feeSat + r.feeSat;
    const pkgWeight = c.tx.weight() + r.weight;
    expect(pkgFee * 1000n).toBeGreaterThanOrEqual(5000n * BigInt(pkgWeight));
    expect(r.packageFeeratePerKw).toBeGreaterThanOrEqual(5000);
    expect(r.packageFeeratePerKw).toBeLessThan(5200);
    expect(r.tx.outs.length).toBe(1);
    expect(r.sweptSat).toBe(r.tx.outs[0]!.value);

    // The commitment alone pays the floor; the child pays for both; a block takes them together.
    ch.chain.acceptToMempool(c.tx.toHex());
    ch.chain.acceptToMempool(r.tx.toHex());
    await ch.mine(1);
    expect(ch.chain.txHeight(c.txid)).toBe(ch.chain.height);
    expect(ch.chain.txHeight(r.txid)).toBe(ch.chain.height);
  });

  it('says what is missing when the wallet cannot pay, and that no child is needed when the commitment pays enough', async () => {
    const { ch, c, anchor } = await anchoredCommitment(2000);
    const coins = await ch.walletCoins(1, 1_000n);
    const poor = bumpCommitment({ commitment: c.tx, commitmentFeeSat: c.commitment.feeSat, anchor, fundingSecret: ch.A.secrets.fundingSecret, feeratePerKw: 20_000, coins, changeScript: ch.wallet.script, signer: ch.signer });
    expect(poor.ok).toBe(false);
    if (poor.ok) return;
    expect(poor.reason).toBe('insufficient-funds');
    expect(poor.message).toMatch(/add funds to the on-chain wallet/);
    const enough = bumpCommitment({ commitment: c.tx, commitmentFeeSat: c.commitment.feeSat, anchor, fundingSecret: ch.A.secrets.fundingSecret, feeratePerKw: 1000, coins, changeScript: ch.wallet.script, signer: ch.signer });
    expect(enough.ok ? 'built' : enough.reason).toBe('nothing-to-sweep');
  });

  it('never pays change to an empty script (anyone could spend it): nothing is built', async () => {
    const { ch, c, anchor } = await anchoredCommitment(253);
    const coins = await ch.walletCoins(2, 6_000n);
    expect(() => bumpCommitment({ commitment: c.tx, commitmentFeeSat: c.commitment.feeSat, anchor, fundingSecret: ch.A.secrets.fundingSecret, feeratePerKw: 5000, coins, changeScript: new Uint8Array(0), signer: ch.signer })).toThrow(/no script to pay to/);
  });
});
