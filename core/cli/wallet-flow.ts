/**
 * `coulomb create` and `coulomb unlock`: conversations, not single calls. Creating shows the 24 words
 * once and asks for a few of them back before anything is stored.
 */
import { readFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import type { ParsedFlags } from './args.ts';
import { UsageError } from './args.ts';
import { ask, isInteractive, passwordFrom } from './prompt.ts';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract.ts';

export type Caller = <M extends MethodName>(method: M, params: MethodInput<M>) => Promise<MethodOutput<M>>;

/** The most a words file may hold: 24 words of at most 8 letters, with generous room for spacing. */
const MAX_WORDS_BYTES = 4096;

/** Recovery words from a file, or from standard input for `-`; never from the command line unless asked to. */
async function wordsFrom(flags: ParsedFlags, stdin: () => Promise<string>, warn: (line: string) => void): Promise<string | undefined> {
  if (typeof flags.words_file === 'string' && typeof flags.words === 'string') throw new UsageError('give the words once: --words_file F (or - for standard input), not both');
  if (typeof flags.words === 'string') {
    warn('Warning: words given with --words are visible to other programs on this computer (ps) and stay in your shell history; next time use --words_file F, or --words_file - to pipe them in.\n');
    return flags.words;
  }
  if (typeof flags.words_file !== 'string') return undefined;
  let text: string;
  try {
    text = flags.words_file === '-' ? await stdin() : await readFile(flags.words_file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the words file ${flags.words_file}`);
  }
  if (Buffer.byteLength(text) > MAX_WORDS_BYTES) throw new UsageError(`${flags.words_file === '-' ? 'standard input' : flags.words_file} is too long to be recovery words; give a file holding just the words`);
  return text.trim().split(/\s+/).join(' ');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size > MAX_WORDS_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCreate(flags: ParsedFlags, call: Caller, io: { stdin?: () => Promise<string>; warn?: (line: string) => void } = {}): Promise<unknown> {
  const passwordFile = flags.password_file as string | undefined;
  const passphrase = flags.passphrase_file ? (await readFile(flags.passphrase_file as string, 'utf8')).split(/\r?\n/)[0]! : undefined;
  const words = await wordsFrom(flags, io.stdin ?? readStdin, io.warn ?? ((l) => process.stderr.write(l)));
  if (words !== undefined) {
    const birthday = flags.birthday === undefined ? 0 : Number(flags.birthday);
    if (!Number.isInteger(birthday) || birthday < 0) throw new UsageError('--birthday must be a block height');
    if (flags.words_file === '-' && !passwordFile) throw new UsageError('with the words on standard input, give the password with --password_file F');
    const password = await passwordFrom(passwordFile, !passwordFile);
    return call('create', { password, words, birthday_height: birthday, ...(passphrase ? { passphrase } : {}) });
  }
  const { mnemonic } = await call('genseed', {});
  if (!passwordFile) {
    if (!isInteractive()) throw new UsageError('no terminal to show the recovery words on; pass --password_file F in scripts');
    process.stdout.write('\nYour 24 recovery words. Write them down, in order, and keep them offline.\nThey are the only way to restore this wallet; Coulomb will not show them again.\n\n');
    mnemonic.forEach((w, i) => process.stdout.write(`${String(i + 1).padStart(2)}. ${w.padEnd(12)}${i % 4 === 3 ? '\n' : ''}`));
    process.stdout.write('\n');
    // Ask for three random words back, so a skipped step is caught now and not at restore time.
    const picks = new Set<number>();
    while (picks.size < 3) picks.add(randomInt(24));
    for (const i of [...picks].sort((a, b) => a - b)) {
      const got = (await ask(`Word #${i + 1}: `)).trim().toLowerCase();
      if (got !== mnemonic[i]) throw new UsageError(`word #${i + 1} does not match; nothing was created. Run coulomb create again.`);
    }
    const password = await passwordFrom(undefined, true);
    const r = await call('create', { password, words: mnemonic.join(' '), new_wallet: true, ...(passphrase ? { passphrase } : {}) });
    process.stdout.write('\nWallet created.\n');
    return r;
  }
  const password = await passwordFrom(passwordFile, false);
  const r = await call('create', { password, words: mnemonic.join(' '), new_wallet: true, ...(passphrase ? { passphrase } : {}) });
  // Scripts get the words once, in the output, to store safely.
  return { mnemonic, ...r };
}

export async function runUnlock(flags: ParsedFlags, call: Caller): Promise<unknown> {
  const password = await passwordFrom(flags.password_file as string | undefined, false);
  return call('unlock', { password });
}
