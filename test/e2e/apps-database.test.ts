/**
 * Apps from a database table (apps.provider = database), on real MariaDB and
 * PostgreSQL, each suite in a database of its own made from the documented
 * SQL (docs/sql): two servers with scaling on (their own redis-server) and
 * a long cache TTL, so every change made with `reverb apps:*` that shows at
 * once was pushed over Redis; a third server without scaling and a 1 s TTL
 * sees changes made directly in the table. The servers reach the database
 * through a TCP proxy that the outage test cuts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type PusherServer from 'pusher';
import { APPS_ENGINES, type AppsDatabase } from '../helpers/apps-database.js';
import { apiClient, connectPusherJs, eventually, waitFor } from '../helpers/clients.js';
import { runCli } from '../helpers/cli.js';
import type { Pusher } from '../helpers/pusher-js.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { freePort, startServer, type StartedServer, type TestApp } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { RawClient } from '../helpers/ws-client.js';

async function scrapeQueries(server: StartedServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('reverb_app_store_queries_total{'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** A WebSocket to `/app/{key}` that the server refuses: the error frame's code and the close code. */
async function refusal(server: StartedServer, key: string): Promise<{ error: number; close: number }> {
  const client = new RawClient(`${server.wsUrl}/app/${encodeURIComponent(key)}`);
  try {
    await client.open();
    const frame = await client.next(5000);
    assert.equal(frame.event, 'pusher:error', `expected a refusal, got ${JSON.stringify(frame)}`);
    const { code } = JSON.parse(frame.data as string) as { code: number };
    return { error: code, close: (await client.waitForClose(5000)).code };
  } finally {
    client.close();
  }
}

async function receives(client: Pusher, channelName: string, publish: () => Promise<unknown>): Promise<unknown> {
  const channel = client.subscribe(channelName);
  await waitFor('subscription', (resolve) => channel.bind('pusher:subscription_succeeded', resolve));
  const received = waitFor<unknown>('the event', (resolve) => channel.bind('greeting', resolve));
  await publish();
  return received;
}

for (const [engine, open] of APPS_ENGINES) {
  describe(`apps from ${engine}`, () => {
    let database: AppsDatabase;
    let redis: TestRedis;
    let proxy: TcpProxy;
    let dir: string;
    /** Scaling on, TTL 60 s: changes through the CLI must arrive over Redis. */
    let a: StartedServer;
    let b: StartedServer;
    /** No scaling, TTL 1 s: changes made directly in the table. */
    let c: StartedServer;
    let cliEnv: Record<string, string>;
    const clients: { disconnect?(): void; close?(): void }[] = [];

    const cli = async (...args: string[]) => {
      const result = await runCli([...args, '--json'], { cwd: dir, env: cliEnv });
      assert.equal(result.code, 0, `reverb ${args.join(' ')}: ${result.stderr}${result.stdout}`);
      return result;
    };
    const createApp = async (): Promise<TestApp> => {
      const { stdout } = await cli('apps:create');
      return JSON.parse(stdout) as TestApp;
    };
    const api = (server: StartedServer, app: TestApp): PusherServer => apiClient(server, app);
    const trigger = (server: StartedServer, app: TestApp) => api(server, app).trigger('news', 'greeting', { hello: engine });
    const status = async (server: StartedServer, app: TestApp): Promise<number> => {
      try {
        return (await trigger(server, app)).status;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    const pusherJs = async (server: StartedServer, app: TestApp) => {
      const client = await connectPusherJs(server, { app });
      clients.push(client);
      return client;
    };
    const raw = async (server: StartedServer, app: TestApp) => {
      const client = await RawClient.connect(`${server.wsUrl}/app/${app.key}`);
      clients.push(client);
      return client;
    };

    /** A new app with a client on each server; `command` closes both with `code` and refuses new connections with it. */
    const closedOnBothServers = async (command: string, code: number): Promise<TestApp> => {
      const app = await createApp();
      const [onA, onB] = [await raw(a, app), await raw(b, app)];
      await cli(command, app.app_id);
      assert.equal((await onA.waitForClose(5000)).code, code);
      assert.equal((await onB.waitForClose(5000)).code, code);
      for (const server of [a, b]) assert.deepEqual(await refusal(server, app.key), { error: code, close: code });
      return app;
    };

    before(async () => {
      database = await open();
      redis = await startRedis();
      proxy = await startTcpProxy(database.port);
      dir = mkdtempSync(join(tmpdir(), 'reverb-apps-'));
      const common = { REVERB_SERVER_HOST: '127.0.0.1', REVERB_APP_PROVIDER: 'database', REVERB_METRICS_ENABLED: 'true', ...database.env(proxy.port) };
      cliEnv = { ...common, REVERB_SCALING_ENABLED: 'true', REDIS_PORT: String(redis.port), REVERB_APPS_CACHE_TTL: '60' };
      const serve = async (env: Record<string, string>) => {
        const port = await freePort();
        return startServer({ noConfigFile: true, env: { ...env, REVERB_SERVER_PORT: String(port) } });
      };
      [a, b, c] = await Promise.all([serve(cliEnv), serve(cliEnv), serve({ ...common, REVERB_APPS_CACHE_TTL: '1' })]);
      for (const server of [a, b]) await server.waitForOutput(/Apps: from the table reverb_apps/);
    });

    after(async () => {
      for (const client of clients) {
        client.disconnect?.();
        client.close?.();
      }
      await Promise.all([a, b, c].map((server) => server?.stop()));
      await proxy?.close();
      await redis?.stop();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('connects an app created with the CLI while the servers run at once, and publishes to it from another server', async () => {
      const app = await createApp();
      const client = await pusherJs(a, app);
      assert.deepEqual(await receives(client, 'news', () => trigger(b, app)), { hello: engine });
      const { stdout } = await cli('apps:list');
      assert.ok(stdout.includes(app.key) && !stdout.includes(app.secret), 'apps:list shows the key, never the secret');
    });

    it('accepts a rotated secret on every server at once and refuses the old one', async () => {
      const app = await createApp();
      await pusherJs(a, app);
      assert.equal(await status(b, app), 200);
      const { stdout } = await cli('apps:rotate-secret', app.app_id);
      const rotated = { ...app, secret: (JSON.parse(stdout) as TestApp).secret };
      assert.notEqual(rotated.secret, app.secret);
      for (const server of [a, b]) {
        await eventually(async () => assert.equal(await status(server, rotated), 200), 5000);
        assert.equal(await status(server, app), 401);
      }
      // Channel authorizations are checked with the new secret too.
      const client = await pusherJs(a, rotated);
      await waitFor('private subscription', (resolve) => client.subscribe('private-rotated').bind('pusher:subscription_succeeded', resolve));
    });

    it('closes a disabled app’s connections on every server with 4003, refuses new ones, and lets them in again when enabled', async () => {
      const app = await closedOnBothServers('apps:disable', 4003);
      assert.equal(await status(a, app), 403);
      await cli('apps:enable', app.app_id);
      await eventually(async () => void (await raw(a, app)), 5000);
      assert.equal(await status(b, app), 200);
    });

    it('closes a deleted app’s connections with 4001 and then knows it no more', async () => {
      const app = await closedOnBothServers('apps:delete', 4001);
      assert.equal(await status(b, app), 404);
    });

    it('sends the webhooks of an app from the table, signed with its secret', async () => {
      const app: TestApp = { app_id: `hooked-${engine}`, key: `hooked-key-${engine}`, secret: `hooked-secret-${engine}` };
      const receiver = await WebhookReceiver.start(app);
      try {
        const webhooks = JSON.stringify([{ url: receiver.url, event_types: ['channel_occupied'] }]);
        await cli('apps:create', '--id', app.app_id, '--key', app.key, '--secret', app.secret, '--webhooks', webhooks);
        const client = await raw(a, app);
        await client.subscribe('hooked');
        // The receiver checks X-Pusher-Key and X-Pusher-Signature with the pusher SDK.
        const [event] = await receiver.waitForEvents(1);
        assert.deepEqual(event, { name: 'channel_occupied', channel: 'hooked' });
      } finally {
        await receiver.close();
      }
    });

    it('sees changes made directly in the table within the cache TTL', async () => {
      const app = await createApp();
      const client = await raw(c, app);
      await database.query('update "reverb_apps" set "secret" = ? where "id" = ?', ['changed-in-the-table', app.app_id]);
      const changed = { ...app, secret: 'changed-in-the-table' };
      await eventually(async () => assert.equal(await status(c, changed), 200), 4000);
      await database.query('update "reverb_apps" set "enabled" = ? where "id" = ?', [false, app.app_id]);
      assert.equal((await client.waitForClose(4000)).code, 4003);
    });

    it('answers a burst of unknown keys with 4001 for a bounded number of queries', async () => {
      const before = await scrapeQueries(a);
      const started = Date.now();
      const keys = [...Array.from({ length: 150 }, (_, index) => `unknown-${engine}-${index}`), ...Array.from({ length: 150 }, () => 'the-same-unknown-key')];
      const refusals = await Promise.all(keys.map((key) => refusal(a, key)));
      const seconds = (Date.now() - started) / 1000;
      assert.ok(refusals.every((answer) => answer.error === 4001 && answer.close === 4001));
      const queries = (await scrapeQueries(a)) - before;
      // At most 10 lookup queries a second (+ the cache's own refresh of the apps it holds).
      assert.ok(queries <= 10 * Math.ceil(seconds + 1) + 2, `${queries} queries for ${keys.length} connections in ${seconds.toFixed(1)} s`);
      assert.ok(queries < 150 / 2, `${queries} queries for 151 distinct keys`);
      // A known app is still answered at once.
      const app = await createApp();
      await raw(a, app);
    });

    it('keeps serving the apps it holds while the database is down, refuses unknown keys with 4100, and says so once', async () => {
      const app = await createApp();
      await raw(a, app);
      await proxy.cut();
      try {
        const client = await pusherJs(a, app);
        assert.deepEqual(await receives(client, 'news', () => trigger(a, app)), { hello: engine });
        for (let attempt = 0; attempt < 3; attempt++) {
          assert.deepEqual(await refusal(a, `unknown-during-outage-${attempt}`), { error: 4100, close: 4100 });
        }
        assert.equal(a.output().match(/The apps table .* cannot be read/g)?.length, 1, a.output());
        assert.ok(!a.output().includes(app.secret));
      } finally {
        await proxy.restore();
      }
      await eventually(async () => assert.deepEqual(await refusal(a, 'unknown-after-outage'), { error: 4001, close: 4001 }), 5000);
      await a.waitForOutput(/The apps table .* answers again/);
    });
  });
}
