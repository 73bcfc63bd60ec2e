/**
 * `reverb install`: fresh credentials into `.env` (only missing keys) and a
 * commented reverb.config.mjs when the project has no config file yet.
 * Running it again changes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILES } from '../config/index.js';
import { CONFIG_TEMPLATE } from './config-template.js';
import { appendMissingEntries, reverbEnvEntries } from './env-entries.js';

export interface InstallReport {
  readonly envFile: string;
  readonly envCreated: boolean;
  /** Keys written to .env; empty when it already had them all. */
  readonly added: readonly string[];
  /** The config file written, or the one already there (then `configCreated` is false). */
  readonly configFile: string;
  readonly configCreated: boolean;
}

export function install(cwd: string): InstallReport {
  const envFile = join(cwd, '.env');
  const envCreated = !existsSync(envFile);
  const before = envCreated ? '' : readFileSync(envFile, 'utf8');
  const { text, added } = appendMissingEntries(before, reverbEnvEntries());
  if (text !== before) writeFileSync(envFile, text);

  const existing = CONFIG_FILES.map((name) => join(cwd, name)).find((file) => existsSync(file));
  const configFile = existing ?? join(cwd, 'reverb.config.mjs');
  if (!existing) writeFileSync(configFile, CONFIG_TEMPLATE);

  return { envFile, envCreated, added, configFile, configCreated: !existing };
}
