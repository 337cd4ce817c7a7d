/**
 * Child process for the PostgreSQL crash test: opens the store at the DSN in argv[2] and writes
 * `burstOps(0)`, `burstOps(1)`, … with eight writes in flight, printing each number once its write
 * resolved (durable), until killed, or until a write fails: then it prints `failed <code>` and exits 3.
 */
import { PostgresKvStore } from '../../../core/store/kv/postgres.ts';
import { StoreError } from '../../../core/store/errors.ts';
import { burstOps } from './pg-burst.ts';

const store = await PostgresKvStore.open(process.argv[2]!);
let next = 0;
let failed = false;
const lane = async (): Promise<void> => {
  while (!failed) {
    const i = next++;
    try {
      await store.write(burstOps(i));
      process.stdout.write(`${i}\n`);
    } catch (e) {
      if (!failed) process.stdout.write(`failed ${e instanceof StoreError ? e.code : String(e)}\n`);
      failed = true;
    }
  }
};
await Promise.all(Array.from({ length: 8 }, lane));
process.exit(3);
