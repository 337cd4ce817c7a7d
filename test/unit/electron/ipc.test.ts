import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeIpcHandler } from '../../../electron/ipc.ts';
import type { IpcCallEvent } from '../../../electron/ipc.ts';
import { AppHost } from '../../../core/app/host.ts';
import type { ApiResult } from '../../../core/api/contract.ts';

const index = pathToFileURL('/opt/Coulomb/dist/renderer/index.html').href;
const fromApp: IpcCallEvent = { senderFrame: { url: index + '#/home' } };

/** A host that records what reaches it. */
function fakeHost(answer: (method: unknown, params: unknown) => Promise<ApiResult<unknown>> = async (method, params) => ({ ok: true, result: { method, params } })) {
  const calls: { method: unknown; params: unknown }[] = [];
  return {
    calls,
    call(method: unknown, params: unknown) {
      calls.push({ method, params });
      return answer(method, params);
    },
  };
}

describe('the IPC handler refuses anything but a well-formed call from our page', () => {
  it('refuses payloads of the wrong shape before the host sees them', async () => {
    const host = fakeHost();
    const handle = makeIpcHandler(host, index);
    const bad: unknown[] = [
      undefined,
      null,
      'getinfo',
      42,
      ['getinfo', {}],
      {},
      { params: {} },
      { method: 42 },
      { method: null },
      { method: { toString: 'getinfo' } },
      { method: '' },
      { method: 'getinfo', params: {}, extra: true },
      { method: 'getinfo', constructor: 'x' },
      JSON.parse('{"method":"getinfo","__proto__":{"polluted":true}}'),
      { method: 'x'.repeat(65) },
      { method: 'x'.repeat(100_000) },
    ];
    for (const payload of bad) {
      const r = await handle(fromApp, payload);
      expect(r, JSON.stringify(payload)?.slice(0, 80)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    }
    expect(host.calls).toEqual([]);
  });

  it('refuses calls from any other frame, or from none', async () => {
    const host = fakeHost();
    const handle = makeIpcHandler(host, index);
    const strangers: IpcCallEvent[] = [
      { senderFrame: null },
      { senderFrame: { url: 'https://evil.example/' } },
      { senderFrame: { url: 'file:///opt/Coulomb/dist/renderer/other.html' } },
      { senderFrame: { url: 'file:///tmp/index.html' } },
      { senderFrame: { url: 'about:blank' } },
      { senderFrame: { url: '' } },
    ];
    for (const event of strangers) {
      const r = await handle(event, { method: 'getinfo' });
      expect(r, JSON.stringify(event)).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    }
    expect(host.calls).toEqual([]);
  });

  it('treats a frame that throws on access (already gone) as a stranger', async () => {
    const host = fakeHost();
    const gone = {
      get senderFrame(): { url: string } {
        return {
          get url(): string {
            throw new Error('Render frame was disposed before WebFrameMain could be accessed');
          },
        };
      },
    };
    const r = await makeIpcHandler(host, index)(gone, { method: 'getinfo' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(host.calls).toEqual([]);
  });

  it('passes a valid call to the host and its answer back', async () => {
    const host = fakeHost();
    const handle = makeIpcHandler(host, index);
    expect(await handle(fromApp, { method: 'connect', params: { addr: 'a@b' } })).toEqual({ ok: true, result: { method: 'connect', params: { addr: 'a@b' } } });
    expect(await handle(fromApp, { method: 'getinfo' })).toEqual({ ok: true, result: { method: 'getinfo', params: undefined } });
    expect(host.calls).toEqual([
      { method: 'connect', params: { addr: 'a@b' } },
      { method: 'getinfo', params: undefined },
    ]);
  });

  it('passes the host’s errors back unchanged', async () => {
    const refusal: ApiResult<unknown> = { ok: false, error: { code: 'not_found', message: 'no such channel' } };
    const handle = makeIpcHandler(fakeHost(async () => refusal), index);
    expect(await handle(fromApp, { method: 'closechannel', params: {} })).toEqual(refusal);
  });

  it('turns a host that throws into an internal error instead of a rejection', async () => {
    const handle = makeIpcHandler(
      fakeHost(async () => {
        throw new Error('boom');
      }),
      index,
    );
    expect(await handle(fromApp, { method: 'getinfo' })).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('boom') } });
  });
});

describe('the IPC handler in front of a real AppHost', () => {
  let dir: string;
  let host: AppHost;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coulomb-ipc-'));
    host = new AppHost({ appDir: dir });
    // No settings.json: no network chosen, so no node starts.
    await host.start();
  });

  afterAll(async () => {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers bad parameters with errors, not exceptions', async () => {
    const handle = makeIpcHandler(host, index);
    const bitcoind = await handle(fromApp, { method: 'app_test_bitcoind', params: { network: 'nope' } });
    expect(bitcoind).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    // No node runs yet, so the host answers before the node's own validation would.
    const info = await handle(fromApp, { method: 'getinfo', params: { bogus: 1 } });
    expect(info).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('answers a valid app call', async () => {
    const r = await makeIpcHandler(host, index)(fromApp, { method: 'app_status' });
    expect(r).toMatchObject({ ok: true, result: { configured: false, node_running: false } });
  });

  it('refuses a stranger even for harmless methods', async () => {
    const r = await makeIpcHandler(host, index)({ senderFrame: { url: 'https://evil.example/' } }, { method: 'app_status' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
  });
});
