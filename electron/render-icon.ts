/**
 * Renders assets/icon.svg to the PNGs electron-builder packages: assets/icon.png (1024×1024, for
 * macOS and Linux) and assets/icon-256.png (256×256, for Windows). Each size is rendered from the
 * vector, not scaled down from the large one, and the background stays transparent.
 *
 *   node --import tsx electron/render-icon.ts
 *
 * Needs a Chromium: /usr/bin/chromium, or the path in $CHROMIUM.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const assets = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');
const outputs = [
  { file: 'icon.png', size: 1024 },
  { file: 'icon-256.png', size: 256 },
];

const svg = await readFile(join(assets, 'icon.svg'), 'utf8');
// A fresh profile, so that nothing from another Chromium session is read or written.
const profile = await mkdtemp(join(tmpdir(), 'coulomb-icon-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await context.newPage();
  for (const { file, size } of outputs) {
    await page.setViewportSize({ width: size, height: size });
    // The SVG is drawn at the target size; its own width and height are replaced so that it scales.
    const sized = svg.replace(/<svg\b([^>]*?)\swidth="[^"]*"\s+height="[^"]*"/, `<svg$1 width="${size}" height="${size}"`);
    await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await writeFile(join(assets, file), png);
    console.log(`wrote assets/${file} (${size}×${size}, ${png.length} bytes)`);
  }
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
