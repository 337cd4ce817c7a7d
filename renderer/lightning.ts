/**
 * Lightning for the screens, without React: what a pasted text is (an invoice, an address, a link,
 * or neither), and the node's failures as sentences for people. What the channels can send and
 * receive and what a payment's route costs are the node's to say (channelbalance, listchannels,
 * estimateroutefee): nothing here computes reserves, commitment fees or routing fees.
 */
import type { MethodOutput, PaymentView } from '../core/api/contract.ts';
import { fromText } from './errors.ts';
import type { Shown } from './errors.ts';
import { formatSats, parseAmount } from './format.ts';
import type { Unit } from './format.ts';

export type Decoded = MethodOutput<'decodepayreq'>;

/** What the user pasted into "Pay to". */
export type PayTarget =
  | { kind: 'empty' }
  /** Neither an invoice nor anything shaped like an address: nothing to pay yet. */
  | { kind: 'unknown' }
  | { kind: 'invoice'; invoice: string }
  /** An address, or a `bitcoin:` link (BIP 21); `invoice` when the link offers Lightning too. */
  | { kind: 'onchain'; address: string; amountSat?: bigint; label?: string; invoice?: string };

const INVOICE = /^ln(?:bc|tbs|tb|bcrt)[a-z0-9]*1[02-9ac-hj-np-z]+$/;
/** Segwit addresses (BIP 173/350: bc1, tb1, bcrt1, one case only) and legacy ones (base58, 1/3/m/n/2). */
const BECH32_ADDRESS = /^(?:bc|tb|bcrt)1[02-9ac-hj-np-z]{8,87}$/;
const BASE58_ADDRESS = /^[13mn2][1-9A-HJ-NP-Za-km-z]{25,34}$/;

/**
 * Whether a text is shaped like a bitcoin address. Only the shape: the node checks the checksum and
 * the network when it prices the payment, and says what is wrong.
 */
export function looksLikeAddress(text: string): boolean {
  const t = text.trim();
  if (t === t.toLowerCase() || t === t.toUpperCase()) {
    if (BECH32_ADDRESS.test(t.toLowerCase())) return true;
  }
  return BASE58_ADDRESS.test(t);
}

/** Tells an invoice (bare or as a `lightning:` link) from an address or a `bitcoin:` link. */
export function parsePayTarget(text: string): PayTarget {
  const t = text.trim();
  if (!t) return { kind: 'empty' };
  const ln = /^(?:lightning:)?(\S+)$/i.exec(t.replace(/^lightning:\/\//i, 'lightning:'));
  if (ln && INVOICE.test(ln[1]!.toLowerCase())) return { kind: 'invoice', invoice: ln[1]!.toLowerCase() };
  const m = /^bitcoin:([^?]*)(?:\?(.*))?$/i.exec(t);
  if (m) {
    const q = new URLSearchParams(m[2] ?? '');
    const amount = q.get('amount');
    const sats = amount ? parseAmount(amount, 'btc') : undefined;
    const lightning = q.get('lightning')?.trim().toLowerCase();
    return {
      kind: 'onchain',
      address: m[1]!,
      ...(sats !== undefined ? { amountSat: sats } : {}),
      ...(q.get('label') ? { label: q.get('label')! } : {}),
      ...(lightning && INVOICE.test(lightning) ? { invoice: lightning } : {}),
    };
  }
  return looksLikeAddress(t) ? { kind: 'onchain', address: t } : { kind: 'unknown' };
}

/** The invoice network (BOLT 11 prefix) payable from the app's network. */
export function invoiceNetworkFor(appNetwork: string): string {
  if (appNetwork === 'playground') return 'regtest';
  if (appNetwork === 'testnet4') return 'testnet';
  return appNetwork;
}

/** An invoice network, named for people. */
export function networkLabel(invoiceNetwork: string, appNetwork: string): string {
  if (invoiceNetwork === 'regtest' && appNetwork === 'playground') return 'Playground';
  return { mainnet: 'Bitcoin (mainnet)', testnet: 'Testnet', signet: 'Signet', regtest: 'Regtest' }[invoiceNetwork] ?? invoiceNetwork;
}

/** The app's network, named for people. */
export function appNetworkLabel(appNetwork: string): string {
  return appNetwork === 'playground' ? 'the playground' : appNetwork === 'mainnet' ? 'Bitcoin (mainnet)' : appNetwork;
}

/** msat rounded up to whole sats (fees are shown as the most they could be). */
export function msatToSatCeil(msat: bigint): bigint {
  return (msat + 999n) / 1000n;
}

/** A fee as people read it: whole sats, rounded up (a fee is never shown smaller than it was); msat only in a detail view. */
export function formatFee(msat: bigint | string, unit: Unit): string {
  return formatSats(msatToSatCeil(BigInt(msat)), unit);
}

/** Why a payment failed and what to do, for people: the node's diagnosis, or (from a node without one) its failure_reason. */
export function failureSentence(p: Pick<PaymentView, 'status' | 'failure_reason' | 'failure_detail'>): string {
  if (p.status !== 'FAILED') return '';
  if (p.failure_detail) return fromText(p.failure_detail.text).text;
  switch (p.failure_reason) {
    case 'FAILURE_REASON_TIMEOUT':
      return 'The payment took too long and was given up.';
    case 'FAILURE_REASON_NO_ROUTE':
      return 'No way to the payee worked: there is no channel to them, or none with enough room.';
    case 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS':
      return 'The payee refused it: the invoice is unknown to them, already paid, or for another amount.';
    case 'FAILURE_REASON_INSUFFICIENT_BALANCE':
      return 'Your channels do not hold enough to pay it.';
    case 'FAILURE_REASON_CANCELED':
      return 'The payment was canceled.';
    default:
      return 'The payment failed on its way.';
  }
}

/** A failed payment as a screen shows it: the sentence, and the node's own codes under "Details". */
export function failureShown(p: Pick<PaymentView, 'status' | 'failure_reason' | 'failure_detail'>): Shown {
  const hop = p.failure_detail?.hop;
  return { text: failureSentence(p), details: `${p.failure_reason}${p.failure_detail ? ` · ${p.failure_detail.kind}` : ''}${hop ? ` · hop ${hop.index}: ${hop.failure}` : ''}` };
}

/** A duration for people: "2 days", "5 h 12 min", "3 min 20 s", "40 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 2 * 86_400) return `${Math.floor(s / 86_400)} days`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** When an invoice stops being payable, ms since the epoch. */
export function expiresAt(inv: { timestamp: string; expiry: string } | { creation_date: string; expiry: string }): number {
  const start = 'timestamp' in inv ? inv.timestamp : inv.creation_date;
  return (Number(start) + Number(inv.expiry)) * 1000;
}

/** An amount in msat: whole sats as usual; a fraction of a sat (fees) with up to three decimals in sats. */
export function formatMsat(msat: bigint | string, unit: Unit): string {
  const v = BigInt(msat);
  if (v % 1000n === 0n) return formatSats(v / 1000n, unit);
  if (unit === 'btc') return formatSats(msatToSatCeil(v), unit);
  const frac = (v % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return `${formatSats(v / 1000n, 'sat').replace(' sat', '')}.${frac} sat`;
}
