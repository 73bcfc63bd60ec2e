/**
 * The per-app limits (docs/security.md): each hit once with its exact status
 * (or pusher:error code) and message, on one server whose apps set them low.
 * The rate limits count in 1-second windows, so their checks run their
 * requests in one window and retry when a window boundary fell in between.
 * Every refusal is counted in `limit_refusals_total`. With scaling on, the
 * rate limits are one budget per app across the servers (counted in Redis),
 * and per server while Redis is away.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { connectClient, get, join, post, withClients, type ApiResult } from '../helpers/http.js';
import { serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';

const SIZES: TestApp = {
  app_id: 'sizes',
  key: 'sizes-key',
  secret: 'sizes-secret',
  accept_client_events_from: 'all',
  max_channel_name_length: 20,
  max_event_name_length: 10,
  max_event_payload_size: 16,
  max_channels_per_event: 3,
  max_batch_size: 2,
};
const EVENTS: TestApp = { app_id: 'events', key: 'events-key', secret: 'events-secret', max_backend_events_per_second: 5 };
/** Its own app, so its window does not start with the previous test's points spent. */
const BATCHES: TestApp = { app_id: 'batches', key: 'batches-key', secret: 'batches-secret', max_backend_events_per_second: 5 };
const READS: TestApp = { app_id: 'reads', key: 'reads-key', secret: 'reads-secret', max_read_requests_per_second: '2' };
/** soketi's convention: 0 or below is unlimited. */
const UNLIMITED: TestApp = { app_id: 'free', key: 'free-key', secret: 'free-secret', max_backend_events_per_second: -1, max_read_requests_per_second: 0 };

function assertError(response: ApiResult, status: number, message: string): void {
  assert.equal(response.status, status, response.body);
  assert.deepEqual(response.json(), { error: message });
}

function assertRateHeaders(response: ApiResult, limit: number, remaining: number): void {
  assert.equal(response.headers.get('x-ratelimit-limit'), String(limit));
  assert.equal(response.headers.get('x-ratelimit-remaining'), String(remaining));
  assert.equal(response.headers.get('retry-after'), '1');
}

/**
 * Runs `steps` in order and returns their answers once all but the last were
 * 200 and the last 429 — that is, once they fell into one window; a run that
 * straddled two windows is retried in a fresh one (three tries at most).
 */
async function inOneWindow(steps: (() => Promise<ApiResult>)[]): Promise<ApiResult[]> {
  let results: ApiResult[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    results = [];
    for (const step of steps) results.push(await step());
    const statuses = results.map((result) => result.status);
    if (statuses.slice(0, -1).every((status) => status === 200) && statuses.at(-1) === 429) return results;
    await sleep(1100);
  }
  assert.fail(`never refused in one window: ${results.map((result) => `${result.status} ${result.body}`).join(', ')}`);
}

function event(app: TestApp, fields: Record<string, unknown>): Promise<ApiResult> {
  return post(server, 'events', { name: 'e', data: 'd', ...fields }, { app });
}

let server: StartedServer;

describe('per-app limits', () => {
  serverForSuite(
    { apps: [SIZES, EVENTS, BATCHES, READS, UNLIMITED], server: { metrics: { enabled: true } } },
    { started: (started) => (server = started) },
  );

  describe('max_backend_events_per_second', () => {
    it('counts one point per channel and answers 429 with the rate-limit headers, publishing nothing', async () => {
      await withClients([connectClient(server, EVENTS.key)], async ([client]) => {
        await join(client!, 'over', undefined, EVENTS);
        const [, refused] = await inOneWindow([
          () => event(EVENTS, { channels: ['a', 'b', 'c'] }),
          () => event(EVENTS, { channels: ['over', 'd', 'e'] }),
        ]);
        assertError(refused!, 429, 'Too many requests: over max_backend_events_per_second (5 per second; this request needs 3, 2 left).');
        assertRateHeaders(refused!, 5, 2);
        await client!.expectSilence(200);
      });
    });

    it('sums a batch: one point per event', async () => {
      const batch = (count: number) => Array.from({ length: count }, (_, i) => ({ name: 'e', data: 'd', channel: `c${i}` }));
      const [, refused] = await inOneWindow([
        () => post(server, 'batch_events', { batch: batch(4) }, { app: BATCHES }),
        () => post(server, 'batch_events', { batch: batch(2) }, { app: BATCHES }),
      ]);
      assertError(refused!, 429, 'Too many requests: over max_backend_events_per_second (5 per second; this request needs 2, 1 left).');
      assertRateHeaders(refused!, 5, 1);
    });
  });

  describe('max_read_requests_per_second', () => {
    it('counts every GET endpoint one point and answers 429 with the rate-limit headers', async () => {
      const [, , refused] = await inOneWindow([
        () => get(server, 'channels', {}, { app: READS }),
        () => get(server, 'connections', {}, { app: READS }),
        () => get(server, 'channels/presence-room/users', {}, { app: READS }),
      ]);
      assertError(refused!, 429, 'Too many requests: over max_read_requests_per_second (2 per second; this request needs 1, 0 left).');
      assertRateHeaders(refused!, 2, 0);
      // Writes are not reads.
      assert.equal((await event(READS, { channel: 'c' })).status, 200);
    });

    it('0 or below is unlimited', async () => {
      for (let i = 0; i < 20; i++) {
        assert.equal((await get(server, 'channels/c', {}, { app: UNLIMITED })).status, 200);
        assert.equal((await event(UNLIMITED, { channels: ['a', 'b', 'c', 'd', 'e', 'f'] })).status, 200);
      }
    });
  });

  describe('max_channel_name_length', () => {
    const long = 'c'.repeat(21);

    it('refuses a longer channel in the HTTP API with 400', async () => {
      const message = `channel "${long}": channel name longer than 20 characters (max_channel_name_length).`;
      assertError(await event(SIZES, { channel: long }), 400, message);
      assertError(await get(server, `channels/${long}`, {}, { app: SIZES }), 400, message);
      assert.equal((await event(SIZES, { channel: 'c'.repeat(20) })).status, 200);
    });

    it('refuses a longer subscribe with pusher:error 4200', async () => {
      await withClients([connectClient(server, SIZES.key)], async ([client]) => {
        const reply = await client!.subscribe(long);
        assert.equal(reply.event, 'pusher:error');
        assert.deepEqual(JSON.parse(reply.data as string), {
          code: 4200,
          message: `Invalid channel name "${long}": channel name longer than 20 characters (max_channel_name_length)`,
        });
        await join(client!, 'c'.repeat(20), undefined, SIZES);
      });
    });
  });

  describe('event limits', () => {
    it('max_event_name_length: 400', async () => {
      assertError(await event(SIZES, { name: 'e'.repeat(11), channel: 'c' }), 400, 'name is longer than 10 characters (max_event_name_length).');
      const batch = [{ name: 'e', data: 'd', channel: 'c' }, { name: 'e'.repeat(11), data: 'd', channel: 'c' }];
      assertError(await post(server, 'batch_events', { batch }, { app: SIZES }), 400, 'batch[1].name is longer than 10 characters (max_event_name_length).');
      assert.equal((await event(SIZES, { name: 'e'.repeat(10), channel: 'c' })).status, 200);
    });

    it('max_event_payload_size: 413, counted in bytes', async () => {
      assertError(await event(SIZES, { data: 'é'.repeat(9), channel: 'c' }), 413, 'data is larger than 16 bytes (max_event_payload_size).');
      const batch = [{ name: 'e', data: 'x'.repeat(17), channel: 'c' }];
      assertError(await post(server, 'batch_events', { batch }, { app: SIZES }), 413, 'batch[0].data is larger than 16 bytes (max_event_payload_size).');
      assert.equal((await event(SIZES, { data: 'é'.repeat(8), channel: 'c' })).status, 200);
    });

    it('max_channels_per_event: 400', async () => {
      assertError(await event(SIZES, { channels: ['a', 'b', 'c', 'd'] }), 400, 'An event can be triggered on at most 3 channels (max_channels_per_event).');
      assert.equal((await event(SIZES, { channels: ['a', 'b', 'c'] })).status, 200);
    });

    it('max_batch_size: 400', async () => {
      const batch = (count: number) => Array.from({ length: count }, () => ({ name: 'e', data: 'd', channel: 'c' }));
      assertError(await post(server, 'batch_events', { batch: batch(3) }, { app: SIZES }), 400, 'Cannot batch-send more than 2 events at once (max_batch_size).');
      assert.equal((await post(server, 'batch_events', { batch: batch(2) }, { app: SIZES })).status, 200);
    });

    it('client events respect the event name length and payload size with pusher:error 4301', async () => {
      await withClients([connectClient(server, SIZES.key), connectClient(server, SIZES.key)], async ([sender, receiver]) => {
        await join(receiver!, 'private-c', undefined, SIZES);
        const errorOf = async (): Promise<unknown> => JSON.parse((await sender!.nextEvent('pusher:error')).data as string);
        sender!.send({ event: 'client-long', channel: 'private-c', data: {} });
        assert.deepEqual(await errorOf(), { code: 4301, message: 'Client event name is longer than 10 characters (max_event_name_length).' });
        sender!.send({ event: 'client-a', channel: 'private-c', data: { text: 'x'.repeat(8) } });
        assert.deepEqual(await errorOf(), { code: 4301, message: 'Client event data is larger than 16 bytes (max_event_payload_size).' });
        await receiver!.expectSilence(200);
        sender!.send({ event: 'client-a', channel: 'private-c', data: { text: 'x' } });
        assert.deepEqual((await receiver!.nextEvent('client-a')).data, { text: 'x' });
      });
    });
  });

  it('counts each refusal in limit_refusals_total by app and limit', async () => {
    const count = async (app: TestApp, limit: string): Promise<number> => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`reverb_limit_refusals_total{app_id="${app.app_id}",port="${server.port}",limit="${limit}"} `));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await count(SIZES, 'max_channels_per_event');
    assert.equal((await event(SIZES, { channels: ['a', 'b', 'c', 'd'] })).status, 400);
    assert.equal(await count(SIZES, 'max_channels_per_event'), before + 1);
    // Earlier tests of this file refused these at least once each.
    for (const [app, limit] of [
      [EVENTS, 'max_backend_events_per_second'],
      [READS, 'max_read_requests_per_second'],
      [SIZES, 'max_batch_size'],
      [SIZES, 'max_event_payload_size'],
      [SIZES, 'max_event_name_length'],
    ] as const) {
      assert.ok((await count(app, limit)) >= 1, `${app.app_id} ${limit}`);
    }
  });
});

describe('per-app rate limits with scaling on', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(2, { apps: [EVENTS, READS] });
  });
  after(() => cluster?.stop());

  it('gives an app one budget, whichever server a request reaches', async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    const [, refused] = await inOneWindow([
      () => post(a, 'events', { name: 'e', data: 'd', channels: ['a', 'b', 'c'] }, { app: EVENTS }),
      () => post(b, 'events', { name: 'e', data: 'd', channels: ['d', 'e', 'f'] }, { app: EVENTS }),
    ]);
    assertError(refused!, 429, 'Too many requests: over max_backend_events_per_second (5 per second; this request needs 3, 2 left).');
    assertRateHeaders(refused!, 5, 2);
    const [, , refusedRead] = await inOneWindow([
      () => get(a, 'channels', {}, { app: READS }),
      () => get(b, 'channels', {}, { app: READS }),
      () => get(a, 'connections', {}, { app: READS }),
    ]);
    assertRateHeaders(refusedRead!, 2, 0);
  });

  it('counts on each server alone while Redis is away, and answers', async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    await cluster.redis.stop();
    try {
      // Each server's own window: 3 + 3 points fit, where the shared budget would refuse the second.
      await inOneWindow([
        () => post(a, 'events', { name: 'e', data: 'd', channels: ['a', 'b', 'c'] }, { app: EVENTS }),
        () => post(b, 'events', { name: 'e', data: 'd', channels: ['d', 'e', 'f'] }, { app: EVENTS }),
        () => post(a, 'events', { name: 'e', data: 'd', channels: ['g', 'h', 'i'] }, { app: EVENTS }),
      ]);
    } finally {
      await cluster.redis.start();
    }
  });
});
