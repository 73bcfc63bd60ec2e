/**
 * Presence channels: the subscription payload, member_added / member_removed
 * once per user (multi-tab), user_id types, user_info shapes, duplicate
 * subscribes and clean-up on disconnect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, channelInfo, eventually, occupiedChannels } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;

const added = (channel: string, channelData: string) => JSON.stringify({ event: 'pusher_internal:member_added', data: channelData, channel });
const removed = (channel: string, userIdJson: string) => JSON.stringify({ event: 'pusher_internal:member_removed', data: `{"user_id":${userIdJson}}`, channel });

describe('presence channels', () => {
  let server: StartedServer;
  let api: ReturnType<typeof apiClient>;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${key}`);
    clients.push(client);
    return client;
  };
  /** A new connection joined to `channel` as `channelData`; returns it and its subscription payload. */
  const join = async (channel: string, channelData: string) => {
    const client = await connect();
    const reply = await client.subscribe(channel, { key, secret, channelData });
    assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
    assert.equal(reply.channel, channel);
    return { client, presence: JSON.parse(reply.data as string).presence as { count: number; ids: unknown[]; hash: Record<string, unknown> }, data: reply.data as string };
  };
  const users = async (channel: string) => {
    const response = await api.get({ path: `/channels/${channel}/users` });
    return ((await response.json()) as { users: { id: unknown }[] }).users.map((user) => user.id);
  };

  serverForSuite({}, {
    started: (started) => { server = started; api = apiClient(started); },
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('includes every member, the subscriber itself too, and announces newcomers to the others only', async () => {
    const channel = 'presence-room';
    const alice = await join(channel, '{"user_id":"1","user_info":{"name":"Alice"}}');
    assert.equal(alice.data, '{"presence":{"count":1,"ids":["1"],"hash":{"1":{"name":"Alice"}}}}');

    const bobData = '{"user_id":"2","user_info":{"name":"Bob"}}';
    const bob = await join(channel, bobData);
    assert.equal(bob.data, '{"presence":{"count":2,"ids":["1","2"],"hash":{"1":{"name":"Alice"},"2":{"name":"Bob"}}}}');
    assert.equal(await alice.client.nextRaw(), added(channel, bobData));
    await bob.client.expectSilence(150);

    assert.deepEqual(await channelInfo(api, channel, 'user_count,subscription_count'), { occupied: true, user_count: 2, subscription_count: 2 });
    assert.deepEqual(await users(channel), ['1', '2']);

    bob.client.send({ event: 'pusher:unsubscribe', data: { channel } });
    assert.equal(await alice.client.nextRaw(), removed(channel, '"2"'));
    assert.deepEqual(await users(channel), ['1']);
  });

  it('passes extra channel_data keys through in member_added', async () => {
    const channel = 'presence-extra';
    const first = await join(channel, '{"user_id":"1"}');
    const data = '{"user_id":"9","user_info":{"name":"Zed"},"extra":[1,2]}';
    await join(channel, data);
    assert.equal(await first.client.nextRaw(), added(channel, data));
  });

  it('multi-tab: member_added and member_removed once per user, counts by user', async () => {
    const channel = 'presence-tabs';
    const watcher = await join(channel, '{"user_id":"watcher"}');
    const tabData = '{"user_id":"7","user_info":{"name":"Tabby"}}';
    const tab1 = await join(channel, tabData);
    assert.equal(await watcher.client.nextRaw(), added(channel, tabData));

    const tab2 = await join(channel, tabData);
    assert.equal(tab2.presence.count, 2);
    assert.deepEqual(tab2.presence.ids, ['watcher', '7']);
    await watcher.client.expectSilence(200);
    await tab1.client.expectSilence(0);
    assert.deepEqual(await channelInfo(api, channel, 'user_count,subscription_count'), { occupied: true, user_count: 2, subscription_count: 3 });

    // First tab closes: the user is still there.
    tab1.client.close();
    await eventually(async () => assert.equal((await channelInfo(api, channel, 'subscription_count')).subscription_count, 2));
    await watcher.client.expectSilence(200);
    assert.deepEqual(await users(channel), ['watcher', '7']);

    // Last tab closes: member_removed, exactly once.
    tab2.client.close();
    assert.equal(await watcher.client.nextRaw(), removed(channel, '"7"'));
    await watcher.client.expectSilence(200);
    assert.deepEqual(await users(channel), ['watcher']);
  });

  it('keeps an integer user_id as an integer, and treats 5 and "5" as the same user', async () => {
    const channel = 'presence-int';
    const watcher = await join(channel, '{"user_id":"w"}');
    const intData = '{"user_id":5,"user_info":{"name":"Five"}}';
    const five = await join(channel, intData);
    assert.equal(five.data, '{"presence":{"count":2,"ids":["w",5],"hash":{"w":null,"5":{"name":"Five"}}}}');
    assert.equal(await watcher.client.nextRaw(), added(channel, intData));
    assert.deepEqual(await users(channel), ['w', 5]);

    const sameUser = await join(channel, '{"user_id":"5","user_info":{"name":"Five again"}}');
    assert.equal(sameUser.presence.count, 2);
    await watcher.client.expectSilence(200);

    five.client.close();
    sameUser.client.close();
    assert.equal(await watcher.client.nextRaw(), removed(channel, '5'));
  });

  it('accepts user_info that is absent, true, a string or an array', async () => {
    const channel = 'presence-info';
    const watcher = await join(channel, '{"user_id":"0"}');
    const shapes = ['{"user_id":"a"}', '{"user_id":"b","user_info":true}', '{"user_id":"c","user_info":"str"}', '{"user_id":"d","user_info":[1,{"x":null}]}'];
    for (const data of shapes) {
      await join(channel, data);
      assert.equal(await watcher.client.nextRaw(), added(channel, data));
    }
    const last = await join(channel, '{"user_id":"e","user_info":null}');
    assert.equal(last.data, '{"presence":{"count":6,"ids":["0","a","b","c","d","e"],"hash":{"0":null,"a":null,"b":true,"c":"str","d":[1,{"x":null}],"e":null}}}');
  });

  it('duplicate subscribe: subscription_succeeded again, no second member_added, counts unchanged', async () => {
    const channel = 'presence-dup';
    const watcher = await join(channel, '{"user_id":"w"}');
    const data = '{"user_id":"d","user_info":{"n":1}}';
    const dup = await join(channel, data);
    assert.equal(await watcher.client.nextRaw(), added(channel, data));

    const again = await dup.client.subscribe(channel, { key, secret, channelData: data });
    assert.deepEqual(again, { event: 'pusher_internal:subscription_succeeded', data: dup.data, channel });
    await watcher.client.expectSilence(200);
    assert.deepEqual(await channelInfo(api, channel, 'user_count,subscription_count'), { occupied: true, user_count: 2, subscription_count: 2 });

    // One unsubscribe is enough to leave.
    dup.client.send({ event: 'pusher:unsubscribe', data: { channel } });
    assert.equal(await watcher.client.nextRaw(), removed(channel, '"d"'));
  });

  it('rejects channel_data without a user_id (and without signin): error frame, not subscribed', async () => {
    for (const channelData of ['{"user_info":{"name":"nobody"}}', '{"user_id":""}', '{"user_id":null}', '{"user_id":{"a":1}}', '[1,2]', '"text"']) {
      const client = await connect();
      const reply = await client.subscribe('presence-bad-data', { key, secret, channelData });
      assert.equal(reply.event, 'pusher:error', channelData);
      assert.equal(JSON.parse(reply.data as string).code, 4200);
    }
    const client = await connect();
    const reply = await client.subscribe('presence-bad-data', { key, secret });
    assert.equal(reply.event, 'pusher:error', 'no channel_data at all');
    assert.deepEqual(await channelInfo(api, 'presence-bad-data'), { occupied: false });
  });

  it('disconnect cleans up: member_removed to the others, empty channels disappear from GET /channels', async () => {
    const channel = 'presence-leaving';
    const stayer = await join(channel, '{"user_id":"stay"}');
    const leaver = await join(channel, '{"user_id":"leave","user_info":{"bye":true}}');
    await stayer.client.nextEvent('pusher_internal:member_added');
    await leaver.client.subscribe('leaver-only-public');
    await leaver.client.subscribe('private-leaver-only', { key, secret });
    assert.ok((await occupiedChannels(api)).includes('leaver-only-public'));

    leaver.client.ws.close();
    assert.equal(await stayer.client.nextRaw(), removed(channel, '"leave"'));
    await eventually(async () => {
      const occupied = await occupiedChannels(api);
      assert.ok(!occupied.includes('leaver-only-public') && !occupied.includes('private-leaver-only'), occupied.join(','));
      assert.ok(occupied.includes(channel));
    });
    assert.deepEqual(await users(channel), ['stay']);

    stayer.client.close();
    await eventually(async () => assert.ok(!(await occupiedChannels(api)).includes(channel)));
  });

  it('delivers server events to presence members', async () => {
    const channel = 'presence-cache-events';
    const member = await join(channel, '{"user_id":"1"}');
    assert.equal(await member.client.nextRaw(), `{"event":"pusher:cache_miss","channel":"${channel}"}`);
    await api.trigger(channel, 'App\\Events\\Hello', { hi: 1 });
    assert.equal(await member.client.nextRaw(), JSON.stringify({ event: 'App\\Events\\Hello', data: '{"hi":1}', channel }));
  });
});
