/**
 * Why a store could not be opened or written; always names the file, and the message says what to do.
 * - corrupt:          the file exists but is not readable JSON (it is left untouched)
 * - invalid:          readable, but not a store record of the expected shape (left untouched)
 * - newer_version:    written by a newer Coulomb (left untouched)
 * - migration_failed: a migration threw on this file's contents (left untouched)
 * - locked:           another process (or another open in this process) is the file's writer
 * - unserializable:   an update put a value JSON cannot hold; it was rolled back
 * - write_failed:     the disk refused a write; the store takes no more updates until reopened
 * - closed:           the store was closed
 * - unreachable:      the database server could not be reached or refused the login (`file` names it without its password)
 */
export type StoreErrorCode =
  | 'corrupt'
  | 'invalid'
  | 'newer_version'
  | 'migration_failed'
  | 'locked'
  | 'unserializable'
  | 'write_failed'
  | 'closed'
  | 'unreachable';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
