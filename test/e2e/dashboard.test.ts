/**
 * The built-in dashboard in a real browser (Debian's headless Chromium driven
 * by playwright-core) against a real server: sign in, watch the connection
 * count follow a pusher-js client, see a presence channel's members, see a
 * client event and an API publish in the debug console, publish from the
 * form to a pusher-js client. Plus the HTTP-level rules: 401 without or with
 * wrong credentials, 403 for another app, 4xx for bad input, token sessions
 * see every app, and no secret in any answer. A scaling variant: the console
 * on server A shows what happens on server B.
 *
 * Screenshots (docs/images/dashboard-desktop.png, dashboard-phone.png) are
 * written only with UPDATE_SCREENSHOTS=1, so a run never changes the docs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Pusher } from '../helpers/pusher-js.js';
import { apiClient, connectPusherJs, eventually, waitFor, type PusherJsOptions } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { Redis } from 'ioredis';

const TOKEN = 'dashboard-token-for-tests';
const OTHER: TestApp = { ...DEFAULT_APP, app_id: 'other-app', key: 'other-key', secret: 'other-secret-value' };
const { app_id: APP, secret: SECRET } = DEFAULT_APP;
const SECRETS = [SECRET, OTHER.secret, TOKEN];
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../docs/images') : undefined;
const DASHBOARD = { dashboard: { enabled: true, token: TOKEN } };

type Channel = ReturnType<Pusher['subscribe']>;

function subscribed(channel: Channel): Promise<unknown> {
  return waitFor(`subscription to ${channel.name}`, (done) => channel.bind('pusher:subscription_succeeded', done));
}

/** Every answer is checked for the secrets: none may ever appear in a body or a header. */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const body = await response.text();
  const text = `${body}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}`;
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `a secret appeared in the answer to ${url}`);
  return { status: response.status, body, headers: response.headers };
}

async function login(server: StartedServer, credentials: Record<string, string>): Promise<string> {
  const answer = await call(`${server.url}/dashboard/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  assert.equal(answer.status, 200, answer.body);
  const cookie = answer.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\/dashboard/);
  return cookie.split(';')[0]!;
}

/** Reads a Server-Sent Events stream until `until` accepts one of its events (bounded). */
async function readEvents(url: string, cookie: string, until: (event: Record<string, unknown>) => boolean, trigger: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  const response = await fetch(url, { headers: { Cookie: cookie }, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: Record<string, unknown>[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let triggered = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const secret of SECRETS) assert.ok(!block.includes(secret), 'a secret appeared in the stream');
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) {
          const event = JSON.parse(data.slice(6)) as Record<string, unknown>;
          events.push(event);
          if (until(event)) return events;
        }
      }
      // The first chunk (the retry line) means the server watches now.
      if (!triggered) {
        triggered = true;
        await trigger();
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (Debian package chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

async function signIn(page: Page, url: string, appId: string, secret: string): Promise<void> {
  await page.goto(`${url}/dashboard`);
  await page.locator('#login-app-id').fill(appId);
  await page.locator('#login-secret').fill(secret);
  await page.locator('#login-submit').click();
  await page.locator('#app-view').waitFor({ state: 'visible', timeout: 10_000 });
}

describe('dashboard', () => {
  let server: StartedServer;
  const clients: Pusher[] = [];
  const connect = async (opts: PusherJsOptions = {}) => {
    const client = await connectPusherJs(server, opts);
    clients.push(client);
    return client;
  };
  serverForSuite(
    { apps: [DEFAULT_APP, OTHER], server: DASHBOARD },
    { started: (started) => (server = started), stopping: () => clients.splice(0).forEach((client) => client.disconnect()) },
  );

  describe('over HTTP', () => {
    it('serves the page and its files without a session, with no secret in them', async () => {
      const page = await call(`${server.url}/dashboard`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.match(page.body, /\/dashboard\/assets\/dashboard\.js/);
      for (const file of ['dashboard.js', 'dashboard.css', 'icon.svg']) assert.equal((await call(`${server.url}/dashboard/assets/${file}`)).status, 200);
      assert.equal((await call(`${server.url}/dashboard/assets/nope.js`)).status, 404);
    });

    it('refuses wrong credentials with 401 and every API endpoint without a session with 401', async () => {
      const post = (body: unknown) =>
        call(`${server.url}/dashboard/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await post({ app_id: APP, secret: 'wrong' })).status, 401);
      assert.equal((await post({ app_id: 'no-such-app', secret: SECRET })).status, 401);
      assert.equal((await post({ app_id: OTHER.app_id, secret: SECRET })).status, 401);
      assert.equal((await post({ token: 'wrong' })).status, 401);
      for (const path of ['session', `apps/${APP}/stats`, `apps/${APP}/channels`, `apps/${APP}/errors`, `apps/${APP}/events`]) {
        assert.equal((await call(`${server.url}/dashboard/api/${path}`)).status, 401, path);
        assert.equal((await call(`${server.url}/dashboard/api/${path}`, { headers: { Cookie: 'reverb_dashboard=forged.9999999999.00' } })).status, 401, path);
      }
      const publish = await call(`${server.url}/dashboard/api/apps/${APP}/publish`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"channel":"x","event":"e","data":"{}"}',
      });
      assert.equal(publish.status, 401);
    });

    it('gives an app session that app only, and a token session every app', async () => {
      const appCookie = await login(server, { app_id: APP, secret: SECRET });
      const session = JSON.parse((await call(`${server.url}/dashboard/api/session`, { headers: { Cookie: appCookie } })).body);
      assert.deepEqual(session, { scope: 'app', apps: [{ id: APP, enabled: true }] });
      assert.equal((await call(`${server.url}/dashboard/api/apps/${OTHER.app_id}/stats`, { headers: { Cookie: appCookie } })).status, 403);

      const tokenCookie = await login(server, { token: TOKEN });
      const all = JSON.parse((await call(`${server.url}/dashboard/api/session`, { headers: { Cookie: tokenCookie } })).body);
      assert.deepEqual(all, { scope: 'all', apps: [{ id: APP, enabled: true }, { id: OTHER.app_id, enabled: true }] });
      for (const app of [APP, OTHER.app_id]) {
        const stats = await call(`${server.url}/dashboard/api/apps/${app}/stats`, { headers: { Cookie: tokenCookie } });
        assert.equal(stats.status, 200);
        assert.equal(JSON.parse(stats.body).interval, 10);
      }
    });

    it('answers bad input with a 4xx that says why', async () => {
      const cookie = await login(server, { app_id: APP, secret: SECRET });
      const post = (path: string, body: string, type = 'application/json') =>
        call(`${server.url}/dashboard${path}`, { method: 'POST', headers: { 'Content-Type': type, Cookie: cookie }, body });
      const get = (path: string) => call(`${server.url}/dashboard${path}`, { headers: { Cookie: cookie } });
      const cases: [Promise<{ status: number; body: string }>, number][] = [
        [post('/api/login', 'app_id=1&secret=2', 'application/x-www-form-urlencoded'), 415],
        [post('/api/login', '{not json'), 400],
        [post(`/api/apps/${APP}/publish`, '{"channel":"bad channel!","event":"e","data":"x"}'), 400],
        [post(`/api/apps/${APP}/publish`, '{"channel":"ok","event":"pusher:internal","data":"x"}'), 400],
        [post(`/api/apps/${APP}/publish`, '[]'), 400],
        [post(`/api/apps/${APP}/stats`, '{}'), 405],
        [get(`/api/apps/${APP}/events?types=nonsense`), 400],
        [get(`/api/apps/${APP}/channels/public-one/members`), 400],
        [get(`/api/apps/${APP}/channels/%E0%A4%A/members`), 400],
        [get(`/api/apps/${APP}/nothing`), 404],
        [get('/api/apps/'), 404],
        [get('/nothing'), 404],
        [get(`/api/apps/${'x'.repeat(5000)}/stats`), 403],
      ];
      for (const [answer, status] of cases) {
        const { status: actual, body } = await answer;
        assert.equal(actual, status, body);
        assert.ok(typeof JSON.parse(body).error === 'string', body);
      }
      // The server is fine afterwards.
      assert.equal((await get(`/api/apps/${APP}/stats`)).status, 200);
    });

    it('streams API publishes and client events on the debug console (Server-Sent Events)', async () => {
      const cookie = await login(server, { token: TOKEN });
      const api = apiClient(server);
      const events = await readEvents(
        `${server.url}/dashboard/api/apps/${APP}/events?types=api_message`,
        cookie,
        (event) => event.event === 'sse-check',
        () => api.trigger('sse-channel', 'sse-check', { n: 1 }),
      );
      const published = events.at(-1)!;
      assert.equal(published.type, 'api_message');
      assert.equal(published.channel, 'sse-channel');
      assert.equal(published.data, '{"n":1}');
      assert.ok(events.every((event) => event.type === 'api_message'), 'the type filter holds');
    });
  });

  describe('in Chromium', () => {
    let browser: Browser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
    });

    it('shows connections, members, the debug console, and publishes from the form', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      try {
        await signIn(page, server.url, APP, SECRET);
        const connections = page.locator('#stat-connections');
        await page.locator('#live.on').waitFor({ timeout: 10_000 });
        const before = Number(await page.waitForFunction(() => document.getElementById('stat-connections')!.dataset.value).then((value) => value.jsonValue()));

        // A pusher-js client connects: the count goes up, live.
        const alice = await connect({ user: { user_id: 'alice', user_info: { name: 'Alice' } } });
        await eventually(async () => assert.equal(Number(await connections.textContent()), before + 1), 10_000);

        // It joins a presence channel: the channel and its member show.
        const room = alice.subscribe('presence-room');
        await subscribed(room);
        await page.locator('#channels tr[data-channel="presence-room"]').waitFor({ timeout: 10_000 });
        await page.locator('#channels tr[data-channel="presence-room"]').click();
        await page.locator('#members li[data-user="alice"]').waitFor({ timeout: 10_000 });
        assert.match((await page.locator('#members').textContent()) ?? '', /Alice/);

        // A second member whispers: a client event in the console.
        const bob = await connect({ user: { user_id: 'bob', user_info: { name: 'Bob' } } });
        const bobRoom = bob.subscribe('presence-room');
        await subscribed(bobRoom);
        await page.locator('#members li[data-user="bob"]').waitFor({ timeout: 10_000 });
        const whisper = waitFor('the whisper at alice', (done) => room.bind('client-typing', done));
        bobRoom.trigger('client-typing', { typing: true });
        await whisper;
        const clientEvent = page.locator('#console li[data-type="client_event"]', { hasText: 'client-typing' });
        await clientEvent.first().waitFor({ timeout: 10_000 });
        assert.match((await clientEvent.first().textContent()) ?? '', /presence-room/);

        // An API publish: an API message in the console.
        await apiClient(server).trigger('orders', 'OrderShipped', { id: 42 });
        await page.locator('#console li[data-type="api_message"]', { hasText: 'OrderShipped' }).first().waitFor({ timeout: 10_000 });

        // The console filters by channel and type.
        await page.locator('#filter-type').selectOption('client_event');
        assert.equal(await page.locator('#console li[data-type="api_message"]').count(), 0);
        assert.ok((await page.locator('#console li[data-type="client_event"]').count()) > 0);
        await page.locator('#filter-type').selectOption('');
        await page.locator('#filter-channel').fill('orders');
        assert.equal(await page.locator('#console li[data-type="client_event"]').count(), 0);
        await page.locator('#filter-channel').fill('');

        // The form publishes through the server: a pusher-js client receives it.
        const news = alice.subscribe('dashboard-news');
        await subscribed(news);
        const received = waitFor<unknown>('the test event', (done) => news.bind('test-event', done));
        await page.locator('#publish-channel').fill('dashboard-news');
        await page.locator('#publish-event').fill('test-event');
        await page.locator('#publish-data').fill('{"from":"the dashboard"}');
        await page.locator('#publish-submit').click();
        assert.deepEqual(await received, { from: 'the dashboard' });
        await page.locator('#publish-result.ok').waitFor({ timeout: 10_000 });

        // A bad publish says why on the page.
        await page.locator('#publish-channel').fill('no spaces allowed');
        await page.locator('#publish-submit').click();
        await page.locator('#publish-result.bad').waitFor({ timeout: 10_000 });

        // A client's mistake shows among the recent errors (client events are refused on public channels).
        alice.send_event('client-oops', {}, 'dashboard-news');
        await page.locator('#errors li', { hasText: 'client_error' }).first().waitFor({ timeout: 15_000 });
        assert.match((await page.locator('#errors').textContent()) ?? '', /Client events are only supported on private and presence channels/);

        // Bob leaves: the count and the members follow.
        bob.disconnect();
        await page.locator('#members li[data-user="bob"]').waitFor({ state: 'detached', timeout: 10_000 });
        await eventually(async () => assert.equal(Number(await connections.textContent()), before + 1), 10_000);

        const html = await page.content();
        for (const secret of SECRETS) assert.ok(!html.includes(secret), 'a secret appeared in the page');

        // Laid out for a phone: nothing wider than the screen.
        await page.setViewportSize({ width: 390, height: 844 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`);
        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });

    it('saves screenshots for the docs (UPDATE_SCREENSHOTS=1)', { skip: SCREENSHOTS === undefined }, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const api = apiClient(server);
      const people = ['Alice', 'Bob', 'Carol', 'Dave'];
      const traffic: NodeJS.Timeout[] = [];
      try {
        await signIn(page, server.url, APP, SECRET);
        const rooms: Channel[] = [];
        for (const [index, name] of people.entries()) {
          const client = await connect({ user: { user_id: `user-${index + 1}`, user_info: { name } } });
          const room = client.subscribe('presence-lobby');
          await subscribed(room);
          rooms.push(room);
          client.subscribe(index % 2 ? 'orders' : 'private-notifications-1');
          await new Promise((resolve) => setTimeout(resolve, 4000));
        }
        let n = 0;
        traffic.push(setInterval(() => void api.trigger('orders', 'OrderShipped', { order: ++n }).catch(() => undefined), 700));
        traffic.push(setInterval(() => rooms[n % rooms.length]!.trigger('client-typing', { typing: n % 2 === 0 }), 1100));
        // About a minute of samples draws the charts.
        await new Promise((resolve) => setTimeout(resolve, 60_000));
        traffic.splice(0).forEach(clearInterval);
        await page.locator('#publish-channel').fill('orders');
        await page.locator('#publish-event').fill('test-event');
        await page.locator('#publish-submit').click();
        await page.locator('#publish-result.ok').waitFor({ timeout: 10_000 });
        await page.locator('#channels tr[data-channel="presence-lobby"]').click();
        await page.locator('#members li[data-user="user-4"]').waitFor({ timeout: 10_000 });
        await page.evaluate(() => window.scrollTo(0, 0));
        mkdirSync(SCREENSHOTS!, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS!, 'dashboard-desktop.png'), fullPage: true });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(SCREENSHOTS!, 'dashboard-phone.png') });
      } finally {
        traffic.forEach(clearInterval);
        await context.close();
      }
    });

    it('shows the sign-in form again after signing out, and refuses a wrong secret on the page', async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      try {
        await signIn(page, server.url, APP, SECRET);
        await page.locator('#logout').click();
        await page.locator('#login-view').waitFor({ state: 'visible', timeout: 10_000 });
        await page.reload();
        await page.locator('#login-view').waitFor({ state: 'visible', timeout: 10_000 });
        await page.locator('#login-app-id').fill(APP);
        await page.locator('#login-secret').fill('not the secret');
        await page.locator('#login-submit').click();
        await page.locator('#login-error').waitFor({ state: 'visible', timeout: 10_000 });
        assert.match((await page.locator('#login-error').textContent()) ?? '', /Wrong/);
      } finally {
        await context.close();
      }
    });
  });
});

describe('dashboard with scaling', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(2, { apps: [DEFAULT_APP], server: DASHBOARD });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("shows on server A's console what happens on server B, and cluster-wide counts", async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    // Everything the dashboards publish on Redis, seen from outside.
    const spy = new Redis(cluster.redis.url);
    const dashboardTraffic: string[] = [];
    await spy.psubscribe(`${cluster.namespace}:dashboard:*`);
    spy.on('pmessage', (_pattern: string, topic: string) => dashboardTraffic.push(topic));
    const cookie = await login(a, { app_id: APP, secret: SECRET });
    const onB = await connectPusherJs(b, {});
    try {
      // No console open: activity anywhere adds no Redis traffic.
      await apiClient(b).trigger('nobody-watches', 'e', {});
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(dashboardTraffic.length, 0, dashboardTraffic.join(', '));

      const channel = onB.subscribe('cluster-news');
      await subscribed(channel);
      // Counts come from the whole cluster.
      await eventually(async () => {
        const stats = JSON.parse((await call(`${a.url}/dashboard/api/apps/${APP}/stats`, { headers: { Cookie: cookie } })).body);
        assert.equal(stats.connections, 1);
        assert.equal(stats.local_connections, 0);
        assert.equal(stats.clustered, true);
      }, 10_000);
      const channels = JSON.parse((await call(`${a.url}/dashboard/api/apps/${APP}/channels`, { headers: { Cookie: cookie } })).body);
      assert.deepEqual(channels.channels, [{ name: 'cluster-news', type: 'public', subscription_count: 1 }]);

      // Published on B while A's console watches: it shows on A (tried again until B has heard that A watches).
      const api = apiClient(b);
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const events = await readEvents(
        `${a.url}/dashboard/api/apps/${APP}/events`,
        cookie,
        (event) => event.type === 'api_message' && event.event === 'from-b',
        async () => {
          timer = setInterval(() => void api.trigger('cluster-news', 'from-b', { n: ++sent }).catch(() => undefined), 200);
        },
      ).finally(() => clearInterval(timer));
      const relayed = events.at(-1)!;
      assert.equal(relayed.channel, 'cluster-news');
      assert.equal(typeof relayed.node, 'string', 'marked as coming from another server');

      // While a console is open on A, A's charts add up B's samples (B's client is the only connection).
      const watching = new AbortController();
      const stream = await fetch(`${a.url}/dashboard/api/apps/${APP}/events`, { headers: { Cookie: cookie }, signal: watching.signal });
      try {
        await eventually(async () => {
          const stats = JSON.parse((await call(`${a.url}/dashboard/api/apps/${APP}/stats`, { headers: { Cookie: cookie } })).body);
          assert.ok((stats.samples as number[][]).some((sample) => sample[1] === 1), JSON.stringify(stats.samples));
        }, 25_000);
      } finally {
        watching.abort();
        await stream.body?.cancel().catch(() => undefined);
      }
      // Once the console closed (A said so), B publishes nothing more.
      await eventually(() => assert.ok(dashboardTraffic.at(-1)?.endsWith(':dashboard:watch')), 5000);
      const quietFrom = dashboardTraffic.length;
      await apiClient(b).trigger('cluster-news', 'after', {});
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(dashboardTraffic.slice(quietFrom), []);
    } finally {
      onB.disconnect();
      spy.disconnect();
    }
  });
});

describe('dashboard logins', () => {
  let server: StartedServer;
  serverForSuite({ apps: [DEFAULT_APP], server: DASHBOARD }, { started: (started) => (server = started) });

  it('limits failed logins from one address', async () => {
    const post = () =>
      call(`${server.url}/dashboard/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"token":"guess"}' });
    let status = 0;
    for (let attempt = 0; attempt < 12 && status !== 429; attempt++) status = (await post()).status;
    assert.equal(status, 429);
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
  });
});
