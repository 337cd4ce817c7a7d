/**
 * Channels: what each one holds and where it stands (opening, active, closing, closed); opening one to a
 * connected peer or a pasted node address, with a review first; closing one cooperatively, or on chain
 * (force close) after saying what that means; a channel's own page (ChannelPage.tsx).
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { api, ApiCallError } from '../api.ts';
import { useApi } from '../hooks.ts';
import { Amount, CopyButton, Empty, ErrorBox, Field, InboundChannelButton, useAction } from '../components.tsx';
import { amountProblem, formatSats, parseAmount, shortId } from '../format.ts';
import type { Unit } from '../format.ts';
import type { ChannelView, MethodOutput } from '../../core/api/contract.ts';
import { aboutTime, closedWords, forceCloseText, heightText } from '../channel-words.ts';
import { ChannelPage } from './ChannelPage.tsx';

/** What the one-click playground channel puts in. */
const PLAYGROUND_CHANNEL_SAT = 500_000n;

type OpenEstimate = MethodOutput<'estimateopen'>;

/**
 * Why a channel of `sats` cannot be opened, from the node's numbers (the smallest channel, the largest
 * the confirmed coins fund after the fee); undefined when it can.
 */
function openProblem(sats: bigint, est: OpenEstimate, unit: Unit, playground: boolean): string | undefined {
  const min = BigInt(est.min_local_amt);
  const max = BigInt(est.max_local_amt);
  const more = playground ? 'get test coins on Home' : 'receive more bitcoin';
  if (sats < min) return `A channel holds at least ${formatSats(min, unit)}: nodes refuse smaller ones.`;
  if (max === 0n) return `Your confirmed balance (${formatSats(est.confirmed_balance, unit)}) cannot fund a channel yet: the smallest is ${formatSats(min, unit)} plus the network fee. To open one, ${more} first.`;
  if (sats > max || est.fee_sat === '') return `You can open a channel of up to ${formatSats(max, unit)} now: your confirmed balance (${formatSats(est.confirmed_balance, unit)}) less the network fee, within the largest size nodes accept. To open a larger one, ${more} first.`;
  return undefined;
}

/** Where a channel's capacity is, in one paragraph: yours and theirs, the fees set aside, the reserve, what can move now. */
function numbersLine(c: ChannelView, unit: Unit): string {
  const f = (v: string | bigint): string => formatSats(v, unit);
  const anchors = BigInt(c.anchor_sat) > 0n ? ` and ${f(c.anchor_sat)} for the two anchor outputs (which let either side speed up a closing)` : '';
  const opener = c.initiator ? 'you opened it, so you pay them' : 'the other node opened it and pays them';
  const inFlight = BigInt(c.unsettled_balance) > 0n ? ` ${f(c.unsettled_balance)} is in payments on their way.` : '';
  return (
    `Capacity ${f(c.capacity)}: yours ${f(c.local_balance)}, theirs ${f(c.remote_balance)}, with ${f(c.commit_fee)} set aside for the network fee of closing${anchors} (${opener}).` +
    `${inFlight} You can send ${f(BigInt(c.spendable_msat) / 1000n)} now and receive ${f(BigInt(c.receivable_msat) / 1000n)}: ${f(c.local_chan_reserve_sat)} of yours stays in the channel as its reserve, and the opener keeps room for fees.`
  );
}

type Status = 'opening' | 'active' | 'inactive' | 'closing' | 'force-closing' | 'closed' | 'failed';

interface Row {
  key: string;
  status: Status;
  /** Where it stands, in plain words. */
  label: string;
  peer: string;
  capacity: string;
  local?: string;
  remote?: string;
  /** Closed: what the close paid back to the wallet. */
  settled?: string;
  /** Closed or closing on chain: how (closedchannels' close_type), and what it means in a sentence. */
  closeType?: string;
  note?: string;
  reason?: string;
  chanPoint: string;
  fundingTxid: string;
  closingTxid: string;
  isPrivate: boolean;
  /** The node's view of an open or opening channel: where its capacity is. */
  view?: ChannelView;
}

function openingLabel(p: MethodOutput<'pendingchannels'>['pending_open_channels'][number]): string {
  if (p.state !== 'WAIT_FUNDING_CONFIRMED' && p.state !== 'WAIT_CHANNEL_READY') return 'Opening — agreeing with the other node';
  const m = p.confirmations_needed;
  const n = Math.min(p.confirmations, m);
  return `Opening — ${n} of ${m} confirmation${m === 1 ? '' : 's'}${n >= m ? ', waiting for the other node' : ''}`;
}

/** A channel closing on chain, where it stands: waiting for our commitment's block, or for our side's delay. */
function forceClosingLabel(f: MethodOutput<'pendingchannels'>['pending_force_closing_channels'][number]): string {
  if (!f.close_type) return 'Force-closing — waiting for a block to confirm your commitment';
  if (f.close_type === 'BREACH_CLOSE') return 'The other node published an old state — the penalty is taking their side too';
  const who = f.close_type === 'LOCAL_FORCE_CLOSE' ? 'Force-closed by you' : 'Force-closed by the other node';
  if (f.maturity_height > 0 && f.blocks_til_maturity > 0) return `${who} — your side comes back at block ${heightText(f.maturity_height)} (in ${aboutTime(f.blocks_til_maturity)})`;
  return `${who} — settling on chain`;
}

function rows(open: MethodOutput<'listchannels'>, pending: MethodOutput<'pendingchannels'>, closed: MethodOutput<'closedchannels'>, unit: Unit): { current: Row[]; past: Row[] } {
  const txOf = (point: string): string => point.split(':')[0] ?? '';
  const current: Row[] = [
    ...pending.pending_open_channels.map((p): Row => ({
      key: p.channel.channel_point || `opening-${p.channel.remote_pubkey}-${p.channel.capacity}`,
      status: 'opening',
      label: openingLabel(p),
      peer: p.channel.remote_pubkey,
      capacity: p.channel.capacity,
      local: p.channel.local_balance,
      remote: p.channel.remote_balance,
      chanPoint: p.channel.channel_point,
      fundingTxid: p.funding_txid,
      closingTxid: '',
      isPrivate: p.channel.private,
      view: p.channel,
    })),
    ...open.channels.map((c): Row => ({
      key: c.channel_point,
      status: c.active ? 'active' : 'inactive',
      label: c.active ? 'Active' : 'Inactive (peer offline)',
      peer: c.remote_pubkey,
      capacity: c.capacity,
      local: c.local_balance,
      remote: c.remote_balance,
      chanPoint: c.channel_point,
      fundingTxid: txOf(c.channel_point),
      closingTxid: '',
      isPrivate: c.private,
      view: c,
    })),
    ...pending.waiting_close_channels.map((w): Row => ({
      key: w.channel.channel_point,
      status: 'closing',
      label: w.state === 'CLOSING' ? 'Closing — waiting for a block' : 'Closing — agreeing on the final transaction',
      peer: w.channel.remote_pubkey,
      capacity: w.channel.capacity,
      local: w.limbo_balance,
      remote: w.channel.remote_balance,
      chanPoint: w.channel.channel_point,
      fundingTxid: txOf(w.channel.channel_point),
      closingTxid: w.closing_txid,
      isPrivate: w.channel.private,
    })),
    ...pending.pending_force_closing_channels.map((f): Row => ({
      key: f.channel.channel_point,
      status: 'force-closing',
      label: forceClosingLabel(f),
      peer: f.channel.remote_pubkey,
      capacity: f.channel.capacity,
      local: f.limbo_balance,
      remote: '0',
      closeType: f.close_type,
      chanPoint: f.channel.channel_point,
      fundingTxid: txOf(f.channel.channel_point),
      closingTxid: f.closing_txid,
      isPrivate: f.channel.private,
    })),
  ];
  // Newest first: the store lists channels in the order they began.
  const past = closed.channels
    .slice()
    .reverse()
    .map((c, i): Row => ({
      key: c.channel_point || `closed-${i}`,
      status: c.close_type === 'ABANDONED' || c.close_type === 'FUNDING_CANCELED' ? 'failed' : 'closed',
      label: closedWords(c, unit).label,
      ...(closedWords(c, unit).note ? { note: closedWords(c, unit).note! } : {}),
      closeType: c.close_type,
      peer: c.remote_pubkey,
      capacity: c.capacity,
      settled: c.settled_balance,
      ...(c.failure_reason ? { reason: c.failure_reason } : {}),
      chanPoint: c.channel_point,
      fundingTxid: txOf(c.channel_point),
      closingTxid: c.closing_tx_hash,
      isPrivate: false,
    }));
  return { current, past };
}

function TxId({ id, what }: { id: string; what: string }): ReactNode {
  return (
    <span className="txid">
      <span className="mono" title={id}>
        {shortId(id)}
      </span>
      <CopyButton text={id} what={what} />
    </span>
  );
}

function BalanceBar({ local, remote, unit }: { local: string; remote: string; unit: Unit }): ReactNode {
  const l = BigInt(local);
  const r = BigInt(remote);
  const total = l + r;
  const pct = total > 0n ? Number((l * 1000n) / total) / 10 : 0;
  return (
    <div className="balance-bar-wrap">
      <div className="balance-bar" role="img" aria-label={`Your side ${formatSats(l, unit)}, their side ${formatSats(r, unit)}`}>
        <div className="balance-bar-local" style={{ width: `${pct}%` }} />
      </div>
      <div className="balance-bar-labels">
        <span>
          <i className="dot local" aria-hidden="true" />
          Yours <Amount sats={l} unit={unit} testId="channel-local" />
        </span>
        <span>
          <i className="dot remote" aria-hidden="true" />
          Theirs <Amount sats={r} unit={unit} />
        </span>
      </div>
    </div>
  );
}

function PeerName({ pubkey, counterparty, isPrivate }: { pubkey: string; counterparty: string | undefined; isPrivate?: boolean }): ReactNode {
  return (
    <span className="channel-peer">
      <span className="mono" title={pubkey}>
        {shortId(pubkey)}
      </span>
      {pubkey === counterparty ? <span className="tag">playground counterparty</span> : null}
      {isPrivate ? <span className="tag quiet">private</span> : null}
    </span>
  );
}

/** The force close's confirmation: what happens, in the node's numbers (our delay from getchannel), then the call. */
function ForceCloseConfirm({ row, unit, onDone }: { row: Row; unit: Unit; onDone: () => void }): ReactNode {
  const detail = useApi(() => api('getchannel', { chan_point: row.chanPoint }), ['channels'], [row.chanPoint]);
  const act = useAction();
  const d = detail.data;
  return (
    <div className="close-confirm force" role="group" aria-label="Force-close this channel">
      <strong>Force-close this channel, without the other node?</strong>
      {d ? (
        forceCloseText({ local: d.channel.local_balance, remote: d.channel.remote_balance, csvDelay: d.local_constraints.csv_delay, htlcs: d.pending_htlcs.length }, unit).map((line) => <p key={line}>{line}</p>)
      ) : (
        <p>Working out what comes back when…</p>
      )}
      <ErrorBox error={act.error ?? detail.error} testId="force-close-problem" />
      <div className="actions">
        <button type="button" className="secondary" disabled={act.busy} onClick={onDone}>
          Keep it open
        </button>
        <button
          type="button"
          className="danger"
          disabled={act.busy || !d}
          onClick={() =>
            void act.run(async () => {
              await api('closechannel', { chan_point: row.chanPoint, force: true });
              onDone();
            })
          }
        >
          {act.busy ? 'Publishing…' : 'Force-close the channel'}
        </button>
      </div>
    </div>
  );
}

function ChannelItem({ row, unit, playground, counterparty, onDetails }: { row: Row; unit: Unit; playground: boolean; counterparty: string | undefined; onDetails: (chanPoint: string) => void }): ReactNode {
  const [confirming, setConfirming] = useState<'close' | 'force'>();
  const act = useAction();
  const open = row.status === 'active' || row.status === 'inactive';
  return (
    <li className={`channel ${row.status}`} data-testid="channel" data-status={row.status} data-close-type={row.closeType}>
      <div className="channel-head">
        <PeerName pubkey={row.peer} counterparty={counterparty} isPrivate={row.isPrivate} />
        <span className={`state-pill ${row.status}`} data-testid="channel-state">
          {row.label}
        </span>
      </div>
      {row.local !== undefined && row.remote !== undefined ? <BalanceBar local={row.local} remote={row.remote} unit={unit} /> : null}
      {row.view && (row.status === 'active' || row.status === 'inactive') ? (
        <p className="channel-note muted small" data-testid="channel-numbers">
          {numbersLine(row.view, unit)}
        </p>
      ) : null}
      {row.status === 'closed' ? (
        <p className="channel-note">
          Returned to your on-chain wallet: <Amount sats={row.settled ?? '0'} unit={unit} testId="channel-settled" />
        </p>
      ) : null}
      {row.note ? (
        <p className={`channel-note${row.closeType === 'BREACH_CLOSE' ? ' breach' : ''}`} data-testid="channel-close-note">
          {row.note}
        </p>
      ) : null}
      {row.reason ? <p className="channel-note error-text">{row.reason}</p> : null}
      <div className="channel-meta">
        <span title={row.view ? numbersLine(row.view, unit) : undefined}>
          Capacity <Amount sats={row.capacity} unit={unit} />
        </span>
        {row.fundingTxid ? (
          <span>
            Funding <TxId id={row.fundingTxid} what="funding transaction id" />
          </span>
        ) : null}
        {row.closingTxid ? (
          <span>
            Closing <TxId id={row.closingTxid} what="closing transaction id" />
          </span>
        ) : null}
        {row.chanPoint && (open || row.status === 'force-closing' || row.status === 'closed') ? (
          <button type="button" className="link small push-right" onClick={() => onDetails(row.chanPoint)}>
            Details
          </button>
        ) : null}
        {open && !confirming ? (
          <>
            <button type="button" className="link small danger-text" onClick={() => setConfirming('force')}>
              Force close…
            </button>
            <button
              type="button"
              className="secondary small"
              disabled={row.status === 'inactive'}
              title={row.status === 'inactive' ? 'A cooperative close needs the other node online' : undefined}
              onClick={() => setConfirming('close')}
            >
              Close channel
            </button>
          </>
        ) : null}
      </div>
      {open && row.status === 'inactive' ? <p className="channel-note muted">The other node is offline. Coulomb keeps trying to reconnect; closing together needs it online. If it does not come back, “Force close…” gets your side back on chain without it.</p> : null}
      {open && confirming === 'force' ? <ForceCloseConfirm row={row} unit={unit} onDone={() => setConfirming(undefined)} /> : null}
      {open && confirming === 'close' ? (
        <div className="close-confirm" role="group" aria-label="Close this channel">
          <strong>Close this channel?</strong>
          <p>
            Both sides sign one final transaction that pays each its balance. Your {formatSats(row.local ?? '0', unit)} returns to your on-chain wallet once a block confirms it
            {playground ? ', within seconds on the playground' : ', usually within about 10 minutes'}. Nothing is lost: the final transaction only pays a small network fee.
          </p>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="button" className="secondary" disabled={act.busy} onClick={() => setConfirming(undefined)}>
              Keep it open
            </button>
            <button
              type="button"
              className="primary"
              disabled={act.busy}
              onClick={() =>
                void act.run(async () => {
                  await api('closechannel', { chan_point: row.chanPoint });
                  setConfirming(undefined);
                })
              }
            >
              {act.busy ? 'Closing…' : 'Close the channel'}
            </button>
          </div>
        </div>
      ) : null}
    </li>
  );
}

interface Plan {
  pubkey: string;
  /** A node address to connect to first. */
  uri?: string;
  amountSat: bigint;
  satPerVb?: number;
  isPrivate: boolean;
}

function amountText(sats: bigint, unit: Unit): string {
  return unit === 'sat' ? sats.toString() : formatSats(sats, 'btc').replace(' BTC', '');
}

/** Said before any channel is opened on mainnet: what is at stake with new software, and what keeps it safe. */
function MainnetWarning(): ReactNode {
  return (
    <div className="notice" role="note" data-testid="mainnet-warning">
      Coulomb is new software. On mainnet a channel holds real bitcoin: put in only what you could afford to lose. Keep Coulomb running (or a watchtower watching for you) so that it can answer on chain if the other node closes the channel or tries to cheat.
    </div>
  );
}

/** The "open a channel" panel: the form, then a review in plain words, then the call. */
function OpenPanel({
  unit,
  playground,
  mainnet,
  counterparty,
  counterpartyUri,
  preset,
  onCancel,
  onOpened,
}: {
  unit: Unit;
  playground: boolean;
  mainnet: boolean;
  counterparty: string | undefined;
  counterpartyUri: string | undefined;
  preset: Plan | undefined;
  onCancel: () => void;
  onOpened: (fundingTxid: string) => void;
}): ReactNode {
  const peers = useApi(() => api('listpeers'), ['peers']);
  const list = peers.data?.peers ?? [];
  const [choice, setChoice] = useState<string>(preset?.pubkey ?? '');
  const [uri, setUri] = useState('');
  const [amount, setAmount] = useState(preset ? amountText(preset.amountSat, unit) : '');
  const [fee, setFee] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [review, setReview] = useState<Plan | undefined>(preset);
  const act = useAction();
  // The node's numbers: the smallest channel, the largest the confirmed coins fund at the usual rate.
  const est = useApi(() => api('estimateopen'), ['balance']);
  // The review's network fee, for its amount and rate (and whether the coins still fund it).
  const priced = useApi(
    async () => (review ? api('estimateopen', { local_amt: Number(review.amountSat), ...(review.satPerVb !== undefined ? { sat_per_vbyte: review.satPerVb } : {}) }) : undefined),
    ['balance'],
    [review],
  );
  const typedSats = parseAmount(amount, unit);
  // Checked as it is typed, before the button: nothing, too little, more than the coins fund.
  const typedProblem = !amount.trim() ? undefined : (amountProblem(amount, unit) ?? (est.data && typedSats !== undefined ? openProblem(typedSats, est.data, unit, playground) : undefined));
  // Until the user picks, the counterparty (on the playground) or the first peer is chosen; with no peers, a pasted address.
  const picked = choice || (list.find((p) => p.pub_key === counterparty) ?? list[0])?.pub_key || 'uri';

  const plan = (): Plan => {
    let pubkey = picked;
    let connectTo: string | undefined;
    if (picked === 'uri') {
      const m = /^(0[23][0-9a-fA-F]{64})@\S+$/.exec(uri.trim());
      if (!m) throw new Error('Paste the node’s address as pubkey@host:port.');
      pubkey = m[1]!.toLowerCase();
      connectTo = uri.trim();
    }
    const wrong = amountProblem(amount, unit);
    if (wrong) throw new Error(wrong);
    const sats = parseAmount(amount, unit)!;
    const refused = est.data ? openProblem(sats, est.data, unit, playground) : undefined;
    if (refused) throw new Error(refused);
    let satPerVb: number | undefined;
    if (fee.trim()) {
      satPerVb = Number(fee);
      if (!(satPerVb >= 1 && satPerVb <= 10_000)) throw new Error('The fee rate is a number of sat/vB, at least 1.');
    }
    return { pubkey, ...(connectTo ? { uri: connectTo } : {}), amountSat: sats, ...(satPerVb !== undefined ? { satPerVb } : {}), isPrivate };
  };

  if (review) {
    const blocks = playground ? 'about 20 seconds here on the playground, where a block comes every few seconds while something waits' : 'usually about half an hour, as a block comes about every 10 minutes';
    return (
      <section className="card review open-panel" aria-label="Open a channel">
        <h2>Check and open</h2>
        {mainnet ? <MainnetWarning /> : null}
        <dl>
          <dt>With</dt>
          <dd>
            <PeerName pubkey={review.pubkey} counterparty={counterparty} />
          </dd>
          <dt>Amount</dt>
          <dd data-testid="open-review-amount">{formatSats(review.amountSat, unit)}</dd>
          <dt>Network fee</dt>
          <dd data-testid="open-review-fee">
            {priced.data?.fee_sat ? (
              <>
                {formatSats(priced.data.fee_sat, unit)} <span className="muted">({priced.data.sat_per_vbyte} sat/vB), paid on top for the funding transaction</span>
              </>
            ) : priced.data ? (
              '—'
            ) : (
              <span className="muted">Working it out…</span>
            )}
          </dd>
          {review.isPrivate ? (
            <>
              <dt>Private</dt>
              <dd>Yes: the channel is not announced to the network</dd>
            </>
          ) : null}
        </dl>
        <p className="explain">
          {formatSats(review.amountSat, unit)} moves from your on-chain balance into a channel you share with this node. It opens once a few blocks confirm the funding transaction (usually 3):{' '}
          {blocks}. You can close it at any time, and your balance returns to your on-chain wallet.
        </p>
        <ErrorBox error={(priced.data ? openProblem(review.amountSat, priced.data, unit, playground) : undefined) ?? act.error ?? priced.error} testId="open-review-problem" />
        <div className="actions">
          <button type="button" className="secondary" disabled={act.busy} onClick={() => (preset && review === preset ? onCancel() : setReview(undefined))}>
            {preset && review === preset ? 'Cancel' : 'Change'}
          </button>
          {preset && review === preset ? (
            <button
              type="button"
              className="secondary"
              disabled={act.busy}
              onClick={() => {
                setChoice(preset.pubkey);
                setReview(undefined);
              }}
            >
              Change
            </button>
          ) : null}
          <button
            type="button"
            className="primary"
            disabled={act.busy || !priced.data?.fee_sat || !!openProblem(review.amountSat, priced.data, unit, playground)}
            onClick={() =>
              void act.run(async () => {
                const connectTo = review.uri ?? (review.pubkey === counterparty && !list.some((p) => p.pub_key === counterparty) ? counterpartyUri : undefined);
                if (connectTo) {
                  try {
                    await api('connect', { addr: connectTo, perm: true });
                  } catch (e) {
                    if (!(e instanceof ApiCallError && e.code === 'already_exists')) throw e;
                  }
                }
                const r = await api('openchannel', {
                  node_key: review.pubkey,
                  local_amt: Number(review.amountSat),
                  ...(review.satPerVb !== undefined ? { sat_per_vbyte: review.satPerVb } : {}),
                  ...(review.isPrivate ? { private: true } : {}),
                });
                onOpened(r.funding_txid);
              })
            }
          >
            {act.busy ? 'Opening…' : 'Open the channel'}
          </button>
        </div>
      </section>
    );
  }

  return (
    <section className="card open-panel" aria-label="Open a channel">
      <h2>Open a channel</h2>
      {mainnet ? <MainnetWarning /> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => setReview(plan()));
        }}
      >
        <fieldset className="peer-pick">
          <legend>With</legend>
          {list.map((p) => (
            <label key={p.pub_key} className="radio-row">
              <input type="radio" name="peer" checked={picked === p.pub_key} onChange={() => setChoice(p.pub_key)} />
              <PeerName pubkey={p.pub_key} counterparty={counterparty} />
              <span className="muted small">{p.address}</span>
            </label>
          ))}
          <label className="radio-row">
            <input type="radio" name="peer" checked={picked === 'uri'} onChange={() => setChoice('uri')} />
            {list.length ? 'Another node: paste its address' : 'Paste the address of the node'}
          </label>
          {picked === 'uri' ? (
            <Field label="Node address" hint="pubkey@host:port, as the other node shows it. Coulomb connects to it first.">
              <input value={uri} onChange={(e) => setUri(e.target.value)} spellCheck={false} autoComplete="off" />
            </Field>
          ) : null}
        </fieldset>
        <div className="row">
          <Field
            label={`Amount (${unit === 'sat' ? 'sats' : 'BTC'})`}
            hint={est.data ? `Comes from your confirmed on-chain balance: up to ${formatSats(est.data.max_local_amt, unit)} now, after the network fee.` : 'Comes from your confirmed on-chain balance.'}
          >
            <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
          </Field>
          <Field label="Fee rate (sat/vB, optional)" hint="For the funding transaction. Empty: the node’s usual rate.">
            <input value={fee} onChange={(e) => setFee(e.target.value)} inputMode="decimal" />
          </Field>
        </div>
        <label className="check">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
          Private channel <span className="muted">(not announced to the network)</span>
        </label>
        <ErrorBox error={typedProblem ?? act.error ?? peers.error ?? est.error} testId="open-problem" />
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Review
          </button>
        </div>
      </form>
    </section>
  );
}

export function Channels({ unit, playground, mainnet = false, counterparty, counterpartyUri }: { unit: Unit; playground: boolean; mainnet?: boolean; counterparty: string | undefined; counterpartyUri: string | undefined }): ReactNode {
  const data = useApi(
    async () => {
      const [open, pending, closed] = await Promise.all([api('listchannels'), api('pendingchannels'), api('closedchannels')]);
      return rows(open, pending, closed, unit);
    },
    ['channels', 'peers', 'sync'],
    [unit],
  );
  const [detail, setDetail] = useState<string>();
  const est = useApi(() => api('estimateopen'), ['balance']);
  const [panel, setPanel] = useState<{ preset?: Plan }>();
  const [opened, setOpened] = useState<string>();
  const current = data.data?.current ?? [];
  const past = data.data?.past ?? [];
  // The node says whether the confirmed coins fund even the smallest channel.
  const noCoins = est.data !== undefined && est.data.max_local_amt === '0';

  if (detail) return <ChannelPage chanPoint={detail} unit={unit} counterparty={counterparty} onBack={() => setDetail(undefined)} />;
  return (
    <div className="screen">
      <h1>Channels</h1>
      <p className="lead">A channel holds bitcoin between you and one other node, so Lightning payments take seconds. Opening one moves coins from your on-chain balance into it; closing it moves them back.</p>
      {panel ? (
        <OpenPanel
          key={panel.preset ? 'preset' : 'form'}
          unit={unit}
          playground={playground}
          mainnet={mainnet}
          counterparty={counterparty}
          counterpartyUri={counterpartyUri}
          preset={panel.preset}
          onCancel={() => setPanel(undefined)}
          onOpened={(txid) => {
            setPanel(undefined);
            setOpened(txid);
            data.reload();
          }}
        />
      ) : (
        <div className="actions left">
          <button
            type="button"
            className="primary"
            onClick={() => {
              setOpened(undefined);
              setPanel({});
            }}
          >
            Open a channel
          </button>
          {playground && counterparty ? (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setOpened(undefined);
                setPanel({ preset: { pubkey: counterparty, amountSat: PLAYGROUND_CHANNEL_SAT, isPrivate: false } });
              }}
            >
              Open a channel to the playground counterparty
            </button>
          ) : null}
        </div>
      )}
      {!panel && playground && counterparty ? (
        <div className="inbound-row">
          <span className="muted">A channel you open starts with everything on your side: it pays, but cannot receive yet. For room to receive:</span>
          <InboundChannelButton unit={unit} className="link" onOpened={() => data.reload()} />
        </div>
      ) : null}
      {opened && current.some((r) => r.fundingTxid === opened && r.status === 'opening') ? (
        <div className="ok" role="status" data-testid="open-result">
          The channel is opening: its funding transaction is on its way. It opens once enough blocks confirm it; you can follow it below.
        </div>
      ) : null}
      <ErrorBox error={data.error} />
      <section className="card">
        <h2>Your channels</h2>
        {current.length === 0 ? (
          <Empty title={past.length ? 'No open channels' : 'No channels yet'}>
            {noCoins
              ? playground
                ? 'A channel is funded from your on-chain balance: first get test coins on Home, then come back and open one to the playground counterparty.'
                : 'A channel is funded from your on-chain balance: first receive some bitcoin (Receive), then open a channel to a node.'
              : playground
                ? 'Open one to the playground counterparty with the button above. It takes about 20 seconds and uses only test coins.'
                : 'Press “Open a channel” and pick a connected node, or paste the address of one (pubkey@host:port).'}
          </Empty>
        ) : (
          <ul className="channel-list" data-testid="channel-list">
            {current.map((r) => (
              <ChannelItem key={r.key} row={r} unit={unit} playground={playground} counterparty={counterparty} onDetails={setDetail} />
            ))}
          </ul>
        )}
      </section>
      {past.length ? (
        <section className="card">
          <h2>Closed</h2>
          <ul className="channel-list" data-testid="closed-list">
            {past.map((r) => (
              <ChannelItem key={r.key} row={r} unit={unit} playground={playground} counterparty={counterparty} onDetails={setDetail} />
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
