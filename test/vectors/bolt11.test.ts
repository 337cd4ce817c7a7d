import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { loadVectors } from '../helpers/vectors.ts';
import { decodeInvoice, encodeInvoice, InvoiceError } from '../../core/invoice/bolt11.ts';
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
const v = loadVectors<{ valid: Valid[]; invalid: { title: string; invoice: string; reason_code: string }[] }>('bolt11-invoices.json');

describe('BOLT 11: valid invoices decode to every listed field', () => {
  it.each(v.valid.filter((x) => !x.conflicts_with_current_reader_rules).map((x) => [x.title.slice(0, 70), x] as const))('%s', (_t, x) => {
    const inv = decodeInvoice(x.invoice);
    expect(inv.network).toBe(x.network);
    expect(inv.amountMsat === undefined ? null : Number(inv.amountMsat)).toBe(x.amount_msat);
    expect(inv.timestamp).toBe(x.timestamp);
    expect(hex.encode(inv.paymentHash)).toBe(x.payment_hash);
    expect(hex.encode(inv.paymentSecret)).toBe(x.payment_secret);
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
        paymentSecret: inv.paymentSecret,
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
  it.each(v.invalid.map((x) => [x.reason_code, x] as const))('%s', (code, x) => {
    expect(() => decodeInvoice(x.invoice)).toThrow(InvoiceError);
    try {
      decodeInvoice(x.invoice);
    } catch (e) {
      expect((e as InvoiceError).code).toBe(code);
    }
  });
});
