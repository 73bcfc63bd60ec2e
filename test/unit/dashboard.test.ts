/**
 * The dashboard's pieces without a server: signed sessions (scope, expiry,
 * tampering, rotated secrets), the login throttle, the rings, and the
 * cluster relay's rule that nothing is published while no console watches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_APPS, LoginThrottle, checkLogin, issueSession, readCookie, verifySession, type Credentials } from '../../src/dashboard/auth.js';
import { Ring } from '../../src/dashboard/ring.js';
import { DebugFeed, type DebugEvent } from '../../src/dashboard/feed.js';
import { ClusterRelay, type RelayBus } from '../../src/dashboard/relay.js';
import { History, mergeSamples, type Sample } from '../../src/dashboard/history.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';

function credentials(secrets: Record<string, string>, token: string | null = 'the-token'): Credentials {
  return { secretOf: async (appId) => secrets[appId], token };
}

describe('dashboard sessions', () => {
  const now = Date.UTC(2026, 0, 1);
  const creds = credentials({ app1: 'secret-1', app2: 'secret-2' });

  it('grants an app session for the app secret and a token session for the token', async () => {
    assert.deepEqual(await checkLogin({ app_id: 'app1', secret: 'secret-1' }, creds), { scope: 'app1', key: 'secret-1' });
    assert.deepEqual(await checkLogin({ token: 'the-token' }, creds), { scope: ALL_APPS, key: 'the-token' });
    for (const body of [{ app_id: 'app1', secret: 'secret-2' }, { app_id: 'nope', secret: 'secret-1' }, { token: 'wrong' }, { app_id: 'app1' }, {}, { token: 5 }]) {
      assert.equal(await checkLogin(body, creds), undefined, JSON.stringify(body));
    }
    // Without a configured token, no token works (not even an empty one).
    assert.equal(await checkLogin({ token: '' }, credentials({}, null)), undefined);
  });

  it('verifies its own sessions until they expire, and nothing tampered with', async () => {
    const value = issueSession('app1', 'secret-1', now);
    assert.equal(await verifySession(value, creds, now + 1000), 'app1');
    assert.equal(await verifySession(value, creds, now + 13 * 3600 * 1000), undefined, 'expired after 12 hours');
    const [scope, expiry, signature] = value.split('.') as [string, string, string];
    const other = Buffer.from('app2').toString('base64url');
    assert.equal(await verifySession(`${other}.${expiry}.${signature}`, creds, now), undefined, 'another scope');
    assert.equal(await verifySession(`${scope}.${Number(expiry) + 1000}.${signature}`, creds, now), undefined, 'a longer expiry');
    assert.equal(await verifySession(`${scope}.${expiry}.${signature.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}`, creds, now), undefined);
    for (const junk of [undefined, '', 'a.b', 'a.b.c.d', `${scope}.x.${signature}`]) assert.equal(await verifySession(junk, creds, now), undefined);
  });

  it('ends the sessions of a rotated secret or token', async () => {
    const app = issueSession('app1', 'secret-1', now);
    const all = issueSession(ALL_APPS, 'the-token', now);
    assert.equal(await verifySession(all, creds, now), ALL_APPS);
    const rotated = credentials({ app1: 'secret-1b' }, 'new-token');
    assert.equal(await verifySession(app, rotated, now), undefined);
    assert.equal(await verifySession(all, rotated, now), undefined);
    assert.equal(await verifySession(all, credentials({}, null), now), undefined);
  });

  it('reads its cookie among others', () => {
    assert.equal(readCookie('a=1; reverb_dashboard=v.1.s; b=2'), 'v.1.s');
    assert.equal(readCookie(undefined), undefined);
    assert.equal(readCookie('reverb_dashboardx=1'), undefined);
  });
});

describe('dashboard login throttle', () => {
  it('refuses an address after 10 failures in a minute, others still try, and it passes', () => {
    let time = 0;
    const throttle = new LoginThrottle(() => time);
    for (let i = 0; i < 10; i++) {
      assert.equal(throttle.retryAfter('1.2.3.4'), 0);
      throttle.failed('1.2.3.4');
    }
    assert.equal(throttle.retryAfter('1.2.3.4'), 60);
    assert.equal(throttle.retryAfter('5.6.7.8'), 0);
    time = 30_000;
    assert.equal(throttle.retryAfter('1.2.3.4'), 30);
    time = 60_000;
    assert.equal(throttle.retryAfter('1.2.3.4'), 0);
  });

  it('refuses everyone after 100 failures from many addresses', () => {
    const throttle = new LoginThrottle(() => 0);
    for (let i = 0; i < 100; i++) throttle.failed(`10.0.0.${i}`);
    assert.ok(throttle.retryAfter('192.168.1.1') > 0);
  });
});

describe('dashboard ring', () => {
  it('keeps the newest items, oldest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
  });
});

describe('dashboard relay', () => {
  class FakeBus implements RelayBus {
    readonly published: [string, string][] = [];
    readonly handlers = new Map<string, (message: string) => void>();
    constructor(readonly nodeId: string) {}
    listen(topic: string, handler: (message: string) => void): () => void {
      this.handlers.set(topic, handler);
      return () => this.handlers.delete(topic);
    }
    announce(topic: string, message: string): void {
      this.published.push([topic, message]);
    }
  }

  const event = (app: string): DebugEvent => ({ type: 'api_message', app, time: 1, channel: 'c', event: 'e' });

  it('publishes nothing while no console watches, and only the watched app while one does', () => {
    let time = 0;
    const bus = new FakeBus('node-b');
    const feed = new DebugFeed();
    const relay = new ClusterRelay(bus, feed, () => [], () => time);
    feed.useRelay(relay);
    relay.start();
    try {
      assert.ok(feed.idle);
      if (feed.active('app1')) feed.emit(event('app1'));
      assert.equal(bus.published.length, 0);

      // Server A says it watches app1.
      bus.handlers.get('dashboard:watch')!(JSON.stringify({ n: 'node-a', a: 'app1', w: 1 }));
      assert.equal(feed.idle, false);
      assert.ok(feed.active('app1'));
      assert.ok(!feed.active('app2'));
      feed.emit(event('app1'));
      assert.deepEqual(bus.published.map(([topic]) => topic), ['dashboard:events:app1']);

      // Silent for 35 s: forgotten.
      time = 36_000;
      assert.ok(!feed.active('app1'));
      // Or told it stopped.
      time = 0;
      bus.handlers.get('dashboard:watch')!(JSON.stringify({ n: 'node-a', a: 'app1', w: 0 }));
      assert.ok(feed.idle);
    } finally {
      relay.stop();
    }
  });

  it('announces a console here, delivers relayed events to it and skips its own echo', () => {
    const bus = new FakeBus('node-a');
    const feed = new DebugFeed();
    const relay = new ClusterRelay(bus, feed);
    feed.useRelay(relay);
    relay.start();
    const seen: DebugEvent[] = [];
    const stop = feed.watch('app1', (e) => seen.push(e));
    try {
      assert.deepEqual(bus.published, [['dashboard:watch', JSON.stringify({ n: 'node-a', a: 'app1', w: 1 })]]);
      const topic = bus.handlers.get('dashboard:events:app1')!;
      topic(JSON.stringify({ n: 'node-b', e: event('app1') }));
      topic(JSON.stringify({ n: 'node-a', e: event('app1') }));
      topic('not json');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.node, 'node-b');
      // Its own announcement, echoed by Redis, does not make it publish its own events.
      bus.handlers.get('dashboard:watch')!(JSON.stringify({ n: 'node-a', a: 'app1', w: 1 }));
      assert.ok(!relay.wants('app1'));
    } finally {
      stop();
      relay.stop();
    }
    assert.ok(!bus.handlers.has('dashboard:events:app1'), 'unsubscribed when the last console closed');
    assert.deepEqual(bus.published.at(-1), ['dashboard:watch', JSON.stringify({ n: 'node-a', a: 'app1', w: 0 })]);
  });

  it("sends a new watcher its last hour of samples, then each new one, and adds up the other servers'", () => {
    const mine: Sample[] = [[10_000, 2, 1, 3], [20_000, 3, 0.5, 2]];
    const b = new FakeBus('node-b');
    const relayB = new ClusterRelay(b, new DebugFeed(), () => mine);
    relayB.start();
    const a = new FakeBus('node-a');
    const feedA = new DebugFeed();
    const relayA = new ClusterRelay(a, feedA, () => []);
    feedA.useRelay(relayA);
    relayA.start();
    const stop = feedA.watch('app1', () => undefined);
    try {
      // A's announcement reaches B, B's answer reaches A.
      b.handlers.get('dashboard:watch')!(a.published[0]![1]);
      assert.deepEqual(b.published.map(([topic]) => topic), ['dashboard:events:app1']);
      relayB.sampled('app1', [30_000, 4, 1, 1]);
      relayB.sampled('app2', [30_000, 9, 9, 9]);
      assert.equal(b.published.length, 2, 'only the watched app');
      for (const [, message] of b.published) a.handlers.get('dashboard:events:app1')!(message);
      assert.deepEqual(relayA.remoteSamples('app1'), [[...mine, [30_000, 4, 1, 1]]]);
      assert.deepEqual(
        mergeSamples([[[20_000, 1, 0.25, 1], [40_000, 1, 0, 0]], ...relayA.remoteSamples('app1')]),
        [[10_000, 2, 1, 3], [20_000, 4, 0.75, 3], [30_000, 4, 1, 1], [40_000, 1, 0, 0]],
      );
      // A repeated announcement does not send the hour again.
      b.handlers.get('dashboard:watch')!(a.published[0]![1]);
      assert.equal(b.published.length, 2);
    } finally {
      stop();
      relayA.stop();
      relayB.stop();
    }
    assert.deepEqual(relayA.remoteSamples('app1'), [], 'forgotten when the console closed');
  });
});

describe('dashboard configuration', () => {
  const CREDENTIALS = { REVERB_APP_ID: '1', REVERB_APP_KEY: 'key', REVERB_APP_SECRET: 'secret' };
  const load = async (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'reverb-dashboard-config-'));
    try {
      return await loadConfig({ cwd: dir, env: { ...CREDENTIALS, ...env } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('is off by default and read from REVERB_DASHBOARD_*', async () => {
    assert.equal((await load({})).server.dashboard, null);
    assert.deepEqual((await load({ REVERB_DASHBOARD_ENABLED: 'true' })).server.dashboard, { path: '/dashboard', token: null });
    assert.deepEqual((await load({ REVERB_DASHBOARD_ENABLED: 'true', REVERB_DASHBOARD_PATH: '/ops/reverb', REVERB_DASHBOARD_TOKEN: 't0k' })).server.dashboard, {
      path: '/ops/reverb',
      token: 't0k',
    });
  });

  it('refuses a path that is not one, without showing the token', async () => {
    for (const path of ['dashboard', '/', '/a b', '/x/']) {
      await assert.rejects(load({ REVERB_DASHBOARD_ENABLED: 'true', REVERB_DASHBOARD_PATH: path, REVERB_DASHBOARD_TOKEN: 'hidden-token' }), (error: Error) => {
        assert.match(error.message, /dashboard\.path/);
        assert.doesNotMatch(error.message, /hidden-token/);
        return true;
      });
    }
  });
});

describe('dashboard history', () => {
  it('samples at whole 10 s, as rates, keeps idle moments as zeros without storing them', () => {
    let time = 1_000_003;
    const connections = new Map([['busy', 2], ['idle', 0]]);
    const history = new History((appId) => connections.get(appId) ?? 0, () => connections.keys(), () => time);
    const samples: [string, Sample][] = [];
    history.onSample = (appId, sample) => samples.push([appId, sample]);
    history.tally('busy').received += 25;
    history.tally('busy').sent += 50;
    history.sample();
    time = 1_010_050; // a late timer still gives the next boundary
    history.sample();
    assert.deepEqual(history.samples('busy'), [[1_000_000, 2, 2.5, 5], [1_010_000, 2, 0, 0]]);
    assert.deepEqual(history.samples('idle'), [[1_000_000, 0, 0, 0], [1_010_000, 0, 0, 0]]);
    assert.deepEqual(samples.map(([appId]) => appId), ['busy', 'busy'], 'nothing stored or sent for the idle app');
    connections.set('busy', 0);
    time = 1_020_000;
    history.sample();
    assert.deepEqual(history.samples('busy').at(-1), [1_020_000, 0, 0, 0]);
  });
});
