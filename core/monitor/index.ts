/** Transaction builders for every exit of BOLT 5, for the chain monitor. Pure: no I/O, no clock. */
export * from './types.ts';
export { MAX_STANDARD_TX_WEIGHT, SEQUENCE_RBF, dustLimit, effectiveFeerate, estimateWeight, feeForWeight, inputWeight, sweep, attachFeeInputs } from './fees.ts';
export type { SweepOptions, FeeInputsOptions } from './fees.ts';
export * from './inputs.ts';
export * from './keys.ts';
export * from './local.ts';
export * from './remote.ts';
export * from './justice.ts';
export * from './anchor.ts';
export * from './state.ts';
export * from './view.ts';
export * from './monitor.ts';
export * from './deadline.ts';
export * from './bump.ts';
