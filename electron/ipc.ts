/**
 * The main process's side of the renderer's one IPC channel. Everything that arrives here is
 * untrusted: the sender must be our own page, and the payload must be exactly `{method, params?}`
 * before the host sees it (the host then validates `params` against the method's schema). The handler
 * never throws, so the renderer always gets an ApiResult rather than Electron's wrapped error text.
 */
import { callRequest } from '../core/app/contract.ts';
import type { ApiResult } from '../core/api/contract.ts';
import { isAppUrl } from './window.ts';

export interface IpcCallHost {
  call(method: unknown, params: unknown): Promise<ApiResult<unknown>>;
}

/** The part of Electron's IpcMainInvokeEvent the handler looks at. */
export interface IpcCallEvent {
  senderFrame: { url: string } | null;
}

export type IpcCallHandler = (event: IpcCallEvent, payload: unknown) => Promise<ApiResult<unknown>>;

function senderUrl(event: IpcCallEvent): string | undefined {
  try {
    // Electron's WebFrameMain throws on property access once its frame is gone (navigated away,
    // closed); a sender we cannot identify is treated as a stranger.
    const url = event.senderFrame?.url;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

export function makeIpcHandler(host: IpcCallHost, appIndexUrl: string): IpcCallHandler {
  return async (event, payload) => {
    const url = senderUrl(event);
    if (url === undefined || !isAppUrl(url, appIndexUrl)) {
      return { ok: false, error: { code: 'unauthenticated', message: "calls are accepted only from the app's own page" } };
    }
    const parsed = callRequest.safeParse(payload);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'request'}: ${i.message}`).join('; ');
      return { ok: false, error: { code: 'invalid_argument', message: `invalid call: ${why}` } };
    }
    try {
      return await host.call(parsed.data.method, parsed.data.params);
    } catch (e) {
      // AppHost.call turns its own failures into results; this is only a backstop.
      return { ok: false, error: { code: 'internal', message: `internal error in ${parsed.data.method}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  };
}
