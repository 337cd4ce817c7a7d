/**
 * Where the money of a channel closing on chain is, read from its monitor's state (lncli's
 * pendingchannels `pending_force_closing_channels` and closedchannels' balances): what is still on its
 * way back (limbo), the block our own output waits for, each HTLC with its stage (1: an output of the
 * commitment; 2: the output of our HTLC transaction, waiting for its delay), and what came back.
 */
import { Transaction } from 'bitcoinjs-lib';
import type { ChannelSecrets } from '../keys/channel-keys.ts';
import type { MonitorState } from '../monitor/monitor.ts';
import { classify, localCommitment, remoteCommitmentData, remoteOutputs } from '../monitor/view.ts';
import type { PendingHtlcView } from '../api/contract.ts';

export interface ForceCloseReport {
  closing_txid: string;
  limbo_balance: bigint;
  /** What our own output waits for (to_local's delay, or the block to_remote becomes spendable); 0 when nothing waits. */
  maturity_height: number;
  blocks_til_maturity: number;
  recovered_balance: bigint;
  pending_htlcs: PendingHtlcView[];
}

export interface WalletLookup {
  isMine(script: Uint8Array): boolean;
  coinValue(txid: string, vout: number): bigint | undefined;
}

const key = (txid: string, vout: number): string => `${txid}:${vout}`;

export function forceCloseReport(s: MonitorState, secrets: ChannelSecrets, tip: number, wallet: WalletLookup): ForceCloseReport {
  const { data: d, chain } = s;
  const fs = chain.fundingSpend;
  const until = (h: number): number => Math.max(0, h - tip);
  const out: ForceCloseReport = { closing_txid: '', limbo_balance: 0n, maturity_height: 0, blocks_til_maturity: 0, recovered_balance: recovered(s, wallet), pending_htlcs: [] };
  if (!fs) {
    // Our commitment published, not yet in a block: our balance and our HTLCs are on their way.
    const c = Object.values(chain.claims).find((x) => x.id.startsWith('commitment:'));
    out.closing_txid = c?.txid ?? '';
    const lc = localCommitment(d, secrets).c;
    lc.outputs.forEach((o, vout) => {
      if (o.kind === 'to_local') out.limbo_balance += o.amountSat;
      if (o.kind === 'htlc') {
        out.limbo_balance += o.amountSat;
        out.pending_htlcs.push({ incoming: !o.htlc.offered, amount: o.amountSat.toString(), outpoint: c ? key(c.txid, vout) : '', maturity_height: o.htlc.offered ? o.htlc.cltvExpiry : 0, blocks_til_maturity: o.htlc.offered ? until(o.htlc.cltvExpiry) : 0, stage: 1 });
      }
    });
    return out;
  }
  out.closing_txid = fs.txid;
  const tx = Transaction.fromHex(fs.rawTx);
  const kind = classify(d, tx, secrets);
  const unspent = (txid: string, vout: number): boolean => !chain.spends[key(txid, vout)];
  const mature = (h: number): void => {
    if (h > out.maturity_height) {
      out.maturity_height = h;
      out.blocks_til_maturity = until(h);
    }
  };
  if (kind.kind === 'local') {
    const delay = d.params.remote.toSelfDelay;
    localCommitment(d, secrets).c.outputs.forEach((o, vout) => {
      if (o.kind === 'to_local' && unspent(fs.txid, vout)) {
        out.limbo_balance += o.amountSat;
        mature(fs.height + delay);
      }
      if (o.kind !== 'htlc') return;
      const sp = chain.spends[key(fs.txid, vout)];
      const htlc = { incoming: !o.htlc.offered, amount: o.amountSat.toString() };
      if (!sp) {
        out.limbo_balance += o.amountSat;
        const h = o.htlc.offered ? o.htlc.cltvExpiry : fs.height;
        out.pending_htlcs.push({ ...htlc, outpoint: key(fs.txid, vout), maturity_height: h, blocks_til_maturity: until(h), stage: 1 });
        return;
      }
      // Our HTLC transaction confirmed: its single output comes back after the delay.
      const second = Object.values(chain.claims).some((c) => c.txid === sp.txid);
      if (!second || !unspent(sp.txid, 0)) return;
      const value = Transaction.fromHex(sp.rawTx).outs[0]!.value;
      out.limbo_balance += value;
      out.pending_htlcs.push({ ...htlc, amount: value.toString(), outpoint: key(sp.txid, 0), maturity_height: sp.height + delay, blocks_til_maturity: until(sp.height + delay), stage: 2 });
    });
    return out;
  }
  if (kind.kind === 'remote' || kind.kind === 'remote_unknown' || kind.kind === 'revoked') {
    const { point, htlcs } = remoteCommitmentData(d, kind);
    for (const o of remoteOutputs(d, tx, point, htlcs)) {
      if (!unspent(fs.txid, o.vout)) continue;
      if (o.kind === 'to_remote') {
        out.limbo_balance += o.valueSat;
        mature(fs.height + (d.params.anchors ? 1 : 0));
      } else if (o.kind === 'to_local') {
        if (kind.kind === 'revoked') out.limbo_balance += o.valueSat;
      } else if (o.kind === 'htlc') {
        out.limbo_balance += o.valueSat;
        const h = kind.kind === 'revoked' || o.htlc.incoming ? fs.height : o.htlc.cltvExpiry;
        out.pending_htlcs.push({ incoming: o.htlc.incoming, amount: o.valueSat.toString(), outpoint: key(fs.txid, o.vout), maturity_height: h, blocks_til_maturity: until(h), stage: 1 });
      }
    }
  }
  return out;
}

/**
 * What our claims that confirmed brought to the wallet: their outputs to our addresses, less the
 * wallet coins they spent for fees (an HTLC transaction's change is not a gain).
 */
function recovered(s: MonitorState, wallet: WalletLookup): bigint {
  const confirmed = new Set(Object.values(s.chain.spends).map((sp) => sp.txid));
  let sum = 0n;
  for (const c of Object.values(s.chain.claims)) {
    if (!confirmed.has(c.txid) || c.id.startsWith('commitment:')) continue;
    const tx = Transaction.fromHex(c.txHex);
    for (const o of tx.outs) if (wallet.isMine(o.script)) sum += o.value;
    for (const i of tx.ins) {
      const v = wallet.coinValue(Buffer.from(i.hash).reverse().toString('hex'), i.index);
      if (v !== undefined) sum -= v;
    }
  }
  return sum;
}
