/** The wire layer (BOLT 1, with BOLT 2/7 messages from the same table). */
export { Reader, Writer, encodeBigSize, decodeBigSize } from './codec.ts';
export { WireError } from './errors.ts';
export type { WireErrorCode } from './errors.ts';
export { SchemaCodec, implicitFields } from './schema.ts';
export type { FieldDef, MessageDef, TlvRecordDef, WireTables, UnknownTlv } from './schema.ts';
export { encodeMessage, decodeMessage, messageTypeName, messageDef, PEER_WIRE } from './message.ts';
export type { DecodedMessage } from './message.ts';
export { FEATURES, FeatureSet, featureForBit, checkRemoteInit, validateDependencies } from './features.ts';
export type { FeatureDef, FeatureName, FeatureCheck, FeatureContext } from './features.ts';
export { CHAIN_HASHES, chainName } from './chains.ts';
export type { ChainName } from './chains.ts';
export { scidFromParts, scidToParts, scidToString, scidFromString } from './scid.ts';
export type { ScidParts } from './scid.ts';
export * from './spec/peer_wire.ts';
