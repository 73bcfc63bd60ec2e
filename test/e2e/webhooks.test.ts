/**
 * Webhooks from a running server to a real HTTP receiver that checks every
 * request with the `pusher` SDK's webhook(): Pusher's events and payloads,
 * the 3 s window that hides a quick leave-and-return, filters, the one-app
 * `.env` setup and delivery of what is pending at a graceful shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient } from '../helpers/clients.js';
import { DEFAULT_APP, startServer, type StartedServer, type TestApp } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;

describe('webhooks', () => {
  let receiver: WebhookReceiver;
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${key}`);
    clients.push(client);
    return client;
  };
  const named = (name: string) => receiver.events().filter((event) => event.name === name);
  /** Events of one channel in arrival order (Pusher orders a channel's events, not different channels'). */
  const of = (channel: string, events = receiver.events()) => events.filter((event) => event.channel === channel);

  before(async () => {
    receiver = await WebhookReceiver.start(DEFAULT_APP);
    const app: TestApp = {
      ...DEFAULT_APP,
      accept_client_events_from: 'members',
      webhooks: [
        { url: receiver.url, filter: { channel_name_ends_with: '-hooked' } },
        // A target that wants nothing this test produces: it must get no request at all.
        { url: `${receiver.url}?never`, event_types: ['subscription_count'] },
      ],
    };
    server = await startServer({ apps: [app] });
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
    await receiver.close();
  });

  it("reports Pusher's events, signed, with the 3 s window hiding a reload", async () => {
    const alice = await connect();
    const bob = await connect();
    assert.equal((await alice.subscribe('presence-room-hooked', { key, secret, channelData: { user_id: 'alice' } })).event, 'pusher_internal:subscription_succeeded');
    assert.equal((await bob.subscribe('presence-room-hooked', { key, secret, channelData: { user_id: 'bob', user_info: { n: 1 } } })).event, 'pusher_internal:subscription_succeeded');
    await alice.nextEvent('pusher_internal:member_added');
    bob.send({ event: 'client-typing', channel: 'presence-room-hooked', data: { typing: true } });
    await alice.nextEvent('client-typing');
    await alice.subscribe('cache-prices-hooked');
    await alice.subscribe('public-unhooked');
    await receiver.waitForEvents(6);
    assert.deepEqual(of('presence-room-hooked'), [
      { name: 'channel_occupied', channel: 'presence-room-hooked' },
      { name: 'member_added', channel: 'presence-room-hooked', user_id: 'alice' },
      { name: 'member_added', channel: 'presence-room-hooked', user_id: 'bob' },
      { name: 'client_event', channel: 'presence-room-hooked', event: 'client-typing', data: '{"typing":true}', socket_id: bob.socketId, user_id: 'bob' },
    ]);
    assert.deepEqual(of('cache-prices-hooked'), [
      { name: 'channel_occupied', channel: 'cache-prices-hooked' },
      { name: 'cache_miss', channel: 'cache-prices-hooked' },
    ]);
    assert.ok(receiver.received.every((webhook) => webhook.valid), 'every request passes the pusher SDK check');
    assert.equal(receiver.received.length, 6, 'one event per request without batching');

    // bob reloads the page (leaves and comes back at once); alice leaves for good.
    bob.close();
    const bob2 = await connect();
    await bob2.subscribe('presence-room-hooked', { key, secret, channelData: { user_id: 'bob' } });
    alice.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-room-hooked' } });
    alice.send({ event: 'pusher:unsubscribe', data: { channel: 'cache-prices-hooked' } });
    const left = Date.now();
    await receiver.waitForEvents(8, 8000);
    assert.ok(Date.now() - left >= 2500, `sent after Pusher's delay (${Date.now() - left} ms)`);
    const later = receiver.events().slice(6);
    assert.deepEqual(of('presence-room-hooked', later), [{ name: 'member_removed', channel: 'presence-room-hooked', user_id: 'alice' }]);
    assert.deepEqual(of('cache-prices-hooked', later), [{ name: 'channel_vacated', channel: 'cache-prices-hooked' }]);
    assert.equal(named('member_removed').filter((event) => event.user_id === 'bob').length, 0, "bob's reload produced no member_removed");
    assert.equal(named('member_added').length, 2, "and no second member_added");
  });

  it('retries a receiver that fails twice and delivers the event once', async () => {
    const before = receiver.events().length;
    const attempts = receiver.attempts;
    receiver.respond((attempt) => ({ status: attempt <= attempts + 2 ? 503 : 200 }));
    const client = await connect();
    await client.subscribe('retry-hooked');
    const events = await receiver.waitForEvents(before + 1, 10_000);
    assert.deepEqual(events.slice(before), [{ name: 'channel_occupied', channel: 'retry-hooked' }]);
    assert.equal(receiver.attempts - attempts, 3, 'two failures, then the delivery');
    receiver.respond(() => ({ status: 200 }));
  });

  it('delivers the delayed events a graceful shutdown would otherwise lose', async () => {
    const api = apiClient(server);
    await api.trigger('presence-room-hooked', 'ping', '1');
    const before = receiver.events().length;
    for (const client of clients) client.close();
    // The departures (bob2's, the retry test's channel) are held for 3 s; the shutdown sends them at once.
    const code = await server.stop();
    assert.equal(code, 0);
    const events = (await receiver.waitForEvents(before + 3, 3000)).slice(before);
    assert.deepEqual(of('presence-room-hooked', events), [
      { name: 'member_removed', channel: 'presence-room-hooked', user_id: 'bob' },
      { name: 'channel_vacated', channel: 'presence-room-hooked' },
    ]);
    assert.deepEqual(of('retry-hooked', events), [{ name: 'channel_vacated', channel: 'retry-hooked' }]);
  });
});

describe('webhooks from .env', () => {
  it('REVERB_APP_WEBHOOK_URL and REVERB_APP_WEBHOOK_EVENTS configure the one app', async () => {
    const app = { app_id: 'env-app', key: 'env-key', secret: 'env-secret' };
    const receiver = await WebhookReceiver.start(app);
    const server = await startServer({
      noConfigFile: true,
      env: {
        REVERB_SERVER_HOST: '127.0.0.1',
        REVERB_SERVER_PORT: String(await (await import('../helpers/server.js')).freePort()),
        REVERB_APP_ID: app.app_id,
        REVERB_APP_KEY: app.key,
        REVERB_APP_SECRET: app.secret,
        REVERB_APP_WEBHOOK_URL: receiver.url,
        REVERB_APP_WEBHOOK_EVENTS: 'channel_occupied',
      },
    });
    const client = await RawClient.connect(`${server.wsUrl}/app/${app.key}`);
    try {
      await client.subscribe('orders');
      await client.subscribe('cache-x');
      assert.deepEqual(await receiver.waitForEvents(2), [
        { name: 'channel_occupied', channel: 'orders' },
        { name: 'channel_occupied', channel: 'cache-x' },
      ]);
      assert.ok(receiver.received.every((webhook) => webhook.valid));
    } finally {
      client.close();
      await server.stop();
      await receiver.close();
    }
  });
});
