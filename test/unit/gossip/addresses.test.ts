/** node_announcement address descriptors, read as BOLT 7 tells a receiver to. */
import { describe, expect, it } from 'vitest';
import { addressText, parseAddresses } from '../../../core/gossip/addresses.ts';

const ipv4 = [1, 203, 0, 113, 7, 0x26, 0x07];
const ipv6 = [2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x26, 0x08];
const torv2 = [3, ...new Array<number>(10).fill(7), 0x26, 0x07];
const torv3 = [4, ...new Array<number>(35).fill(0), 0x01, 0xbb];
const dns = (name: string, port = 9735): number[] => [5, name.length, ...Buffer.from(name, 'latin1'), port >> 8, port & 0xff];

describe('address descriptors', () => {
  it('reads each known type and keeps the bytes of those it keeps', () => {
    const bytes = Uint8Array.from([...ipv4, ...ipv6, ...torv2, ...torv3, ...dns('node.example.com')]);
    const r = parseAddresses(bytes);
    expect(r).toMatchObject({
      ok: true,
      extraHostnames: false,
      addresses: [
        { type: 'ipv4', host: '203.0.113.7', port: 9735 },
        { type: 'ipv6', host: '2001:db8::1', port: 9736 },
        { type: 'torv3', host: `${'a'.repeat(56)}.onion`, port: 443 },
        { type: 'dns', host: 'node.example.com', port: 9735 },
      ],
    });
    // Tor v2 is dropped from what is kept; reading the kept bytes again gives the same list.
    if (!r.ok) throw new Error(r.message);
    expect(r.canonical).toEqual(Uint8Array.from([...ipv4, ...ipv6, ...torv3, ...dns('node.example.com')]));
    expect(parseAddresses(r.canonical)).toMatchObject({ ok: true, addresses: r.addresses });
    expect(r.addresses.map(addressText)).toContain('[2001:db8::1]:9736');
  });

  it('skips port 0 and non-ASCII hostnames, stops at an unknown type, and flags a second hostname', () => {
    expect(parseAddresses(Uint8Array.from([1, 1, 2, 3, 4, 0, 0, ...ipv4]))).toMatchObject({ ok: true, addresses: [{ host: '203.0.113.7' }] });
    expect(parseAddresses(Uint8Array.from([...dns('bad\u00e9.example')]))).toMatchObject({ ok: true, addresses: [] });
    expect(parseAddresses(Uint8Array.from([...ipv4, 9, 1, 2, 3, ...ipv6]))).toMatchObject({ ok: true, addresses: [{ type: 'ipv4' }] });
    expect(parseAddresses(Uint8Array.from([...dns('a.example'), ...dns('b.example')]))).toMatchObject({ ok: true, extraHostnames: true, addresses: [{ host: 'a.example' }] });
  });

  it('refuses a list cut short inside a known type', () => {
    expect(parseAddresses(Uint8Array.from(ipv4.slice(0, 5)))).toMatchObject({ ok: false });
    expect(parseAddresses(Uint8Array.from(dns('x.example').slice(0, 6)))).toMatchObject({ ok: false, message: expect.stringContaining('cut short') });
    expect(parseAddresses(Uint8Array.of(5))).toMatchObject({ ok: false });
  });
});
