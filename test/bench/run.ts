/**
 * `npm run bench`: runs every test/bench/*.bench.ts module (each exports `run()`), or only those whose
 * file names contain one of the words given on the command line.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

process.stdout.write(`Coulomb benchmarks on Node ${process.version}, ${process.arch}\n`);
for (const f of files) {
  const mod = (await import(new URL(f, import.meta.url).href)) as { run: () => Promise<void> };
  process.stdout.write(`\n== ${f.replace('.bench.ts', '')}\n`);
  await mod.run();
}
process.exit(0);
