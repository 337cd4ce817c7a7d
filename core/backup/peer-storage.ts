/**
 * Peer storage (BOLT 1, `option_provide_storage`): a node hands its channel peers a small encrypted
 * blob in `peer_storage`; a peer that offers storage keeps the latest one and hands it back in
 * `peer_storage_retrieval` on every reconnection, right after `init`. We give our channel backup
 * (core/backup/scb.ts), and keep our channel peers' blobs for them.
 *
 * This file holds the rules, as pure decisions on numbers; core/node/backups.ts executes them.
 * - A blob is at most 65531 bytes: the largest message (65535) less its type and length fields.
 * - We keep blobs only of peers we have a channel with (BOLT 1 lets a node refuse the others), so a
 *   stranger cannot fill our store.
 * - We write a peer's blob at most once per `minStoreIntervalMs` (BOLT 1 allows delaying to one
 *   update a minute); a blob that comes sooner waits in memory, and only the latest is written.
 * - We send ours to a peer on every connection, and when it changes at most once per
 *   `minSendIntervalMs`, so a burst of channel changes is one message.
 */

export const MAX_PEER_STORAGE_BLOB = 65531;

export interface PeerStoragePolicy {
  /** Least time between two writes of one peer's blob. */
  minStoreIntervalMs: number;
  /** Least time between two of our blobs sent to one peer on one connection (its first goes at once). */
  minSendIntervalMs: number;
}

export const DEFAULT_PEER_STORAGE_POLICY: PeerStoragePolicy = { minStoreIntervalMs: 60_000, minSendIntervalMs: 10_000 };

export type IncomingVerdict =
  /** Not kept; `reason` is for the log. */
  | { action: 'refuse'; reason: string }
  | { action: 'store' }
  /** Kept in memory, written at `atMs` (a later blob before then replaces it). */
  | { action: 'later'; atMs: number };

/** What to do with a `peer_storage` from a peer. */
export function judgeIncoming(i: { size: number; hasChannel: boolean; lastStoredAtMs: number | undefined; nowMs: number; policy: PeerStoragePolicy }): IncomingVerdict {
  if (i.size > MAX_PEER_STORAGE_BLOB) return { action: 'refuse', reason: `the blob is ${i.size} bytes, over the ${MAX_PEER_STORAGE_BLOB} peer storage holds` };
  if (!i.hasChannel) return { action: 'refuse', reason: 'we keep blobs only for peers we have a channel with' };
  if (i.lastStoredAtMs === undefined || i.nowMs - i.lastStoredAtMs >= i.policy.minStoreIntervalMs) return { action: 'store' };
  return { action: 'later', atMs: i.lastStoredAtMs + i.policy.minStoreIntervalMs };
}

export type SendVerdict = { action: 'skip'; reason: string } | { action: 'send' } | { action: 'later'; atMs: number };

/** Whether to send our blob to a peer now: it must offer storage, and we send at most one per interval. */
export function judgeOutgoing(o: { size: number; peerOffersStorage: boolean; hasChannel: boolean; lastSentAtMs: number | undefined; nowMs: number; policy: PeerStoragePolicy }): SendVerdict {
  // BOLT 1: MUST NOT send peer_storage to a peer that does not offer option_provide_storage.
  if (!o.peerOffersStorage) return { action: 'skip', reason: 'the peer does not offer storage' };
  if (!o.hasChannel) return { action: 'skip', reason: 'no channel with the peer' };
  if (o.size > MAX_PEER_STORAGE_BLOB) return { action: 'skip', reason: `our backup is ${o.size} bytes, over the ${MAX_PEER_STORAGE_BLOB} peer storage holds` };
  if (o.lastSentAtMs === undefined || o.nowMs - o.lastSentAtMs >= o.policy.minSendIntervalMs) return { action: 'send' };
  return { action: 'later', atMs: o.lastSentAtMs + o.policy.minSendIntervalMs };
}
