/**
 * A Laravel project's own configuration, read as Reverb reads it: the cached
 * configuration (bootstrap/cache/config.php, written by `php artisan
 * config:cache`) when there is one, else config/reverb.php. PHP evaluates it
 * when `php` is available (php.ts), otherwise the safe evaluator does
 * (../php/evaluate.ts); both give the same values.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { evaluatePhpConfig } from '../php/evaluate.js';
import { evaluateWithPhp, phpBinary, SECTIONS, type PhpMode, type Sections } from './php.js';

export interface LaravelConfig {
  /** What was read and how, for the start-up line: "config/reverb.php (php)". */
  readonly source: string;
  /** config('reverb'); undefined when the project has none (e.g. a cached config without Reverb). */
  readonly reverb: unknown;
  /** config('cache') and config('database') where they could be read (for `reverb:restart`). */
  readonly cache: unknown;
  readonly database: unknown;
  /** config('pulse') and where it was read from; undefined without Laravel Pulse's config. */
  readonly pulse: unknown;
  readonly pulseSource: string | undefined;
}

export const REVERB_FILE = 'config/reverb.php';
export const PULSE_FILE = 'config/pulse.php';
export const CACHED_FILE = 'bootstrap/cache/config.php';

function phpMode(cwd: string, cached: boolean): PhpMode {
  if (existsSync(join(cwd, 'vendor/autoload.php')) && existsSync(join(cwd, 'bootstrap/app.php'))) return 'laravel';
  return cached ? 'cached' : 'file';
}

const HOW: Readonly<Record<PhpMode, string>> = { laravel: 'php, Laravel application', cached: 'php', file: 'php' };

/** Reads the project in `cwd`; undefined when it has neither config/reverb.php nor a cached configuration. */
export async function readLaravelConfig(cwd: string, env: NodeJS.ProcessEnv): Promise<LaravelConfig | undefined> {
  const cached = existsSync(join(cwd, CACHED_FILE));
  if (!cached && !existsSync(join(cwd, REVERB_FILE))) return undefined;
  const name = cached ? CACHED_FILE : REVERB_FILE;
  const file = join(cwd, name);
  const displayName = (path: string) => relative(cwd, path) || path;

  const php = phpBinary(env);
  if (php) {
    const mode = phpMode(cwd, cached);
    const sections = await evaluateWithPhp(php, { mode, base: cwd, file, env, displayName });
    if (sections) {
      const how = HOW[mode];
      // Without the application, PHP cannot call Pulse's classes: the evaluator then reads what it can.
      if (sections.pulse_error !== undefined) {
        return { source: `${name} (${how})`, ...pick({ ...sections, ...pulseWithoutPhp(join(cwd, PULSE_FILE), PULSE_FILE, env, cwd) }, cached, how) };
      }
      return { source: `${name} (${how})`, ...pick(sections, cached, how) };
    }
  }
  const evaluated = evaluatePhpConfig(file, {
    env,
    basePath: cwd,
    displayName: name,
    onlyKeys: cached ? SECTIONS.filter((section) => section !== 'pulse') : undefined,
  });
  const sections = (cached ? { ...(evaluated as Sections), ...pulseWithoutPhp(file, name, env, cwd) } : { reverb: evaluated, ...pulseWithoutPhp(join(cwd, PULSE_FILE), PULSE_FILE, env, cwd) }) as Sections;
  return { source: `${name} (read without php)`, ...pick(sections, cached, 'read without php') };
}

/**
 * config('pulse') read by the evaluator from config/pulse.php (or the cached
 * configuration's `pulse`): only a few of its keys matter here, and the rest
 * may call Pulse's own classes (Pulse::defaultVendorCacheKeys()), so elements
 * it cannot evaluate are left out rather than stopping start-up.
 */
function pulseWithoutPhp(file: string, displayName: string, env: NodeJS.ProcessEnv, cwd: string): Sections {
  if (!existsSync(file)) return {};
  const cached = displayName === CACHED_FILE;
  const options = { env, basePath: cwd, displayName, skipUnsupported: () => undefined };
  const pulse = evaluatePhpConfig(file, cached ? { ...options, onlyKeys: ['pulse'] } : options);
  return { pulse: cached ? (pulse as Sections).pulse : pulse };
}

function pick(sections: Sections, cached: boolean, how: string): Omit<LaravelConfig, 'source'> {
  const pulse = sections.pulse ?? undefined;
  return {
    reverb: sections.reverb ?? undefined,
    cache: sections.cache ?? undefined,
    database: sections.database ?? undefined,
    pulse,
    pulseSource: pulse === undefined ? undefined : `${cached ? CACHED_FILE : PULSE_FILE} (${sections.pulse_error !== undefined ? 'read without php' : how})`,
  };
}
