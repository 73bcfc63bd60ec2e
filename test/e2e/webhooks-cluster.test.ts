/**
 * Webhooks from three servers sharing one Redis: each cluster-wide transition
 * is reported once (by the server whose Redis script made it), a user with
 * connections on two servers joins and leaves once, and a channel left on one
 * server and joined on another within Pusher's 3 s window produces nothing.
 * Deliveries pending on a server that is killed (kill -9) or stops while the
 * receiver is down are delivered by another server, held departures included.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { DEFAULT_APP } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;

describe('webhooks across a cluster', () => {
  let cluster: TestCluster;
  let receiver: WebhookReceiver;
  const clients: RawClient[] = [];
  const connect = async (server: number) => {
    const client = await RawClient.connect(`${cluster.servers[server]!.wsUrl}/app/${key}`);
    clients.push(client);
    return client;
  };
  const of = (channel: string) => receiver.events().filter((event) => event.channel === channel);

  before(async () => {
    receiver = await WebhookReceiver.start(DEFAULT_APP);
    cluster = await startCluster(3, { apps: [{ ...DEFAULT_APP, webhooks: [{ url: receiver.url }] }] });
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
    await receiver.close();
  });

  it('reports each transition once for the whole cluster, with the 3 s window across servers', async () => {
    const a = await connect(0);
    const b = await connect(1);
    const c = await connect(2);
    // A channel occupied on two servers: one channel_occupied.
    await a.subscribe('orders');
    await b.subscribe('orders');
    // One user on two servers: one member_added, and one member_removed when the last connection goes.
    const presence = (client: RawClient) => client.subscribe('presence-room', { key, secret, channelData: { user_id: 'u' } });
    await presence(a);
    await presence(b);
    await receiver.waitForEvents(3);
    // A channel handed from one server to another within the window: nothing at all.
    await c.subscribe('handover');
    await receiver.waitForEvents(4);
    c.send({ event: 'pusher:unsubscribe', data: { channel: 'handover' } });
    await a.subscribe('handover');

    a.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-room' } });
    a.send({ event: 'pusher:unsubscribe', data: { channel: 'orders' } });
    // Settle on another server before b leaves: the leave on a is done in Redis.
    await a.subscribe('sync-marker');
    b.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-room' } });
    b.send({ event: 'pusher:unsubscribe', data: { channel: 'orders' } });
    const left = Date.now();
    // presence-room: member_removed + vacated; orders: vacated; sync-marker: occupied.
    await receiver.waitForEvents(8, 10_000);
    assert.ok(Date.now() - left >= 2500, 'departures held back for the window');
    await new Promise((resolve) => setTimeout(resolve, 3500)); // anything extra would arrive by now

    assert.deepEqual(of('orders'), [
      { name: 'channel_occupied', channel: 'orders' },
      { name: 'channel_vacated', channel: 'orders' },
    ]);
    assert.deepEqual(of('presence-room'), [
      { name: 'channel_occupied', channel: 'presence-room' },
      { name: 'member_added', channel: 'presence-room', user_id: 'u' },
      { name: 'member_removed', channel: 'presence-room', user_id: 'u' },
      { name: 'channel_vacated', channel: 'presence-room' },
    ]);
    assert.deepEqual(of('handover'), [{ name: 'channel_occupied', channel: 'handover' }]);
    assert.deepEqual(of('sync-marker'), [{ name: 'channel_occupied', channel: 'sync-marker' }]);
    assert.ok(receiver.received.every((webhook) => webhook.valid));
  });
});

describe('webhooks pending on a server that goes', () => {
  let cluster: TestCluster;
  let receiver: WebhookReceiver;
  /** While true the receiver answers 503: every delivery stays pending, retried by the server that owes it. */
  let failing: boolean;
  const clients: RawClient[] = [];
  const connect = async (server: number) => {
    const client = await RawClient.connect(`${cluster.servers[server]!.wsUrl}/app/${key}`);
    clients.push(client);
    return client;
  };
  const byChannel = () => {
    const out: Record<string, unknown[]> = {};
    for (const event of receiver.events()) (out[event.channel as string] ??= []).push(event);
    return out;
  };
  /** Waits until the receiver was asked (and refused) to take `channel`'s occupied: the server owes it. */
  const owed = (channel: string) =>
    receiver.waitUntil(`an attempt for ${channel}`, () =>
      receiver.requests.some((request) => request.body.events.some((event) => event.channel === channel)),
    );

  beforeEach(async () => {
    failing = true;
    receiver = await WebhookReceiver.start(DEFAULT_APP);
    receiver.respond(() => ({ status: failing ? 503 : 200 }));
    cluster = await startCluster(2, { nodeTimeout: 3, apps: [{ ...DEFAULT_APP, webhooks: [{ url: receiver.url }] }] });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await cluster.stop();
    await receiver.close();
  });

  it('delivers from another server what a server killed with kill -9 owed, a departure in its window included', async (t) => {
    const a = await connect(0);
    await a.subscribe('kill-a');
    await a.subscribe('presence-kill', { key, secret, channelData: { user_id: 'u1' } });
    await a.subscribe('kill-leave');
    a.send({ event: 'pusher:unsubscribe', data: { channel: 'kill-leave' } });
    // Reported after the unsubscribe above (same Redis connection): once it is owed, so is kill-leave's departure.
    await a.subscribe('kill-sync');
    await owed('kill-sync');

    const killed = Date.now();
    const server = cluster.servers[0]!;
    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGKILL');
    await exited;
    failing = false;

    // kill-leave's vacated was held in A's window; the other vacated/removed come from B removing A's connections.
    await receiver.waitForEvents(10, 15_000);
    const firstAdopted = receiver.received.find((webhook) => webhook.body.events.some((event) => event.channel === 'kill-a'));
    t.diagnostic(`first delivery by the other server ${firstAdopted!.body.time_ms - killed} ms after kill -9 (node_timeout 3 s)`);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a duplicate would arrive by now

    // Every attempt before the kill was refused, so nothing can have been delivered twice: exactly these.
    assert.deepEqual(byChannel(), {
      'kill-a': [
        { name: 'channel_occupied', channel: 'kill-a' },
        { name: 'channel_vacated', channel: 'kill-a' },
      ],
      'presence-kill': [
        { name: 'channel_occupied', channel: 'presence-kill' },
        { name: 'member_added', channel: 'presence-kill', user_id: 'u1' },
        { name: 'member_removed', channel: 'presence-kill', user_id: 'u1' },
        { name: 'channel_vacated', channel: 'presence-kill' },
      ],
      'kill-leave': [
        { name: 'channel_occupied', channel: 'kill-leave' },
        { name: 'channel_vacated', channel: 'kill-leave' },
      ],
      'kill-sync': [
        { name: 'channel_occupied', channel: 'kill-sync' },
        { name: 'channel_vacated', channel: 'kill-sync' },
      ],
    });
    assert.ok(receiver.received.every((webhook) => webhook.valid));
  });

  it('hands what it could not deliver to another server when it stops gracefully', async () => {
    const a = await connect(0);
    await a.subscribe('term-a');
    await a.subscribe('presence-term', { key, secret, channelData: { user_id: 'u2' } });
    await owed('presence-term');

    // Its clients leave as it stops: their departures are sent at once, fail, and are handed over with the rest.
    await cluster.servers[0]!.stop();
    failing = false;

    await receiver.waitForEvents(6, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(byChannel(), {
      'term-a': [
        { name: 'channel_occupied', channel: 'term-a' },
        { name: 'channel_vacated', channel: 'term-a' },
      ],
      'presence-term': [
        { name: 'channel_occupied', channel: 'presence-term' },
        { name: 'member_added', channel: 'presence-term', user_id: 'u2' },
        { name: 'member_removed', channel: 'presence-term', user_id: 'u2' },
        { name: 'channel_vacated', channel: 'presence-term' },
      ],
    });
    assert.ok(receiver.received.every((webhook) => webhook.valid));
  });
});

describe('subscription_count webhooks across a cluster', () => {
  const COUNTING = { ...DEFAULT_APP, app_id: 'counting', key: 'counting-key', secret: 'counting-secret', subscription_count_events: true };
  let cluster: TestCluster;
  let receiver: WebhookReceiver;
  const clients: RawClient[] = [];

  before(async () => {
    receiver = await WebhookReceiver.start(COUNTING);
    cluster = await startCluster(2, { apps: [{ ...COUNTING, webhooks: [{ url: receiver.url, event_types: ['subscription_count'] }] }] });
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
    await receiver.close();
  });

  it('announces each change of the cluster-wide count once, however many servers saw changes', async () => {
    const joins = Array.from({ length: 6 }, async (_, index) => {
      const client = await RawClient.connect(`${cluster.servers[index % 2]!.wsUrl}/app/${COUNTING.key}`);
      clients.push(client);
      await client.subscribe('crowd');
    });
    await Promise.all(joins);
    const counts = () => receiver.events().filter((event) => event.channel === 'crowd').map((event) => event.subscription_count);
    await receiver.waitUntil('the count 6', () => counts().at(-1) === 6);
    // Both servers saw joins in the same sweep periods: without one announcement per change, 6 came twice.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const seen = counts();
    assert.equal(seen.at(-1), 6);
    for (let index = 1; index < seen.length; index++) assert.notEqual(seen[index], seen[index - 1], `counts announced: ${seen.join(', ')}`);
  });
});
