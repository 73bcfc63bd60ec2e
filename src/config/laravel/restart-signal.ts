/**
 * Whether and where `reverb start` watches for `php artisan reverb:restart`:
 * in a Laravel project (it has an `artisan` file), through the project's
 * default cache store, every REVERB_RESTART_CHECK_INTERVAL seconds (5, as Reverb).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { RestartSignal } from '../types.js';
import { laravelDefaults, resolveCacheStore } from './cache-store.js';
import { phpBinary } from './php.js';
import type { LaravelConfig } from './project.js';

export function restartSignal(cwd: string, env: NodeJS.ProcessEnv, laravel: LaravelConfig | undefined): RestartSignal | null {
  if (!existsSync(join(cwd, 'artisan'))) return null;
  const interval = Number(env.REVERB_RESTART_CHECK_INTERVAL || 5);
  if (!(interval > 0)) {
    throw new ConfigError(`Invalid configuration: REVERB_RESTART_CHECK_INTERVAL = ${JSON.stringify(env.REVERB_RESTART_CHECK_INTERVAL)} (expected a positive number of seconds)`);
  }
  // What PHP read wins; without it, Laravel's defaults from the environment.
  const defaults = laravel?.cache ? undefined : laravelDefaults(env, cwd);
  const store = resolveCacheStore(laravel?.cache ?? defaults!.cache, laravel?.database ?? defaults?.database, phpBinary(env));
  return { store, interval };
}
