import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../core/api/dispatch.ts';
import { ApiError, methodSchemas } from '../../../core/api/contract.ts';
import type { ApiHandlers } from '../../../core/api/contract.ts';
import { memoryLogger } from '../../../core/log/logger.ts';

function handlers(calls: unknown[]): ApiHandlers {
  const unused = async (): Promise<never> => {
    throw new Error('not used in this test');
  };
  return {
    ...(Object.fromEntries(Object.keys(methodSchemas).map((k) => [k, unused])) as unknown as ApiHandlers),
    getinfo: async () => {
      throw new Error('boom');
    },
    connect: async (i) => {
      calls.push(i);
      return {};
    },
    disconnect: async () => {
      throw new ApiError('not_found', 'not connected to peer x');
    },
    listpeers: async () => ({ peers: [] }),
    stop: async () => ({ status: 'ok' }),
  };
}

describe('API dispatch validates every payload before a handler runs', () => {
  const calls: unknown[] = [];
  const log = memoryLogger();
  const dispatch = createDispatcher(handlers(calls), log);

  it('rejects unknown methods, wrong types, extra fields and bad keys', async () => {
    expect(await dispatch('rm_rf', {})).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await dispatch('connect', { addr: 42 })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch('connect', { addr: 'a@b', evil: true })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch('connect', 'a@b')).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    const r = await dispatch('disconnect', { pub_key: '04' + '00'.repeat(32) });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    if (!r.ok) expect(r.error.message).toMatch(/pub_key: a node public key is 66 hex characters/);
    expect(calls).toEqual([]);
  });

  it('passes valid input through and returns errors as data', async () => {
    expect(await dispatch('connect', { addr: 'a@b', perm: true })).toEqual({ ok: true, result: {} });
    expect(calls).toEqual([{ addr: 'a@b', perm: true }]);
    expect(await dispatch('disconnect', { pub_key: '02' + '11'.repeat(32) })).toEqual({ ok: false, error: { code: 'not_found', message: 'not connected to peer x' } });
    expect(await dispatch('getinfo', {})).toMatchObject({ ok: false, error: { code: 'internal', message: 'internal error in getinfo: boom' } });
    expect(log.lines.some((l) => l.includes('api handler failed'))).toBe(true);
  });
});
