/**
 * Why a BOLT 8 connection failed. Codes name the act and the check, as the spec's test vectors do
 * (BOLT 8 "Appendix A: Transport Test Vectors"); the message says it in words, for logs and 'close'.
 */
export type TransportErrorCode =
  | 'ACT1_READ_FAILED' | 'ACT1_BAD_VERSION' | 'ACT1_BAD_PUBKEY' | 'ACT1_BAD_TAG'
  | 'ACT2_READ_FAILED' | 'ACT2_BAD_VERSION' | 'ACT2_BAD_PUBKEY' | 'ACT2_BAD_TAG'
  | 'ACT3_READ_FAILED' | 'ACT3_BAD_VERSION' | 'ACT3_BAD_CIPHERTEXT' | 'ACT3_BAD_PUBKEY' | 'ACT3_BAD_TAG'
  | 'HANDSHAKE_TIMEOUT' | 'BAD_LENGTH_MAC' | 'BAD_BODY_MAC' | 'MESSAGE_TOO_LARGE' | 'STALLED' | 'CLOSED' | 'BAD_STATE'
  | 'BAD_REMOTE_KEY' | 'BAD_LOCAL_KEY' | 'BAD_EPHEMERAL_KEY';

const EXPLAIN: Record<TransportErrorCode, string> = {
  ACT1_READ_FAILED: 'act one was cut short',
  ACT1_BAD_VERSION: 'act one has an unknown handshake version',
  ACT1_BAD_PUBKEY: 'act one carries an invalid ephemeral key',
  ACT1_BAD_TAG: 'act one failed authentication (the peer dialed the wrong node key?)',
  ACT2_READ_FAILED: 'act two was cut short',
  ACT2_BAD_VERSION: 'act two has an unknown handshake version',
  ACT2_BAD_PUBKEY: 'act two carries an invalid ephemeral key',
  ACT2_BAD_TAG: 'act two failed authentication (wrong node key for this address?)',
  ACT3_READ_FAILED: 'act three was cut short',
  ACT3_BAD_VERSION: 'act three has an unknown handshake version',
  ACT3_BAD_CIPHERTEXT: 'act three static key failed authentication',
  ACT3_BAD_PUBKEY: 'act three carries an invalid static key',
  ACT3_BAD_TAG: 'act three failed authentication',
  HANDSHAKE_TIMEOUT: 'the handshake did not finish in time',
  BAD_LENGTH_MAC: 'a message length failed authentication',
  BAD_BODY_MAC: 'a message body failed authentication',
  MESSAGE_TOO_LARGE: 'message longer than 65535 bytes',
  STALLED: 'the peer stopped in the middle of a message',
  CLOSED: 'the connection closed',
  BAD_STATE: 'the handshake was driven out of order',
  BAD_REMOTE_KEY: 'invalid public key for the node to dial',
  BAD_LOCAL_KEY: 'invalid local node secret',
  BAD_EPHEMERAL_KEY: 'invalid ephemeral secret',
};

export class TransportError extends Error {
  constructor(readonly code: TransportErrorCode, detail?: string) {
    super(detail ? `${EXPLAIN[code]}: ${detail}` : EXPLAIN[code]);
    this.name = 'TransportError';
  }
}
