/**
 * Loads LDK's WebAssembly module once per process. Every binding call throws until this has
 * resolved, and loading it twice would give two unrelated instances, so callers share one promise.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as ldk from 'lightningdevkit';

let loading: Promise<void> | undefined;

export function initLdkWasm(): Promise<void> {
  if (!loading) {
    loading = (async () => {
      // The package has no `exports` map, so its files resolve like any other module path.
      const wasmPath = createRequire(import.meta.url).resolve('lightningdevkit/liblightningjs.wasm');
      await ldk.initializeWasmFromBinary(await readFile(wasmPath));
    })();
    // A failed load must not poison later attempts (e.g. a test retried after a fix).
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
