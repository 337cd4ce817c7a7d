/** Tiny benchmark helpers: run a function for a while, report operations per second. */
export function opsPerSec(fn: () => void, minMs = 400): number {
  // Warm up, then measure whole batches until enough time has passed.
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n * 1000) / elapsed;
}

export async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function table(title: string, rows: (string | number)[][]): void {
  const fmt = (v: string | number): string => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : v);
  const cells = rows.map((r) => r.map(fmt));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  process.stdout.write(`\n${title}\n`);
  for (const r of cells) process.stdout.write('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ') + '\n');
}
