/**
 * Prometheus metrics scraped from a running server while real clients
 * connect, subscribe, whisper, get published to and get rate-limited: every
 * number moves by exactly what the clients did (bytes and messages counted
 * from what they sent and received).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient } from '../helpers/clients.js';
import { DEFAULT_APP, freePort, serverForSuite, startServer, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';
import { startCluster } from '../helpers/cluster.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { scrapeMetrics } from '../helpers/metrics.js';

const TOKEN = 'scrape-token';
const LIMITED: TestApp = { ...DEFAULT_APP, app_id: 'limited', key: 'limited-key', secret: 'limited-secret', max_messages_per_second: 5 };
const { app_id: APP, key, secret } = DEFAULT_APP;

const scrape = (url: string, token = TOKEN) => scrapeMetrics(url, token);

describe('metrics', () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  serverForSuite(
    { apps: [DEFAULT_APP, LIMITED], server: { metrics: { enabled: true, prefix: 'soketi_', token: TOKEN } } },
    { started: (started) => (server = started), stopping: () => clients.forEach((client) => client.close()) },
  );
  const labels = (extra = '') => `{app_id="${APP}",port="${server.port}"${extra}}`;
  const delta = (before: Map<string, number>, after: Map<string, number>, name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);

  it('answers only with the bearer token, in the Prometheus text format, under the configured prefix', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    const values = await scrape(server.url);
    for (const name of ['soketi_process_resident_memory_bytes', 'soketi_nodejs_eventloop_lag_seconds']) {
      assert.ok(values.has(name), `${name} is exported`);
    }
  });

  it('counts connections, messages, bytes, subscriptions, client events, API calls and closes exactly', async () => {
    const before = await scrape(server.url);
    const sentTexts: string[] = [];
    const connect = async () => {
      const client = await RawClient.connect(`${server.wsUrl}/app/${key}`);
      clients.push(client);
      const send = client.send.bind(client);
      client.send = (message: unknown) => {
        sentTexts.push(typeof message === 'string' ? message : JSON.stringify(message));
        send(message);
      };
      return client;
    };
    const a = await connect();
    const b = await connect();
    await a.subscribe('private-room', { key, secret });
    await b.subscribe('private-room', { key, secret });
    await b.subscribe('news');
    a.send({ event: 'client-typing', channel: 'private-room', data: { typing: true } });
    await b.nextEvent('client-typing');
    await apiClient(server).trigger('news', 'headline', 'hello');
    await b.nextEvent('headline');
    const received = [a, b].flatMap((client) => client.frames.splice(0));
    const during = await scrape(server.url);

    assert.equal(delta(before, during, `soketi_new_connections_total${labels()}`), 2);
    assert.equal(during.get(`soketi_connected${labels()}`), 2);
    assert.equal(during.get(`soketi_channel_subscriptions${labels(',channel_type="private"')}`), 2);
    assert.equal(during.get(`soketi_channel_subscriptions${labels(',channel_type="public"')}`), 1);
    assert.equal(during.get(`soketi_occupied_channels${labels(',channel_type="private"')}`), 1);
    assert.equal(during.get(`soketi_occupied_channels${labels(',channel_type="public"')}`), 1);
    assert.equal(delta(before, during, `soketi_client_events_total${labels()}`), 1);
    assert.equal(delta(before, during, `soketi_ws_messages_received_total${labels()}`), sentTexts.length);
    assert.equal(delta(before, during, `soketi_socket_received_bytes${labels()}`), sentTexts.reduce((sum, text) => sum + Buffer.byteLength(text), 0));
    // connection_established (2), subscription_succeeded (3), the client event, the headline, and what was read on the way.
    const receivedCount = received.length + 2 + 3 + 2;
    assert.equal(delta(before, during, `soketi_ws_messages_sent_total${labels()}`), receivedCount);
    assert.equal(delta(before, during, `soketi_http_calls_received_total${labels()}`), 1);
    assert.equal(delta(before, during, `soketi_http_requests_total{port="${server.port}",endpoint="POST /apps/{app}/events",status="200"}`), 1);
    assert.ok(delta(before, during, `soketi_http_received_bytes${labels()}`) > 0);
    assert.equal(delta(before, during, `soketi_http_request_duration_seconds_count{port="${server.port}",endpoint="POST /apps/{app}/events"}`), 1);

    a.ws.close(1000);
    await a.waitForClose();
    b.close();
    await b.waitForClose();
    let after = await scrape(server.url);
    for (let i = 0; i < 50 && after.get(`soketi_connected${labels()}`) !== 0; i++) after = await scrape(server.url);
    assert.equal(delta(during, after, `soketi_new_disconnections_total${labels()}`), 2);
    assert.equal(delta(during, after, `soketi_connection_closes_total${labels(',code="1000"')}`), 1);
    assert.equal(after.get(`soketi_occupied_channels${labels(',channel_type="private"')}`), undefined, 'no channel left');
  });

  it('counts the limits that refuse a client', async () => {
    const before = await scrape(server.url);
    const client = await RawClient.connect(`${server.wsUrl}/app/${LIMITED.key}`);
    clients.push(client);
    for (let i = 0; i < 7; i++) client.send({ event: 'pusher:ping' });
    await client.nextEvent('pusher:error');
    const after = await scrape(server.url);
    const limited = `{app_id="limited",port="${server.port}",limit="max_messages_per_second"}`;
    assert.equal(delta(before, after, `soketi_limit_refusals_total${limited}`), 1);
  });
});

describe('metrics on a listener of their own', () => {
  it('serves /metrics on the metrics port only', async () => {
    const metricsPort = await freePort();
    const server = await startServer({ server: { metrics: { enabled: true, host: '127.0.0.1', port: metricsPort } } });
    try {
      await server.waitForOutput(new RegExp(`Prometheus metrics: GET /metrics on 127\\.0\\.0\\.1:${metricsPort}`));
      assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /^# TYPE reverb_new_connections_total counter$/m);
    } finally {
      await server.stop();
    }
  });
});

describe('metrics of webhooks and Redis', () => {
  it('counts webhook requests by status, and exports the queue length and the Redis link', async () => {
    const receiver = await WebhookReceiver.start(DEFAULT_APP);
    receiver.respond((attempt) => ({ status: attempt === 1 ? 503 : 200 }));
    const cluster = await startCluster(1, {
      apps: [{ ...DEFAULT_APP, webhooks: [{ url: receiver.url, event_types: ['channel_occupied'] }] }],
      server: { metrics: { enabled: true } },
    });
    const server = cluster.servers[0]!;
    const client = await RawClient.connect(`${server.wsUrl}/app/${key}`);
    try {
      await client.subscribe('hooked');
      await receiver.waitForEvents(1, 10_000);
      const values = await scrape(server.url, '');
      const webhook = (status: string) => `reverb_webhook_requests_total{app_id="${APP}",port="${server.port}",status="${status}"}`;
      assert.equal(values.get(webhook('503')), 1);
      assert.equal(values.get(webhook('200')), 1);
      assert.equal(values.get(`reverb_webhook_queue_length{app_id="${APP}",port="${server.port}"}`), 0);
      assert.equal(values.get(`reverb_redis_connected{port="${server.port}"}`), 1);
    } finally {
      client.close();
      await cluster.stop();
      await receiver.close();
    }
  });
});
