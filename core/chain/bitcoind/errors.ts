/**
 * bitcoind's failures as typed errors whose messages say what to do. `kind` is what a caller branches on.
 */
export type RpcErrorKind =
  | 'unreachable' | 'unauthorized' | 'warming_up' | 'method_not_found' | 'invalid_params'
  | 'rejected' | 'missing_inputs' | 'already_in_chain' | 'not_found' | 'timeout' | 'bad_response' | 'other';

export class RpcError extends Error {
  constructor(
    readonly kind: RpcErrorKind,
    message: string,
    /** bitcoind's numeric error code, when it sent one. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** Worth trying again later: the node is down, busy starting, or slow. */
  get transient(): boolean {
    return this.kind === 'unreachable' || this.kind === 'warming_up' || this.kind === 'timeout';
  }
}

/** Maps bitcoind's JSON-RPC error object to a typed error. */
export function fromRpcError(method: string, e: { code: number; message: string }): RpcError {
  switch (e.code) {
    case -28:
      return new RpcError('warming_up', `bitcoind is still starting (${e.message}); Coulomb will retry`, e.code);
    case -32601:
      return new RpcError('method_not_found', `bitcoind does not know the method ${method}; is it Bitcoin Core 25 or later?`, e.code);
    case -8:
    case -3:
    case -32602:
      return new RpcError('invalid_params', `bitcoind rejected the parameters of ${method}: ${e.message}`, e.code);
    case -25:
      return new RpcError('missing_inputs', `bitcoind says the transaction spends missing or spent coins: ${e.message}`, e.code);
    case -26:
      return new RpcError('rejected', `bitcoind rejected the transaction: ${e.message}`, e.code);
    case -27:
      return new RpcError('already_in_chain', `already in the block chain: ${e.message}`, e.code);
    case -5:
      return new RpcError('not_found', `${method}: ${e.message}`, e.code);
    default:
      return new RpcError('other', `bitcoind ${method} failed (${e.code}): ${e.message}`, e.code);
  }
}
