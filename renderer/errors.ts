/**
 * Every error a person sees, in one voice, from one place: the node's messages (ApiError codes and
 * sentences), the connection's, and the screens' own. A message starts with a capital and ends with a
 * full stop, writes amounts as the app does ("2 000 000 sat"), says what to do, and keeps internal
 * identifiers (node keys, transaction ids, hashes, channel points) and raw wording for a "details"
 * disclosure under it.
 */
import { formatSats } from './format.ts';

/** An error as a screen shows it: the sentence, and what lies behind it for those who open "Details". */
export interface Shown {
  text: string;
  details?: string;
}

export type ErrorLike = string | Shown | undefined;

/**
 * Node messages that need other words for people, by what they say (the node's own words stay in
 * the details). The first that matches wins.
 */
const KNOWN: [RegExp, string | ((m: RegExpExecArray) => string)][] = [
  [/connection to Coulomb dropped/i, 'The connection to Coulomb dropped. It reconnects by itself: try again in a moment.'],
  [/not connected to (?:peer )?[0-9a-f]{66}/i, 'That node is not connected. Connect to it first (Peers), then try again.'],
  [/could not connect to (\S+): connection refused/i, (m) => `Nothing answers at ${m[1]}. Check the address and that the node is running there, then try again.`],
  [/could not connect to (\S+): no answer within/i, (m) => `No answer from ${m[1]}. Check the address and your connection, then try again.`],
  [/handshake with \S+ failed/i, 'That node did not answer as its address says: the key may not belong to that host and port. Check the whole address (key@host:port) and try again.'],
  [/the peer did not complete the channel opening/i, 'The other node did not answer in time, so no channel was opened and nothing left your wallet. Try again, or choose another node.'],
  [/the peer refused: (.*)/i, (m) => `The other node refused the channel: ${lowerFirst(m[1]!)}. Try another amount or another node.`],
  [/wrong password/i, 'That password is not right. Nothing was changed: try again.'],
  [/the wallet is locked/i, 'The wallet is locked. Unlock it first.'],
  [/is below the dust limit; send at least (\d+) sat/i, (m) => `That amount is too small to send on-chain: send at least ${formatSats(m[1]!, 'sat')}.`],
  [/not enough funds: sending (\d+) sat plus fees needs more than the (\d+) sat spendable/i, (m) => `Not enough bitcoin: ${formatSats(m[1]!, 'sat')} and the network fee need more than the ${formatSats(m[2]!, 'sat')} you can spend. Send less, or choose “Send everything”.`],
  [/not a valid bitcoin address|invalid address|has no matching script|not a valid address/i, 'This is not a valid bitcoin address. Copy it again from the payee, whole.'],
  [/address is for (\w+)/i, (m) => `This address is for ${m[1]}, another network than this wallet’s. Ask the payee for an address on this network.`],
  [/the invoice is already paid|already been paid/i, 'You already paid this invoice. Nothing was paid twice.'],
  [/^invalid (\w+) request: (.*)/i, (m) => `Something in the form is not right (${lowerFirst(m[2]!.replace(/^[\w.]+: /, ''))}). Check it and try again.`],
  // Force close refusals (closechannel --force): why nothing was published, and what happens instead.
  [/cannot be force-closed: the peer proved our channel data out of date/i, 'Coulomb did not force-close: the other node proved that this wallet’s copy of the channel is out of date, and publishing it could hand the other node everything. Wait for the other node to close the channel; your side comes back to your wallet then.'],
  [/has no commitment both sides signed yet/i, 'This channel has nothing to publish yet: the other node never signed a transaction paying you. Nothing of yours is in it; wait for it to open or fail.'],
  [/cannot be force-closed: the channel is closed on chain already|the channel is closed already/i, 'This channel is closed on chain already: nothing more to publish. Channels shows when your side comes back.'],
  [/the chain monitors are not running yet/i, 'Coulomb is still starting to watch the chain, so nothing was published. Try again in a moment.'],
  [/^internal error/i, 'Something went wrong inside Coulomb, and nothing was changed. Try again; if it keeps happening, the details below say where.'],
];

/** Whatever a call or a screen threw, as a person reads it. */
export function toShown(e: unknown): Shown {
  // A failed call (api.ts's ApiCallError, told by its code: this module loads without a page, for tests).
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') return fromNode((e as Error & { code: string }).code, e.message);
  if (e instanceof Error) return fromText(e.message);
  if (typeof e === 'object' && e !== null && 'text' in e) return e as Shown;
  return fromText(String(e));
}

/** A screen's own sentence, or a message already in the node's voice. */
export function fromText(text: string): Shown {
  return polish(text, undefined);
}

/** A node error (ApiError code and message), in people's words. */
export function fromNode(code: string, message: string): Shown {
  for (const [re, say] of KNOWN) {
    const m = re.exec(message);
    if (m) return { text: typeof say === 'string' ? say : say(m), details: message };
  }
  return polish(message, code);
}

/** Normalises an ErrorLike (what the screens keep) to a Shown, or undefined. */
export function shown(e: ErrorLike): Shown | undefined {
  if (e === undefined || e === '') return undefined;
  return typeof e === 'string' ? fromText(e) : e;
}

// ---------------------------------------------------------------------------------------------------

/** Identifiers people need not read: keys (66 hex), ids and hashes (64), channel points, long hex. */
const ID = /\b(?:0[23][0-9a-f]{64}|[0-9a-f]{64}(?::\d+)?|[0-9a-f]{20,})\b/gi;
/** A bare amount in the node's words: "2000000 sat", "1500 msat". */
const AMOUNT = /\b(\d{4,})( ?)(m?sat)s?\b/g;
/** Words that tell the reader what to do; a message without any gets the code's usual advice. */
const ADVICE = /\b(try|first|ask|choose|check|open|connect|unlock|receive|wait|enter|type|paste|copy|use|send less|restore|start|get)\b/i;

const ADVICE_BY_CODE: Record<string, string> = {
  invalid_argument: 'Check what you entered and try again.',
  unavailable: 'Try again in a moment.',
  internal: 'Try again; if it keeps happening, the details below say where.',
  not_found: 'Check it and try again.',
  failed_precondition: 'Try again once that is sorted out.',
};

function lowerFirst(s: string): string {
  return s && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function polish(raw: string, code: string | undefined): Shown {
  let text = raw.trim();
  let changed = false;
  // Identifiers go to the details; "payee 02ab…" becomes "the payee".
  const withoutIds = text.replace(ID, '').replace(/\s+([,.;:)])/g, '$1').replace(/\(\s*\)/g, '').replace(/\s{2,}/g, ' ').trim();
  if (withoutIds !== text) {
    text = withoutIds;
    changed = true;
  }
  text = text.replace(AMOUNT, (_all, digits: string, _sp: string, unit: string) => (unit === 'msat' ? `${formatSats(BigInt(digits) / 1000n, 'sat')}` : formatSats(digits, 'sat')));
  if (!text) text = 'Something went wrong.';
  text = text[0]!.toUpperCase() + text.slice(1);
  if (!/[.!?…]$/.test(text)) text += '.';
  if (code && !ADVICE.test(text) && ADVICE_BY_CODE[code]) text += ` ${ADVICE_BY_CODE[code]}`;
  return { text, ...(changed || code === 'internal' ? { details: raw } : {}) };
}
