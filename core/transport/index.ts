export { InitiatorHandshake, ResponderHandshake, transportFor, ACT_ONE_LENGTH, ACT_TWO_LENGTH, ACT_THREE_LENGTH } from './handshake.ts';
export type { HandshakeResult } from './handshake.ts';
export { CipherState, MessageEncryptor, MessageDecryptor, MAX_MESSAGE_LENGTH } from './cipher.ts';
export { TransportError } from './errors.ts';
export type { TransportErrorCode } from './errors.ts';
export { connectNoise, acceptNoise, NoiseConnection } from './connection.ts';
export type { NoiseOptions } from './connection.ts';
