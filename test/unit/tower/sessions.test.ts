/**
 * The tower's session rules and the client's reading of its replies: sessions within the tower's
 * limits only, updates strictly in sequence (a repeat answered, never stored twice), never past the
 * session's size or at a size the blob type does not have, rate-limited; and the client acknowledges,
 * sends again, or moves a backup to a new session as each reply says.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BLOB_TYPE_TO_LOCAL_V0, createSession, DEFAULT_TOWER_LIMITS, stateUpdate, takeToken } from '../../../core/tower/sessions.ts';
import type { TowerSession } from '../../../core/tower/sessions.ts';
import { CODE } from '../../../core/tower/wire.ts';
import type { TowerMessageOf } from '../../../core/tower/wire.ts';
import { BLOB_V0_SIZE } from '../../../core/tower/blob.ts';
import { nextSeq, onCreateReply, onUpdateReply } from '../../../core/tower/client-queue.ts';
import type { ClientSession } from '../../../core/tower/client-queue.ts';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const ask = (o: Partial<TowerMessageOf<'create_session'>> = {}): TowerMessageOf<'create_session'> => ({ type: 'create_session', blobType: BLOB_TYPE_TO_LOCAL_V0, maxUpdates: 10, rewardBase: 0, rewardRate: 0, sweepFeeRate: 2500n, ...o });
const upd = (seqNum: number, lastApplied: number, blob = rnd(BLOB_V0_SIZE)): TowerMessageOf<'state_update'> => ({ type: 'state_update', seqNum, lastApplied, isComplete: 0, hint: rnd(16), blob });
const base = { id: '02'.padEnd(66, 'a'), existing: undefined, sessions: 0, limits: DEFAULT_TOWER_LIMITS, nowMs: 1 };

describe('tower sessions', () => {
  it('creates a session within the limits, and refuses the rest with their codes', () => {
    const ok = createSession({ ...base, msg: ask() });
    expect(ok.reply.code).toBe(CODE.ok);
    expect(ok.session).toMatchObject({ maxUpdates: 10, sweepFeeRate: 2500, lastApplied: 0 });
    expect(createSession({ ...base, existing: { ...ok.session!, lastApplied: 4 }, msg: ask() }).reply).toMatchObject({ code: CODE.alreadyExists, lastApplied: 4 });
    expect(createSession({ ...base, msg: ask({ blobType: 2 }) }).reply.code).toBe(CODE.rejectBlobType);
    expect(createSession({ ...base, msg: ask({ rewardRate: 1 }) }).reply.code).toBe(CODE.rejectRewardRate);
    expect(createSession({ ...base, msg: ask({ maxUpdates: 0 }) }).reply.code).toBe(CODE.rejectMaxUpdates);
    expect(createSession({ ...base, msg: ask({ maxUpdates: DEFAULT_TOWER_LIMITS.maxUpdatesPerSession + 1 }) }).reply.code).toBe(CODE.rejectMaxUpdates);
    expect(createSession({ ...base, msg: ask({ sweepFeeRate: 1n }) }).reply.code).toBe(CODE.rejectSweepFeeRate);
    expect(createSession({ ...base, msg: ask({ sweepFeeRate: 10n ** 12n }) }).reply.code).toBe(CODE.rejectSweepFeeRate);
    expect(createSession({ ...base, sessions: DEFAULT_TOWER_LIMITS.maxSessions, msg: ask() }).reply.code).toBe(CODE.temporaryFailure);
    for (const r of [ok, createSession({ ...base, msg: ask({ blobType: 2 }) })]) expect(r.session === undefined).toBe(r.reply.code !== CODE.ok);
  });

  it('takes updates in sequence only, answers a repeat without storing it, refuses garbage', () => {
    let s: TowerSession = createSession({ ...base, msg: ask({ maxUpdates: 2 }) }).session!;
    const none = stateUpdate({ session: undefined, msg: upd(1, 0), rateOk: true });
    expect(none.reply.code).toBe(CODE.sessionNotFound);
    expect(stateUpdate({ session: s, msg: upd(2, 0), rateOk: true }).reply).toMatchObject({ code: CODE.seqNumOutOfOrder, lastApplied: 0 });
    expect(stateUpdate({ session: s, msg: upd(1, 1), rateOk: true }).reply.code).toBe(CODE.clientBehind);
    expect(stateUpdate({ session: s, msg: upd(1, 0, rnd(BLOB_V0_SIZE - 1)), rateOk: true }).reply.code).toBe(CODE.invalidBlob);
    expect(stateUpdate({ session: s, msg: upd(1, 0, rnd(BLOB_V0_SIZE + 1)), rateOk: true }).accepted).toBeUndefined();
    expect(stateUpdate({ session: s, msg: upd(1, 0), rateOk: false }).reply.code).toBe(CODE.rateLimited);
    const first = stateUpdate({ session: s, msg: upd(1, 0), rateOk: true });
    expect(first.reply).toMatchObject({ code: CODE.ok, lastApplied: 1 });
    expect(first.accepted?.seq).toBe(1);
    s = first.session!;
    const again = stateUpdate({ session: s, msg: upd(1, 0), rateOk: true });
    expect(again.reply).toMatchObject({ code: CODE.ok, lastApplied: 1 });
    expect(again.accepted).toBeUndefined();
    s = stateUpdate({ session: s, msg: upd(2, 1), rateOk: true }).session!;
    expect(stateUpdate({ session: s, msg: upd(3, 2), rateOk: true }).reply.code).toBe(CODE.maxUpdatesExceeded);
  });

  it('rate: a burst, then one update per 1/rate seconds', () => {
    const limits = { ...DEFAULT_TOWER_LIMITS, burst: 3, updatesPerSecond: 2 };
    let b;
    const oks: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const r = takeToken(b, limits, 1000);
      oks.push(r.ok);
      b = r.bucket;
    }
    expect(oks).toEqual([true, true, true, false]);
    expect(takeToken(b, limits, 1400).ok).toBe(false);
    expect(takeToken(b, limits, 1500).ok).toBe(true);
  });
});

describe('the client\'s reading of replies', () => {
  const s: ClientSession = { v: 1, tower: '02', keyIndex: 0, blobType: BLOB_TYPE_TO_LOCAL_V0, maxUpdates: 3, sweepFeeRate: 2500, seqNum: 2, lastApplied: 1, retired: false };
  const r = (code: number, lastApplied: number): TowerMessageOf<'state_update_reply'> => ({ type: 'state_update_reply', code, lastApplied });
  it('numbers backups up to the session size', () => {
    expect(nextSeq(s)).toBe(3);
    expect(nextSeq({ ...s, seqNum: 3 })).toBeUndefined();
    expect(nextSeq({ ...s, retired: true })).toBeUndefined();
  });
  it('acks, resends, reassigns or waits as the tower says', () => {
    expect(onUpdateReply(s, 2, r(CODE.ok, 2))).toMatchObject({ outcome: 'acked', session: { lastApplied: 2 } });
    expect(onUpdateReply(s, 2, r(CODE.seqNumOutOfOrder, 2)).outcome).toBe('acked');
    expect(onUpdateReply(s, 2, r(CODE.seqNumOutOfOrder, 1)).outcome).toBe('resend');
    expect(onUpdateReply(s, 2, r(CODE.seqNumOutOfOrder, 0))).toMatchObject({ outcome: 'reassign', session: { retired: true } });
    expect(onUpdateReply(s, 2, r(CODE.maxUpdatesExceeded, 1)).outcome).toBe('reassign');
    expect(onUpdateReply(s, 2, r(CODE.sessionNotFound, 0)).outcome).toBe('reassign');
    expect(onUpdateReply(s, 2, r(CODE.rateLimited, 1))).toMatchObject({ outcome: 'later', session: { retired: false } });
    expect(onUpdateReply(s, 2, r(CODE.invalidBlob, 1)).outcome).toBe('refused');
    // A tower claiming more than was sent does not move last_applied past what was given out.
    expect(onUpdateReply(s, 2, r(CODE.ok, 9)).session.lastApplied).toBe(2);
  });
  it('a session the tower already has resumes from its last_applied; refusals say why', () => {
    const cr = (code: number, lastApplied = 0): TowerMessageOf<'create_session_reply'> => ({ type: 'create_session_reply', code, lastApplied, data: new Uint8Array(0) });
    expect(onCreateReply({ ...s, seqNum: 0, lastApplied: 0 }, cr(CODE.alreadyExists, 2))).toMatchObject({ ok: true, session: { lastApplied: 2, seqNum: 2 } });
    expect(onCreateReply(s, cr(CODE.alreadyExists, 9)).ok).toBe(false);
    expect(onCreateReply(s, cr(CODE.rejectSweepFeeRate))).toMatchObject({ ok: false, reason: expect.stringMatching(/feerate/) });
  });
});
