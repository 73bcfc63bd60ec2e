/**
 * The apps table's columns: a row becomes Reverb's app shape, which the
 * configuration's schema turns into an AppConfig — every column lands in its
 * setting, NULL means the default, a bad value fails with the schema's
 * message, and the documented SQL and migration have every column.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { COLUMNS, TIMESTAMP_COLUMNS, rowToRawApp, toColumnValue, columnNamed } from '../../src/apps/database/columns.js';
import { parseApp } from '../../src/config/schema.js';

const WEBHOOKS = [
  { url: 'https://example.com/hooks', event_types: ['channel_occupied'], filter: { channel_name_starts_with: 'private-' }, headers: { 'X-Token': 't' } },
];

/** Every column set to a value other than its default, as MySQL returns them (tinyint booleans, decimal strings). */
const MYSQL_ROW = {
  id: '4242',
  key: 'tenant-key',
  secret: 'tenant-secret',
  enabled: 0,
  allowed_origins: '["app.example.com", "*.example.org"]',
  ping_interval: 12.5,
  activity_timeout: 40,
  pong_timeout: '7.5',
  max_message_size: 20_000,
  max_connections: 50,
  accept_client_events_from: 'all',
  rate_limiting_enabled: 1,
  rate_limiting_max_attempts: 5,
  rate_limiting_decay_seconds: 2,
  rate_limiting_terminate_on_limit: 1,
  cache_ttl: 90,
  max_channels_per_connection: 7,
  max_presence_members_per_channel: 8,
  max_presence_user_info_size: 512,
  max_messages_per_second: 9,
  max_backend_events_per_second: 10,
  max_read_requests_per_second: 11,
  max_channel_name_length: 100,
  max_event_name_length: 50,
  max_event_payload_size: 4096,
  max_channels_per_event: 3,
  max_batch_size: 4,
  subscription_count_events: 1,
  authorized_connections_timeout: 30,
  watchlist_events: 1,
  webhooks: JSON.stringify(WEBHOOKS),
  webhook_batching_enabled: 1,
  webhook_batching_window_ms: 250,
  webhook_batching_max_events: 20,
  created_at: new Date('2026-01-01T00:00:00Z'),
  updated_at: new Date('2026-01-01T00:00:00Z'),
};

const EXPECTED = {
  id: '4242',
  key: 'tenant-key',
  secret: 'tenant-secret',
  enabled: false,
  allowedOrigins: ['app.example.com', '*.example.org'],
  pingInterval: 12.5,
  activityTimeout: 40,
  pongTimeout: 7.5,
  maxMessageSize: 20_000,
  maxConnections: 50,
  acceptClientEventsFrom: 'all',
  rateLimiting: { enabled: true, maxAttempts: 5, decaySeconds: 2, terminateOnLimit: true },
  cacheTtl: 90,
  maxChannelsPerConnection: 7,
  maxPresenceMembersPerChannel: 8,
  maxPresenceUserInfoSize: 512,
  maxMessagesPerSecond: 9,
  maxBackendEventsPerSecond: 10,
  maxReadRequestsPerSecond: 11,
  maxChannelNameLength: 100,
  maxEventNameLength: 50,
  maxEventPayloadSize: 4096,
  maxChannelsPerEvent: 3,
  maxBatchSize: 4,
  webhooks: [
    {
      url: 'https://example.com/hooks',
      eventTypes: ['channel_occupied'],
      filter: { channelNameStartsWith: 'private-', channelNameEndsWith: undefined },
      headers: { 'X-Token': 't' },
    },
  ],
  webhookBatching: { windowMs: 250, maxEvents: 20 },
  subscriptionCountEvents: true,
  authorizedConnectionsTimeout: 30,
  watchlistEvents: true,
};

const CREDENTIALS = { id: '1', key: 'k', secret: 's' };

describe('apps table columns', () => {
  it('maps every column of a MySQL row into its AppConfig setting', () => {
    assert.deepEqual(parseApp(rowToRawApp(MYSQL_ROW), 'reverb_apps'), EXPECTED);
  });

  it('reads PostgreSQL booleans and a JSON column the driver already parsed (jsonb)', () => {
    const booleans = Object.fromEntries(Object.entries(MYSQL_ROW).map(([name, value]) => [name, columnNamed(name)?.kind === 'boolean' ? value === 1 : value]));
    const row = { ...booleans, webhooks: WEBHOOKS, allowed_origins: 'app.example.com, *.example.org' };
    assert.deepEqual(parseApp(rowToRawApp(row), 'reverb_apps'), EXPECTED);
  });

  it('has a test value for every column, each different from the default', () => {
    const defaults = parseApp(rowToRawApp(CREDENTIALS), 'reverb_apps') as unknown as Record<string, unknown>;
    for (const column of COLUMNS) assert.ok(column.name in MYSQL_ROW, `no test value for ${column.name}`);
    for (const [setting, value] of Object.entries(EXPECTED)) {
      if (!['id', 'key', 'secret'].includes(setting)) assert.notDeepEqual(defaults[setting], value, `${setting} is tested with its default`);
    }
  });

  it('takes NULL (or a missing column) as the default', () => {
    const nulls = Object.fromEntries(COLUMNS.map((column) => [column.name, null]));
    const raw = rowToRawApp({ ...nulls, ...CREDENTIALS });
    assert.deepEqual(raw, { app_id: '1', key: 'k', secret: 's' });
    const app = parseApp(raw, 'reverb_apps');
    assert.deepEqual(app, parseApp({ app_id: '1', key: 'k', secret: 's' }, 'apps.apps[0]'));
    assert.equal(app.enabled, true);
    assert.deepEqual(app.allowedOrigins, ['*']);
    assert.equal(app.maxConnections, null);
    assert.equal(app.maxBackendEventsPerSecond, null);
    assert.deepEqual(app.rateLimiting, { enabled: false, maxAttempts: 60, decaySeconds: 60, terminateOnLimit: false });
    assert.equal(app.webhookBatching, null);
    assert.deepEqual(app.webhooks, []);
  });

  it('fills a group partly set from the defaults of the rest', () => {
    const app = parseApp(rowToRawApp({ ...CREDENTIALS, rate_limiting_enabled: true, webhook_batching_enabled: true }), 'reverb_apps');
    assert.deepEqual(app.rateLimiting, { enabled: true, maxAttempts: 60, decaySeconds: 60, terminateOnLimit: false });
    assert.deepEqual(app.webhookBatching, { windowMs: 50, maxEvents: 100 });
  });

  it('refuses a JSON column that does not parse, naming the column and the parser', () => {
    assert.throws(() => parseApp(rowToRawApp({ ...CREDENTIALS, webhooks: '[{"url": ' }), 'reverb_apps'), (error: Error) => {
      assert.match(error.message, /reverb_apps\.webhooks = "not valid JSON \(.+\): \[\{\\"url\\": "/);
      return true;
    });
    assert.throws(() => parseApp(rowToRawApp({ ...CREDENTIALS, allowed_origins: '["a.com"' }), 'reverb_apps'), /reverb_apps\.allowed_origins = "not valid JSON/);
  });

  it('refuses a bad value with the schema message', () => {
    assert.throws(() => parseApp(rowToRawApp({ ...CREDENTIALS, max_connections: 'many' }), 'reverb_apps'), /reverb_apps\.max_connections = "many" \(expected an integer >= 1\)/);
    assert.throws(() => parseApp(rowToRawApp({ ...CREDENTIALS, enabled: 'yes' }), 'reverb_apps'), /reverb_apps\.enabled = "yes" \(expected true or false\)/);
    assert.throws(() => parseApp(rowToRawApp({ ...CREDENTIALS, accept_client_events_from: 'x' }), 'reverb_apps'), /expected one of members, all, none/);
    assert.throws(() => parseApp(rowToRawApp({ id: '1', key: 'k', secret: '' }), 'reverb_apps'), /reverb_apps.secret = "" \(expected a non-empty string\)/);
  });

  it('turns command-line text into column values', () => {
    const value = (name: string, text: string) => toColumnValue(columnNamed(name)!, text);
    assert.equal(value('max_connections', '20'), 20);
    assert.equal(value('max_connections', ''), null);
    assert.equal(value('max_connections', 'null'), null);
    assert.equal(value('ping_interval', '2.5'), 2.5);
    assert.equal(value('enabled', 'false'), false);
    assert.equal(value('watchlist_events', '1'), true);
    assert.equal(value('allowed_origins', 'a.com, b.com'), '["a.com","b.com"]');
    assert.equal(value('allowed_origins', '[ "a.com" ]'), '["a.com"]');
    assert.equal(value('webhooks', '[ {"url": "https://x.test"} ]'), '[{"url":"https://x.test"}]');
    assert.equal(value('accept_client_events_from', 'none'), 'none');
  });
});

describe('the documented apps table', () => {
  const doc = (name: string) => readFileSync(resolve(import.meta.dirname, '../../docs/sql', name), 'utf8');
  const names = [...COLUMNS.map((column) => column.name), ...TIMESTAMP_COLUMNS];

  it('has every column in the MySQL, PostgreSQL and Laravel versions, and no other', () => {
    const found = {
      mysql: [...doc('reverb_apps.mysql.sql').matchAll(/^ {2}`(\w+)` /gm)].map((match) => match[1]),
      pgsql: [...doc('reverb_apps.pgsql.sql').matchAll(/^ {2}"(\w+)" /gm)].map((match) => match[1]),
      laravel: [...doc('create_reverb_apps_table.php').matchAll(/\$table->\w+\('(\w+)'/g)].map((match) => match[1]),
    };
    found.laravel.push('created_at', 'updated_at');
    for (const [where, columns] of Object.entries(found)) assert.deepEqual([...columns].sort(), [...names].sort(), where);
  });

  it('shows the same migration and SQL in docs/apps.md, and casts every boolean column in its Eloquent model', () => {
    const guide = readFileSync(resolve(import.meta.dirname, '../../docs/apps.md'), 'utf8');
    for (const file of ['create_reverb_apps_table.php', 'reverb_apps.mysql.sql', 'reverb_apps.pgsql.sql']) {
      assert.ok(guide.includes(doc(file)), `docs/apps.md shows docs/sql/${file} as it is`);
    }
    for (const column of COLUMNS.filter((entry) => entry.kind === 'boolean')) assert.ok(guide.includes(`'${column.name}' => 'boolean'`), column.name);
    for (const column of COLUMNS.filter((entry) => entry.kind === 'origins' || entry.kind === 'json')) assert.ok(guide.includes(`'${column.name}' => 'array'`), column.name);
  });
});
