/**
 * pusher-js end to end: connection, every channel type with a real
 * authorization handler, server events, client events, user sign-in and
 * reconnection after the server closes with 4200.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { Pusher } from '../helpers/pusher-js.js';
import { apiClient, channelInfo, connectPusherJs, eventually, waitFor, type PusherJsOptions } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, startServer, type StartedServer } from '../helpers/server.js';

type Channel = ReturnType<Pusher['subscribe']>;

/** Resolves when pusher-js reports the subscription (or rejects on a subscription error). */
function subscribed(channel: Channel): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscription to ${channel.name} timed out`)), 5000);
    channel.bind('pusher:subscription_succeeded', (data: unknown) => {
      clearTimeout(timer);
      resolve(data);
    });
    channel.bind('pusher:subscription_error', (error: unknown) => {
      clearTimeout(timer);
      reject(new Error(`subscription error: ${JSON.stringify(error)}`));
    });
  });
}

function nextEvent<T = unknown>(channel: Channel, event: string): Promise<[T, { user_id?: string } | undefined]> {
  return waitFor(`${event} on ${channel.name}`, (resolve) => channel.bind(event, (data: T, metadata?: { user_id?: string }) => resolve([data, metadata])));
}

describe('pusher-js', () => {
  let server: StartedServer;
  let api: ReturnType<typeof apiClient>;
  const clients: Pusher[] = [];
  const connect = async (opts: PusherJsOptions = {}) => {
    const client = await connectPusherJs(server, opts);
    clients.push(client);
    return client;
  };

  serverForSuite({}, {
    started: (started) => { server = started; api = apiClient(started); },
    stopping: () => clients.forEach((client) => client.disconnect()),
  });

  it('connects and gets a socket id', async () => {
    const client = await connect();
    assert.equal(client.connection.state, 'connected');
    assert.match(client.connection.socket_id, /^\d+\.\d+$/);
  });

  it('subscribes to a public channel and receives server events', async () => {
    const client = await connect();
    const channel = client.subscribe('pjs-public');
    await subscribed(channel);
    const received = nextEvent(channel, 'App\\Events\\OrderShipped');
    await api.trigger('pjs-public', 'App\\Events\\OrderShipped', { order: { id: 7 }, path: 'a/b' });
    assert.deepEqual((await received)[0], { order: { id: 7 }, path: 'a/b' });
  });

  it('subscribes to a private channel through the authorization handler', async () => {
    const client = await connect();
    const channel = client.subscribe('private-pjs');
    await subscribed(channel);
    assert.deepEqual(await channelInfo(api, 'private-pjs'), { occupied: true });
    const received = nextEvent(channel, 'secret');
    await api.trigger('private-pjs', 'secret', 'a plain string');
    assert.equal((await received)[0], 'a plain string');
  });

  it('surfaces a bad signature as a 4009 error and does not subscribe', async () => {
    const client = await connect({
      options: {
        channelAuthorization: {
          customHandler: (_params: unknown, callback: (error: Error | null, data: unknown) => void) => callback(null, { auth: `${DEFAULT_APP.key}:${'0'.repeat(64)}` }),
        },
      },
    });
    const error = waitFor<{ data?: { code?: number; message?: string } }>('a pusher:error', (resolve) => client.connection.bind('error', resolve));
    client.subscribe('private-pjs-denied');
    const { data } = await error;
    assert.equal(data?.code, 4009);
    assert.equal(data?.message, 'Connection is unauthorized');
    assert.deepEqual(await channelInfo(api, 'private-pjs-denied'), { occupied: false });
    assert.equal(client.connection.state, 'connected');
  });

  it('joins a presence channel: members, me, member_added and member_removed', async () => {
    const alice = await connect({ user: { user_id: 'alice', user_info: { name: 'Alice' } } });
    const aliceChannel = alice.subscribe('presence-pjs') as Channel & { members: { count: number; me: { id: string; info: unknown }; each(cb: (member: { id: string; info: unknown }) => void): void } };
    await subscribed(aliceChannel);
    assert.equal(aliceChannel.members.count, 1);
    assert.deepEqual(aliceChannel.members.me, { id: 'alice', info: { name: 'Alice' } });

    const added = nextEvent<{ id: string; info: unknown }>(aliceChannel, 'pusher:member_added');
    const bob = await connect({ user: { user_id: 2, user_info: { name: 'Bob' } } });
    const bobChannel = bob.subscribe('presence-pjs') as typeof aliceChannel;
    await subscribed(bobChannel);
    assert.equal(bobChannel.members.count, 2);
    const ids: string[] = [];
    bobChannel.members.each((member) => ids.push(member.id));
    assert.deepEqual(ids.sort(), ['2', 'alice']);
    // member_added carries user_id as the auth endpoint sent it (here an integer).
    assert.deepEqual((await added)[0], { id: 2, info: { name: 'Bob' } });

    const removed = nextEvent<{ id: unknown }>(aliceChannel, 'pusher:member_removed');
    bob.disconnect();
    assert.equal((await removed)[0].id, 2, 'the same user_id JSON as member_added');
    assert.equal(aliceChannel.members.count, 1);
  });

  it('decrypts events on a private-encrypted channel', async () => {
    const client = await connect();
    const channel = client.subscribe('private-encrypted-pjs');
    await subscribed(channel);
    const received = nextEvent(channel, 'sealed');
    await api.trigger('private-encrypted-pjs', 'sealed', { secret: 'only for you' });
    assert.deepEqual((await received)[0], { secret: 'only for you' });
  });

  it('whispers between two clients on a private channel, not back to the sender', async () => {
    const [sender, receiver] = [await connect(), await connect()];
    const senderChannel = sender.subscribe('private-pjs-chat');
    const receiverChannel = receiver.subscribe('private-pjs-chat');
    await Promise.all([subscribed(senderChannel), subscribed(receiverChannel)]);
    let echoed = false;
    senderChannel.bind('client-typing', () => (echoed = true));
    const received = nextEvent(receiverChannel, 'client-typing');
    assert.equal(senderChannel.trigger('client-typing', { name: 'Ada' }), true);
    assert.deepEqual((await received)[0], { name: 'Ada' });
    // A second event proves ordering: by the time it arrives, an echo of the first would have too.
    const second = nextEvent(receiverChannel, 'client-done');
    senderChannel.trigger('client-done', {});
    await second;
    assert.equal(echoed, false);
  });

  it('passes the sender user_id as metadata on presence whispers', async () => {
    const [sender, receiver] = [await connect({ user: { user_id: 'w1' } }), await connect({ user: { user_id: 'w2' } })];
    const senderChannel = sender.subscribe('presence-pjs-whisper');
    await subscribed(senderChannel);
    const receiverChannel = receiver.subscribe('presence-pjs-whisper');
    await subscribed(receiverChannel);
    const received = nextEvent(receiverChannel, 'client-wave');
    senderChannel.trigger('client-wave', { hi: true });
    const [data, metadata] = await received;
    assert.deepEqual(data, { hi: true });
    assert.equal(metadata?.user_id, 'w1');
  });

  it('signs in and receives events sent to the user', async () => {
    const client = await connect({ userData: { id: 'pjs-user', user_info: { name: 'Signed' } } });
    client.signin();
    await eventually(async () => assert.equal((await channelInfo(api, '#server-to-user-pjs-user')).occupied, true), 5000);
    const received = waitFor<unknown>('a user event', (resolve) => client.user.bind('notice', resolve));
    await api.sendToUser('pjs-user', 'notice', { text: 'hello you' });
    assert.deepEqual(await received, { text: 'hello you' });
  });

  it('reconnects at once after the server closes with 4200 (to another server behind the same address), and resubscribes', async () => {
    // A TCP forwarder stands in for a load balancer: when the first server shuts down, the next
    // connection reaches the second one.
    const [first, second] = await Promise.all([startServer(), startServer()]);
    let upstream = first.port;
    const sockets = new Set<Socket>();
    const proxy = createNetServer((socket) => {
      const target = connectTcp(upstream, first.host);
      for (const side of [socket, target]) {
        sockets.add(side);
        side.on('error', () => undefined);
        side.on('close', () => sockets.delete(side));
      }
      socket.pipe(target).pipe(socket);
      socket.on('close', () => target.destroy());
      target.on('close', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, first.host, resolve));
    const proxyPort = (proxy.address() as AddressInfo).port;
    const client = await connectPusherJs({ ...first, port: proxyPort });
    try {
      const channel = client.subscribe('pjs-reconnect');
      await subscribed(channel);
      const oldSocketId = client.connection.socket_id;

      const states: string[] = [];
      client.connection.bind('state_change', (change: { current: string }) => states.push(change.current));
      const shutdownCode = waitFor<number>('the 4200 error frame', (resolve) =>
        client.connection.bind('message', (message: { event: string; data?: { code?: number } }) => {
          if (message.event === 'pusher:error') resolve(message.data?.code ?? 0);
        }),
      );
      const reconnected = waitFor('pusher-js to reconnect', (resolve) => client.connection.bind('connected', () => resolve(undefined)), 5000);
      upstream = second.port;
      // A graceful shutdown of the server the client is on.
      const stopped = first.stop();
      assert.equal(await shutdownCode, 4200);
      await reconnected;
      assert.equal(await stopped, 0);
      assert.deepEqual(states.slice(0, 2), ['connecting', 'connected'], `reconnected at once: ${states.join(' → ')}`);
      assert.notEqual(client.connection.socket_id, oldSocketId);

      const secondApi = apiClient(second);
      await eventually(async () => assert.equal((await channelInfo(secondApi, 'pjs-reconnect')).occupied, true), 5000);
      const received = nextEvent(channel, 'after-restart');
      await secondApi.trigger('pjs-reconnect', 'after-restart', { n: 2 });
      assert.deepEqual((await received)[0], { n: 2 });
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
