/**
 * Webhooks from three servers sharing one Redis: each cluster-wide transition
 * is reported once (by the server whose Redis script made it), a user with
 * connections on two servers joins and leaves once, and a channel left on one
 * server and joined on another within Pusher's 3 s window produces nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
