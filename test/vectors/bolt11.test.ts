import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { decodeInvoice, encodeInvoice, InvoiceError, payableInvoice } from '../../core/invoice/bolt11.ts';
import { scidToString } from '../../core/wire/index.ts';

interface Valid {
  title: string;
  invoice: string;
  network: string;
  amount_msat: number | null;
  timestamp: number;
  payment_hash: string;
  payment_secret: string;
  description: string | null;
  description_hash: string | null;
  expiry_effective: number;
  min_final_cltv_expiry_delta_effective: number;
  fallback_addresses: { version: number; program: string }[];
  route_hints: { pubkey: string; short_channel_id: string; fee_base_msat: number; fee_proportional_millionths: number; cltv_expiry_delta: number }[][];
  features: { bits: number[] } | null;
  metadata: string | null;
  payee_pubkey: string;
  section_signing_pubkey?: string;
  conflicts_with_current_reader_rules?: true;
}
const v = loadVectors<{ payee_pubkey: string; valid: Valid[]; invalid: { title: string; invoice: string; reason_code: string }[] }>('bolt11-invoices.json');

describe('BOLT 11: valid invoices decode to every listed field', () => {
  it.each(v.valid.filter((x) => !x.conflicts_with_current_reader_rules).map((x) => [x.title.slice(0, 70), x] as const))('%s', (_t, x) => {
    const inv = decodeInvoice(x.invoice);
    expect(inv.network).toBe(x.network);
    expect(inv.amountMsat === undefined ? null : Number(inv.amountMsat)).toBe(x.amount_msat);
    expect(inv.timestamp).toBe(x.timestamp);
    expect(hex.encode(inv.paymentHash)).toBe(x.payment_hash);
    expect(hex.encode(payableInvoice(inv).paymentSecret)).toBe(x.payment_secret);
    expect(inv.description ?? null).toBe(x.description);
    expect(inv.descriptionHash ? hex.encode(inv.descriptionHash) : null).toBe(x.description_hash);
    expect(inv.expiry).toBe(x.expiry_effective);
    expect(inv.minFinalCltvExpiryDelta).toBe(x.min_final_cltv_expiry_delta_effective);
    expect(inv.fallbacks.map((f) => ({ version: f.version, program: hex.encode(f.program) }))).toEqual(x.fallback_addresses.map((f) => ({ version: f.version, program: f.program })));
    expect(inv.routeHints.map((r) => r.map((h) => ({ pubkey: hex.encode(h.pubkey), short_channel_id: scidToString(h.shortChannelId), fee_base_msat: h.feeBaseMsat, fee_proportional_millionths: h.feeProportionalMillionths, cltv_expiry_delta: h.cltvExpiryDelta })))).toEqual(
      x.route_hints.map((r) => r.map((h) => ({ pubkey: h.pubkey, short_channel_id: h.short_channel_id, fee_base_msat: h.fee_base_msat, fee_proportional_millionths: h.fee_proportional_millionths, cltv_expiry_delta: h.cltv_expiry_delta }))),
    );
    expect(inv.features?.bits() ?? null).toEqual(x.features?.bits ?? null);
    expect(inv.metadata ? hex.encode(inv.metadata) : null).toBe(x.metadata);
    expect(hex.encode(inv.payee)).toBe(x.payee_pubkey);
  });

  it.each(v.valid.filter((x) => !x.conflicts_with_current_reader_rules && !/high-S/.test(x.title)).map((x) => [x.title.slice(0, 70), x] as const))('re-encodes and signs byte for byte: %s', (_t, x) => {
    const inv = decodeInvoice(x.invoice);
    const again = encodeInvoice(
      {
        network: inv.network,
        ...(inv.amountMsat !== undefined ? { amountMsat: inv.amountMsat } : {}),
        timestamp: inv.timestamp,
        paymentHash: inv.paymentHash,
        paymentSecret: payableInvoice(inv).paymentSecret,
        ...(inv.description !== undefined ? { description: inv.description } : {}),
        ...(inv.descriptionHash ? { descriptionHash: inv.descriptionHash } : {}),
        includePayee: inv.fieldOrder.includes('n'),
        ...(inv.fieldOrder.includes('x') ? { expiry: inv.expiry } : {}),
        ...(inv.fieldOrder.includes('c') ? { minFinalCltvExpiryDelta: inv.minFinalCltvExpiryDelta } : {}),
        fallbacks: inv.fallbacks,
        routeHints: inv.routeHints,
        ...(inv.features ? { features: inv.features } : {}),
        ...(inv.metadata ? { metadata: inv.metadata } : {}),
        fieldOrder: inv.fieldOrder,
      },
      hex.decode((x as unknown as { signing_private_key: string }).signing_private_key),
    );
    expect(again).toBe(x.invoice.toLowerCase());
  });

  it('the example with wrong-length p/h/s/n fields fails under the current reader rules', () => {
    for (const x of v.valid.filter((y) => y.conflicts_with_current_reader_rules)) expect(() => decodeInvoice(x.invoice)).toThrow(/wrong length/);
  });
});

describe('BOLT 11: invalid invoices are refused for the stated reason', () => {
  // Refused as a payment rather than at decoding: see the invoices from before payment secrets, below.
  it.each(v.invalid.filter((x) => x.reason_code !== 'missing_payment_secret').map((x) => [x.reason_code, x] as const))('%s', (code, x) => {
    expect(() => decodeInvoice(x.invoice)).toThrow(InvoiceError);
    try {
      decodeInvoice(x.invoice);
    } catch (e) {
      expect((e as InvoiceError).code).toBe(code);
    }
  });
});

describe('BOLT 11: invoices from before payment secrets', () => {
  // Wallets wrote invoices without an s field until about 2020. Such an invoice still says what it asks
  // for, so it decodes; only a payment to it is refused, with the reason.
  const missing = v.invalid.find((x) => x.reason_code === 'missing_payment_secret')!;
  // The spec's first example as it read before payment secrets were added (2017, mainnet, no amount).
  const donation2017 =
    'lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq8rkx3yf5tcsyz3d73gafnh3cax9rn449d9p5uxz9ezhhypd0elx87sjle52x86fux2ypatgddc6k63n7erqz25le42c4u4ecky03ylcqca784w';

  it('the spec\'s invoice without an s field decodes, every other field checked as usual', () => {
    const inv = decodeInvoice(missing.invoice);
    expect(inv.paymentSecret).toBeUndefined();
    expect(inv.network).toBe('mainnet');
    expect(inv.amountMsat).toBe(2_000_000_000n);
    expect(hex.encode(inv.paymentHash)).toBe('0001020304050607080900010203040506070809000102030405060708090102');
    // (Its signature is the one of the example before the s field was taken out, so it names another payee.)
    expect(inv.features?.bits()).toEqual([8, 14]);
  });

  it('a 2017 invoice decodes with its description and payee', () => {
    const inv = decodeInvoice(donation2017);
    expect(inv.paymentSecret).toBeUndefined();
    expect(inv.amountMsat).toBeUndefined();
    expect(inv.description).toBe('Please consider supporting this project');
    expect(hex.encode(inv.payee)).toBe(v.payee_pubkey);
  });

  it('refuses to pay one, saying why and what to do', () => {
    for (const text of [missing.invoice, donation2017]) {
      const inv = decodeInvoice(text);
      expect(() => payableInvoice(inv)).toThrow(InvoiceError);
      expect(() => payableInvoice(inv)).toThrow('this invoice comes from an old wallet and has no payment secret, and current nodes reject payments without one; ask the payee for a new invoice');
    }
  });
});
