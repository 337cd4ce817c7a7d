/**
 * The preload: the renderer's only way out. It runs sandboxed and context-isolated, and exposes just
 * `window.coulomb.call` and `window.coulomb.onEvent`; no Electron or Node object ever reaches the page.
 *
 * This is a CommonJS module (a sandboxed preload cannot be ESM), hence `import … = require(…)`.
 * esbuild bundles it, inlining the channel names from ./window.ts (which has no run-time imports),
 * so the output requires nothing but 'electron', the one module a sandboxed preload may load.
 */
// A CommonJS file cannot use `import … from` under verbatimModuleSyntax; see the note above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type { IpcRendererEvent } from 'electron';
import type { ApiResult } from '../core/api/contract.ts';
import type { AppEvent } from '../core/app/contract.ts';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import shared = require('./window.ts');

const { contextBridge, ipcRenderer } = electron;
const { IPC_CALL, IPC_EVENT } = shared;

const api = {
  /** One API call; the main process validates it and always answers with an ApiResult. */
  call(method: string, params?: unknown): Promise<ApiResult<unknown>> {
    return ipcRenderer.invoke(IPC_CALL, params === undefined ? { method } : { method, params }) as Promise<ApiResult<unknown>>;
  },
  /** Calls `cb` with every event the back end pushes; returns the unsubscribe function. */
  onEvent(cb: (e: AppEvent) => void): () => void {
    // The IpcRendererEvent stays here: handing it to the page would expose `sender`.
    const listener = (_event: IpcRendererEvent, e: AppEvent): void => cb(e);
    ipcRenderer.on(IPC_EVENT, listener);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, listener);
    };
  },
};

export type CoulombBridge = typeof api;

contextBridge.exposeInMainWorld('coulomb', api);
