/**
 * The on-disk record of a store, `{ schema_version, data }`, and bringing an older one up to date.
 * Pure: values in, values (or a StoreError) out; store.ts does the reading and writing.
 */
import { StoreError } from './errors.ts';

/** Turns the data of schema version N into version N+1. Must be pure: it may run again after a crash. */
export type Migration = (data: unknown) => unknown;

export interface Envelope<T> {
  schema_version: number;
  data: T;
}

export interface SchemaSpec {
  /** The schema version this code writes; starts at 1. */
  version: number;
  /** migrations[i] turns version i+1 into version i+2, so there are version - 1 of them. */
  migrations: readonly Migration[];
  /** Checks the shape after reading and migrating; returns a sentence when it is wrong. */
  validate?: (data: unknown) => string | undefined;
}

/** A programming error, not a file problem: the migration list must match the version. */
export function checkSchemaSpec(spec: SchemaSpec): void {
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) throw new RangeError(`store version must be an integer >= 1, got ${spec.version}`);
  if (spec.migrations.length !== spec.version - 1) {
    throw new RangeError(`store version ${spec.version} needs ${spec.version - 1} migrations, got ${spec.migrations.length}`);
  }
}

/**
 * Validates a parsed record and migrates it to `spec.version`.
 * `from` is the version found in the file, so the caller knows whether to write the result back.
 */
export function upgradeEnvelope<T>(raw: unknown, spec: SchemaSpec, file: string): { data: T; from: number } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('data' in raw) || !('schema_version' in raw)) {
    throw new StoreError('invalid', file, `${file} is not a Coulomb store record; Coulomb will not overwrite it: restore it from a backup or move it aside`);
  }
  const from = raw.schema_version;
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 1) {
    throw new StoreError('invalid', file, `${file} has no valid schema_version; Coulomb will not overwrite it: restore it from a backup or move it aside`);
  }
  if (from > spec.version) {
    throw new StoreError(
      'newer_version',
      file,
      `${file} was written by a newer Coulomb (schema ${from}; this one knows up to ${spec.version}); upgrade Coulomb to open it`,
    );
  }
  let data: unknown = raw.data;
  for (let v = from; v < spec.version; v++) {
    try {
      data = spec.migrations[v - 1]!(data);
    } catch (e) {
      throw new StoreError('migration_failed', file, `cannot upgrade ${file} from schema ${v} to ${v + 1}: ${String(e)}; the file is left as it was`, { cause: e });
    }
  }
  const problem = spec.validate?.(data);
  if (problem !== undefined) {
    throw new StoreError('invalid', file, `${file}: ${problem}; Coulomb will not overwrite it: restore it from a backup or move it aside`);
  }
  return { data: data as T, from };
}
