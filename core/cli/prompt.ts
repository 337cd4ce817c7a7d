/**
 * Terminal questions for the CLI's interactive commands, with hidden input for passwords.
 */
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.ts';

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

export async function ask(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    // Echo nothing of what is typed (the prompt itself is still written).
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
    out._writeToOutput = (s: string) => {
      if (s.includes(question)) out.output.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (hidden) process.stdout.write('\n');
    rl.close();
  }
}

/** A password from a file (first line, for scripts) or asked for on the terminal. */
export async function passwordFrom(file: string | undefined, confirm: boolean): Promise<string> {
  if (file) {
    try {
      return (await readFile(file, 'utf8')).split(/\r?\n/)[0]!;
    } catch {
      throw new UsageError(`cannot read the password file ${file}`);
    }
  }
  if (!isInteractive()) throw new UsageError('no terminal to ask for a password on; pass --password_file F in scripts');
  const p = await ask('Wallet password: ', true);
  if (confirm && (await ask('Same password again: ', true)) !== p) throw new UsageError('the two passwords differ; nothing was created');
  return p;
}
