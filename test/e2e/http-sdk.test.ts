/**
 * The official Node server SDK (`pusher` 5.3.x) against the server, unchanged,
 * with pusher-js clients as subscribers: every SDK call a backend makes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectPusherJs, waitFor, type PusherJsOptions } from '../helpers/clients.js';
import { eventually, sdk, sdkError } from '../helpers/http.js';
import type { Channel, Pusher as PusherJs } from '../helpers/pusher-js.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';

/** Collects the events a pusher-js channel receives, so tests can await them in order. */
class Inbox {
  readonly received: { event: string; data: unknown }[] = [];
  private waiters: (() => void)[] = [];

  constructor(channel: Channel | { bind_global(callback: (event: string, data: unknown) => void): unknown }) {
    channel.bind_global((event: string, data: unknown) => {
      if (event.startsWith('pusher:') || event.startsWith('pusher_internal:')) return;
      this.received.push({ event, data });
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  async next(timeoutMs = 3000): Promise<{ event: string; data: unknown }> {
    if (this.received.length === 0) {
      await waitFor('an event', (resolve) => this.waiters.push(() => resolve(undefined)), timeoutMs);
    }
    return this.received.shift()!;
  }
}

describe('the pusher server SDK', () => {
  let server: StartedServer;
  const clients: PusherJs[] = [];

  serverForSuite({}, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.disconnect()),
  });

  async function client(options: PusherJsOptions = {}): Promise<PusherJs> {
    const connected = await connectPusherJs(server, options);
    clients.push(connected);
    return connected;
  }

  async function subscribed(pusher: PusherJs, name: string): Promise<Inbox> {
    const channel = pusher.subscribe(name);
    const inbox = new Inbox(channel);
    await waitFor(`subscription to ${name}`, (resolve) => {
      channel.bind('pusher:subscription_succeeded', () => resolve(undefined));
      channel.bind('pusher:subscription_error', (error: unknown) => assert.fail(`subscription to ${name} failed: ${JSON.stringify(error)}`));
    });
    return inbox;
  }

  it('trigger: one channel, data JSON-encoded by the SDK', async () => {
    const inbox = await subscribed(await client(), 'sdk-one');
    const response = await sdk(server).trigger('sdk-one', 'my-event', { message: 'hello', list: [1, 2] });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {});
    assert.deepEqual(await inbox.next(), { event: 'my-event', data: { message: 'hello', list: [1, 2] } });
  });

  it('trigger: several channels in one call', async () => {
    const pusher = await client();
    const first = await subscribed(pusher, 'sdk-many-1');
    const second = await subscribed(pusher, 'sdk-many-2');
    const response = await sdk(server).trigger(['sdk-many-1', 'sdk-many-2', 'sdk-many-3'], 'fanout', 'plain text');
    assert.equal(response.status, 200);
    assert.deepEqual(await first.next(), { event: 'fanout', data: 'plain text' });
    assert.deepEqual(await second.next(), { event: 'fanout', data: 'plain text' });
  });

  it('trigger: socket_id excludes that connection only', async () => {
    const sender = await client();
    const other = await client();
    const senderInbox = await subscribed(sender, 'sdk-except');
    const otherInbox = await subscribed(other, 'sdk-except');
    const api = sdk(server);
    await api.trigger('sdk-except', 'not-for-sender', { n: 1 }, { socket_id: sender.connection.socket_id });
    await api.trigger('sdk-except', 'for-everyone', { n: 2 });
    assert.equal((await otherInbox.next()).event, 'not-for-sender');
    assert.equal((await otherInbox.next()).event, 'for-everyone');
    // Events on one channel arrive in order: the first the sender sees is the second one.
    assert.equal((await senderInbox.next()).event, 'for-everyone');
  });

  it('trigger: info=user_count,subscription_count', async () => {
    await subscribed(await client({ user: { user_id: 'u1', user_info: { name: 'One' } } }), 'presence-sdk-info');
    await subscribed(await client({ user: { user_id: 'u1', user_info: { name: 'One' } } }), 'presence-sdk-info');
    await subscribed(await client(), 'sdk-info');
    const response = await sdk(server).trigger(['presence-sdk-info', 'sdk-info'], 'e', {}, { info: 'user_count,subscription_count' });
    assert.deepEqual(await response.json(), {
      channels: { 'presence-sdk-info': { user_count: 1, subscription_count: 2 }, 'sdk-info': { subscription_count: 1 } },
    });
  });

  it('triggerBatch: in-order delivery, per-item socket_id and info', async () => {
    const a = await client();
    const b = await client();
    const aInbox = await subscribed(a, 'sdk-batch');
    const bInbox = await subscribed(b, 'sdk-batch');
    const response = await sdk(server).triggerBatch([
      { channel: 'sdk-batch', name: 'b1', data: { i: 1 } },
      { channel: 'sdk-batch', name: 'b2', data: { i: 2 }, socket_id: a.connection.socket_id },
      { channel: 'sdk-batch', name: 'b3', data: 'three', info: 'subscription_count' },
    ]);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { batch: [{}, {}, { subscription_count: 2 }] });
    assert.deepEqual([await bInbox.next(), await bInbox.next(), await bInbox.next()], [
      { event: 'b1', data: { i: 1 } },
      { event: 'b2', data: { i: 2 } },
      { event: 'b3', data: 'three' },
    ]);
    assert.deepEqual([(await aInbox.next()).event, (await aInbox.next()).event], ['b1', 'b3']);
  });

  it('get /channels with filter_by_prefix and info=user_count', async () => {
    await subscribed(await client({ user: { user_id: 'lister' } }), 'presence-sdk-list');
    await subscribed(await client(), 'sdk-list');
    const api = sdk(server);
    const presence = await api.get({ path: '/channels', params: { filter_by_prefix: 'presence-sdk-list', info: 'user_count' } });
    assert.deepEqual(await presence.json(), { channels: { 'presence-sdk-list': { user_count: 1 } } });
    const all = (await (await api.get({ path: '/channels' })).json()) as { channels: Record<string, unknown> };
    assert.deepEqual(all.channels['sdk-list'], {});
    const none = await api.get({ path: '/channels', params: { filter_by_prefix: 'nothing-' } });
    assert.deepEqual(await none.json(), { channels: {} });
  });

  it('get /channels/{name} and /channels/{name}/users', async () => {
    await subscribed(await client({ user: { user_id: 'ada', user_info: { name: 'Ada' } } }), 'presence-sdk-room');
    await subscribed(await client({ user: { user_id: 'bob' } }), 'presence-sdk-room');
    const api = sdk(server);
    const info = await api.get({ path: '/channels/presence-sdk-room', params: { info: 'user_count,subscription_count' } });
    assert.deepEqual(await info.json(), { occupied: true, user_count: 2, subscription_count: 2 });
    const empty = await api.get({ path: '/channels/sdk-nobody' });
    assert.deepEqual(await empty.json(), { occupied: false });
    const users = await api.get({ path: '/channels/presence-sdk-room/users' });
    assert.deepEqual(await users.json(), { users: [{ id: 'ada' }, { id: 'bob' }] });
    const notPresence = await sdkError(api.get({ path: '/channels/sdk-list/users' }));
    assert.equal(notPresence.status, 400);
  });

  it('terminateUserConnections: the user\'s presence and signed-in connections get 4009 and stay down; others unaffected', async () => {
    const inPresence = await client({ user: { user_id: '77', user_info: { name: 'Leaving' } } });
    await subscribed(inPresence, 'presence-sdk-terminate');
    const signedIn = await client({ userData: { id: '77' } });
    signedIn.signin();
    await (signedIn.user as unknown as { signinDonePromise: Promise<void> }).signinDonePromise;
    const bystander = await client({ user: { user_id: '78' } });
    const bystanderInbox = await subscribed(bystander, 'presence-sdk-terminate');

    const seen = [inPresence, signedIn].map((pusher) => {
      const errors: { type: string; data?: { code?: number } }[] = [];
      const states: string[] = [];
      pusher.connection.bind('error', (error: { type: string; data?: { code?: number } }) => errors.push(error));
      pusher.connection.bind('state_change', ({ current }: { current: string }) => states.push(current));
      return { pusher, errors, states };
    });

    const response = await sdk(server).terminateUserConnections('77');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {});

    for (const { pusher, errors, states } of seen) {
      await waitFor('pusher-js to disconnect', (resolve) => {
        if (pusher.connection.state === 'disconnected') resolve(undefined);
        pusher.connection.bind('state_change', ({ current }: { current: string }) => current === 'disconnected' && resolve(undefined));
      });
      // The pusher:error frame and the close code both say 4009.
      assert.deepEqual(
        errors.filter((error) => error.type === 'PusherError').map((error) => error.data?.code),
        [4009, 4009],
      );
      // 4009 means "refused": pusher-js schedules no reconnection.
      assert.equal((pusher.connection as unknown as { retryTimer?: unknown }).retryTimer ?? null, null);
      assert.ok(!states.includes('connecting'), states.join());
    }
    assert.equal(bystander.connection.state, 'connected');
    await sdk(server).trigger('presence-sdk-terminate', 'after', { still: 'here' });
    assert.deepEqual(await bystanderInbox.next(), { event: 'after', data: { still: 'here' } });
    await eventually(async () => {
      const users = await sdk(server).get({ path: '/channels/presence-sdk-terminate/users' });
      assert.deepEqual(await users.json(), { users: [{ id: '78' }] });
    });
    for (const { pusher, states } of seen) {
      assert.equal(pusher.connection.state, 'disconnected');
      assert.ok(!states.includes('connecting'), states.join());
    }
  });

  it('sendToUser: delivered to the signed-in pusher-js user, not to others', async () => {
    const receiver = await client({ userData: { id: '42', user_info: { name: 'Ada' } } });
    const other = await client({ userData: { id: '43' } });
    for (const pusher of [receiver, other]) {
      pusher.signin();
      await (pusher.user as unknown as { signinDonePromise: Promise<void> }).signinDonePromise;
    }
    const serverToUser = (pusher: PusherJs) => (pusher.user as unknown as { serverToUserChannel: Channel }).serverToUserChannel;
    for (const pusher of [receiver, other]) {
      const channel = serverToUser(pusher);
      if (!channel.subscribed) await waitFor('#server-to-user subscription', (resolve) => channel.bind('pusher:subscription_succeeded', () => resolve(undefined)));
    }
    const receiverInbox = new Inbox(pusher_user(receiver));
    const otherInbox = new Inbox(pusher_user(other));

    const response = await sdk(server).sendToUser('42', 'private-note', { text: 'for Ada' });
    assert.equal(response.status, 200);
    await sdk(server).sendToUser('43', 'marker', {});
    assert.deepEqual(await receiverInbox.next(), { event: 'private-note', data: { text: 'for Ada' } });
    // Bob's first event is his own marker: Ada's note never reached him.
    assert.deepEqual(await otherInbox.next(), { event: 'marker', data: {} });
  });

  it('get /connections', async () => {
    const api = sdk(server);
    const before = ((await (await api.get({ path: '/connections' })).json()) as { connections: number }).connections;
    const extra = await client();
    assert.ok(extra.connection.socket_id);
    await eventually(async () => {
      const after = (await (await api.get({ path: '/connections' })).json()) as { connections: number };
      assert.equal(after.connections, before + 1);
    });
  });

  it('GET /up answers {"health":"OK"} without a signature', async () => {
    const response = await fetch(`${server.url}/up`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{"health":"OK"}');
  });

  it('reports API errors as RequestError with the status and the JSON message', async () => {
    const wrongSecret = sdk(server, { ...DEFAULT_APP, secret: 'wrong' });
    const unauthorized = await sdkError(wrongSecret.trigger('sdk-x', 'e', {}));
    assert.equal(unauthorized.status, 401);
    assert.match((JSON.parse(unauthorized.body) as { error: string }).error, /signature/i);
    const unknownApp = await sdkError(sdk(server, { ...DEFAULT_APP, app_id: '999' }).trigger('sdk-x', 'e', {}));
    assert.equal(unknownApp.status, 404);
    assert.equal(unknownApp.body, '{"error":"No matching application for ID [999]."}');
    const tooMany = await sdkError(sdk(server).triggerBatch(Array.from({ length: 11 }, () => ({ channel: 'sdk-x', name: 'e', data: {} }))));
    assert.equal(tooMany.status, 400);
  });
});

/** pusher-js routes server-to-user events to `pusher.user`, which has bind_global. */
function pusher_user(pusher: PusherJs): { bind_global(callback: (event: string, data: unknown) => void): unknown } {
  return pusher.user as unknown as { bind_global(callback: (event: string, data: unknown) => void): unknown };
}
