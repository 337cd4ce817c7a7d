import { describe, expect, it } from 'vitest';
import { parseHostPort, parsePeerAddress, formatHostPort } from '../../../core/peer/address.ts';
import { decodeNetAddress, encodeNetAddress } from '../../../core/peer/net-address.ts';

const PK = '02' + 'ab'.repeat(32);

describe('peer addresses', () => {
  it('parses pubkey@host:port, default port and IPv6 in brackets', () => {
    expect(parsePeerAddress(`${PK}@127.0.0.1:9736`)).toEqual({ pubkey: PK, host: '127.0.0.1', port: 9736 });
    expect(parsePeerAddress(`${PK.toUpperCase().replace('AB', 'ab')}@example.org`).port).toBe(9735);
    expect(parsePeerAddress(`${PK}@[::1]:10011`)).toEqual({ pubkey: PK, host: '::1', port: 10011 });
    expect(parseHostPort('[2001:db8::1]')).toEqual({ host: '2001:db8::1', port: 9735 });
  });

  it('rejects what is not an address with a sentence saying why', () => {
    expect(() => parsePeerAddress('127.0.0.1:9735')).toThrow(/expected <pubkey>@<host>:<port>/);
    expect(() => parsePeerAddress(`04${'ab'.repeat(32)}@h:1`)).toThrow(/not a node public key/);
    expect(() => parsePeerAddress(`${PK}@h:99999`)).toThrow(/not a valid port/);
    expect(() => parsePeerAddress(`${PK}@::1:9735`)).toThrow(/IPv6 addresses in brackets/);
    expect(() => parsePeerAddress(`${PK}@`)).toThrow(/no valid host/);
  });

  it('formats IPv6 with brackets', () => {
    expect(formatHostPort('::1', 9735)).toBe('[::1]:9735');
    expect(formatHostPort('10.0.0.1', 1)).toBe('10.0.0.1:1');
  });
});

describe('BOLT 7 address descriptors', () => {
  it('round-trips IPv4 and IPv6, including IPv4-mapped IPv6', () => {
    expect(decodeNetAddress(encodeNetAddress('127.0.0.1', 9735)!)).toEqual({ kind: 'ipv4', host: '127.0.0.1', port: 9735 });
    expect(decodeNetAddress(encodeNetAddress('::ffff:10.1.2.3', 1)!)).toEqual({ kind: 'ipv4', host: '10.1.2.3', port: 1 });
    expect(decodeNetAddress(encodeNetAddress('2001:db8::ff', 65535)!)).toEqual({ kind: 'ipv6', host: '2001:db8:0:0:0:0:0:ff', port: 65535 });
    expect(Array.from(encodeNetAddress('1.2.3.4', 0x2607)!)).toEqual([1, 1, 2, 3, 4, 0x26, 0x07]);
  });
  it('never throws on odd input', () => {
    expect(encodeNetAddress('example.org', 1)).toBeUndefined();
    expect(decodeNetAddress(new Uint8Array([1, 2]))).toEqual({ kind: 'unknown', type: 1 });
    expect(decodeNetAddress(new Uint8Array())).toBeUndefined();
  });
});
