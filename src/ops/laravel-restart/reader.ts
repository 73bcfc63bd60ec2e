/**
 * Reads the raw value of Reverb's restart key from the project's Laravel
 * cache store, whichever it is. The raw (serialized) value is enough: Reverb
 * restarts when Cache::get gives something else than at boot, and equal
 * values serialize equally.
 */
import type { CacheStoreConfig } from '../../config/laravel/cache-store.js';
import { openDatabaseStore } from './database-store.js';
import { readFileStore } from './file-store.js';
import { openRedisStore } from './redis-store.js';
import { openSqliteStore } from './sqlite-store.js';

export interface CacheReader {
  /** The stored value, or null when the key is missing or expired. */
  read(): Promise<string | null>;
  close(): void | Promise<void>;
}

export type ReadableStore = Exclude<CacheStoreConfig, { driver: 'unsupported' }>;

export async function openCacheReader(store: ReadableStore): Promise<CacheReader> {
  switch (store.driver) {
    case 'file':
      return { read: () => readFileStore(store.directory, store.key), close: () => undefined };
    case 'redis':
      return openRedisStore(store);
    case 'sqlite':
      return openSqliteStore(store);
    default:
      return openDatabaseStore(store);
  }
}

/** How the store is named in the start-up line. */
export function describeStore(store: ReadableStore): string {
  switch (store.driver) {
    case 'file':
      return `file cache ${store.directory}`;
    case 'redis':
      return `redis cache ${store.url ? new URL(store.url).host : `${store.host}:${store.port}`} db ${store.database}`;
    case 'sqlite':
      return `database cache (sqlite ${store.file}) table ${store.table}`;
    default:
      return `database cache (${store.driver}) table ${store.table}`;
  }
}
