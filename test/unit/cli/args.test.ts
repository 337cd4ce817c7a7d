import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from '../../../core/cli/args.ts';
import { CLIENT_COMMANDS, DAEMON_COMMAND } from '../../../core/cli/commands.ts';

const connect = CLIENT_COMMANDS.find((c) => c.name === 'connect')!;

describe('CLI flags', () => {
  it('accepts lncli styles: --flag value, --flag=value, positionals, repeated lists', () => {
    const a = parseFlags(connect, ['pk@h:1', '--perm', '--timeout=5']);
    expect(connect.toParams(a.flags, a.positionals)).toEqual({ addr: 'pk@h:1', perm: true, timeout_ms: 5000 });
    const d = parseFlags(DAEMON_COMMAND, ['--listen', '127.0.0.1:1', '--listen=127.0.0.1:2', '--nolisten=false']);
    expect(d.flags).toEqual({ listen: ['127.0.0.1:1', '127.0.0.1:2'], nolisten: false });
  });
  it('says what is wrong', () => {
    expect(() => parseFlags(connect, ['--bogus'])).toThrow(UsageError);
    expect(() => parseFlags(connect, ['--timeout'])).toThrow(/needs a value/);
    expect(() => connect.toParams(parseFlags(connect, []).flags, [])).toThrow(/missing the peer address/);
    expect(() => connect.toParams(parseFlags(connect, ['x', '--timeout', 'soon']).flags, [])).toThrow(/number of seconds/);
  });
});
