export { writeFileDurable, readFileIfExists } from './durable-file.ts';
export { DurableJsonAdapter } from './durable-adapter.ts';
export { openStore } from './store.ts';
export type { Store, StoreOptions, Migration } from './store.ts';
export { StoreError } from './errors.ts';
export type { StoreErrorCode } from './errors.ts';
