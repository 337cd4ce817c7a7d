/**
 * Builds what the app runs from: the renderer (React, bundled with its CSS) into dist/renderer, and the
 * Electron main process and preload into dist/electron. esbuild does it in well under a second, so
 * `npm start` always builds first and never runs stale code.
 *
 *   node --import tsx electron/build.ts [--renderer-only]
 */
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RENDERER_OUT = join(ROOT, 'dist', 'renderer');
export const ELECTRON_OUT = join(ROOT, 'dist', 'electron');

export async function buildRenderer(): Promise<void> {
  await mkdir(RENDERER_OUT, { recursive: true });
  await build({
    entryPoints: { app: join(ROOT, 'renderer', 'main.tsx') },
    outdir: RENDERER_OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120'],
    jsx: 'automatic',
    minify: true,
    sourcemap: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  await copyFile(join(ROOT, 'renderer', 'index.html'), join(RENDERER_OUT, 'index.html'));
  await copyFile(join(ROOT, 'assets', 'icon.svg'), join(RENDERER_OUT, 'icon.svg')).catch(() => undefined);
}

export async function buildElectron(): Promise<void> {
  await mkdir(ELECTRON_OUT, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'electron', 'main.ts')],
    outfile: join(ELECTRON_OUT, 'main.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node22'],
    packages: 'external',
    external: ['electron'],
    sourcemap: 'linked',
    logLevel: 'warning',
    // Bundled ESM has no require(); some dependencies still use it.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await build({
    entryPoints: [join(ROOT, 'electron', 'preload.cts')],
    outfile: join(ELECTRON_OUT, 'preload.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: ['node22'],
    external: ['electron'],
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildRenderer();
  if (!process.argv.includes('--renderer-only') && existsSync(join(ROOT, 'electron', 'main.ts'))) await buildElectron();
  console.log(`built ${RENDERER_OUT}${process.argv.includes('--renderer-only') ? '' : ` and ${ELECTRON_OUT}`}`);
}
