/**
 * secp256k1 backends (noble, libsecp256k1 in WebAssembly, and libsecp256k1 as a native addon where it
 * loads) and AEAD backends (Node vs noble).
 */
import { randomBytes } from 'node:crypto';
import { secpBackends, aeadBackends, nobleAead, sha256 } from '../../core/crypto/index.ts';
import { opsPerSec, table } from './harness.ts';

export async function run(): Promise<void> {
  const priv = new Uint8Array(randomBytes(32));
  const other = new Uint8Array(randomBytes(32));
  const msg = sha256(new Uint8Array(randomBytes(32)));
  const rows: (string | number)[][] = [['backend', 'sign/s', 'verify/s', 'ecdh/s']];
  const rates: Record<string, number[]> = {};
  for (const b of secpBackends) {
    const pub = b.getPublicKey(priv);
    const otherPub = b.getPublicKey(other);
    const sig = b.sign(msg, priv);
    const r = [opsPerSec(() => b.sign(msg, priv)), opsPerSec(() => b.verify(sig, msg, pub)), opsPerSec(() => b.ecdh(priv, otherPub))];
    rates[b.name] = r;
    rows.push([b.name, ...r]);
  }
  const [n, t] = [rates['noble']!, rates['tiny-secp256k1']!];
  rows.push(['tiny-secp256k1 / noble', t[0]! / n[0]!, t[1]! / n[1]!, t[2]! / n[2]!]);
  const x = rates['native'];
  if (x) rows.push(['native / tiny-secp256k1', x[0]! / t[0]!, x[1]! / t[1]!, x[2]! / t[2]!]);
  table(`secp256k1 (ops per second; the last ${x ? 'rows are ratios' : 'row is the ratio'})`, rows);

  const aeadRows: (string | number)[][] = [['backend', '64 KiB MB/s', '100 B MB/s']];
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(12);
  const empty = new Uint8Array(0);
  for (const b of aeadBackends.includes(nobleAead) ? aeadBackends : [...aeadBackends, nobleAead]) {
    const rate = (size: number): number => {
      const pt = new Uint8Array(size);
      return (opsPerSec(() => b.encryptParts(key, nonce, empty, pt)) * size) / 1e6;
    };
    aeadRows.push([b.name, rate(65536), rate(100)]);
  }
  table('ChaCha20-Poly1305 sealing throughput (tag returned separately, as the transport writes it)', aeadRows);
}
