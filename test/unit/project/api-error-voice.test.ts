/**
 * Every message an ApiError carries is for people: the CLI prints it and the app shows it. Written in
 * the code as a literal, it starts with a capital letter (a sentence, not a fragment of a log line).
 * Messages built around another error's text (`${e.message}`) are the domain's to word.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** `new ApiError(<code>, <literal>` and `new ApiError(<code>, cond ? <literal> : <literal>`: each literal's first character. */
const CALL = /new ApiError\(\s*[^,]+,\s*((?:[^'"`;]*?\?\s*)?)(['"`])(.)/g;
const ALTERNATIVE = /^\s*:\s*(['"`])(.)/;

export function lowercaseApiErrors(text: string): { line: number; start: string }[] {
  const found: { line: number; start: string }[] = [];
  for (const m of text.matchAll(CALL)) {
    const at = m.index! + m[0].length - 1;
    const line = text.slice(0, at).split('\n').length;
    if (/[a-z]/.test(m[3]!)) found.push({ line, start: text.slice(at, at + 40).split('\n')[0]! });
    if (m[1]) {
      // A ternary: the literal after the colon too.
      const q = m[2]!;
      const end = text.indexOf(q, at + 1);
      const alt = ALTERNATIVE.exec(text.slice(end + 1, end + 200));
      if (alt && /[a-z]/.test(alt[2]!)) found.push({ line, start: text.slice(end + 1, end + 41).split('\n')[0]!.trim() });
    }
  }
  return found;
}

describe('ApiError messages speak to people', () => {
  it('finds a lowercase start, in a plain literal and in either branch of a choice', () => {
    expect(lowercaseApiErrors("throw new ApiError('not_found', 'no such thing');")).toHaveLength(1);
    expect(lowercaseApiErrors("throw new ApiError('not_found', `There is no ${x}.`);")).toHaveLength(0);
    expect(lowercaseApiErrors("throw new ApiError(\n  'failed_precondition',\n  locked ? 'The wallet is locked.' : 'there is none',\n);")).toHaveLength(1);
    expect(lowercaseApiErrors("throw new ApiError('unavailable', `${e.message}; nothing was changed`);")).toHaveLength(0);
  });

  it('starts every literal message in core/ with a capital letter', () => {
    const offenders = sources(join(ROOT, 'core')).flatMap((file) => lowercaseApiErrors(readFileSync(file, 'utf8')).map((o) => `${relative(ROOT, file)}:${o.line}: ${o.start}`));
    expect(offenders).toEqual([]);
  });
});
