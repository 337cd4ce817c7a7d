/** The one error type cryptographic functions throw on bad input or a failed check. */
export type CryptoErrorCode = 'bad_mac' | 'invalid_private_key' | 'invalid_public_key' | 'invalid_signature' | 'invalid_tweak' | 'invalid_length' | 'unknown_backend';

export class CryptoError extends Error {
  constructor(readonly code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}
