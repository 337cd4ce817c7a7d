/**
 * Child process for the crash test: writes an increasing counter (with a payload whose size depends
 * on the counter, so the file grows and shrinks) as fast as it can, and prints each counter once
 * its update is durable.
 */
import { openStore } from '../../core/store/index.ts';
import { payloadSize } from './payload.ts';

const dir = process.argv[2]!;
const store = await openStore({ dir, name: 'crash', version: 1, migrations: [], defaults: () => ({ counter: 0, payload: '' }) });
for (let c = store.data.counter + 1; ; c++) {
  await store.update((d) => {
    d.counter = c;
    d.payload = 'x'.repeat(payloadSize(c));
  });
  process.stdout.write(`${c}\n`);
}
