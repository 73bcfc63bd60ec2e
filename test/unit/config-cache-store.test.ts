import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { laravelDefaults, resolveCacheStore, slug } from '../../src/config/laravel/cache-store.js';
import { fileStorePath } from '../../src/ops/laravel-restart/file-store.js';

const dirs: string[] = [];
function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-cache-store-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function storeFor(env: Record<string, string>, files: Record<string, string> = {}) {
  const dir = project(files);
  const { cache, database } = laravelDefaults(env, dir);
  return { dir, store: resolveCacheStore(cache, database, 'php') };
}

describe('the Laravel cache store of `php artisan reverb:restart`', () => {
  it('slugs APP_NAME as Str::slug does', () => {
    assert.equal(slug('My Shop', '_'), 'my_shop');
    assert.equal(slug('Café-Bar @ Home', '_'), 'cafe_bar_at_home');
    assert.equal(slug('My_Shop', '-'), 'my-shop');
  });

  it('follows Laravel 11+: CACHE_STORE, database on sqlite by default, `_cache_` prefix', () => {
    const { dir, store } = storeFor({});
    assert.deepEqual(store, { driver: 'sqlite', php: 'php', file: join(dir, 'database/database.sqlite'), table: 'cache', key: 'laravel_cache_laravel:reverb:restart' });
  });

  it('follows Laravel ≤ 10 when config/cache.php reads CACHE_DRIVER: the file store', () => {
    const { dir, store } = storeFor({}, { 'config/cache.php': "<?php return ['default' => env('CACHE_DRIVER', 'file')];" });
    assert.deepEqual(store, { driver: 'file', directory: join(dir, 'storage/framework/cache/data'), key: 'laravel:reverb:restart' });
  });

  it('uses the `-cache-` and `-database-` prefixes where the project’s config files do', () => {
    const files = {
      'config/cache.php': "'prefix' => env('CACHE_PREFIX', Str::slug((string) env('APP_NAME', 'laravel')).'-cache-'),",
      'config/database.php': "'prefix' => env('REDIS_PREFIX', Str::slug((string) env('APP_NAME', 'laravel')).'-database-'),",
    };
    const { store } = storeFor({ CACHE_STORE: 'redis', APP_NAME: 'My Shop' }, files);
    assert.equal(store.driver, 'redis');
    assert.equal(store.driver === 'redis' && store.key, 'my-shop-database-my-shop-cache-:laravel:reverb:restart');
    assert.equal(store.driver === 'redis' && store.database, 1);
  });

  it('honours CACHE_PREFIX, REDIS_PREFIX, REDIS_CACHE_CONNECTION and DB_CACHE_TABLE', () => {
    assert.equal(
      (storeFor({ CACHE_STORE: 'redis', CACHE_PREFIX: 'c', REDIS_PREFIX: '', REDIS_CACHE_CONNECTION: 'default', REDIS_DB: '4' }).store as { key: string; database: number }).key,
      'c:laravel:reverb:restart',
    );
    const { store } = storeFor({ CACHE_STORE: 'database', DB_CONNECTION: 'pgsql', DB_CACHE_TABLE: 'app_cache', CACHE_PREFIX: '' });
    assert.deepEqual(store.driver === 'pgsql' && [store.table, store.key, store.port], ['app_cache', 'laravel:reverb:restart', 5432]);
  });

  it('reads what PHP gave when it could (config(\'cache\'), config(\'database\'))', () => {
    const store = resolveCacheStore(
      { default: 'sessions', stores: { sessions: { driver: 'database', connection: 'main', table: 'kv' } }, prefix: 'p_' },
      { connections: { main: { driver: 'mariadb', host: 'db', port: 3307, database: 'app', username: 'u', password: 'pw', prefix: 'x_' } } },
      null,
    );
    assert.deepEqual(store, { driver: 'mysql', url: null, host: 'db', port: 3307, database: 'app', username: 'u', password: 'pw', table: 'x_kv', key: 'p_laravel:reverb:restart' });
  });

  it('names the stores it cannot read', () => {
    assert.deepEqual(storeFor({ CACHE_STORE: 'memcached' }).store, { driver: 'unsupported', store: 'memcached', reason: 'reverb-ts reads the file, redis and database cache stores, not memcached' });
  });

  it('finds the file store entry where FileStore::path() puts it', () => {
    // sha1('laravel:reverb:restart') as PHP computes it, split into two folder levels as Laravel does.
    assert.equal(fileStorePath('/data', 'laravel:reverb:restart'), '/data/4f/e4/4fe44729b03e0a0a2586ebe0d445f50c083d0ff3');
  });
});
