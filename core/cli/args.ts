/**
 * Command-line parsing in lncli's style: `--flag value`, `--flag=value`, boolean `--flag`, positionals.
 * Flags are declared per command in one table so that help text and parsing cannot drift apart.
 */
export interface FlagSpec {
  name: string;
  type: 'string' | 'boolean' | 'list';
  help: string;
  /** Name of a positional argument that may stand in for this flag (e.g. `connect <addr>`). */
  positional?: number;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

export function parseFlags(spec: CommandSpec, argv: string[]): { flags: ParsedFlags; positionals: string[] } {
  const flags: ParsedFlags = {};
  const positionals: string[] = [];
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const f = byName.get(name);
    if (!f) throw new UsageError(`unknown flag --${name} for "${spec.name}" (see: coulomb ${spec.name} --help)`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (f.type === 'boolean') {
      flags[name] = value === undefined ? true : !/^(false|0|no)$/i.test(value);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    }
    if (f.type === 'list') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  for (const f of spec.flags) {
    if (f.positional !== undefined && flags[f.name] === undefined && positionals[f.positional] !== undefined) {
      flags[f.name] = f.type === 'list' ? [positionals[f.positional]!] : positionals[f.positional]!;
    }
  }
  return { flags, positionals };
}

export function helpText(spec: CommandSpec): string {
  const lines = [`coulomb ${spec.usage}`, '', spec.summary, ''];
  if (spec.flags.length) {
    lines.push('Flags:');
    for (const f of spec.flags) lines.push(`  --${f.name}${f.type === 'boolean' ? '' : ' <value>'}`.padEnd(34) + f.help);
  }
  return lines.join('\n');
}
