/**
 * Laravel Pulse's Reverb "Messages" card, fed by a real server: real clients
 * connect, subscribe, ping and get published to, and `pulse_aggregates` (in a
 * database of its own per test, with Pulse's schema) ends up with exactly the
 * rows Pulse's own DatabaseStorage would write for Reverb's recorder:
 * `reverb_message:sent` / `reverb_message:received`, key = app id, aggregate
 * `count`, one row per period (60, 360, 1440, 10080) with bucket =
 * floor(t / period) * period, and nothing in pulse_entries (only buckets).
 * A database that goes away is logged once, and once more when it is back;
 * its counts are written then; WebSocket traffic never waits for it, even
 * while a write hangs.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { PULSE_SCHEMA } from '../fixtures/pulse/schema.js';
import { apiClient, eventually } from '../helpers/clients.js';
import { DEFAULT_APP, startServer, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const OTHER: TestApp = { ...DEFAULT_APP, app_id: 'other', key: 'other-key', secret: 'other-secret' };
const PERIODS = [60, 360, 1440, 10_080];
const INTERVAL = 0.3;

interface Row {
  type: string;
  key: string;
  period: number;
  bucket: number;
  aggregate: string;
  value: number;
  count: number | null;
}

/** One test's database with Pulse's tables, created and dropped by the test. */
interface PulseDatabase {
  /** The Laravel .env variables that point at it. */
  readonly env: Record<string, string>;
  create(): Promise<void>;
  drop(): Promise<void>;
  aggregates(): Promise<Row[]>;
  rowCount(table: 'pulse_entries' | 'pulse_values'): Promise<number>;
}

const databaseName = (engine: string) => `pulse_${engine}_${process.pid}_${Date.now()}`;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function normalise(rows: Record<string, unknown>[]): Row[] {
  return rows
    .map((row) => ({
      type: String(row.type),
      key: String(row.key),
      period: Number(row.period),
      bucket: Number(row.bucket),
      aggregate: String(row.aggregate),
      value: Number(row.value),
      count: row.count === null ? null : Number(row.count),
    }))
    .sort((a, b) => `${a.key} ${a.type} ${a.period}`.localeCompare(`${b.key} ${b.type} ${b.period}`, 'en'));
}

const SELECT = 'select type, "key", period, bucket, aggregate, value, count from pulse_aggregates';

async function mariadb(): Promise<PulseDatabase> {
  const name = databaseName('mariadb');
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  const drop = async () => void (await admin.query(`drop database if exists ${name}`));
  cleanups.push(async () => {
    await drop();
    await admin.end();
  });
  return {
    env: { DB_CONNECTION: 'mariadb', DB_HOST: '127.0.0.1', DB_PORT: '3306', DB_DATABASE: name, DB_USERNAME: 'root', DB_PASSWORD: '' },
    create: async () => {
      await admin.query(`create database ${name}`);
      await admin.query(`use ${name}`);
      for (const statement of PULSE_SCHEMA.mysql) await admin.query(statement);
    },
    drop,
    aggregates: async () => normalise((await admin.query(SELECT.replace('"key"', '`key`')))[0] as Record<string, unknown>[]),
    rowCount: async (table) => Number(((await admin.query(`select count(*) as n from ${table}`))[0] as { n: number }[])[0]!.n),
  };
}

async function postgresql(): Promise<PulseDatabase> {
  const name = databaseName('pgsql');
  const connect = async (database: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
    await client.connect();
    return client;
  };
  const admin = await connect('postgres');
  let client: pg.Client | undefined;
  // WITH (FORCE) ends the server's connection too, as a database going away would.
  const drop = async () => {
    await client?.end();
    client = undefined;
    await admin.query(`drop database if exists ${name} with (force)`);
  };
  cleanups.push(async () => {
    await drop();
    await admin.end();
  });
  const open = () => client!;
  return {
    env: { DB_CONNECTION: 'pgsql', DB_HOST: '127.0.0.1', DB_PORT: '5432', DB_DATABASE: name, DB_USERNAME: 'postgres', DB_PASSWORD: '' },
    create: async () => {
      await admin.query(`create database ${name}`);
      client = await connect(name);
      // One transaction: the server never sees half a schema.
      await client.query(['begin', ...PULSE_SCHEMA.pgsql, 'commit'].join(';\n'));
    },
    drop,
    aggregates: async () => normalise((await open().query(SELECT)).rows),
    rowCount: async (table) => Number((await open().query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n),
  };
}

const ENGINES = [
  ['MariaDB', mariadb],
  ['PostgreSQL', postgresql],
] as const;

/** The rows Pulse's DatabaseStorage writes for Reverb's message counts, all recorded at second `at`. */
function expectedRows(at: number, counts: Record<string, { sent: number; received: number }>): Row[] {
  const rows = Object.entries(counts).flatMap(([app, { sent, received }]) =>
    (
      [
        ['reverb_message:received', received],
        ['reverb_message:sent', sent],
      ] as const
    ).flatMap(([type, value]) =>
      PERIODS.map((period) => ({ type, key: app, period, bucket: Math.floor(at / period) * period, aggregate: 'count', value, count: null })),
    ),
  );
  return normalise(rows);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A second of the minute all of a test's counts fall in: its traffic is done
 * within `ms`, so it waits for the next minute rather than cross into one
 * (every bucket edge of Pulse's periods is a whole minute).
 */
async function recordingSecond(ms: number): Promise<number> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 20);
  return Math.floor(Date.now() / 1000);
}

function occurrences(server: StartedServer, pattern: RegExp): number {
  return server.output().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

async function ping(client: RawClient, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    client.send({ event: 'pusher:ping', data: {} });
    await client.nextEvent('pusher:pong');
  }
}

/** A server whose Laravel .env points at a database (`databaseEnv`) and turns Pulse on. */
async function pulseServer(databaseEnv: Record<string, string>): Promise<StartedServer> {
  const server = await startServer({
    apps: [DEFAULT_APP, OTHER],
    env: { ...databaseEnv, REVERB_PULSE_ENABLED: 'true', REVERB_PULSE_INGEST_INTERVAL: String(INTERVAL) },
  });
  cleanups.push(async () => void (await server.stop()));
  return server;
}

async function connect(server: StartedServer, app: TestApp = DEFAULT_APP): Promise<RawClient> {
  const client = await RawClient.connect(`${server.wsUrl}/app/${app.key}`);
  cleanups.push(async () => client.close());
  return client;
}

const FAILED = /Laravel Pulse: cannot write message counts/;
const RECOVERED = /Laravel Pulse: writing message counts works again/;

describe('Laravel Pulse', () => {
  for (const [engine, open] of ENGINES) {
    it(`writes the message counts as Pulse's own storage aggregates them, over two writes (${engine})`, async () => {
      const database = await open();
      await database.create();
      const server = await pulseServer(database.env);
      await server.waitForOutput(/Laravel Pulse: message counts to .*pulse_aggregates, every 0.3 s/);
      const at = await recordingSecond(3500);

      // First write. App 123456: 3 connections (3 pusher:connection_established sent), each
      // subscribes to `news` (3 received, 3 subscription_succeeded sent), one pings 4 times
      // (4 received, 4 pongs sent), 2 API events to `news` (2 × 3 recipients sent).
      // App `other`: 1 connection (1 sent), 2 pings (2 received, 2 sent).
      const clients = await Promise.all([connect(server), connect(server), connect(server)]);
      for (const client of clients) assert.equal((await client.subscribe('news')).event, 'pusher_internal:subscription_succeeded');
      await ping(clients[0]!, 4);
      const api = apiClient(server);
      for (const n of [1, 2]) {
        await api.trigger('news', 'headline', { n });
        for (const client of clients) await client.nextEvent('headline');
      }
      await ping(await connect(server, OTHER), 2);
      const first = expectedRows(at, { [DEFAULT_APP.app_id]: { sent: 16, received: 7 }, other: { sent: 3, received: 2 } });
      await eventually(async () => assert.deepEqual(await database.aggregates(), first), 5000);

      // Second write, added to the same rows: 1 API event (3 sent), 1 ping (1 received, 1 sent).
      await api.trigger('news', 'headline', { n: 3 });
      for (const client of clients) await client.nextEvent('headline');
      await ping(clients[1]!, 1);
      const second = expectedRows(at, { [DEFAULT_APP.app_id]: { sent: 20, received: 8 }, other: { sent: 3, received: 2 } });
      await eventually(async () => assert.deepEqual(await database.aggregates(), second), 5000);

      // Nothing is written twice, and only-bucket entries never reach pulse_entries.
      await sleep(INTERVAL * 3000);
      assert.deepEqual(await database.aggregates(), second);
      assert.equal(await database.rowCount('pulse_entries'), 0);
      assert.equal(await database.rowCount('pulse_values'), 0);
      assert.equal(occurrences(server, FAILED), 0);
    });

    it(`logs a lost database once, keeps serving, and writes the kept counts when it is back (${engine})`, async () => {
      const database = await open();
      await database.create();
      const server = await pulseServer(database.env);
      const at = await recordingSecond(4000);
      const client = await connect(server);
      await eventually(async () => assert.equal((await database.aggregates()).length, PERIODS.length), 5000);

      await database.drop();
      // 3 pings while the database is gone, counted in memory.
      await ping(client, 3);
      await server.waitForOutput(FAILED, 5000);
      await sleep(INTERVAL * 4000);
      await ping(client, 1);
      assert.equal(occurrences(server, FAILED), 1, 'the outage is logged once');

      await database.create();
      await server.waitForOutput(RECOVERED, 5000);
      // The new database holds what was counted while the old one was gone: 4 pings, 4 pongs.
      await eventually(async () => assert.deepEqual(await database.aggregates(), expectedRows(at, { [DEFAULT_APP.app_id]: { sent: 4, received: 4 } })), 5000);
      assert.equal(occurrences(server, FAILED), 1);
      assert.equal(occurrences(server, RECOVERED), 1);
    });
  }

  it('answers at once while a write hangs on a database that does not answer, and logs its loss once', async () => {
    // A "database" that accepts connections and never says anything, then goes away.
    const held = new Set<Socket>();
    const silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = String((silent.address() as AddressInfo).port);
    cleanups.push(() => new Promise((resolve) => silent.close(() => resolve())));
    const server = await pulseServer({ DB_CONNECTION: 'mysql', DB_HOST: '127.0.0.1', DB_PORT: port, DB_DATABASE: 'pulse', DB_USERNAME: 'root', DB_PASSWORD: '' });
    const client = await connect(server);
    await ping(client, 1);
    await eventually(() => assert.ok(held.size > 0, 'a write is waiting for the database'), 5000);

    const started = Date.now();
    await ping(client, 5);
    assert.ok(Date.now() - started < 1000, 'pongs do not wait for the write');
    assert.equal(occurrences(server, FAILED), 0);

    silent.close();
    for (const socket of held) socket.destroy();
    await server.waitForOutput(FAILED, 5000);
    // Every later write is refused at once (the port is closed now): still one line.
    await sleep(INTERVAL * 4000);
    await ping(client, 1);
    assert.equal(occurrences(server, FAILED), 1);
  });
});
