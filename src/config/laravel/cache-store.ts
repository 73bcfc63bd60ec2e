/**
 * Where `php artisan reverb:restart` writes its signal: the project's default
 * Laravel cache store, resolved the way Laravel's CacheManager does from
 * config('cache') and config('database'). Those come from PHP when it could
 * read the project (project.ts); otherwise from the environment through the
 * defaults of Laravel's own config/cache.php and config/database.php, whose
 * skeleton version (≤ 10: CACHE_DRIVER, `_cache_`; 11+: CACHE_STORE,
 * `database`, and later `-cache-`) is told by the project's files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { env as envOr, type Env } from '../env.js';
import type { RedisServerConfig } from '../types.js';
import { resolveDatabaseConnection, type SqlConnectionConfig } from './database-connection.js';
import { resolveRedisConnection } from './redis-connection.js';

/** The connection settings are those of scaling's Redis server. */
export interface RedisStoreConfig extends Omit<RedisServerConfig, 'timeout'> {
  readonly driver: 'redis';
  /** The whole key: Redis's option prefix, the cache prefix and ':' (RedisStore::setPrefix). */
  readonly key: string;
}

/** The connection settings are those of the project's database connection. */
export interface DatabaseStoreConfig extends Omit<SqlConnectionConfig, 'prefix'> {
  readonly table: string;
  /** The `key` column's value: the cache prefix, then the key. */
  readonly key: string;
}

/** SQLite is read through PHP's PDO: a project on SQLite has it, and Node 20 has no SQLite of its own. */
export interface SqliteStoreConfig {
  readonly driver: 'sqlite';
  readonly php: string;
  readonly file: string;
  readonly table: string;
  readonly key: string;
}

export type CacheStoreConfig =
  | { readonly driver: 'file'; readonly directory: string; readonly key: string }
  | RedisStoreConfig
  | DatabaseStoreConfig
  | SqliteStoreConfig
  /** A store reverb-ts cannot read (memcached, dynamodb, array, …): named in a warning. */
  | { readonly driver: 'unsupported'; readonly store: string; readonly reason: string };

/** The key Reverb's RestartServer command writes with Cache::forever. */
export const RESTART_KEY = 'laravel:reverb:restart';

type Section = Record<string, unknown>;

function section(value: unknown): Section {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Section) : {};
}

function text(value: unknown, fallback = ''): string {
  return value === null || value === undefined || value === '' ? fallback : String(value);
}

/** Laravel's Str::slug for ASCII-ish names such as APP_NAME. */
export function slug(title: string, separator: string): string {
  const flip = separator === '-' ? '_' : '-';
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replaceAll(flip, separator)
    .replaceAll('@', `${separator}at${separator}`)
    .toLowerCase()
    .replace(new RegExp(`[^${separator === '-' ? '\\-' : '_'}\\p{L}\\p{N}\\s]+`, 'gu'), '')
    .replace(new RegExp(`[${separator === '-' ? '\\-' : '_'}\\s]+`, 'gu'), separator)
    .replace(new RegExp(`^${separator}+|${separator}+$`, 'g'), '');
}

function fileText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The cache and redis parts of Laravel's default config files, as functions of the environment. */
export function laravelDefaults(vars: Env, projectDir: string): { cache: Section; database: Section } {
  const cacheFile = fileText(join(projectDir, 'config/cache.php'));
  const databaseFile = fileText(join(projectDir, 'config/database.php'));
  const legacy = cacheFile.includes('CACHE_DRIVER');
  const appName = text(envOr(vars, 'APP_NAME', 'laravel'));
  const cachePrefix = cacheFile.includes("'-cache-'") ? `${slug(appName, '-')}-cache-` : `${slug(appName, '_')}_cache_`;
  const redisPrefix = databaseFile.includes("'-database-'") ? `${slug(appName, '-')}-database-` : `${slug(appName, '_')}_database_`;
  const redisConnection = (database: string) => ({
    url: envOr(vars, 'REDIS_URL', null),
    host: envOr(vars, 'REDIS_HOST', '127.0.0.1'),
    username: envOr(vars, 'REDIS_USERNAME', null),
    password: envOr(vars, 'REDIS_PASSWORD', null),
    port: envOr(vars, 'REDIS_PORT', '6379'),
    database,
  });
  const sqlConnection = (driver: string, port: string) => ({
    driver,
    url: envOr(vars, 'DB_URL', envOr(vars, 'DATABASE_URL', null)),
    host: envOr(vars, 'DB_HOST', '127.0.0.1'),
    port: envOr(vars, 'DB_PORT', port),
    database: envOr(vars, 'DB_DATABASE', driver === 'sqlite' ? join(projectDir, 'database/database.sqlite') : 'laravel'),
    username: envOr(vars, 'DB_USERNAME', 'root'),
    password: envOr(vars, 'DB_PASSWORD', ''),
    prefix: '',
  });
  return {
    cache: {
      default: legacy ? envOr(vars, 'CACHE_DRIVER', 'file') : envOr(vars, 'CACHE_STORE', envOr(vars, 'CACHE_DRIVER', 'database')),
      stores: {
        file: { driver: 'file', path: join(projectDir, 'storage/framework/cache/data') },
        database: { driver: 'database', table: envOr(vars, 'DB_CACHE_TABLE', 'cache'), connection: envOr(vars, 'DB_CACHE_CONNECTION', null) },
        redis: { driver: 'redis', connection: envOr(vars, 'REDIS_CACHE_CONNECTION', 'cache') },
        memcached: { driver: 'memcached' },
        array: { driver: 'array' },
        dynamodb: { driver: 'dynamodb' },
      },
      prefix: envOr(vars, 'CACHE_PREFIX', cachePrefix),
    },
    database: {
      default: envOr(vars, 'DB_CONNECTION', legacy ? 'mysql' : 'sqlite'),
      connections: {
        sqlite: sqlConnection('sqlite', ''),
        mysql: sqlConnection('mysql', '3306'),
        mariadb: sqlConnection('mariadb', '3306'),
        pgsql: sqlConnection('pgsql', '5432'),
      },
      redis: {
        options: { prefix: envOr(vars, 'REDIS_PREFIX', redisPrefix) },
        default: redisConnection(text(envOr(vars, 'REDIS_DB', '0'), '0')),
        cache: redisConnection(text(envOr(vars, 'REDIS_CACHE_DB', '1'), '1')),
      },
    },
  };
}

/**
 * The default store of `cache` (config('cache')), with `database`
 * (config('database')) for its connection; `php` reads SQLite (null: none).
 */
export function resolveCacheStore(cacheSection: unknown, databaseSection: unknown, php: string | null): CacheStoreConfig {
  const cache = section(cacheSection);
  const database = section(databaseSection);
  const name = text(cache.default, 'file');
  const store = section(section(cache.stores)[name]);
  const driver = text(store.driver, name);
  const prefix = text(store.prefix ?? cache.prefix);

  if (driver === 'file') {
    return { driver, directory: text(store.path), key: RESTART_KEY };
  }
  if (driver === 'redis') {
    const { prefix: optionPrefix, ...connection } = resolveRedisConnection(database, text(store.connection) || null);
    return { driver, ...connection, key: `${optionPrefix}${prefix ? `${prefix}:` : ''}${RESTART_KEY}` };
  }
  if (driver === 'database') {
    const connection = resolveDatabaseConnection(database, text(store.connection) || null);
    if (connection.driver === 'unsupported') return { driver: 'unsupported', store: name, reason: `its ${connection.reason}` };
    const { prefix: tablePrefix, ...settings } = connection;
    const table = `${tablePrefix}${text(store.table, 'cache')}`;
    const key = `${prefix}${RESTART_KEY}`;
    if (settings.driver === 'sqlite') {
      if (!php) return { driver: 'unsupported', store: name, reason: 'its SQLite database is read through php, which is not available' };
      return { driver: 'sqlite', php, file: settings.file, table, key };
    }
    return { ...settings, table, key };
  }
  return { driver: 'unsupported', store: name, reason: `reverb-ts reads the file, redis and database cache stores, not ${driver}` };
}
