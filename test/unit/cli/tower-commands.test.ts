/**
 * The watchtower commands read as lncli's: `tower info`, `wtclient add <uri> | towers | stats`, each
 * to its API method, and the daemon's --watchtower.* flags into the node's config.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_COMMANDS, DAEMON_COMMAND } from '../../../core/cli/commands.ts';
import { parseFlags, UsageError } from '../../../core/cli/args.ts';
import { daemonConfig } from '../../../core/cli/main.ts';

const cmd = (name: string) => CLIENT_COMMANDS.find((c) => c.name === name)!;

describe('watchtower commands', () => {
  it('wtclient picks its method by its first word and takes the URI for add', () => {
    const w = cmd('wtclient');
    expect(w.methodFor!(['add', 'x'])).toBe('wtclient_add');
    expect(w.methodFor!(['towers'])).toBe('wtclient_towers');
    expect(w.methodFor!(['stats'])).toBe('wtclient_stats');
    expect(() => w.methodFor!(['remove'])).toThrow(UsageError);
    expect(w.toParams({}, ['add', '02ab@host:9911'])).toEqual({ uri: '02ab@host:9911' });
    expect(() => w.toParams({}, ['add'])).toThrow(/give the tower's URI/);
    expect(cmd('tower').toParams({}, ['info'])).toEqual({});
    expect(() => cmd('tower').toParams({}, [])).toThrow(UsageError);
  });
  it('--watchtower.active with --watchtower.listen makes the tower config (port 9911 by default)', () => {
    const { flags } = parseFlags(DAEMON_COMMAND, ['--network', 'playground', '--watchtower.active', '--watchtower.listen', '127.0.0.1', '--watchtower.listen', '0.0.0.0:9912']);
    expect(daemonConfig(flags).watchtower).toEqual({ active: true, listen: [{ host: '127.0.0.1', port: 9911 }, { host: '0.0.0.0', port: 9912 }], externalIps: [] });
    expect(daemonConfig(parseFlags(DAEMON_COMMAND, ['--network', 'playground']).flags).watchtower).toBeUndefined();
  });
});
