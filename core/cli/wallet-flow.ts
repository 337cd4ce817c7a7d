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

export async function runCreate(flags: ParsedFlags, call: Caller): Promise<unknown> {
  const passwordFile = flags.password_file as string | undefined;
  const passphrase = flags.passphrase_file ? (await readFile(flags.passphrase_file as string, 'utf8')).split(/\r?\n/)[0]! : undefined;
  if (typeof flags.words === 'string') {
    const birthday = flags.birthday === undefined ? 0 : Number(flags.birthday);
    if (!Number.isInteger(birthday) || birthday < 0) throw new UsageError('--birthday must be a block height');
    const password = await passwordFrom(passwordFile, !passwordFile);
    return call('create', { password, words: flags.words, birthday_height: birthday, ...(passphrase ? { passphrase } : {}) });
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
