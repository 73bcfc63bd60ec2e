/**
 * Laravel Pulse's Redis ingest, fed by a real server: with Pulse's ingest
 * driver `redis` (PULSE_INGEST_DRIVER, or config/pulse.php of a
 * Laravel-shaped project), pusher-js and raw clients connect, subscribe,
 * ping and get published to through the `pusher` SDK, and the stream
 * `<REDIS_PREFIX>laravel:pulse:ingest` of a private redis-server holds
 * exactly the entries Reverb's ReverbMessages recorder would have ingested:
 * one per message, `data` = PHP serialize() of Laravel\Pulse\Entry with type
 * `reverb_message:sent|received`, key = the app id, value null, the second
 * the message was counted in, only buckets, count — written once per ingest
 * interval, never per message. Redis going away is logged once, WebSocket
 * traffic does not wait for it, and the kept counts are written when it is back.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serializeCountEntry } from '../../src/pulse/php-serialize.js';
import { PulseRedisIngest } from '../../src/pulse/redis-ingest.js';
import { apiClient, connectPusherJs, eventually, waitFor } from '../helpers/clients.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { DEFAULT_APP, freePort, startServer, type StartedServer, type StartOptions, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const OTHER: TestApp = { ...DEFAULT_APP, app_id: 'other', key: 'other-key', secret: 'other-secret' };
const INTERVAL = 0.3;
const STREAM = 'laravel:pulse:ingest';
const FAILED = /Laravel Pulse: cannot write message counts \(Redis /;
const RECOVERED = /Laravel Pulse: writing message counts works again \(Redis /;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Entry {
  readonly type: string;
  readonly key: string;
  readonly timestamp: number;
}

/** The stream's entries, each checked to be exactly what PHP's serialize() makes of Reverb's Entry. */
async function entries(redis: TestRedis, key: string): Promise<Entry[]> {
  const client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
  try {
    await client.connect();
    const items = await client.xrange(key, '-', '+');
    return items.map(([, fields]) => {
      assert.equal(fields.length, 2);
      assert.equal(fields[0], 'data');
      const data = fields[1]!;
      const match = /s:9:"timestamp";i:(\d+);s:4:"type";s:\d+:"([^"]+)";s:3:"key";s:\d+:"([^"]*)";/.exec(data);
      assert.ok(match, data);
      const entry = { timestamp: Number(match[1]), type: match[2]!, key: match[3]! };
      assert.equal(data, serializeCountEntry(entry.timestamp, entry.type, entry.key));
      return entry;
    });
  } finally {
    client.disconnect();
  }
}

/** Entries per app and type: { app: { sent, received } }. */
function tally(list: readonly Entry[]): Record<string, { sent: number; received: number }> {
  const out: Record<string, { sent: number; received: number }> = {};
  for (const { type, key } of list) {
    const counts = (out[key] ??= { sent: 0, received: 0 });
    counts[type === 'reverb_message:sent' ? 'sent' : 'received']++;
  }
  return out;
}

async function ping(client: RawClient, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    client.send({ event: 'pusher:ping', data: {} });
    await client.nextEvent('pusher:pong');
  }
}

async function redisServer(): Promise<TestRedis> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  return redis;
}

async function server(options: StartOptions): Promise<StartedServer> {
  const started = await startServer({ apps: [DEFAULT_APP, OTHER], ...options, env: { REVERB_PULSE_INGEST_INTERVAL: String(INTERVAL), ...options.env } });
  cleanups.push(async () => void (await started.stop()));
  return started;
}

async function rawClient(server: StartedServer, app: TestApp = DEFAULT_APP, headers: Record<string, string> = {}): Promise<RawClient> {
  const client = await RawClient.connect(`${server.wsUrl}/app/${app.key}`, { headers });
  cleanups.push(() => client.close());
  return client;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("Laravel Pulse's Redis ingest", () => {
  it('puts one serialized Entry per message on the ingest stream, under Laravel\'s Redis prefix', async () => {
    const redis = await redisServer();
    const started = await server({
      env: { REVERB_PULSE_ENABLED: 'true', PULSE_INGEST_DRIVER: 'redis', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), APP_NAME: 'My Chat App' },
    });
    await started.waitForOutput(/Laravel Pulse: message counts to Redis 127\.0\.0\.1:\d+\/0, stream my_chat_app_database_laravel:pulse:ingest, every 0\.3 s/);
    const from = Math.floor(Date.now() / 1000);

    // App 123456: a pusher-js client (connection_established sent, a subscribe received, subscription_succeeded
    // sent, 2 API events sent: 4 sent, 1 received); a raw client (connection_established sent, 3 pings
    // received, 3 pongs sent: 4 sent, 3 received).
    const pusher = await connectPusherJs(started);
    cleanups.push(() => pusher.disconnect());
    const channel = pusher.subscribe('news');
    await waitFor('pusher-js to subscribe', (done) => channel.bind('pusher:subscription_succeeded', () => done(undefined)));
    const received: unknown[] = [];
    channel.bind('headline', (data: unknown) => received.push(data));
    const api = apiClient(started);
    await api.trigger('news', 'headline', { n: 1 });
    await api.trigger('news', 'headline', { n: 2 });
    await eventually(() => assert.equal(received.length, 2));
    await ping(await rawClient(started), 3);
    // App `other`: 1 connection_established, 1 ping, 1 pong.
    await ping(await rawClient(started, OTHER), 1);

    const expected = { [DEFAULT_APP.app_id]: { sent: 8, received: 4 }, other: { sent: 2, received: 1 } };
    const key = `my_chat_app_database_${STREAM}`;
    await eventually(async () => assert.deepEqual(tally(await entries(redis, key)), expected), 5000);
    const to = Math.floor(Date.now() / 1000);
    for (const entry of await entries(redis, key)) assert.ok(entry.timestamp >= from && entry.timestamp <= to, `${entry.timestamp} in ${from}..${to}`);

    // Written once: later ingests add nothing for traffic already written.
    await sleep(INTERVAL * 3000);
    assert.deepEqual(tally(await entries(redis, key)), expected);
    assert.doesNotMatch(started.output(), FAILED);
  });

  it("is turned on by config/pulse.php registering Reverb's recorder, with the driver of .env and Laravel's Redis prefix", async () => {
    const redis = await redisServer();
    const dir = mkdtempSync(join(tmpdir(), 'reverb-pulse-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'config'));
    cpSync(resolve(import.meta.dirname, '../fixtures/laravel/config/reverb.php'), join(dir, 'config/reverb.php'));
    cpSync(resolve(import.meta.dirname, '../fixtures/laravel-pulse/config/pulse.php'), join(dir, 'config/pulse.php'));
    writeFileSync(
      join(dir, '.env'),
      [`PULSE_INGEST_DRIVER=redis`, `REDIS_HOST=127.0.0.1`, `REDIS_PORT=${redis.port}`, 'REDIS_PREFIX=app:', `REVERB_APP_ID=${DEFAULT_APP.app_id}`, `REVERB_APP_KEY=${DEFAULT_APP.key}`, `REVERB_APP_SECRET=${DEFAULT_APP.secret}`].join('\n'),
    );
    const started = await server({ dir, noConfigFile: true, env: { REVERB_SERVER_PORT: String(await freePort()), REVERB_SERVER_HOST: '127.0.0.1' } });
    await started.waitForOutput(/Laravel Pulse: message counts to Redis .*, stream app:laravel:pulse:ingest, every 0\.3 s/);
    // The fixture's config/reverb.php allows this origin only.
    const client = await rawClient(started, DEFAULT_APP, { Origin: 'https://chat.app.test' });
    await ping(client, 2);
    await eventually(async () => assert.deepEqual(tally(await entries(redis, `app:${STREAM}`)), { [DEFAULT_APP.app_id]: { sent: 3, received: 2 } }), 5000);
  });

  it('logs a lost Redis once, keeps serving at once, and writes the kept entries when it is back', async () => {
    const redis = await redisServer();
    const started = await server({ env: { REVERB_PULSE_ENABLED: 'true', PULSE_INGEST_DRIVER: 'redis', REDIS_PORT: String(redis.port), REDIS_PREFIX: '' } });
    const client = await rawClient(started);
    await eventually(async () => assert.deepEqual(tally(await entries(redis, STREAM)), { [DEFAULT_APP.app_id]: { sent: 1, received: 0 } }), 5000);

    await redis.stop();
    const before = Date.now();
    await ping(client, 3);
    assert.ok(Date.now() - before < 1000, 'pongs do not wait for Redis');
    await started.waitForOutput(FAILED, 5000);
    await sleep(INTERVAL * 4000);
    await ping(client, 1);
    assert.equal(started.output().match(new RegExp(FAILED.source, 'g'))?.length, 1, 'the outage is logged once');

    // A new, empty Redis on the same port: it gets what was counted meanwhile (4 pings, 4 pongs).
    await redis.start();
    await started.waitForOutput(RECOVERED, 15_000);
    await eventually(async () => assert.deepEqual(tally(await entries(redis, STREAM)), { [DEFAULT_APP.app_id]: { sent: 4, received: 4 } }), 5000);
    assert.equal(started.output().match(new RegExp(FAILED.source, 'g'))?.length, 1);
  });

  it("trims the stream as Pulse's RedisIngest::trim() does, with Pulse's odds", async () => {
    const redis = await redisServer();
    const connection = { url: null, host: '127.0.0.1', port: redis.port, username: null, password: null, database: 0, prefix: '' };
    const client = new Redis(redis.port, '127.0.0.1');
    cleanups.push(() => client.disconnect());
    const second = Math.floor(Date.now() / 1000);
    const thousand = [{ second, appId: 'app', sent: 1000, received: 0 }];
    const ingest = (trim: { maxLength: number } | { keepMs: number }, trimLottery: [number, number]) => {
      const sink = new PulseRedisIngest({ driver: 'redis', redis: connection, stream: STREAM, trim, trimLottery });
      cleanups.push(() => sink.close());
      // Written once the connection is ready (before, a write fails at once and writes nothing).
      return eventually(() => sink.write(thousand));
    };
    // Odds 0 in 1: never trimmed.
    await ingest({ maxLength: 10 }, [0, 1]);
    assert.equal(await client.xlen(STREAM), 1000);
    // 1 in 1, MAXLEN ~ 10: whole stream nodes (100 entries) go, at least 10 entries stay.
    await ingest({ maxLength: 10 }, [1, 1]);
    const trimmed = await client.xlen(STREAM);
    assert.ok(trimmed >= 10 && trimmed <= 100, `${trimmed} entries left`);
    // MINID ~ now - keep: nothing is that old with a day to keep; everything written before now with none.
    await ingest({ keepMs: 86_400_000 }, [1, 1]);
    assert.equal(await client.xlen(STREAM), trimmed + 1000);
    await sleep(5);
    await ingest({ keepMs: 0 }, [1, 1]);
    assert.ok((await client.xlen(STREAM)) < trimmed + 1000, 'older nodes trimmed by MINID');
  });
});
