/**
 * `php artisan reverb:restart` against a running reverb-ts: the test writes
 * Reverb's restart key into the project's cache store exactly as Laravel's
 * store does (PHP serializes; file path, Redis key and table row by Laravel's
 * rules), and the server must restart gracefully: 4200 to a client, exit 0.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { startRedis } from '../helpers/redis.js';
import { freePort, startServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const RESTART_KEY = 'laravel:reverb:restart';
const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** PHP's serialize() of the value RestartServer stores: the current Unix time. */
function serializedTime(): string {
  return execFileSync('php', ['-r', 'echo serialize(time());'], { encoding: 'utf8' });
}

/** A Laravel-shaped project whose .env picks the cache store; the server checks every 0.2 s. */
function laravelProject(env: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-artisan-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'artisan'), '#!/usr/bin/env php\n');
  const lines = { REVERB_APP_ID: '1001', REVERB_APP_KEY: 'laravel-key', REVERB_APP_SECRET: 'laravel-secret', ...env };
  writeFileSync(join(dir, '.env'), Object.entries(lines).map(([key, value]) => `${key}=${value}`).join('\n') + '\n');
  return dir;
}

/** Starts the server in `dir`, connects a client, runs `signal`, and expects the graceful restart. */
async function expectRestart(dir: string, signal: () => Promise<void>, storeLine: RegExp): Promise<void> {
  const server = await startServer({
    dir,
    noConfigFile: true,
    env: { REVERB_SERVER_HOST: '127.0.0.1', REVERB_SERVER_PORT: String(await freePort()), REVERB_RESTART_CHECK_INTERVAL: '0.2' },
  });
  const client = await RawClient.connect(`${server.wsUrl}/app/laravel-key`);
  try {
    assert.match(server.output(), storeLine);
    await signal();
    const error = await client.nextEvent('pusher:error', 5000);
    assert.equal(JSON.parse(error.data as string).code, 4200);
    assert.equal((await client.waitForClose()).code, 4200);
    assert.equal(await server.stop(), 0);
    assert.match(server.output(), /Restart signalled through the Laravel cache \(php artisan reverb:restart\): gracefully terminating connections\./);
  } finally {
    client.close();
    await server.stop('SIGKILL');
  }
}

describe('php artisan reverb:restart', () => {
  it('restarts the server through the file cache store', async () => {
    const dir = laravelProject({ CACHE_STORE: 'file' });
    // FileStore::path() and FileStore::put() with Cache::forever's expiry, in PHP.
    const write = String.raw`$h = sha1($argv[2]); $p = $argv[1].'/storage/framework/cache/data/'.implode('/', array_slice(str_split($h, 2), 0, 2)).'/'.$h; @mkdir(dirname($p), 0777, true); file_put_contents($p, '9999999999'.serialize(time()));`;
    await expectRestart(dir, async () => void execFileSync('php', ['-r', write, '--', dir, RESTART_KEY]), /Watching for `php artisan reverb:restart` every 0\.2 s \(file cache /);
  });

  it('restarts the server through the redis cache store (Laravel’s prefixes, REDIS_CACHE_DB)', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const dir = laravelProject({ CACHE_STORE: 'redis', APP_NAME: '"My Shop"', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), REDIS_CACHE_DB: '3' });
    const client = new Redis({ port: redis.port, db: 3, lazyConnect: true });
    cleanups.push(async () => client.disconnect());
    await client.connect();
    // REDIS_PREFIX default (slug + _database_), then CACHE_PREFIX default (slug + _cache_) and RedisStore's ':'; numbers are stored unserialized.
    const key = `my_shop_database_my_shop_cache_:${RESTART_KEY}`;
    await client.set(key, execFileSync('php', ['-r', 'echo time() - 100;'], { encoding: 'utf8' }));
    await expectRestart(dir, async () => void (await client.set(key, execFileSync('php', ['-r', 'echo time();'], { encoding: 'utf8' }))), /redis cache 127\.0\.0\.1:\d+ db 3/);
  });

  for (const engine of ['mysql', 'pgsql'] as const) {
    it(`restarts the server through the database cache store (${engine === 'mysql' ? 'MariaDB' : 'PostgreSQL'})`, async () => {
      const database = `reverb_restart_${randomBytes(4).toString('hex')}`;
      const run = engine === 'mysql' ? await mysqlDatabase(database) : await pgDatabase(database);
      // Laravel's cache table migration, then DatabaseStore::forever's row: prefix + key, serialized value, 10 years ahead.
      await run('CREATE TABLE cache (key_column VARCHAR(255) PRIMARY KEY, value TEXT NOT NULL, expiration INTEGER NOT NULL)'.replace('key_column', engine === 'mysql' ? '`key`' : '"key"'));
      const dir = laravelProject({
        CACHE_STORE: 'database', DB_CONNECTION: engine, DB_HOST: '127.0.0.1', DB_PORT: engine === 'mysql' ? '3306' : '5432',
        DB_DATABASE: database, DB_USERNAME: engine === 'mysql' ? 'root' : 'postgres', DB_PASSWORD: '', CACHE_PREFIX: 'app_cache_',
      });
      const insert = engine === 'mysql' ? 'INSERT INTO cache (`key`, value, expiration) VALUES (?, ?, ?)' : 'INSERT INTO cache ("key", value, expiration) VALUES ($1, $2, $3)';
      await expectRestart(
        dir,
        () => run(insert, [`app_cache_${RESTART_KEY}`, serializedTime(), Math.floor(Date.now() / 1000) + 315_360_000]),
        new RegExp(`database cache \\(${engine}\\) table cache`),
      );
    });
  }

  const hasPdoSqlite = execFileSync('php', ['-r', 'echo extension_loaded("pdo_sqlite") ? 1 : 0;'], { encoding: 'utf8' }) === '1';
  it('restarts the server through the database cache store (SQLite, Laravel 11’s default, read through PHP)', hasPdoSqlite ? {} : { skip: 'PHP has no pdo_sqlite (apt-get install php-sqlite3)' }, async () => {
    const dir = laravelProject({ CACHE_STORE: 'database', DB_CONNECTION: 'sqlite', APP_NAME: 'Laravel' });
    // Laravel 11's defaults: database/database.sqlite, the cache table, prefix "laravel_cache_".
    const sqlite = String.raw`$db = new PDO('sqlite:'.$argv[1]); $db->exec('CREATE TABLE IF NOT EXISTS cache ("key" varchar primary key, "value" text not null, "expiration" integer not null)'); if (isset($argv[2])) $db->prepare('INSERT INTO cache VALUES (?, ?, ?)')->execute([$argv[2], serialize(time()), time() + 315360000]);`;
    const file = join(dir, 'database/database.sqlite');
    mkdirSync(join(dir, 'database'));
    execFileSync('php', ['-r', sqlite, '--', file]);
    await expectRestart(dir, async () => void execFileSync('php', ['-r', sqlite, '--', file, `laravel_cache_${RESTART_KEY}`]), /database cache \(sqlite /);
  });
});

type Run = (sql: string, values?: unknown[]) => Promise<void>;

async function mysqlDatabase(name: string): Promise<Run> {
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.changeUser({ database: name });
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  });
  return async (sql, values) => void (await admin.query(sql, values));
}

async function pgDatabase(name: string): Promise<Run> {
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: name });
  await client.connect();
  cleanups.push(async () => {
    await client.end();
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  });
  return async (sql, values) => void (await client.query(sql, values));
}
