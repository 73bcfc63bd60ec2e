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

const BROADCAST_KEYS = ['BROADCAST_CONNECTION', 'BROADCAST_DRIVER'] as const;

/**
 * What `reverb:install` does to Laravel's broadcaster: BROADCAST_CONNECTION
 * (BROADCAST_DRIVER before Laravel 11) becomes `reverb` where it is `log`,
 * `null` or empty, and is added where neither is set; any other choice
 * (pusher, ably) is the user's and stays.
 */
export function enableReverbBroadcasting(text: string): { text: string; change: string } {
  for (const key of BROADCAST_KEYS) {
    const assignment = new RegExp(`^([ \\t]*(?:export[ \\t]+)?${key}[ \\t]*=[ \\t]*)(["']?)([^"'\\r\\n]*?)\\2([ \\t]*(?:#[^\\r\\n]*)?)$`, 'm');
    const match = assignment.exec(text);
    if (!match) continue;
    const value = match[3]!.trim();
    if (!['log', 'null', ''].includes(value.toLowerCase())) return { text, change: `${key}=${value} left as it is` };
    return { text: text.replace(assignment, `$1reverb$4`), change: `set ${key}=reverb (was ${value || 'empty'})` };
  }
  const { text: appended } = appendMissingEntries(text, [[['BROADCAST_CONNECTION', 'reverb']]]);
  return { text: appended, change: 'added BROADCAST_CONNECTION=reverb' };
}
