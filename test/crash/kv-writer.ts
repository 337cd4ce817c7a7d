/**
 * Child process for the embedded store's crash test: keeps several writes in flight (so they are
 * committed in groups) and prints each write's number once it has resolved. Write `c` puts three
 * records at once: `log/<c>`, `chan/ch<c % 16>` (a payload whose size depends on c, overwritten
 * again and again, so the log fills with dead bytes and compacts often) and `meta/last` = c.
 *
 * Lines starting with `#` report compaction steps. With KV_CRASH_AT=<step> the writer kills itself
 * with SIGKILL the first time a compaction reaches that step.
 */
import { EmbeddedKvStore } from '../../core/store/kv/embedded.ts';
import { kvCrashOps } from './kv-payload.ts';

const dir = process.argv[2]!;
const inFlight = Number(process.argv[3] ?? 8);
const crashAt = process.env.KV_CRASH_AT;

const store = await EmbeddedKvStore.open(dir, {
  log: () => undefined,
  compaction: { minDeadBytes: 32 * 1024, deadRatio: 0.5 },
  onCompaction: (step) => {
    process.stdout.write(`#${step}\n`);
    if (step === crashAt) process.kill(process.pid, 'SIGKILL');
  },
});
const last = await store.get('meta', 'last');
let next = (last ? Number(new TextDecoder().decode(last)) : 0) + 1;

function one(): void {
  const c = next++;
  store.write(kvCrashOps(c)).then(
    () => {
      process.stdout.write(`${c}\n`);
      one();
    },
    (e: unknown) => {
      process.stderr.write(`write ${c} failed: ${String(e)}\n`);
      process.exit(2);
    },
  );
}
for (let i = 0; i < inFlight; i++) one();
