export * from './types.ts';
export { BitcoindRpc } from './bitcoind/rpc-client.ts';
export type { RpcClientOptions, RpcAuth } from './bitcoind/rpc-client.ts';
export { RpcError, fromRpcError } from './bitcoind/errors.ts';
export type { RpcErrorKind } from './bitcoind/errors.ts';
export { BitcoindChainSource, ChainMismatchError } from './bitcoind/chain-source.ts';
export type { ChainSourceOptions } from './bitcoind/chain-source.ts';
export { BitcoindFeeEstimator } from './bitcoind/fees.ts';
export { BitcoindBroadcaster } from './bitcoind/broadcaster.ts';
