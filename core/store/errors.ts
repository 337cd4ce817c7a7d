/** Why a store could not be opened or written; always names the file. */
export type StoreErrorCode = 'corrupt' | 'newer_version' | 'locked' | 'invalid';

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, readonly file: string, message: string) {
    super(message);
    this.name = 'StoreError';
  }
}
