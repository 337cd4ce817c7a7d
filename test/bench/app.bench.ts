/**
 * Is the app's main process responsive while the node works? The node runs in the same process as the
 * Electron main (and the browser-mode server), so every millisecond the protocol holds the event loop
 * is a millisecond the window's IPC waits. Measured: event-loop delay (p50, p99, max) while the app
 * chooses the playground, creates a wallet (with the real password-hashing cost), gets test coins and
 * makes on-chain sends; the reference is the same measurement on an idle loop in the same run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppHost } from '../../core/app/host.ts';
import { createMnemonic } from '../../core/wallet/mnemonic.ts';
import { table } from './harness.ts';

async function measure(fn: () => Promise<void>): Promise<{ p50: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await fn();
  h.disable();
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

async function ok<T>(p: Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error!.message);
  return r.result as T;
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coulomb-bench-app-'));
  const host = new AppHost({ appDir: dir });
  await host.start();
  const idle = await measure(() => new Promise((r) => setTimeout(r, 1500)));
  const onboarding = await measure(async () => {
    await ok(host.call('app_choose_network', { kind: 'playground' }));
    await ok(host.call('create', { password: 'a bench password', words: createMnemonic(), new_wallet: true }));
  });
  const work = await measure(async () => {
    const { address } = await ok<{ address: string }>(host.call('newaddress', {}));
    await ok(host.call('playground_faucet', { addr: address, amt: 10_000_000 }));
    for (let i = 0; i < 10; i++) {
      const to = await ok<{ address: string }>(host.call('newaddress', {}));
      await ok(host.call('sendcoins', { addr: to.address, amt: 100_000 }));
      await ok(host.call('playground_mine', { blocks: 1 }));
    }
  });
  await host.stop();
  await rm(dir, { recursive: true, force: true });
  const row = (name: string, m: { p50: number; p99: number; max: number }): (string | number)[] => [name, m.p50, m.p99, m.max, m.p99 / Math.max(idle.p99, 0.001)];
  table('event-loop delay of the app process, ms (ratio = p99 / idle p99)', [
    ['phase', 'p50', 'p99', 'max', 'ratio'],
    row('idle (reference)', idle),
    row('choose playground + create wallet', onboarding),
    row('faucet + 10 sends + 10 blocks', work),
  ]);
}
