/**
 * Presence users, terminate_connections and server-to-user delivery with
 * hand-signed requests and raw WebSocket clients (reference/protocol.md §1.13,
 * §3.6, §3.7; reverb.md §7.3, §7.9).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barrier, connectClient, eventually, get, join, post, signin, withClients } from '../helpers/http.js';
import { serverForSuite, type StartedServer } from '../helpers/server.js';

const TERMINATED = '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"You got disconnected by the app.\\"}"}';

describe('GET /apps/{id}/channels/{name}/users', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('answers 400 for a channel that is not a presence channel', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'users-public');
      for (const channel of ['users-public', 'private-users', 'users-never-used']) {
        const response = await get(server, `channels/${channel}/users`);
        assert.equal(response.status, 400, channel);
        assert.match((response.json() as { error: string }).error, /presence/);
      }
    });
  });

  it('answers 200 {"users":[]} for a presence channel nobody is in', async () => {
    const response = await get(server, 'channels/presence-users-empty/users');
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"users":[]}');
  });

  it('returns the ids as the client sent them, without user_info (Content-Length 38)', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-users-ids', { user_id: 1, user_info: { name: 'One' } });
      await join(b!, 'presence-users-ids', { user_id: 2, user_info: { name: 'Two' } });
      await join(c!, 'presence-users-ids', { user_id: 3 });
      const response = await get(server, 'channels/presence-users-ids/users');
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"users":[{"id":1},{"id":2},{"id":3}]}');
      assert.equal(response.headers.get('content-length'), '38');
    });
  });

  it('lists each user once however many connections it has', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-users-unique', { user_id: 3 });
      await join(b!, 'presence-users-unique', { user_id: 2 });
      await join(c!, 'presence-users-unique', { user_id: 3 });
      assert.equal((await get(server, 'channels/presence-users-unique/users')).body, '{"users":[{"id":3},{"id":2}]}');
    });
  });

  it('treats 7 and "7" as the same user and keeps string ids as strings', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-users-types', { user_id: '7' });
      await join(b!, 'presence-users-types', { user_id: 7 });
      await join(c!, 'presence-users-types', { user_id: 'ada@example.com' });
      assert.equal((await get(server, 'channels/presence-users-types/users')).body, '{"users":[{"id":"7"},{"id":"ada@example.com"}]}');
    });
  });

  it('drops a user once its last connection leaves', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-users-leave', { user_id: 'a' });
      await join(b!, 'presence-users-leave', { user_id: 'a' });
      await join(c!, 'presence-users-leave', { user_id: 'c' });
      a!.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-users-leave' } });
      await barrier(a!);
      assert.equal((await get(server, 'channels/presence-users-leave/users')).body, '{"users":[{"id":"a"},{"id":"c"}]}');
      b!.close();
      await eventually(async () => assert.equal((await get(server, 'channels/presence-users-leave/users')).body, '{"users":[{"id":"c"}]}'));
    });
  });
});

describe('POST /apps/{id}/users/{user}/terminate_connections', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('answers 404 for the route Reverb tests as missing', async () => {
    const response = await post(server, 'channels/users/not-a-user/terminate_connections', {});
    assert.equal(response.status, 404);
    assert.equal(response.body, '{"error":"Not found."}');
  });

  it('answers {} (Content-Length 2) for a user without connections', async () => {
    const response = await post(server, 'users/nobody/terminate_connections', {});
    assert.equal(response.status, 200);
    assert.equal(response.body, '{}');
    assert.equal(response.headers.get('content-length'), '2');
  });

  it("closes every presence connection of the user with a 4009 frame and close code; others stay", async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([first, second, other]) => {
      await join(first!, 'presence-terminate', { user_id: 456 });
      await join(first!, 'terminate-public');
      await join(second!, 'presence-terminate', { user_id: 456 });
      await join(other!, 'presence-terminate', { user_id: 789 });
      await join(other!, 'terminate-public');
      await first!.nextEvent('pusher_internal:member_added');
      await second!.nextEvent('pusher_internal:member_added');

      const response = await post(server, 'users/456/terminate_connections', {});
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      for (const client of [first!, second!]) {
        assert.equal(await client.nextRaw(), TERMINATED);
        assert.equal((await client.waitForClose()).code, 4009);
      }
      const removed = await other!.nextEvent('pusher_internal:member_removed');
      assert.equal(removed.data, '{"user_id":456}');
      await barrier(other!);
      assert.equal((await get(server, 'channels/presence-terminate/users')).body, '{"users":[{"id":789}]}');
      assert.equal((await get(server, 'channels/terminate-public', { info: 'subscription_count' })).body, '{"occupied":true,"subscription_count":1}');
      // The other user is untouched and still receives events.
      await post(server, 'events', { name: 'still-here', data: '{}', channel: 'terminate-public' });
      assert.equal((await other!.nextEvent('still-here')).channel, 'terminate-public');
      assert.equal(other!.closeCode, undefined);
    });
  });

  it('finds the user through any of its presence subscriptions, not only the first channel', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'terminate-first-public');
      await join(client!, 'private-terminate-second');
      await join(client!, 'presence-terminate-third', { user_id: 'u-1' });
      assert.equal((await post(server, 'users/u-1/terminate_connections', {})).status, 200);
      assert.equal(await client!.nextRaw(), TERMINATED);
      assert.equal((await client!.waitForClose()).code, 4009);
    });
  });

  it('closes a connection signed in with pusher:signin that joined no channel', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([user, stranger]) => {
      await signin(user!, { id: '42', user_info: { name: 'Ada' } });
      await signin(stranger!, { id: '43' });
      assert.equal((await post(server, 'users/42/terminate_connections', {})).status, 200);
      assert.equal(await user!.nextRaw(), TERMINATED);
      assert.equal((await user!.waitForClose()).code, 4009);
      await barrier(stranger!);
      assert.equal(stranger!.closeCode, undefined);
    });
  });

  it('matches user ids exactly as strings (42 is not 420 or 4)', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'presence-terminate-exact', { user_id: 420 });
      await signin(b!, { id: '4' });
      assert.equal((await post(server, 'users/42/terminate_connections', {})).status, 200);
      await barrier(a!);
      await barrier(b!);
      assert.equal(a!.closeCode, undefined);
      assert.equal(b!.closeCode, undefined);
    });
  });

  it('decodes a percent-encoded user id from the path', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'presence-terminate-encoded', { user_id: 'ada@example.com' });
      const response = await post(server, `users/${encodeURIComponent('ada@example.com')}/terminate_connections`, {});
      assert.equal(response.status, 200, response.body);
      assert.equal((await client!.waitForClose()).code, 4009);
    });
  });
});

describe('server-to-user events (#server-to-user-<id>)', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('delivers an event on #server-to-user-<id> to the signed-in user that subscribed to it', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([user, other]) => {
      await signin(user!, { id: '42' });
      await signin(other!, { id: '43' });
      await join(user!, '#server-to-user-42');
      await join(other!, '#server-to-user-43');
      const response = await post(server, 'events', { name: 'private-note', data: '{"a":1}', channels: ['#server-to-user-42'] });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      assert.equal(await user!.nextRaw(), '{"event":"private-note","data":"{\\"a\\":1}","channel":"#server-to-user-42"}');
      await other!.expectSilence(200);
    });
  });

  it('does not let another user subscribe to someone else\'s server-to-user channel', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([intruder, anonymous]) => {
      await signin(intruder!, { id: '43' });
      const reply = await intruder!.subscribe('#server-to-user-42');
      assert.equal(reply.event, 'pusher:error');
      const anonymousReply = await anonymous!.subscribe('#server-to-user-42');
      assert.equal(anonymousReply.event, 'pusher:error');
      assert.equal((await post(server, 'events', { name: 'x', data: '{}', channel: '#server-to-user-42' })).status, 200);
      await intruder!.expectSilence(200);
      await anonymous!.expectSilence(100);
    });
  });
});
