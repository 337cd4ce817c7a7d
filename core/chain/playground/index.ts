export { PlaygroundChain, subsidy } from './chain.ts';
export type { BlockEntry } from './chain.ts';
export { startPlayground, createHandlers, RpcFailure } from './rpc-server.ts';
export type { Playground, PlaygroundOptions } from './rpc-server.ts';
export { Faucet } from './faucet.ts';
export { TxRejected, SCRIPT_FLAGS, COINBASE_MATURITY, checkTransaction, verifyScripts } from './rules.ts';
export type { Coin } from './rules.ts';
export { REGTEST_GENESIS_HASH } from './genesis.ts';
