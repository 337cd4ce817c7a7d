/**
 * Channel backups at the node's edge: opening the backup and recovery services together, the API
 * methods (exportchanbackup, verifychanbackup, restorechanbackup), and how recovering channels show
 * in pendingchannels. Domain errors (BackupError) become ApiErrors here, in one place.
 */
import { hex } from '@scure/base';
import { ApiError } from '../api/contract.ts';
import type { ApiHandlers, WaitingCloseChannel } from '../api/contract.ts';
import { BackupError } from '../backup/scb.ts';
import type { BackupSet } from '../backup/scb.ts';
import { ChannelBackups } from './backups.ts';
import type { BackupOptions } from './backups.ts';
import { ChannelRecovery } from './recovery.ts';
import type { RecoveryOptions } from './recovery.ts';

export interface BackupServices {
  backups: ChannelBackups;
  recovery: ChannelRecovery;
}

/**
 * Opens both. A backup a peer hands back to a node that has no channels and recovers none (a wallet
 * restored from its words alone) starts the recovery of its channels: that is what peer storage is for.
 */
export async function openBackupServices(o: BackupOptions & Omit<RecoveryOptions, 'channels'> & { channels: BackupOptions['channels'] & RecoveryOptions['channels'] }): Promise<BackupServices> {
  const recovery = await ChannelRecovery.open(o);
  const backups = await ChannelBackups.open({ ...o, alsoKnown: () => recovery.list().map((r) => r.channel.chanPoint) });
  backups.onRetrieved((peer, set) => {
    if (o.channels.list().length > 0 || recovery.list().length > 0 || set.channels.length === 0) return;
    o.log.info(`this node has no channels, and peer ${peer} holds a backup of ${set.channels.length}: recovering them`, { peer });
    void recovery.restore(set).catch((e: unknown) => o.log.error('recovering channels from a peer\'s backup failed', { peer, error: String(e) }));
  });
  return { backups, recovery };
}

function bytesOf(hexText: string): Uint8Array {
  try {
    return hex.decode(hexText.toLowerCase());
  } catch {
    throw new ApiError('invalid_argument', 'The backup must be given as hex (the CLI reads the file for you: --multi_file <path>).');
  }
}

function opened(s: BackupServices, blob: Uint8Array): BackupSet {
  try {
    return s.backups.open(blob);
  } catch (e) {
    if (e instanceof BackupError) throw new ApiError(e.code === 'newer_version' ? 'failed_precondition' : 'invalid_argument', e.message);
    throw e;
  }
}

type BackupMethods = Pick<ApiHandlers, 'exportchanbackup' | 'verifychanbackup' | 'restorechanbackup'>;

export function backupHandlers(get: () => BackupServices): BackupMethods {
  return {
    exportchanbackup: async ({ chan_point }) => {
      const s = get();
      await s.backups.refresh();
      const b = chan_point ? s.backups.exportSome([chan_point]) : s.backups.current();
      if (!b) throw new ApiError('unavailable', 'The channel backup is not written yet; try again in a moment.');
      if (chan_point && !b.set.channels.length) throw new ApiError('not_found', `There is no channel with channel point ${chan_point} to back up (see coulomb listchannels).`);
      return { multi_chan_backup: { chan_points: b.set.channels.map((c) => c.chanPoint), multi_chan_backup: hex.encode(b.blob) }, created_at_ms: b.set.createdAtMs };
    },
    verifychanbackup: async ({ multi_chan_backup }) => {
      const set = opened(get(), bytesOf(multi_chan_backup));
      return { chan_points: set.channels.map((c) => c.chanPoint), created_at_ms: set.createdAtMs, node_id: set.nodeId };
    },
    restorechanbackup: async ({ multi_chan_backup }) => {
      const s = get();
      const set = opened(s, bytesOf(multi_chan_backup));
      const r = await s.recovery.restore(set);
      return { restored_chan_points: r.restored, already_known: r.known };
    },
  };
}

/** Recovering channels as pendingchannels lists them: waiting for the peer's close, in state RECOVERING. */
export function recoveringViews(s: BackupServices): WaitingCloseChannel[] {
  // A channel whose output was swept and is final has nothing left pending.
  return s.recovery.list().filter((r) => r.step !== 'swept').map((r) => {
    const c = r.channel;
    return {
      channel: {
        remote_pubkey: c.peer,
        channel_point: c.chanPoint,
        chan_id: c.shortChannelId ?? '',
        capacity: c.capacitySat.toString(),
        // A backup knows no balance: what comes back is known once the peer's commitment is on chain.
        local_balance: (r.toRemote?.valueSat ?? 0n).toString(),
        remote_balance: '0',
        active: false,
        initiator: c.funder,
        private: true,
        commitment_type: c.channelType === 'anchors' ? 'ANCHORS' : 'STATIC_REMOTE_KEY',
        state: 'RECOVERING',
        commit_fee: '0',
        anchor_sat: '0',
        unsettled_balance: '0',
        local_chan_reserve_sat: '0',
        remote_chan_reserve_sat: '0',
        spendable_msat: '0',
        receivable_msat: '0',
      },
      limbo_balance: (r.toRemote?.valueSat ?? 0n).toString(),
      closing_txid: r.closingTxid ?? '',
      // connecting | asked_to_close | closed_by_peer, in the API's upper case (until the sweep is final).
      state: `RECOVERING_${r.step.toUpperCase()}`,
    };
  });
}
