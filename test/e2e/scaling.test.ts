/**
 * Three servers sharing one Redis behave like one big server: events, client
 * events, exclusion, presence, counts, cache channels and terminate are all
 * cluster-wide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Pusher } from '../helpers/pusher-js.js';
import { apiClient, connectPusherJs, eventually, waitFor } from '../helpers/clients.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { DEFAULT_APP, type StartedServer } from '../helpers/server.js';
import { RawClient, type Frame } from '../helpers/ws-client.js';

const KEYS = { key: DEFAULT_APP.key, secret: DEFAULT_APP.secret };

function connect(server: StartedServer): Promise<RawClient> {
  return RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
}

function presence(userId: string | number, info: unknown = { name: `user ${userId}` }) {
  return { ...KEYS, channelData: { user_id: userId, user_info: info } };
}

function presenceIds(frame: Frame): unknown[] {
  return (JSON.parse(frame.data as string) as { presence: { ids: unknown[] } }).presence.ids;
}

/** The JSON body of an answer (the pusher SDK's node-fetch Response or a global one). */
async function json(response: { json(): Promise<unknown> }): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

async function spyKeys(url: string): Promise<string[]> {
  const redis = new Redis(url);
  try {
    return await redis.keys('*');
  } finally {
    redis.disconnect();
  }
}

describe('a cluster of three servers on one Redis', () => {
  let cluster: TestCluster;
  let a: StartedServer;
  let b: StartedServer;
  let c: StartedServer;
  const clients: RawClient[] = [];
  const pushers: Pusher[] = [];

  async function client(server: StartedServer): Promise<RawClient> {
    const raw = await connect(server);
    clients.push(raw);
    return raw;
  }

  before(async () => {
    cluster = await startCluster(3);
    [a, b, c] = cluster.servers as [StartedServer, StartedServer, StartedServer];
  });

  after(async () => {
    for (const raw of clients) raw.close();
    for (const pusher of pushers) pusher.disconnect();
    await cluster.stop();
  });

  it('delivers an HTTP API event published on one server to subscribers on every server', async () => {
    const subscribers = await Promise.all([client(a), client(b), client(c)]);
    for (const subscriber of subscribers) await subscriber.subscribe('orders');
    await apiClient(b).trigger('orders', 'shipped', { id: 1 });
    for (const subscriber of subscribers) {
      assert.equal(await subscriber.nextRaw(), '{"event":"shipped","data":"{\\"id\\":1}","channel":"orders"}');
    }
  });

  it('delivers batch events in order on every server', async () => {
    const [onA, onC] = await Promise.all([client(a), client(c)]);
    await onA.subscribe('batch-one');
    await onC.subscribe('batch-one');
    await apiClient(b).triggerBatch([
      { channel: 'batch-one', name: 'first', data: '1' },
      { channel: 'batch-one', name: 'second', data: '2' },
    ]);
    for (const subscriber of [onA, onC]) {
      assert.equal((await subscriber.next()).event, 'first');
      assert.equal((await subscriber.next()).event, 'second');
    }
  });

  it('relays client events to members on other servers, never to the sender', async () => {
    const [sender, receiver] = await Promise.all([client(a), client(c)]);
    await sender.subscribe('presence-whisper', presence(1));
    await receiver.subscribe('presence-whisper', presence(2));
    await sender.nextEvent('pusher_internal:member_added');
    sender.send({ event: 'client-typing', channel: 'presence-whisper', data: { typing: true } });
    assert.equal(
      await receiver.nextRaw(),
      '{"event":"client-typing","channel":"presence-whisper","data":{"typing":true},"user_id":1}',
    );
    await sender.expectSilence(200);
  });

  it('excludes the socket_id given to the API even when that socket is on another server', async () => {
    const [excluded, included] = await Promise.all([client(a), client(b)]);
    await excluded.subscribe('exclusion');
    await included.subscribe('exclusion');
    await apiClient(c).trigger('exclusion', 'ev', 'x', { socket_id: excluded.socketId });
    assert.equal((await included.next()).event, 'ev');
    await excluded.expectSilence(300);
  });

  it('lists presence members from every server in subscription_succeeded', async () => {
    const first = await client(a);
    await first.subscribe('presence-lobby', presence('u1'));
    const second = await client(b);
    const succeeded = await second.subscribe('presence-lobby', presence('u2'));
    assert.deepEqual(new Set(presenceIds(succeeded)), new Set(['u1', 'u2']));
    const third = await client(c);
    const third_succeeded = await third.subscribe('presence-lobby', presence('u3'));
    assert.equal((JSON.parse(third_succeeded.data as string) as { presence: { count: number } }).presence.count, 3);
  });

  it('sends member_added and member_removed once per user across servers (multi-tab on two servers)', async () => {
    const observer = await client(a);
    await observer.subscribe('presence-tabs', presence('watcher'));
    const tab1 = await client(b);
    await tab1.subscribe('presence-tabs', presence('ada'));
    assert.equal((await observer.nextEvent('pusher_internal:member_added')).data, '{"user_id":"ada","user_info":{"name":"user ada"}}');
    const tab2 = await client(c);
    await tab2.subscribe('presence-tabs', presence('ada'));
    tab1.close();
    await observer.expectSilence(300);
    tab2.close();
    assert.equal((await observer.nextEvent('pusher_internal:member_removed')).data, '{"user_id":"ada"}');
    await observer.expectSilence(200);
  });

  it('answers counts, occupied, /users and /connections identically on every server', async () => {
    const [x, y, z] = await Promise.all([client(a), client(b), client(c)]);
    await x.subscribe('presence-counts', presence(7));
    await y.subscribe('presence-counts', presence(7));
    await z.subscribe('presence-counts', presence(8));
    await x.subscribe('public-counts');
    await z.subscribe('public-counts');
    const answers = await Promise.all(
      [a, b, c].map(async (server) => {
        const api = apiClient(server);
        return {
          presence: await json(await api.get({ path: '/channels/presence-counts', params: { info: 'user_count,subscription_count' } })),
          public: await json(await api.get({ path: '/channels/public-counts', params: { info: 'subscription_count' } })),
          list: await json(await api.get({ path: '/channels', params: { filter_by_prefix: 'presence-counts', info: 'user_count' } })),
          users: await json(await api.get({ path: '/channels/presence-counts/users' })),
        };
      }),
    );
    for (const answer of answers) {
      assert.deepEqual(answer.presence, { occupied: true, user_count: 2, subscription_count: 3 });
      assert.deepEqual(answer.public, { occupied: true, subscription_count: 2 });
      assert.deepEqual(answer.list, { channels: { 'presence-counts': { user_count: 2 } } });
      assert.deepEqual(new Set((answer.users.users as { id: unknown }[]).map((user) => user.id)), new Set([7, 8]));
    }
    const connections = await Promise.all([a, b, c].map(async (server) => json(await apiClient(server).get({ path: '/connections' }))));
    assert.equal(new Set(connections.map((body) => body.connections)).size, 1);
  });

  it('replays a cache channel event published on one server to a subscriber on another, with nobody subscribed before', async () => {
    await apiClient(a).trigger('cache-prices', 'price', { eur: 1 });
    const late = await client(c);
    await late.subscribe('cache-prices');
    assert.equal(await late.nextRaw(), '{"event":"price","data":"{\\"eur\\":1}","channel":"cache-prices"}');
  });

  it('terminates a user connections on every server', async () => {
    const [onA, onB, other] = await Promise.all([client(a), client(b), client(c)]);
    await onA.subscribe('presence-terminate', presence('victim'));
    await onB.subscribe('presence-terminate', presence('victim'));
    await other.subscribe('presence-terminate', presence('bystander'));
    await apiClient(c).terminateUserConnections('victim');
    for (const victim of [onA, onB]) assert.equal((await victim.waitForClose()).code, 4009);
    assert.equal((await other.nextEvent('pusher_internal:member_removed')).data, '{"user_id":"victim"}');
    other.send({ event: 'pusher:ping', data: {} });
    assert.equal(await other.nextRaw(), '{"event":"pusher:pong"}');
  });

  it('works with pusher-js clients spread over the servers', async () => {
    const alice = await connectPusherJs(a, { user: { user_id: 'alice', user_info: { name: 'Alice' } } });
    const bob = await connectPusherJs(c, { user: { user_id: 'bob', user_info: { name: 'Bob' } } });
    pushers.push(alice, bob);
    const aliceChannel = alice.subscribe('presence-chat');
    await waitFor('alice subscribed', (resolve) => aliceChannel.bind('pusher:subscription_succeeded', resolve));
    const joined = waitFor<{ id: string }>('bob joins', (resolve) => aliceChannel.bind('pusher:member_added', resolve));
    const bobChannel = bob.subscribe('presence-chat');
    const members = await waitFor<{ count: number }>('bob subscribed', (resolve) => bobChannel.bind('pusher:subscription_succeeded', resolve));
    assert.equal(members.count, 2);
    assert.equal((await joined).id, 'bob');
    const received = waitFor<unknown>('event on bob', (resolve) => bobChannel.bind('news', resolve));
    await apiClient(b).trigger('presence-chat', 'news', { n: 1 });
    assert.deepEqual(await received, { n: 1 });
  });

  it('subscribes a server to a channel topic only while one of its own clients is in the channel', async () => {
    const redis = new Redis(cluster.redis.url);
    try {
      const topic = `${cluster.namespace}:channel:${DEFAULT_APP.app_id}:scoped`;
      const numsub = async () => Number(((await redis.call('PUBSUB', 'NUMSUB', topic)) as [string, number])[1]);
      assert.equal(await numsub(), 0);
      const onA = await client(a);
      await onA.subscribe('scoped');
      assert.equal(await numsub(), 1);
      onA.send({ event: 'pusher:unsubscribe', data: { channel: 'scoped' } });
      await eventually(async () => assert.equal(await numsub(), 0));
    } finally {
      redis.disconnect();
    }
  });

  it('never puts the app secret in Redis messages or keys', async () => {
    const spy = new Redis(cluster.redis.url);
    const seen: string[] = [];
    try {
      await spy.psubscribe(`${cluster.namespace}:*`);
      spy.on('pmessage', (_pattern: string, channel: string, message: string) => seen.push(channel, message));
      const [x, y] = await Promise.all([client(a), client(b)]);
      await x.subscribe('presence-secrets', presence(1));
      await y.subscribe('presence-secrets', presence(2));
      await apiClient(c).trigger('presence-secrets', 'ev', 'data');
      await y.nextEvent('ev');
      await eventually(() => assert.ok(seen.length >= 4));
      const keys = await spyKeys(cluster.redis.url);
      const everything = [...seen, ...keys].join('\n');
      assert.ok(!everything.includes(DEFAULT_APP.secret), 'the secret travelled through Redis');
      assert.ok(!/O:\d+:"/.test(everything), 'PHP-serialized objects in Redis messages');
      assert.ok(seen.some((message) => message.includes(`"a":"${DEFAULT_APP.app_id}"`)), 'messages carry the app id');
    } finally {
      spy.disconnect();
    }
  });
});
