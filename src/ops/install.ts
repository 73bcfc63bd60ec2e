/**
 * `reverb install`: fresh credentials into `.env` (only missing keys), the
 * Reverb broadcaster turned on there as `reverb:install` does, and a commented
 * reverb.config.mjs when the project has no config file yet (a Laravel
 * project's config/reverb.php is one). Running it again changes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILES } from '../config/index.js';
import { CONFIG_TEMPLATE } from './config-template.js';
import { appendMissingEntries, definesKey, enableReverbBroadcasting, reverbEnvEntries } from './env-entries.js';
import { laravelSteps, type LaravelStep } from './laravel-steps.js';

export interface InstallReport {
  readonly envFile: string;
  readonly envCreated: boolean;
  /** Keys written to .env; empty when it already had them all. */
  readonly added: readonly string[];
  /** What happened to BROADCAST_CONNECTION / BROADCAST_DRIVER. */
  readonly broadcasting: string | undefined;
  /** The config file written, or the one already there (then `configCreated` is false). */
  readonly configFile: string;
  readonly configCreated: boolean;
  /** The Laravel side's steps, in a Laravel project. */
  readonly laravel: readonly LaravelStep[] | undefined;
}

export function install(cwd: string): InstallReport {
  const envFile = join(cwd, '.env');
  const envCreated = !existsSync(envFile);
  const before = envCreated ? '' : readFileSync(envFile, 'utf8');
  const { text: withEntries, added } = appendMissingEntries(before, reverbEnvEntries());
  // Outside Laravel (no artisan, no broadcaster in .env) there is no broadcaster to turn on.
  const laravel = laravelSteps(cwd);
  const { text, change: broadcasting } =
    laravel || definesKey(before, 'BROADCAST_CONNECTION') || definesKey(before, 'BROADCAST_DRIVER')
      ? enableReverbBroadcasting(withEntries)
      : { text: withEntries, change: undefined };
  if (text !== before) writeFileSync(envFile, text);

  const existing = [...CONFIG_FILES, 'config/reverb.php'].map((name) => join(cwd, name)).find((file) => existsSync(file));
  const configFile = existing ?? join(cwd, 'reverb.config.mjs');
  if (!existing) writeFileSync(configFile, CONFIG_TEMPLATE);

  return { envFile, envCreated, added, broadcasting, configFile, configCreated: !existing, laravel };
}
