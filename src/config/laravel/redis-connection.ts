/**
 * One of a Laravel project's Redis connections (config('database.redis')),
 * as Laravel's RedisManager resolves it, with the key prefix Laravel puts
 * before every key (`options.prefix` of the connection, else of all
 * connections: REDIS_PREFIX, by default Str::slug(APP_NAME, '_').'_database_').
 */
import type { RedisServerConfig } from '../types.js';

export interface RedisConnectionConfig extends Omit<RedisServerConfig, 'timeout'> {
  /** Laravel's key prefix (database.redis.options.prefix). */
  readonly prefix: string;
}

type Section = Record<string, unknown>;

function section(value: unknown): Section {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Section) : {};
}

function text(value: unknown, fallback = ''): string {
  return value === null || value === undefined || value === '' ? fallback : String(value);
}

/** The connection `name` (null or '': `default`) of config('database') (`databaseSection`). */
export function resolveRedisConnection(databaseSection: unknown, name: string | null): RedisConnectionConfig {
  const redis = section(section(databaseSection).redis);
  const connection = section(redis[text(name, 'default')]);
  return {
    url: text(connection.url) || null,
    host: text(connection.host, '127.0.0.1'),
    port: Number(text(connection.port, '6379')),
    username: text(connection.username) || null,
    password: text(connection.password) || null,
    database: Number(text(connection.database, '0')),
    prefix: text(section(connection.options).prefix ?? section(redis.options).prefix),
  };
}
