/**
 * Drives the pure chain monitor (core/monitor/monitor.ts) over a playground chain as the node shell
 * will: the monitor data of A (us) for commitments of test/helpers/monitor-channel.ts, each block's
 * spends of the watched outputs handed in (the block matched again when the monitor asks to watch
 * more: a spend in the same block as what it spends is found too), broadcasts accepted into the
 * mempool (or held, to let the peer race us), and every action kept.
 */
import { script as bscript } from 'bitcoinjs-lib';
import { step, newMonitor } from '../../core/monitor/monitor.ts';
import type { MonitorAction, MonitorEnv, MonitorInput, MonitorState } from '../../core/monitor/monitor.ts';
import type { MonitorData, MonitorHtlc, RemoteCommitmentInfo, RevokedHtlc } from '../../core/monitor/state.ts';
import { FIRST_INDEX, SecretStore } from '../../core/tx/shachain.ts';
import type { Channel, SignedCommitment, TestHtlc } from './monitor-channel.ts';
import { DUST_LIMIT, TO_SELF_DELAY } from './monitor-channel.ts';

const compact = (der: Uint8Array): Uint8Array => bscript.signature.decode(der).signature;

export const htlcOf = (h: TestHtlc): MonitorHtlc => ({ id: h.id, incoming: !h.fromA, amountMsat: h.amountMsat, paymentHash: h.paymentHash, cltvExpiry: h.cltvExpiry });

/** A's and B's balances in the helper's commitments (A funded; HTLCs come out of their sender's side). */
function balances(ch: Channel, htlcs: TestHtlc[]): { aMsat: bigint; bMsat: bigint } {
  const fromA = htlcs.filter((h) => h.fromA).reduce((a, h) => a + h.amountMsat, 0n);
  const aMsat = (ch.capacity * 1000n * 7n) / 10n - fromA;
  return { aMsat, bMsat: ch.capacity * 1000n - aMsat - htlcs.reduce((a, h) => a + h.amountMsat, 0n) };
}

export function remoteInfo(ch: Channel, c: SignedCommitment, htlcs: TestHtlc[]): RemoteCommitmentInfo {
  const { aMsat, bMsat } = balances(ch, htlcs);
  return {
    number: c.number,
    txid: c.txid,
    point: c.point,
    feeratePerKw: c.feeratePerKw,
    toLocalMsat: bMsat,
    toRemoteMsat: aMsat,
    htlcs: htlcs.map((h) => ({ ...htlcOf(h), vout: c.commitment.outputs.findIndex((o) => o.kind === 'htlc' && o.htlc.id === h.id && o.htlc.offered === !h.fromA) })),
  };
}

/**
 * A's monitor data: our commitment `local` (with B's signatures), B's current commitment `remote`,
 * B's secrets for every commitment before it, the HTLCs of the revoked ones, and preimages we know.
 */
export function monitorData(ch: Channel, o: { local: SignedCommitment; localHtlcs: TestHtlc[]; remote: SignedCommitment; remoteHtlcs: TestHtlc[]; revoked?: RevokedHtlc[]; preimages?: Uint8Array[] }): MonitorData {
  const { aMsat, bMsat } = balances(ch, o.localHtlcs);
  const secrets = new SecretStore();
  for (let n = 0n; n < o.remote.number; n++) secrets.insert(FIRST_INDEX - n, ch.B.secret(n));
  // B's signature on our commitment is in its witness (funding keys in order).
  const w = o.local.tx.ins[0]!.witness;
  const aFirst = Buffer.compare(Buffer.from(ch.A.bp.fundingPubkey), Buffer.from(ch.B.bp.fundingPubkey)) < 0;
  const side = (bp: typeof ch.A.bp) => ({ basepoints: bp, toSelfDelay: TO_SELF_DELAY, dustLimitSat: DUST_LIMIT });
  return {
    v: 1,
    params: { funding: { txid: ch.funding.txid, vout: ch.funding.vout, amountSat: ch.capacity }, funder: true, anchors: ch.anchors, local: side(ch.A.bp), remote: side(ch.B.bp) },
    local: {
      number: o.local.number,
      feeratePerKw: o.local.feeratePerKw,
      toLocalMsat: aMsat,
      toRemoteMsat: bMsat,
      htlcs: o.localHtlcs.map(htlcOf),
      remoteSig: compact(w[aFirst ? 2 : 1]!),
      remoteHtlcSigs: [...o.local.remoteHtlcSigs.entries()].sort(([a], [b]) => a - b).map(([, s]) => compact(s)),
    },
    remote: remoteInfo(ch, o.remote, o.remoteHtlcs),
    secrets: secrets.toJSON(),
    revokedHtlcs: o.revoked ?? [],
    preimages: o.preimages ?? [],
    closingTxids: [],
    stale: false,
  };
}

export class Driver {
  state: MonitorState;
  readonly actions: MonitorAction[] = [];
  /** Heights fed so far. */
  height: number;
  /** Broadcasts are accepted into the mempool unless held; refused ones are kept with the reason. */
  hold = false;
  readonly refused: { label: string; reason: string }[] = [];

  constructor(
    readonly ch: Channel,
    data: MonitorData,
    readonly env: MonitorEnv,
  ) {
    this.state = newMonitor('chan', data);
    this.height = ch.chain.height;
    this.state = { ...this.state, chain: { ...this.state.chain, height: this.height } };
  }

  input(i: MonitorInput): MonitorAction[] {
    const r = step(this.state, i, this.env);
    this.state = r.state;
    this.actions.push(...r.actions);
    for (const a of r.actions) {
      if (a.type !== 'broadcast' || this.hold || this.ch.chain.mempool.has(a.txid) || this.ch.chain.txHeight(a.txid) !== undefined) continue;
      try {
        this.ch.chain.acceptToMempool(a.txHex);
      } catch (e) {
        this.refused.push({ label: a.label, reason: (e as Error).message });
      }
    }
    return r.actions;
  }

  /** The spends in block `height` of the outputs the monitor watches (and of the funding output). */
  private spendsAt(height: number) {
    const entry = this.ch.chain.entries[height]!;
    const watched = new Set([...this.state.chain.watched, `${this.ch.funding.txid}:${this.ch.funding.vout}`]);
    const spent = [];
    for (const tx of (entry.block.transactions ?? []).slice(1)) {
      for (const i of tx.ins) {
        const op = { txid: Buffer.from(i.hash).reverse().toString('hex'), vout: i.index };
        if (watched.has(`${op.txid}:${op.vout}`)) spent.push({ outpoint: op, txid: tx.getId(), rawTx: tx.toHex(), height });
      }
    }
    return spent;
  }

  /** Feeds every block up to the chain's tip; a block is matched again while the monitor watches more. */
  sync(): MonitorAction[] {
    const out: MonitorAction[] = [];
    while (this.height < this.ch.chain.height) {
      this.height++;
      let acts = this.input({ type: 'block_connected', height: this.height, spent: this.spendsAt(this.height) });
      out.push(...acts);
      while (acts.some((a) => a.type === 'watch')) {
        acts = this.input({ type: 'block_connected', height: this.height, spent: this.spendsAt(this.height) });
        out.push(...acts);
      }
    }
    return out;
  }

  /** Mines `n` blocks (with whatever the mempool holds) and feeds them one by one. */
  async mine(n: number): Promise<MonitorAction[]> {
    const out: MonitorAction[] = [];
    for (let i = 0; i < n; i++) {
      await this.ch.mine(1);
      out.push(...this.sync());
    }
    return out;
  }

  /** Disconnects blocks down to `height` (exclusive of it: `height` stays), telling the monitor. */
  async reorgTo(height: number): Promise<void> {
    await this.ch.chain.invalidateBlock(this.ch.chain.entries[height + 1]!.hash);
    for (; this.height > height; this.height--) this.input({ type: 'block_disconnected', height: this.height });
  }

  /** Each transaction broadcast, once (claims are broadcast again every block until they confirm). */
  broadcasts(): Extract<MonitorAction, { type: 'broadcast' }>[] {
    const seen = new Set<string>();
    return this.of('broadcast').filter((b) => (seen.has(b.txid) ? false : (seen.add(b.txid), true)));
  }

  of<T extends MonitorAction['type']>(type: T, from = 0): Extract<MonitorAction, { type: T }>[] {
    return this.actions.slice(from).filter((a): a is Extract<MonitorAction, { type: T }> => a.type === type);
  }
}
