/**
 * The store backend flags, in lnd's names: `--db.backend postgres` with the database from
 * `--db.postgres.dsn_file` (its password off the command line) or `--db.postgres.dsn` (warned about
 * when it holds a password); the embedded store otherwise. No message repeats the DSN.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonConfig, daemonWarnings } from '../../../core/cli/main.ts';
import { parseFlags } from '../../../core/cli/args.ts';
import { DAEMON_COMMAND } from '../../../core/cli/commands.ts';
import { removeDir, tempDir } from '../../helpers/daemon.ts';

const SECRET = 's3cret-pw';
const DSN = `postgres://coulomb:${SECRET}@db.example:5432/coulomb`;

describe('daemon store flags', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('cli-db');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  const config = (argv: string[]) => {
    const { flags } = parseFlags(DAEMON_COMMAND, ['--datadir', dir, ...argv]);
    const c = daemonConfig(flags);
    return { db: c.db, warnings: daemonWarnings(flags, c) };
  };
  const refusal = (argv: string[]): string => {
    try {
      config(argv);
    } catch (e) {
      const m = (e as Error).message;
      expect(m).not.toContain(SECRET);
      return m;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  it('leaves the embedded store, the default, to the node', () => {
    expect(config([]).db).toBeUndefined();
    expect(config(['--db.backend', 'embedded']).db).toBeUndefined();
  });

  it('reads the DSN from the first line of --db.postgres.dsn_file, with no warning', async () => {
    const file = join(dir, 'dsn');
    await writeFile(file, `${DSN}\nanything after the first line\n`, { mode: 0o600 });
    expect(config(['--db.backend', 'postgres', '--db.postgres.dsn_file', file])).toEqual({ db: { backend: 'postgres', dsn: DSN }, warnings: [] });
  });

  it('takes --db.postgres.dsn, warning when it holds a password that ps and shell history see', () => {
    const withPassword = config(['--db.backend', 'postgres', '--db.postgres.dsn', DSN]);
    expect(withPassword.db).toEqual({ backend: 'postgres', dsn: DSN });
    expect(withPassword.warnings).toEqual([expect.stringMatching(/^--db\.postgres\.dsn shows the database's password to every program on this computer \(ps\).*use --db\.postgres\.dsn_file F instead\.$/)]);
    expect(withPassword.warnings.join('')).not.toContain(SECRET);
    expect(config(['--db.backend', 'postgres', '--db.postgres.dsn', `postgres://u@h/db?password=${SECRET}`]).warnings).toHaveLength(1);
    // No password in it (the server trusts this host, or PGPASSWORD / ~/.pgpass give it): nothing to warn about.
    expect(config(['--db.backend', 'postgres', '--db.postgres.dsn', 'postgresql://coulomb@db.example/coulomb'])).toEqual({ db: { backend: 'postgres', dsn: 'postgresql://coulomb@db.example/coulomb' }, warnings: [] });
  });

  it('refuses what cannot name a database, saying what to give, without repeating the DSN', async () => {
    expect(refusal(['--db.backend', 'postgres'])).toMatch(/--db\.backend postgres needs the database: --db\.postgres\.dsn_file F/);
    expect(refusal(['--db.postgres.dsn', DSN])).toBe('--db.postgres.dsn, --db.postgres.dsn_file and --db.postgres.timeout need --db.backend postgres');
    expect(refusal(['--db.backend', 'bolt'])).toBe('--db.backend must be embedded or postgres, not "bolt"');
    expect(refusal(['--db.backend', 'postgres', '--db.postgres.dsn', `host=db.example password=${SECRET}`])).toBe('--db.postgres.dsn must be a PostgreSQL URL: postgres://user:password@host:5432/database');
    const file = join(dir, 'dsn');
    await writeFile(file, `mysql://root:${SECRET}@db.example/x\n`);
    expect(refusal(['--db.backend', 'postgres', '--db.postgres.dsn_file', file])).toBe(`the first line of ${file} must be a PostgreSQL URL: postgres://user:password@host:5432/database`);
    expect(refusal(['--db.backend', 'postgres', '--db.postgres.dsn_file', join(dir, 'missing')])).toBe(`cannot read the PostgreSQL DSN file ${join(dir, 'missing')}`);
    expect(refusal(['--db.backend', 'postgres', '--db.postgres.dsn_file', file, '--db.postgres.dsn', DSN])).toMatch(/give the PostgreSQL database once/);
  });

  it('takes --db.postgres.timeout as a duration, and refuses none at all or one it cannot read', () => {
    const pgFlags = ['--db.backend', 'postgres', '--db.postgres.dsn', 'postgres://coulomb@db.example/coulomb'];
    expect(config(pgFlags).db).toEqual({ backend: 'postgres', dsn: 'postgres://coulomb@db.example/coulomb' });
    for (const [given, ms] of [['10s', 10_000], ['2m', 120_000], ['1500ms', 1_500], ['45', 45_000], ['0.5s', 500]] as const) {
      expect(config([...pgFlags, '--db.postgres.timeout', given]).db).toEqual({ backend: 'postgres', dsn: 'postgres://coulomb@db.example/coulomb', queryTimeoutMs: ms });
    }
    for (const bad of ['0', '0s', 'soon', '-5s', '10h']) expect(refusal([...pgFlags, '--db.postgres.timeout', bad])).toBe(`--db.postgres.timeout must be a duration of at least 100ms, such as 30s or 2m, not "${bad}"`);
    expect(refusal(['--db.postgres.timeout', '10s'])).toBe('--db.postgres.dsn, --db.postgres.dsn_file and --db.postgres.timeout need --db.backend postgres');
  });

  it('lists the flags in the daemon help', () => {
    const names = DAEMON_COMMAND.flags.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['db.backend', 'db.postgres.dsn', 'db.postgres.dsn_file', 'db.postgres.timeout']));
  });
});
