/** ioredis connections built from Reverb's scaling.server settings (REDIS_URL or host/port/...; rediss:// for TLS). */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisServerConfig } from '../config/types.js';

/** The longest pause between reconnection attempts: a live server is back within this of Redis. */
export const RECONNECT_MAX_MS = 5000;

export function redisOptions(server: RedisServerConfig): { url: string | undefined; options: RedisOptions } {
  const options: RedisOptions = {
    lazyConnect: true,
    // While Redis is away commands fail at once instead of queueing without bound.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // The backstop for every command; answers that someone waits for have a shorter deadline (redis-link.ts).
    commandTimeout: 5000,
    connectTimeout: 5000,
    autoResubscribe: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), RECONNECT_MAX_MS),
  };
  if (server.url) return { url: server.url, options };
  return {
    url: undefined,
    options: {
      ...options,
      host: server.host,
      port: server.port,
      username: server.username ?? undefined,
      password: server.password ?? undefined,
      db: server.database,
    },
  };
}

export function createRedis(server: RedisServerConfig, name: string): Redis {
  const { url, options } = redisOptions(server);
  const named = { ...options, connectionName: name };
  return url ? new Redis(url, named) : new Redis(named);
}

/** A short-lived connection for one piece of work (a command line's publish), closed afterwards. */
export async function withRedis<T>(server: RedisServerConfig, name: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = createRedis(server, name);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
