/**
 * `coulomb exporthistory`: the wallet's history as CSV for bookkeeping (core/payments/history-csv.ts),
 * made from listpayments, listinvoices and listchaintxns, the payments' descriptions read from their
 * invoices. lncli has no such command; the file is the one the app's History downloads.
 */
import { writeFileDurable } from '../store/durable-file.ts';
import { historyCsv, historyRecords } from '../payments/history-csv.ts';
import type { ParsedFlags } from './args.ts';
import type { ClientCommand } from './commands.ts';
import type { Caller } from './wallet-flow.ts';

export const EXPORT_HISTORY_COMMAND: ClientCommand = {
  name: 'exporthistory',
  usage: 'exporthistory [--output_file F] [--include_abandoned]',
  summary: "Writes the wallet's history as CSV (payments, invoices, on-chain transactions; date, type, direction, amount, fee, status, description, hash or txid), for bookkeeping.",
  flags: [
    { name: 'output_file', type: 'string', help: 'where to write the CSV (without it, the CSV is printed)' },
    { name: 'include_abandoned', type: 'boolean', help: 'invoices nobody paid that expired or were canceled too (left out by default)' },
  ],
  // The command makes several calls (see runExportHistory); this is the first.
  method: 'listpayments',
  toParams: () => ({}),
};

/** Returns what to print: with --output_file, where the file went and how many rows; without, nothing (the CSV went to stdout). */
export async function runExportHistory(flags: ParsedFlags, call: Caller, write: (text: string) => void): Promise<{ output_file: string; rows: number } | undefined> {
  const [payments, invoices, chain] = await Promise.all([
    call('listpayments', {}),
    // Every invoice, a page of 10 000 at a time.
    (async () => {
      const all = [];
      for (let offset = 0; ; ) {
        const page = await call('listinvoices', { index_offset: offset, num_max_invoices: 10_000 });
        all.push(...page.invoices);
        if (page.invoices.length < 10_000) return all;
        offset = Number(page.last_index_offset);
      }
    })(),
    call('listchaintxns', {}),
  ]);
  const descriptions = new Map<string, string>();
  for (const p of payments.payments) {
    if (!p.payment_request) continue;
    const d = await call('decodepayreq', { pay_req: p.payment_request }).catch(() => undefined);
    if (d?.description) descriptions.set(p.payment_hash, d.description);
  }
  const records = historyRecords({ payments: payments.payments, invoices, chain: chain.transactions, descriptions, nowSec: Math.floor(Date.now() / 1000), includeAbandoned: flags.include_abandoned === true });
  const csv = historyCsv(records);
  const file = flags.output_file;
  if (typeof file !== 'string' || !file) {
    write(csv);
    return undefined;
  }
  await writeFileDurable(file, csv, 0o600);
  return { output_file: file, rows: records.length };
}
