/** Wallet errors say what went wrong in words a person can act on. */
export type WalletErrorCode = 'invalid_mnemonic' | 'wrong_password' | 'corrupt_vault' | 'weak_password';

export class WalletError extends Error {
  constructor(readonly code: WalletErrorCode, message: string) {
    super(message);
    this.name = 'WalletError';
  }
}
