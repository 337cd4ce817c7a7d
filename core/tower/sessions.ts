/**
 * The tower's bookkeeping, pure: what it answers each request of a client session and what it keeps.
 * A session is named by the key the client's connection authenticated with (BOLT 8's static key):
 * the client uses a fresh key for each session, so sessions of one node cannot be linked by the tower.
 *
 * Limits (TowerLimits) keep a hostile client from costing the tower more than it agreed to: a session
 * holds at most `maxUpdatesPerSession` updates, the tower at most `maxSessions` sessions, each blob is
 * exactly the size its blob type says, and a session's updates come at most `updatesPerSecond` (with a
 * burst of `burst`). Requests outside them are refused with their code, never stored.
 */
import { BLOB_V0_SIZE, HINT_SIZE } from './blob.ts';
import { CODE } from './wire.ts';
import type { TowerMessageOf } from './wire.ts';

/** The only blob type of this version: altruist (no reward), the revoked to_local, kit version 0. */
export const BLOB_TYPE_TO_LOCAL_V0 = 0x4002;

/** Bounds of a session's sweep feerate (sat/kw): the relay floor, and 1,000 sat/vB. */
export const MIN_SWEEP_FEERATE = 253;
export const MAX_SWEEP_FEERATE = 250_000;

export interface TowerLimits {
  maxUpdatesPerSession: number;
  maxSessions: number;
  updatesPerSecond: number;
  burst: number;
}

export const DEFAULT_TOWER_LIMITS: TowerLimits = { maxUpdatesPerSession: 1024, maxSessions: 10_000, updatesPerSecond: 20, burst: 200 };

/** What the tower stores of a session (namespace `tower-sessions`, keyed by the client's session key). */
export interface TowerSession {
  v: number;
  /** The client's session key (hex). */
  id: string;
  blobType: number;
  maxUpdates: number;
  sweepFeeRate: number;
  lastApplied: number;
  createdAtMs: number;
}

export const TOWER_RECORD_VERSION = 1;

/** An update the tower accepted: stored under its session and sequence number, found by its hint. */
export interface AcceptedUpdate {
  session: string;
  seq: number;
  hint: Uint8Array;
  blob: Uint8Array;
}

const reply = (code: number, lastApplied: number): TowerMessageOf<'create_session_reply'> => ({ type: 'create_session_reply', code, lastApplied, data: new Uint8Array(0) });

/** A create_session: the new session to store, or the refusal. `existing` is this key's session, if any. */
export function createSession(o: { id: string; msg: TowerMessageOf<'create_session'>; existing: TowerSession | undefined; sessions: number; limits: TowerLimits; nowMs: number }): { reply: TowerMessageOf<'create_session_reply'>; session?: TowerSession } {
  const { msg: m, limits } = o;
  if (o.existing) return { reply: reply(CODE.alreadyExists, o.existing.lastApplied) };
  if (m.blobType !== BLOB_TYPE_TO_LOCAL_V0) return { reply: reply(CODE.rejectBlobType, 0) };
  if (m.rewardBase !== 0 || m.rewardRate !== 0) return { reply: reply(CODE.rejectRewardRate, 0) };
  if (m.maxUpdates < 1 || m.maxUpdates > limits.maxUpdatesPerSession) return { reply: reply(CODE.rejectMaxUpdates, 0) };
  if (m.sweepFeeRate < BigInt(MIN_SWEEP_FEERATE) || m.sweepFeeRate > BigInt(MAX_SWEEP_FEERATE)) return { reply: reply(CODE.rejectSweepFeeRate, 0) };
  if (o.sessions >= limits.maxSessions) return { reply: reply(CODE.temporaryFailure, 0) };
  const session: TowerSession = { v: TOWER_RECORD_VERSION, id: o.id, blobType: m.blobType, maxUpdates: m.maxUpdates, sweepFeeRate: Number(m.sweepFeeRate), lastApplied: 0, createdAtMs: o.nowMs };
  return { reply: reply(CODE.ok, 0), session };
}

/** A token bucket per session: `tokens` left at `atMs`. Kept in memory only. */
export interface RateBucket {
  tokens: number;
  atMs: number;
}

export function takeToken(b: RateBucket | undefined, limits: TowerLimits, nowMs: number): { ok: boolean; bucket: RateBucket } {
  const prev = b ?? { tokens: limits.burst, atMs: nowMs };
  const tokens = Math.min(limits.burst, prev.tokens + ((nowMs - prev.atMs) / 1000) * limits.updatesPerSecond);
  if (tokens < 1) return { ok: false, bucket: { tokens, atMs: nowMs } };
  return { ok: true, bucket: { tokens: tokens - 1, atMs: nowMs } };
}

/**
 * A state_update (lnd's rules): seq_num must be last_applied + 1, or last_applied itself (a repeat
 * whose reply was lost: answered again, not stored again); never past max_updates; the client's
 * last_applied never ahead of ours; the blob exactly the blob type's size.
 */
export function stateUpdate(o: { session: TowerSession | undefined; msg: TowerMessageOf<'state_update'>; rateOk: boolean }): { reply: TowerMessageOf<'state_update_reply'>; accepted?: AcceptedUpdate; session?: TowerSession } {
  const s = o.session;
  const m = o.msg;
  const r = (code: number, lastApplied = s?.lastApplied ?? 0): TowerMessageOf<'state_update_reply'> => ({ type: 'state_update_reply', code, lastApplied });
  if (!s) return { reply: r(CODE.sessionNotFound, 0) };
  if (!o.rateOk) return { reply: r(CODE.rateLimited) };
  if (m.lastApplied > s.lastApplied) return { reply: r(CODE.clientBehind) };
  if (m.seqNum === s.lastApplied && m.seqNum > 0) return { reply: r(CODE.ok) };
  if (m.seqNum > s.maxUpdates) return { reply: r(CODE.maxUpdatesExceeded) };
  if (m.seqNum !== s.lastApplied + 1) return { reply: r(CODE.seqNumOutOfOrder) };
  if (m.hint.length !== HINT_SIZE || m.blob.length !== BLOB_V0_SIZE) return { reply: r(CODE.invalidBlob) };
  const session = { ...s, lastApplied: m.seqNum };
  return { reply: r(CODE.ok, m.seqNum), accepted: { session: s.id, seq: m.seqNum, hint: m.hint, blob: m.blob }, session };
}
