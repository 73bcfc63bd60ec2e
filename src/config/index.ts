/**
 * The one place that reads configuration: .env, then Reverb's env-driven
 * defaults, then the Laravel project's config/reverb.php (or its cached
 * configuration), then reverb.config.json/.js/.mjs, then CLI flags.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadEnvFile } from './env.js';
import { reverbDefaults, type RawConfig } from './defaults.js';
import { ConfigError } from './errors.js';
import { readLaravelConfig } from './laravel/project.js';
import { restartSignal } from './laravel/restart-signal.js';
import { laravelDefaults } from './laravel/cache-store.js';
import { resolveDatabaseConnection } from './laravel/database-connection.js';
import { laravelPulseSettings } from './laravel/pulse.js';
import { resolveRedisConnection } from './laravel/redis-connection.js';
import { configSchema, validateConfig, type DevelopmentApp } from './schema.js';
import { unknownKeys } from './unknown-keys.js';
import type { Config } from './types.js';

export type { Config, AppConfig, ServerConfig } from './types.js';
export { ConfigError } from './errors.js';

export interface ConfigOverrides {
  host?: string;
  port?: number | string;
  path?: string;
  hostname?: string;
  debug?: boolean;
  transport?: string;
}

export interface LoadOptions {
  cwd?: string;
  /** Explicit config file; otherwise reverb.config.{json,mjs,js} in cwd if present. */
  configFile?: string;
  /** Explicit .env file; otherwise `.env` in cwd if present. */
  envFile?: string;
  flags?: ConfigOverrides;
  /** Environment to read (process.env by default; .env is loaded into it). */
  env?: NodeJS.ProcessEnv;
}

/** Config files looked up in the working directory, first match wins. */
export const CONFIG_FILES = ['reverb.config.json', 'reverb.config.mjs', 'reverb.config.js'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep merge where the override wins; arrays (e.g. the app list) are replaced whole. */
export function mergeConfig(base: RawConfig, override: RawConfig): RawConfig {
  const out: RawConfig = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? mergeConfig(out[key] as RawConfig, value) : value;
  }
  return out;
}

async function readConfigFile(file: string): Promise<RawConfig> {
  if (!existsSync(file)) throw new ConfigError(`Config file not found: ${file}`);
  let loaded: unknown;
  try {
    loaded = file.endsWith('.json')
      ? JSON.parse(readFileSync(file, 'utf8'))
      : ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new ConfigError(`Config file ${file} could not be read: ${(error as Error).message}`);
  }
  if (!isPlainObject(loaded)) {
    throw new ConfigError(`Config file ${file} must contain (or default-export) an object shaped like config/reverb.php`);
  }
  return loaded;
}

function findConfigFile(cwd: string, explicit?: string): string | undefined {
  if (explicit) return resolve(cwd, explicit);
  return CONFIG_FILES.map((name) => resolve(cwd, name)).find((file) => existsSync(file));
}

export async function loadConfig(options: LoadOptions = {}): Promise<Config> {
  const cwd = options.cwd ?? process.cwd();
  const environment = options.env ?? process.env;
  if (options.envFile) {
    const file = resolve(cwd, options.envFile);
    if (!loadEnvFile(file, environment)) throw new ConfigError(`Env file not found: ${file}`);
  } else {
    loadEnvFile(resolve(cwd, '.env'), environment);
  }

  let raw = reverbDefaults(environment);
  const layers: { name: string; raw: RawConfig }[] = [];
  const laravel = await readLaravelConfig(cwd, environment);
  if (laravel?.reverb !== undefined) {
    if (!isPlainObject(laravel.reverb)) {
      throw new ConfigError(`${laravel.source} must return an array shaped like Reverb's config/reverb.php`);
    }
    layers.push({ name: laravel.source, raw: laravel.reverb });
  }
  const configFile = findConfigFile(cwd, options.configFile);
  if (configFile) layers.push({ name: relative(cwd, configFile) || configFile, raw: await readConfigFile(configFile) });
  for (const layer of layers) raw = mergeConfig(raw, layer.raw);
  const flags = options.flags ?? {};
  raw = mergeConfig(raw, {
    servers: {
      reverb: { host: flags.host, port: flags.port, path: flags.path, hostname: flags.hostname, transport: flags.transport },
    },
  });

  const sources = layers.map((layer) => layer.name);
  const production = productionVariable(environment);
  const warnings = layers.flatMap((layer) => unknownKeys(layer.raw, configSchema).map((key) => `Unknown configuration key in ${layer.name}: ${key}`));
  if (warnings.length > 0 && production) {
    throw new ConfigError([...warnings, `Unknown keys stop start-up when ${production}=production; fix or remove them.`].join('\n'));
  }
  try {
    return validateConfig(raw, {
      debug: flags.debug ?? false,
      baseDir: configFile ? dirname(configFile) : cwd,
      sources,
      warnings,
      restartSignal: restartSignal(cwd, environment, laravel),
      // What PHP read of config('database') wins; without it, Laravel's defaults from the environment.
      databases: (name) => resolveDatabaseConnection(laravel?.database ?? laravelDefaults(environment, cwd).database, name),
      pulse: laravelPulseSettings(laravel?.pulse, laravel?.pulseSource, environment),
      redisConnections: (name) => resolveRedisConnection(laravel?.database ?? laravelDefaults(environment, cwd).database, name),
      developmentApp: developmentApp(environment, sources, production),
    });
  } catch (error) {
    // A typo is often why a key is missing or an app is not configured: say both.
    if (error instanceof ConfigError && warnings.length > 0) throw new ConfigError([...warnings, error.message].join('\n'));
    throw error;
  }
}

/** APP_ENV (Laravel's) or NODE_ENV, whichever says production. */
function productionVariable(environment: NodeJS.ProcessEnv): string | undefined {
  return ['APP_ENV', 'NODE_ENV'].find((name) => environment[name] === 'production');
}

/**
 * The public development credentials are served only when nothing at all is
 * configured: no config file, no REVERB_APP_* variable, not production — so
 * a typo or a half-done setup never silently opens a server to anyone.
 */
function developmentApp(environment: NodeJS.ProcessEnv, sources: readonly string[], production: string | undefined): DevelopmentApp {
  if (production) return { allowed: false, reason: `${production}=production` };
  if (sources.length > 0) return { allowed: false, reason: `the configuration is read from ${sources.join(', ')}` };
  const variables = Object.keys(environment).filter((name) => name.startsWith('REVERB_APP_') && environment[name]);
  if (variables.length > 0) return { allowed: false, reason: `${variables.join(', ')} ${variables.length === 1 ? 'is' : 'are'} set` };
  return { allowed: true };
}
