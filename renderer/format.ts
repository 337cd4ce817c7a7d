/** Amounts as people read them: sats with grouped digits, or BTC with eight decimals. */
export type Unit = 'sat' | 'btc';

export function formatSats(sats: bigint | string | number, unit: Unit): string {
  const v = BigInt(sats);
  if (unit === 'btc') {
    const neg = v < 0n;
    const a = neg ? -v : v;
    const whole = a / 100_000_000n;
    const frac = (a % 100_000_000n).toString().padStart(8, '0');
    return `${neg ? '−' : ''}${whole}.${frac} BTC`;
  }
  const s = (v < 0n ? -v : v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return `${v < 0n ? '−' : ''}${s} sat`;
}

/** Reads an amount typed in the current unit; undefined when it is not a valid amount. */
export function parseAmount(text: string, unit: Unit): bigint | undefined {
  const t = text.trim().replace(/[\s_\u202f,]/g, '');
  if (unit === 'sat') return /^\d{1,16}$/.test(t) ? BigInt(t) : undefined;
  const m = /^(\d{1,8})(?:\.(\d{0,8}))?$/.exec(t);
  if (!m) return undefined;
  return BigInt(m[1]!) * 100_000_000n + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function shortId(id: string, n = 8): string {
  return id.length > 2 * n + 1 ? `${id.slice(0, n)}…${id.slice(-n)}` : id;
}

/** A `bitcoin:` link (BIP 21): address and optional amount (in BTC), label, message. */
export function parseBitcoinUri(uri: string): { address: string; amountSat?: bigint; label?: string } | undefined {
  const m = /^bitcoin:([^?]+)(?:\?(.*))?$/i.exec(uri.trim());
  if (!m) return undefined;
  const q = new URLSearchParams(m[2] ?? '');
  const amt = q.get('amount');
  const sats = amt ? parseAmount(amt, 'btc') : undefined;
  return { address: m[1]!, ...(sats !== undefined ? { amountSat: sats } : {}), ...(q.get('label') ? { label: q.get('label')! } : {}) };
}

/** What is wrong with a typed amount, in people's words; undefined when it is an amount above zero. */
export function amountProblem(text: string, unit: Unit): string | undefined {
  const v = parseAmount(text, unit);
  if (v === undefined) return unit === 'sat' ? 'Type the amount as a whole number of sats.' : 'Type the amount in BTC, like 0.001.';
  if (v === 0n) return 'Enter an amount above zero.';
  return undefined;
}
