/**
 * The channel backup commands, in lncli's shape: exportchanbackup, verifychanbackup and
 * restorechanbackup. The CLI reads and writes the backup file itself (the daemon may run elsewhere):
 * the API carries the backup as hex.
 */
import { readFileSync } from 'node:fs';
import { writeFileDurable } from '../store/durable-file.ts';
import { UsageError } from './args.ts';
import type { ParsedFlags } from './args.ts';
import type { ClientCommand } from './commands.ts';
import type { MethodOutput } from '../api/contract.ts';

function readBackupFile(flags: ParsedFlags): { multi_chan_backup: string } {
  const path = flags.multi_file;
  if (typeof path !== 'string' || !path) throw new UsageError('missing the backup file: --multi_file <path> (the channel.backup file, or one exported with exportchanbackup)');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`could not read the backup file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : (e as Error).message}`);
  }
  return { multi_chan_backup: bytes.toString('hex') };
}

export const BACKUP_COMMANDS: ClientCommand[] = [
  {
    name: 'exportchanbackup',
    usage: 'exportchanbackup --all --output_file <path> | --chan_point <txid:index> [--output_file <path>]',
    summary: 'Writes the encrypted channel backup: with your 24 words it gets your channel balances back with the peers\' help (the node also keeps it current in <datadir>/channel.backup).',
    flags: [
      { name: 'all', type: 'boolean', help: 'every channel (the multi-channel backup)' },
      { name: 'chan_point', type: 'string', help: 'only this channel', positional: 0 },
      { name: 'output_file', type: 'string', help: 'where to write the backup (without it, it is printed as hex)' },
    ],
    method: 'exportchanbackup',
    toParams: (f) => {
      if (!f.all && typeof f.chan_point !== 'string') throw new UsageError('say which channels: --all, or --chan_point <txid:index>');
      return typeof f.chan_point === 'string' ? { chan_point: f.chan_point } : { all: true };
    },
    afterCall: async (result, f) => {
      const r = result as MethodOutput<'exportchanbackup'>;
      if (typeof f.output_file !== 'string' || !f.output_file) return r;
      await writeFileDurable(f.output_file, Buffer.from(r.multi_chan_backup.multi_chan_backup, 'hex'), 0o600);
      return { output_file: f.output_file, chan_points: r.multi_chan_backup.chan_points };
    },
  },
  {
    name: 'verifychanbackup',
    usage: 'verifychanbackup --multi_file <path>',
    summary: 'Checks that a channel backup file opens with this wallet\'s seed, and lists its channels.',
    flags: [{ name: 'multi_file', type: 'string', help: 'the backup file', positional: 0 }],
    method: 'verifychanbackup',
    toParams: (f) => readBackupFile(f),
  },
  {
    name: 'restorechanbackup',
    usage: 'restorechanbackup --multi_file <path>',
    summary: 'Recovers the channels of a backup: each peer is asked to close its channel, and your balance comes back on chain (nothing stale of yours is ever published).',
    flags: [{ name: 'multi_file', type: 'string', help: 'the backup file', positional: 0 }],
    method: 'restorechanbackup',
    toParams: (f) => readBackupFile(f),
  },
];
