/**
 * The watchtower commands, in lncli's shape: `tower info` (the tower built into this node) and
 * `wtclient add | towers | stats` (the towers this node backs its channels up to).
 */
import { UsageError } from './args.ts';
import type { ClientCommand } from './commands.ts';
import type { MethodName } from '../api/contract.ts';

const WTCLIENT: Record<string, MethodName> = { add: 'wtclient_add', towers: 'wtclient_towers', stats: 'wtclient_stats' };

export const TOWER_COMMANDS: ClientCommand[] = [
  {
    name: 'tower',
    usage: 'tower info',
    summary: "Shows this node's watchtower: its public key and the URIs other nodes add with wtclient add (the daemon needs --watchtower.active).",
    flags: [],
    method: 'towerinfo',
    toParams: (_f, p) => {
      if (p[0] !== 'info') throw new UsageError('say what to show: coulomb tower info');
      return {};
    },
  },
  {
    name: 'wtclient',
    usage: 'wtclient add <pubkey>@<host>[:<port>] | wtclient towers | wtclient stats',
    summary: 'Watchtower client: add a tower that gets an encrypted backup of every revoked channel state (it can punish a cheating peer while this node is offline), list the towers, or count the backups.',
    flags: [],
    method: 'wtclient_towers',
    methodFor: (p) => {
      const m = WTCLIENT[p[0] ?? ''];
      if (!m) throw new UsageError('say what to do: coulomb wtclient add <pubkey>@<host>:<port> | towers | stats');
      return m;
    },
    toParams: (_f, p) => {
      if (p[0] !== 'add') return {};
      if (!p[1]) throw new UsageError("give the tower's URI: coulomb wtclient add <pubkey>@<host>:<port> (coulomb tower info on the tower shows it)");
      return { uri: p[1] };
    },
  },
];
