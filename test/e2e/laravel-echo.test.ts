/**
 * laravel-echo (broadcaster "reverb", on pusher-js) end to end: public
 * listeners with Laravel's event-name formatting, private and presence
 * channels, whispers, notifications, toOthers() and leaving.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// The package's `import` condition is its ESM build (dist/echo.js); its CJS build does not load on Node 20.
import Echo from 'laravel-echo';
import { Pusher } from '../helpers/pusher-js.js';
import { apiClient, channelInfo, eventually, pusherJsOptions, waitFor, type PusherJsOptions } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';

type EchoClient = Echo<'reverb'>;

describe('laravel-echo', () => {
  let server: StartedServer;
  let api: ReturnType<typeof apiClient>;
  const echoes: EchoClient[] = [];

  /** An Echo instance configured as Laravel's echo-js-reverb stub does, with local channel authorization. */
  const echo = async (opts: PusherJsOptions = {}): Promise<EchoClient> => {
    const instance = new Echo({
      broadcaster: 'reverb',
      key: DEFAULT_APP.key,
      Pusher,
      ...pusherJsOptions(server, opts),
    } as never) as EchoClient;
    echoes.push(instance);
    const pusher = instance.connector.pusher as Pusher;
    await waitFor('Echo to connect', (resolve) => {
      if (pusher.connection.state === 'connected') resolve(undefined);
      pusher.connection.bind('connected', () => resolve(undefined));
    });
    return instance;
  };
  /** Resolves when Echo's channel reports the subscription. */
  const subscribed = (channel: { subscribed(callback: () => void): unknown; error(callback: (error: unknown) => void): unknown }, name: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscription to ${name} timed out`)), 5000);
      channel.subscribed(() => {
        clearTimeout(timer);
        resolve();
      });
      channel.error((error) => {
        clearTimeout(timer);
        reject(new Error(`subscription error on ${name}: ${JSON.stringify(error)}`));
      });
    });

  serverForSuite({}, {
    started: (started) => { server = started; api = apiClient(started); },
    stopping: () => echoes.forEach((instance) => instance.disconnect()),
  });

  it("channel().listen('.event') receives a broadcastAs() event", async () => {
    const client = await echo();
    const channel = client.channel('orders');
    await subscribed(channel, 'orders');
    const received = waitFor<unknown>('.OrderShipped', (resolve) => channel.listen('.OrderShipped', resolve));
    await api.trigger('orders', 'OrderShipped', { order: { id: 1, total: '9.99' } });
    assert.deepEqual(await received, { order: { id: 1, total: '9.99' } });
  });

  it('listen() without a dot gets the App\\Events namespace (backslashes delivered intact)', async () => {
    const client = await echo();
    const channel = client.channel('namespaced');
    await subscribed(channel, 'namespaced');
    const received = waitFor<unknown>('OrderShipped', (resolve) => channel.listen('OrderShipped', resolve));
    await api.trigger('namespaced', 'App\\Events\\OrderShipped', { ok: true });
    assert.deepEqual(await received, { ok: true });
  });

  it('private() subscribes through the authorization handler and receives events', async () => {
    const client = await echo();
    const channel = client.private('App.Models.Order.5');
    await subscribed(channel, 'private-App.Models.Order.5');
    const received = waitFor<unknown>('.status', (resolve) => channel.listen('.status', resolve));
    await api.trigger('private-App.Models.Order.5', 'status', { status: 'shipped' });
    assert.deepEqual(await received, { status: 'shipped' });
  });

  it('join(): here() lists the members, joining() and leaving() follow them', async () => {
    const alice = await echo({ user: { user_id: 1, user_info: { id: 1, name: 'Alice' } } });
    const here = waitFor<unknown[]>('here()', (resolve) => alice.join('chat.1').here(resolve));
    assert.deepEqual(await here, [{ id: 1, name: 'Alice' }]);
    const joining = waitFor<unknown>('joining()', (resolve) => alice.join('chat.1').joining(resolve));
    const leaving = waitFor<unknown>('leaving()', (resolve) => alice.join('chat.1').leaving(resolve));

    const bob = await echo({ user: { user_id: 2, user_info: { id: 2, name: 'Bob' } } });
    const bobHere = waitFor<unknown[]>('here() for Bob', (resolve) => bob.join('chat.1').here(resolve));
    const members = (await bobHere) as { id: number }[];
    assert.deepEqual(members.map((member) => member.id).sort(), [1, 2]);
    assert.deepEqual(await joining, { id: 2, name: 'Bob' });

    bob.leave('chat.1');
    assert.deepEqual(await leaving, { id: 2, name: 'Bob' });
    await eventually(async () =>
      assert.deepEqual(await channelInfo(api, 'presence-chat.1', 'user_count'), { occupied: true, user_count: 1 }),
    );
  });

  it('here() works when the channel callback returned true (user_info true)', async () => {
    const client = await echo({ user: { user_id: 'true-user', user_info: true } });
    const here = waitFor<unknown[]>('here()', (resolve) => client.join('truthy').here(resolve));
    assert.deepEqual(await here, [true]);
  });

  it('whisper() reaches listenForWhisper() on other clients, not the sender', async () => {
    const [sender, receiver] = [await echo(), await echo()];
    const senderChannel = sender.private('typing.1');
    const receiverChannel = receiver.private('typing.1');
    await Promise.all([subscribed(senderChannel, 'sender'), subscribed(receiverChannel, 'receiver')]);
    let echoed = false;
    senderChannel.listenForWhisper('typing', () => (echoed = true));
    const received = waitFor<unknown>('the whisper', (resolve) => receiverChannel.listenForWhisper('typing', resolve));
    senderChannel.whisper('typing', { name: 'Ada', typing: true });
    assert.deepEqual(await received, { name: 'Ada', typing: true });
    const done = waitFor<unknown>('the second whisper', (resolve) => receiverChannel.listenForWhisper('stopped', resolve));
    senderChannel.whisper('stopped', {});
    await done;
    assert.equal(echoed, false);
  });

  it('whispers on presence channels too, even without data', async () => {
    const [sender, receiver] = [await echo({ user: { user_id: 'a' } }), await echo({ user: { user_id: 'b' } })];
    await waitFor('sender here()', (resolve) => sender.join('room.9').here(resolve));
    await waitFor('receiver here()', (resolve) => receiver.join('room.9').here(resolve));
    const received = waitFor<unknown>('the whisper', (resolve) => receiver.join('room.9').listenForWhisper('exit', resolve));
    // laravel-echo's types want an object; the point is to send none.
    sender.join('room.9').whisper('exit', undefined as never);
    assert.ok((await received) === undefined || (await received) === null);
  });

  it('notification() receives Laravel broadcast notifications', async () => {
    const client = await echo();
    const channel = client.private('App.Models.User.1');
    await subscribed(channel, 'private-App.Models.User.1');
    const received = waitFor<Record<string, unknown>>('the notification', (resolve) => channel.notification(resolve));
    const payload = { title: 'Invoice paid', id: '8f14e45f-ceea-467f-a8e3-2a2b6b0c9d11', type: 'App\\Notifications\\InvoicePaid' };
    await api.trigger('private-App.Models.User.1', 'Illuminate\\Notifications\\Events\\BroadcastNotificationCreated', payload);
    assert.deepEqual(await received, payload);
  });

  it('socketId() lets the server exclude the sender (toOthers)', async () => {
    const [sender, other] = [await echo(), await echo()];
    const senderChannel = sender.channel('to-others');
    const otherChannel = other.channel('to-others');
    await Promise.all([subscribed(senderChannel, 'sender'), subscribed(otherChannel, 'other')]);
    let senderGotIt = false;
    senderChannel.listen('.Updated', () => (senderGotIt = true));
    const received = waitFor<unknown>('the event', (resolve) => otherChannel.listen('.Updated', resolve));
    await api.trigger('to-others', 'Updated', { v: 1 }, { socket_id: sender.socketId() });
    assert.deepEqual(await received, { v: 1 });
    // Ordering: a later event to everyone reaches the sender after the first would have.
    const later = waitFor('the later event', (resolve) => senderChannel.listen('.Later', resolve));
    await api.trigger('to-others', 'Later', {});
    await later;
    assert.equal(senderGotIt, false);
  });

  it('leave() unsubscribes: the channel is vacated', async () => {
    const client = await echo();
    const channel = client.channel('leave-me');
    await subscribed(channel, 'leave-me');
    assert.deepEqual(await channelInfo(api, 'leave-me'), { occupied: true });
    client.leave('leave-me');
    await eventually(async () => assert.deepEqual(await channelInfo(api, 'leave-me'), { occupied: false }));
  });
});
