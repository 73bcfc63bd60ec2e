/**
 * The database app provider's table and its admin commands, on real MariaDB
 * and PostgreSQL, each test in a database of its own made from the
 * documented SQL (docs/sql): `reverb apps:*` run as processes with a Laravel
 * .env, the table checked after each; secrets printed once and never listed;
 * every setting read back by the store as the schema reads it; a dropped
 * connection replaced, an unreachable database refused within seconds.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { rowToRawApp } from '../../src/apps/database/columns.js';
import { openAppStore } from '../../src/apps/database/open-store.js';
import { parseApp } from '../../src/config/schema.js';
import { APPS_ENGINES, SQL_DIR, type AppsDatabase } from '../helpers/apps-database.js';
import { runCli, runCommand, type CliResult } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { freePort } from '../helpers/server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A database of the test's own with the documented apps table, dropped after the test. */
function opener(create: () => Promise<AppsDatabase>): () => Promise<AppsDatabase> {
  return async () => {
    const database = await create();
    cleanups.push(() => database.drop());
    return database;
  };
}

const ENGINES = APPS_ENGINES.map(([engine, create]) => [engine, opener(create)] as const);
const mariadb = ENGINES[0][1];

/** A folder with the Laravel .env, the database provider on. */
function project(env: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-apps-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const lines = Object.entries({ ...env, REVERB_APP_PROVIDER: 'database' }).map(([name, value]) => `${name}=${value}`);
  writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`);
  return dir;
}

/** Runs `reverb apps:…` in `dir`; fails the test on an unexpected exit code. */
async function reverb(dir: string, args: string[], code = 0): Promise<CliResult> {
  const result = await runCli(args, { cwd: dir });
  assert.equal(result.code, code, `reverb ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  return result;
}

const count = (text: string, part: string) => text.split(part).length - 1;
const truthy = (value: unknown) => value === true || value === 1;

/** A value for every setting column, as given on the command line, none of them the default. */
const SETTINGS: Record<string, string> = {
  enabled: 'false',
  allowed_origins: 'app.example.com, *.example.org',
  ping_interval: '12.5',
  activity_timeout: '40',
  pong_timeout: '7.5',
  max_message_size: '20000',
  max_connections: '50',
  accept_client_events_from: 'all',
  rate_limiting_enabled: 'true',
  rate_limiting_max_attempts: '5',
  rate_limiting_decay_seconds: '2.5',
  rate_limiting_terminate_on_limit: '1',
  cache_ttl: '90',
  max_channels_per_connection: '7',
  max_presence_members_per_channel: '8',
  max_presence_user_info_size: '512',
  max_messages_per_second: '9',
  max_backend_events_per_second: '10',
  max_read_requests_per_second: '11',
  max_channel_name_length: '100',
  max_event_name_length: '50',
  max_event_payload_size: '4096',
  max_channels_per_event: '3',
  max_batch_size: '4',
  subscription_count_events: 'true',
  authorized_connections_timeout: '30',
  watchlist_events: 'true',
  webhooks: '[{"url": "https://example.com/hooks", "event_types": ["channel_occupied"], "filter": {"channel_name_ends_with": "-x"}, "headers": {"X-A": "b"}}]',
  webhook_batching_enabled: 'true',
  webhook_batching_window_ms: '250',
  webhook_batching_max_events: '20',
};

describe('reverb apps:* (database app provider)', () => {
  for (const [engine, open] of ENGINES) {
    it(`creates, lists, updates, rotates, disables, enables and deletes apps (${engine})`, async () => {
      const database = await open();
      const dir = project(database.env());

      // Generated credentials: Reverb's installer's shapes, printed once.
      const created = await reverb(dir, ['apps:create', '--allowed-origins', 'a.example.com,b.example.com']);
      const [row] = await database.rows();
      assert.ok(row);
      assert.match(String(row.id), /^\d{6}$/);
      assert.match(String(row.key), /^[a-z0-9]{20}$/);
      assert.match(String(row.secret), /^[a-z0-9]{20}$/);
      assert.ok(truthy(row.enabled));
      assert.equal(row.allowed_origins, '["a.example.com","b.example.com"]');
      assert.ok(row.created_at instanceof Date && row.updated_at instanceof Date);
      assert.ok(Math.abs(row.created_at.getTime() - Date.now()) < 60_000, `created_at ${row.created_at.toISOString()} is not now (UTC)`);
      assert.equal(count(created.stdout, String(row.secret)), 1);
      assert.match(created.stdout, new RegExp(`app_id +${row.id}\\n +key +${row.key}\\n +secret +${row.secret}`));
      assert.equal(created.stderr, '');

      // Chosen credentials, JSON output.
      const json = await reverb(dir, ['apps:create', '--id', 'tenant-1', '--key', 'tenant-key', '--max-connections', '5', '--json']);
      const credentials = JSON.parse(json.stdout) as { app_id: string; key: string; secret: string };
      assert.deepEqual({ ...credentials, secret: '' }, { app_id: 'tenant-1', key: 'tenant-key', secret: '' });
      assert.equal(count(json.stdout, credentials.secret), 1);
      assert.match(json.stderr, /see the change within 60 s/);
      const duplicate = await reverb(dir, ['apps:create', '--id', 'tenant-1'], 1);
      assert.match(duplicate.stderr, /An app with id "tenant-1" already exists/);
      await reverb(dir, ['apps:create', '--key', 'tenant-key'], 1);

      // The list never shows a secret.
      const list = await reverb(dir, ['apps:list']);
      const listJson = await reverb(dir, ['apps:list', '--json']);
      for (const output of [list.stdout, listJson.stdout]) {
        for (const secret of [String(row.secret), credentials.secret]) assert.ok(!output.includes(secret), 'apps:list shows a secret');
      }
      assert.match(list.stdout, /^ID +KEY +ENABLED/);
      assert.match(list.stdout, /tenant-1 +tenant-key +true +\["\*"\] +5 /);
      const listed = JSON.parse(listJson.stdout) as Record<string, unknown>[];
      assert.deepEqual(listed.map((app) => app.id).sort(), [String(row.id), 'tenant-1'].sort());
      assert.ok(listed.every((app) => !('secret' in app) && app.enabled === true));

      // Updates go through the schema: a bad value changes nothing.
      const bad = await reverb(dir, ['apps:update', 'tenant-1', '--set', 'rate_limiting_max_attempts=many'], 1);
      assert.match(bad.stderr, /Invalid app: reverb_apps\.rate_limiting_max_attempts = "many" \(expected an integer >= 1\)/);
      const badJson = await reverb(dir, ['apps:update', 'tenant-1', '--webhooks', '[{"url": '], 1);
      assert.match(badJson.stderr, /reverb_apps\.webhooks = "not valid JSON/);
      const unknown = await reverb(dir, ['apps:update', 'tenant-1', '--set', 'colour=blue'], 1);
      assert.match(unknown.stderr, /Invalid --set "colour=blue": expected column=value with a column among enabled, allowed_origins/);
      await reverb(dir, ['apps:update', 'nobody', '--max-connections', '3'], 1);
      const updated = await reverb(dir, ['apps:update', 'tenant-1', '--set', 'rate_limiting_enabled=true', '--set', 'max_connections=', '--key', 'tenant-key-2']);
      assert.match(updated.stdout, /App tenant-1 updated: rate_limiting_enabled, max_connections, key\./);
      let tenant = (await database.rows()).find((entry) => entry.id === 'tenant-1')!;
      assert.ok(truthy(tenant.rate_limiting_enabled));
      assert.equal(tenant.max_connections, null);
      assert.equal(tenant.key, 'tenant-key-2');
      assert.equal(tenant.secret, credentials.secret);

      // A new secret, printed once.
      const rotated = await reverb(dir, ['apps:rotate-secret', 'tenant-1']);
      tenant = (await database.rows()).find((entry) => entry.id === 'tenant-1')!;
      assert.notEqual(tenant.secret, credentials.secret);
      assert.match(String(tenant.secret), /^[a-z0-9]{20}$/);
      assert.equal(count(rotated.stdout, String(tenant.secret)), 1);
      assert.ok(!rotated.stdout.includes(credentials.secret));

      await reverb(dir, ['apps:disable', 'tenant-1']);
      assert.ok(!truthy((await database.rows()).find((entry) => entry.id === 'tenant-1')!.enabled));
      assert.match((await reverb(dir, ['apps:list'])).stdout, /tenant-1 +tenant-key-2 +false/);
      await reverb(dir, ['apps:enable', 'tenant-1']);
      assert.ok(truthy((await database.rows()).find((entry) => entry.id === 'tenant-1')!.enabled));

      await reverb(dir, ['apps:delete', 'tenant-1']);
      assert.deepEqual((await database.rows()).map((entry) => entry.id), [row.id]);
      assert.match((await reverb(dir, ['apps:delete', 'tenant-1'], 1)).stderr, /No app with id "tenant-1"/);
    });

    it(`stores every setting so that the store reads back the same app (${engine})`, async () => {
      const database = await open();
      const dir = project(database.env());
      const sets = Object.entries(SETTINGS).flatMap(([name, value]) => ['--set', `${name}=${value}`]);
      await reverb(dir, ['apps:create', '--id', 'full', '--key', 'Full-Key', '--secret', 'full-secret', ...sets]);
      await reverb(dir, ['apps:create', '--id', 'plain', '--key', 'plain-key']);

      const store = await openAppStore(database.connection, 'reverb_apps');
      cleanups.push(() => store.close());
      const expected = parseApp(rowToRawApp({ id: 'full', key: 'Full-Key', secret: 'full-secret', ...SETTINGS }), 'expected');
      const [byKey] = await store.findByKeys(['Full-Key']);
      assert.deepEqual(parseApp(byKey, 'reverb_apps'), expected);
      const [byId] = await store.findByIds(['full']);
      assert.deepEqual(parseApp(byId, 'reverb_apps'), expected);
      // Keys are matched exactly, whatever the column's collation.
      assert.deepEqual(await store.findByKeys(['full-key']), []);

      // NULL settings: the defaults.
      const [plain] = await store.findByIds(['plain']);
      assert.deepEqual(plain, { app_id: 'plain', key: 'plain-key', secret: (await store.row('plain'))!.secret, enabled: true });

      // More values than one query takes (500), most of them unknown.
      const keys = [...Array.from({ length: 1200 }, (_, index) => `unknown-${index}`), 'plain-key', 'Full-Key'];
      assert.deepEqual((await store.findByKeys(keys)).map((app) => app.key).sort(), ['Full-Key', 'plain-key']);
      assert.deepEqual((await store.all()).map((app) => app.app_id), ['full', 'plain']);
    });

    it(`replaces a dropped connection and bounds an unreachable database (${engine})`, async () => {
      const database = await open();
      const dir = project(database.env());
      await reverb(dir, ['apps:create', '--id', 'a', '--key', 'a-key']);
      const store = await openAppStore(database.connection, 'reverb_apps');
      cleanups.push(() => store.close());
      assert.equal((await store.findByKeys(['a-key'])).length, 1);
      // A database restart, as the pool sees it: the lookups right after it connect again and answer.
      for (let round = 0; round < 5; round++) {
        await database.dropConnections();
        assert.equal((await store.findByKeys(['a-key'])).length, 1);
      }

      // A server that accepts connections and never answers.
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolveListen) => silent.listen(0, '127.0.0.1', resolveListen));
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolveClose) => silent.close(resolveClose));
      });
      const unreachable = await openAppStore({ ...database.connection, port: (silent.address() as AddressInfo).port }, 'reverb_apps');
      cleanups.push(() => unreachable.close());
      const started = Date.now();
      await assert.rejects(unreachable.findByKeys(['a-key']));
      const took = Date.now() - started;
      assert.ok(took < 3500, `the lookup took ${took} ms`);

      // The CLI says so too, in the same time.
      const env = { ...database.env(), DB_PORT: String((silent.address() as AddressInfo).port) };
      const failed = await reverb(project(env), ['apps:list'], 1);
      assert.match(failed.stderr, /Cannot use the apps table reverb_apps: /);
    });
  }

  it('tells every server of each change over Redis when scaling is on, and saves the change when Redis is away', async () => {
    const database = await mariadb();
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const subscriber = new Redis({ port: redis.port, lazyConnect: true });
    cleanups.push(async () => subscriber.disconnect());
    await subscriber.connect();
    const messages: unknown[] = [];
    subscriber.on('message', (_topic: string, message: string) => messages.push(JSON.parse(message)));
    await subscriber.subscribe('tenants:control');
    const scaling = { REVERB_SCALING_ENABLED: 'true', REVERB_SCALING_CHANNEL: 'tenants', REDIS_HOST: '127.0.0.1' };
    const dir = project({ ...database.env(), ...scaling, REDIS_PORT: String(redis.port) });

    const created = await reverb(dir, ['apps:create', '--id', 'c1']);
    assert.match(created.stdout, /Told 1 server over Redis \(channel "tenants"\)\./);
    await reverb(dir, ['apps:update', 'c1', '--max-connections', '2']);
    await reverb(dir, ['apps:rotate-secret', 'c1', '--json']);
    await reverb(dir, ['apps:disable', 'c1']);
    await reverb(dir, ['apps:delete', 'c1']);
    assert.deepEqual(messages, Array.from({ length: 5 }, () => ({ type: 'app', id: 'c1' })));

    const away = project({ ...database.env(), ...scaling, REDIS_PORT: String(await freePort()) });
    const saved = await reverb(away, ['apps:create', '--id', 'c2']);
    assert.match(saved.stderr, /The change is saved, but Redis cannot be reached \(.+\): running servers see it within 60 s/);
    assert.deepEqual((await database.rows()).map((row) => row.id), ['c2']);
  });

  it('refuses to run under the config provider, saying how to switch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reverb-apps-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const result = await runCli(['apps:list'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /uses the config provider \(apps\.provider = "config"\)\. Set REVERB_APP_PROVIDER=database/);
  });

  const hasPhp = spawnSync('php', ['-v']).status === 0;
  it('documents a Laravel migration PHP accepts', hasPhp ? {} : { skip: 'php is not installed' }, async () => {
    const result = await runCommand('php', ['-l', join(SQL_DIR, 'create_reverb_apps_table.php')], { cwd: SQL_DIR });
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });
});
