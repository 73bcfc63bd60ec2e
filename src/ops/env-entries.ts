/**
 * The `.env` entries `reverb install` adds, exactly as Reverb's installer writes
 * them (reference/reverb.md §1.3), and the rule for adding them: only keys the
 * file lacks, appended after a blank line, every existing line left as it is.
 */
import { randomInt } from 'node:crypto';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Lowercase letters and digits drawn uniformly from the CSPRNG (no modulo bias: randomInt rejects). */
export function randomToken(length: number): string {
  let token = '';
  for (let i = 0; i < length; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return token;
}

/** Two groups, written with a blank line between them as Reverb does. */
export function reverbEnvEntries(): [string, string][][] {
  return [
    [
      ['REVERB_APP_ID', String(randomInt(100_000, 1_000_000))],
      ['REVERB_APP_KEY', randomToken(20)],
      ['REVERB_APP_SECRET', randomToken(20)],
      ['REVERB_HOST', '"localhost"'],
      ['REVERB_PORT', '8080'],
      ['REVERB_SCHEME', 'http'],
    ],
    [
      ['VITE_REVERB_APP_KEY', '"${REVERB_APP_KEY}"'],
      ['VITE_REVERB_HOST', '"${REVERB_HOST}"'],
      ['VITE_REVERB_PORT', '"${REVERB_PORT}"'],
      ['VITE_REVERB_SCHEME', '"${REVERB_SCHEME}"'],
    ],
  ];
}

/** True when a line of `text` assigns `key` (dotenv syntax: optional `export `, spaces around `=`). */
export function definesKey(text: string, key: string): boolean {
  return new RegExp(`^[ \\t]*(?:export[ \\t]+)?${key}[ \\t]*=`, 'm').test(text);
}

/**
 * Returns `text` with the missing entries appended and the keys that were
 * added. The file's own line ending (LF or CRLF) is kept.
 */
export function appendMissingEntries(text: string, groups: [string, string][][]): { text: string; added: string[] } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const added: string[] = [];
  const blocks = groups
    .map((group) => group.filter(([key]) => !definesKey(text, key)))
    .filter((group) => group.length > 0)
    .map((group) => {
      added.push(...group.map(([key]) => key));
      return group.map(([key, value]) => `${key}=${value}`).join(eol);
    });
  if (blocks.length === 0) return { text, added };
  const separator = text === '' ? '' : text.endsWith('\n') ? eol : eol + eol;
  return { text: text + separator + blocks.join(eol + eol) + eol, added };
}
