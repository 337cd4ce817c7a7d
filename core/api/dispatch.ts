/**
 * Turns an untrusted (method, params) pair into a validated handler call and a result as data.
 * Every transport (control socket, IPC, WebSocket) goes through here, so validation lives in one place.
 */
import type { z } from 'zod';
import { ApiError, isMethodName, methodSchemas } from './contract.ts';
import type { ApiHandlers, ApiResult, MethodName } from './contract.ts';
import type { Logger } from '../log/logger.ts';

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'input';
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

export type Dispatcher = (method: string, params: unknown) => Promise<ApiResult<unknown>>;

export function createDispatcher(handlers: ApiHandlers, log: Logger): Dispatcher {
  return async (method, params) => {
    if (typeof method !== 'string' || !isMethodName(method)) {
      return { ok: false, error: { code: 'not_found', message: `unknown method "${String(method)}"` } };
    }
    const parsed = methodSchemas[method].safeParse(params ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'invalid_argument', message: `invalid ${method} request: ${describeIssues(parsed.error.issues)}` } };
    }
    try {
      const handler = handlers[method] as (input: unknown) => Promise<unknown>;
      const result = await handler(parsed.data);
      return { ok: true, result };
    } catch (e) {
      if (e instanceof ApiError) return { ok: false, error: { code: e.code, message: e.message } };
      log.error('api handler failed', { method: method as MethodName, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      return { ok: false, error: { code: 'internal', message: `internal error in ${method}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  };
}
