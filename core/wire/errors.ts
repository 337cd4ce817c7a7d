/** The only error a wire decoder throws: malformed input, said plainly. */
export type WireErrorCode =
  | 'truncated' | 'non_canonical' | 'non_minimal' | 'too_long' | 'invalid_point' | 'invalid_utf8'
  | 'tlv_order' | 'tlv_unknown_even' | 'tlv_length' | 'length_mismatch' | 'unknown_message' | 'invalid_value';

export class WireError extends Error {
  constructor(readonly code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
  }
}
