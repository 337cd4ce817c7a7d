/** All cryptography Coulomb uses, behind backends that can be swapped after measuring (`npm run bench`). */
export { sha256, hmacSha256, hkdf, hkdf2 } from './hash.ts';
export { CryptoError } from './errors.ts';
export type { CryptoErrorCode } from './errors.ts';
export { secp, useSecpBackend, secpBackends, nobleBackend, tinyBackend, nativeBackend, defaultSecpBackend, recoverPublicKey, signRecoverable } from './secp256k1.ts';
export type { Secp256k1Backend } from './secp256k1.ts';
export { aeadBackends, defaultAead, nodeAead, nobleAead, nodeHasChaCha, TAG_LENGTH } from './aead.ts';
export type { AeadBackend } from './aead.ts';
