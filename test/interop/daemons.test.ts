/**
 * Two Coulomb daemons, as a person would run them: separate processes, driven only through the CLI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, removeDir, startDaemonProcess, waitFor } from '../helpers/daemon.ts';
import type { DaemonProcess } from '../helpers/daemon.ts';
import { loadVectors } from '../helpers/vectors.ts';

interface Peers {
  peers: { pub_key: string; address: string; inbound: boolean; features: Record<string, { name: string }> }[];
}

describe('two coulomb daemons over the CLI', () => {
  const daemons: DaemonProcess[] = [];
  afterAll(async () => {
    for (const d of daemons) {
      await d.stop();
      await removeDir(d.datadir);
    }
  });

  it('connect, see each other in listpeers, disconnect, stop', { timeout: 90_000 }, async () => {
    const alice = await startDaemonProcess('alice');
    daemons.push(alice);
    const bob = await startDaemonProcess('bob');
    daemons.push(bob);

    const info = await cliJson<{ identity_pubkey: string; network: string; num_peers: number; uris: string[]; version: string }>(alice.datadir, 'getinfo');
    expect(info.identity_pubkey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(info.network).toBe('regtest');
    expect(info.num_peers).toBe(0);
    expect(info.uris[0]).toMatch(new RegExp(`^${info.identity_pubkey}@127\\.0\\.0\\.1:\\d+$`));

    expect(await cliJson(alice.datadir, 'connect', bob.uri)).toEqual({});
    const ap = await cliJson<Peers>(alice.datadir, 'listpeers');
    expect(ap.peers).toHaveLength(1);
    expect(ap.peers[0]).toMatchObject({ pub_key: bob.nodeId, inbound: false, address: bob.uri.split('@')[1] });
    const bp = await waitFor('bob to list alice', async () => {
      const r = await cliJson<Peers>(bob.datadir, 'listpeers');
      return r.peers.length === 1 ? r : undefined;
    });
    expect(bp.peers[0]).toMatchObject({ pub_key: alice.nodeId, inbound: true });

    const again = await cli(alice.datadir, 'connect', bob.uri);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already connected/);

    expect(await cliJson(alice.datadir, 'disconnect', bob.nodeId)).toEqual({});
    await waitFor('bob to see alice gone', async () => ((await cliJson<Peers>(bob.datadir, 'listpeers')).peers.length === 0 ? true : undefined));

    const stop = await cliJson<{ status: string }>(bob.datadir, 'stop');
    expect(stop.status).toMatch(/shutting down/);
    await waitFor('bob to exit', () => bob.child.exitCode !== null || undefined);
    expect(bob.child.exitCode).toBe(0);
    const gone = await cli(bob.datadir, 'getinfo');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/No Coulomb daemon found|Could not reach the Coulomb daemon|is not running any more/);
  });

  it('errors speak to people: bad address, wrong key, refused port, bad flag', { timeout: 90_000 }, async () => {
    const alice = daemons[0]!;
    const bad = await cli(alice.datadir, 'connect', 'not-an-address');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^\[coulomb\] "not-an-address" is not a peer address/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);

    const refused = await cli(alice.datadir, 'connect', `02${'11'.repeat(32)}@127.0.0.1:1`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/connection refused/);

    const wrongKey = `03${'22'.repeat(32)}@${alice.uri.split('@')[1]}`;
    const third = await startDaemonProcess('carol');
    daemons.push(third);
    const r = await cli(third.datadir, 'connect', wrongKey);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/handshake .* failed/);

    const flag = await cli(alice.datadir, 'listpeers', '--nope');
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/unknown flag --nope/);
  });

  it('decodepayreq decodes an invoice of any network and says it has expired', async () => {
    const alice = daemons[0]!;
    const v = loadVectors<{ valid: { invoice: string; network: string; amount_msat: number | null; payment_hash: string; description: string | null }[] }>('bolt11-invoices.json');
    const x = v.valid.find((i) => i.network === 'testnet' && i.amount_msat)!;
    const d = await cliJson<{ network: string; num_satoshis: string; payment_hash: string; expired: boolean; destination: string }>(alice.datadir, 'decodepayreq', x.invoice);
    expect(d).toMatchObject({ network: 'testnet', num_satoshis: String(x.amount_msat! / 1000), payment_hash: x.payment_hash, expired: true });
    expect(d.destination).toMatch(/^0[23][0-9a-f]{64}$/);
    const bad = await cli(alice.datadir, 'decodepayreq', x.invoice.slice(0, -1) + (x.invoice.endsWith('q') ? 'p' : 'q'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a valid Lightning invoice/);
  });
});
