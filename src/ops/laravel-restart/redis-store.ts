/** Laravel's redis cache store: one GET of the whole key (RedisStore::get); numbers are stored as they are. */
import { createRedis } from '../../cluster/redis-connection.js';
import type { RedisStoreConfig } from '../../config/laravel/cache-store.js';
import type { CacheReader } from './reader.js';

export async function openRedisStore(store: RedisStoreConfig): Promise<CacheReader> {
  const redis = createRedis(
    { url: store.url, host: store.host, port: store.port, username: store.username, password: store.password, database: store.database, timeout: 60 },
    'reverb-ts:restart-signal',
  );
  await redis.connect();
  return {
    read: () => redis.get(store.key),
    close: () => redis.disconnect(),
  };
}
