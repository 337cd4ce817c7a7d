/**
 * A watchtower's justice, end to end on a playground chain without any node: the client (A) backs up
 * B's revoked commitment as a hint and a blob; the tower, which sees only those, finds the commitment
 * by its hint once B publishes it, opens the blob with its txid, and publishes a justice transaction
 * that the chain accepts (every script checked) and that pays A's wallet the to_local less the fee at
 * the session's feerate, to the satoshi. The blob opens with no other transaction, and a kit whose
 * signature or sweep script was changed gives no transaction.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openChannel } from '../../helpers/monitor-channel.ts';
import { monitorData, remoteInfo } from '../../helpers/monitor-driver.ts';
import { backupFor, revokedToLocal } from '../../../core/tower/client-kit.ts';
import { breachHint, openKit, BlobError, BLOB_V0_SIZE } from '../../../core/tower/blob.ts';
import { assembleJustice, JusticeError } from '../../../core/tower/justice.ts';
import { bytesEqual } from '../../../core/util/bytes.ts';

const FEERATE = 2500;

describe('watchtower justice from a client\'s backup', () => {
  for (const anchors of [true, false]) {
    it(`${anchors ? 'anchors' : 'static_remotekey'}: the tower's justice takes the revoked to_local into the client's wallet, to the satoshi`, { timeout: 60_000 }, async () => {
      const ch = await openChannel({ anchors });
      const htlcs = ch.htlcs([{ fromA: false, amountSat: 40_000n, cltvDelta: 40 }]);
      const revoked = ch.commitment('B', 3n, htlcs);
      const current = ch.commitment('B', 4n, []);
      const local = ch.commitment('A', 4n, []);
      const d = monitorData(ch, { local, localHtlcs: [], remote: current, remoteHtlcs: [] });
      const info = remoteInfo(ch, revoked, htlcs);

      const b = backupFor({ params: d.params, commitment: info, perCommitmentSecret: ch.B.secret(3n), secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE, nonce: new Uint8Array(randomBytes(24)) });
      if (!b.ok) throw new Error(b.message);
      expect(b.blob.length).toBe(BLOB_V0_SIZE);
      expect(bytesEqual(b.hint, breachHint(revoked.txid))).toBe(true);
      // The blob holds no secret: nothing in it is the revocation or any channel secret.
      for (const s of Object.values(ch.A.secrets)) expect(Buffer.from(b.blob).includes(Buffer.from(s))).toBe(false);

      // Only the revoked commitment's txid opens it.
      expect(() => openKit(b.blob, current.txid)).toThrow(BlobError);
      await ch.confirm(revoked.tx);
      const kit = openKit(b.blob, revoked.tx.getId());
      const j = assembleJustice(kit, revoked.tx, FEERATE);
      expect(j.tx.getId()).toBe(b.justiceTxid);
      ch.interpret(j.tx, [revoked.tx]);
      await ch.confirm(j.tx);

      const toLocal = revoked.commitment.outputs.find((o) => o.kind === 'to_local')!;
      expect(j.tx.outs).toHaveLength(1);
      expect(bytesEqual(j.tx.outs[0]!.script, ch.wallet.script)).toBe(true);
      expect(j.tx.outs[0]!.value).toBe(toLocal.amountSat - j.feeSat);
      // The fee is the estimate's at the session feerate: at least the feerate on the real weight.
      expect(Number(j.feeSat) * 1000).toBeGreaterThanOrEqual(FEERATE * j.tx.weight());
      expect(Number(j.feeSat) * 1000).toBeLessThan(FEERATE * (j.tx.weight() + 8));
    });
  }

  it('a kit changed by the tower (another sweep script, a bad signature) gives no justice', async () => {
    const ch = await openChannel({ anchors: true });
    const revoked = ch.commitment('B', 3n, []);
    const d = monitorData(ch, { local: ch.commitment('A', 4n, []), localHtlcs: [], remote: ch.commitment('B', 4n, []), remoteHtlcs: [] });
    const b = backupFor({ params: d.params, commitment: remoteInfo(ch, revoked, []), perCommitmentSecret: ch.B.secret(3n), secrets: ch.A.secrets, sweepScript: ch.wallet.script, feeratePerKw: FEERATE, nonce: new Uint8Array(24) });
    if (!b.ok) throw new Error(b.message);
    const kit = openKit(b.blob, revoked.txid);
    const thief = { ...kit, sweepScript: Uint8Array.of(0, 20, ...new Uint8Array(20).fill(7)) };
    expect(() => assembleJustice(thief, revoked.tx, FEERATE)).toThrow(JusticeError);
    const sig = kit.toLocalSig.slice();
    sig[10]! ^= 1;
    expect(() => assembleJustice({ ...kit, toLocalSig: sig }, revoked.tx, FEERATE)).toThrow(/signature/);
    // Another feerate than the session's is another transaction: the signature does not cover it.
    expect(() => assembleJustice(kit, revoked.tx, FEERATE * 2)).toThrow(/signature/);
    // A commitment without that to_local (the current one) is not its breach.
    expect(() => assembleJustice(kit, ch.commitment('B', 4n, []).tx, FEERATE)).toThrow(/no to_local/);
  });

  it('a revoked commitment that does not build to the txid signed is refused, not backed up', async () => {
    const ch = await openChannel({ anchors: false });
    const revoked = ch.commitment('B', 3n, []);
    const d = monitorData(ch, { local: ch.commitment('A', 4n, []), localHtlcs: [], remote: ch.commitment('B', 4n, []), remoteHtlcs: [] });
    const info = remoteInfo(ch, revoked, []);
    expect(revokedToLocal(d.params, info)?.out.txid).toBe(revoked.txid);
    expect(() => revokedToLocal(d.params, { ...info, toLocalMsat: info.toLocalMsat - 1000n })).toThrow(/not .* as signed/);
  });
});
