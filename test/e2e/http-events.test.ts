/**
 * POST /apps/{id}/events with hand-signed requests: exact response bytes,
 * delivery to real WebSocket subscribers, socket_id exclusion and info
 * (reference/protocol.md §3.2, reverb.md §7.6).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectClient, join, post, withClients } from '../helpers/http.js';
import { serverForSuite, type StartedServer } from '../helpers/server.js';

describe('POST /apps/{id}/events', () => {
  let server: StartedServer;
  serverForSuite({ server: { max_request_size: 262_144 } }, { started: (started) => (server = started) });

  it('triggers on a single `channel` and answers exactly {} with JSON headers', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'events-single');
      const response = await post(server, 'events', { name: 'my-event', data: '{"a":1}', channel: 'events-single' });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(response.headers.get('content-length'), '2');
      assert.equal(await client!.nextRaw(), '{"event":"my-event","data":"{\\"a\\":1}","channel":"events-single"}');
    });
  });

  it('triggers on several `channels`, one frame per channel subscriber', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([one, two, both]) => {
      await join(one!, 'events-multi-1');
      await join(two!, 'events-multi-2');
      await join(both!, 'events-multi-1');
      await join(both!, 'events-multi-2');
      const response = await post(server, 'events', { name: 'multi', data: 'x', channels: ['events-multi-1', 'events-multi-2'] });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      assert.equal((await one!.next()).channel, 'events-multi-1');
      assert.equal((await two!.next()).channel, 'events-multi-2');
      const received = [await both!.next(), await both!.next()].map((frame) => frame.channel).sort();
      assert.deepEqual(received, ['events-multi-1', 'events-multi-2']);
      await one!.expectSilence(200);
    });
  });

  it('delivers once to a channel listed twice in `channels`', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'events-twice');
      const response = await post(server, 'events', { name: 'e', data: '1', channels: ['events-twice', 'events-twice'], info: 'subscription_count' });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"channels":{"events-twice":{"subscription_count":1}}}');
      assert.equal((await client!.next()).data, '1');
      await client!.expectSilence(200);
    });
  });

  it('prefers `channels` when both `channels` and `channel` are sent', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([listed, single]) => {
      await join(listed!, 'events-listed');
      await join(single!, 'events-single-ignored');
      const response = await post(server, 'events', { name: 'e', data: 'd', channels: ['events-listed'], channel: 'events-single-ignored' });
      assert.equal(response.status, 200);
      assert.equal((await listed!.next()).channel, 'events-listed');
      await single!.expectSilence(200);
    });
  });

  it('forwards data verbatim: plain strings, empty strings and UTF-8', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'events-verbatim');
      for (const data of ['plain string', '', '{"name":"Zoë ✓ 😀"}', '  {"spaced" : true }  ']) {
        assert.equal((await post(server, 'events', { name: 'v', data, channel: 'events-verbatim' })).status, 200);
        const raw = await client!.nextRaw();
        assert.equal(raw, `{"event":"v","data":${JSON.stringify(data)},"channel":"events-verbatim"}`);
      }
    });
  });

  it('does not deliver to the connection named by socket_id, but to everyone else', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([sender, other]) => {
      await join(sender!, 'events-except');
      await join(other!, 'events-except');
      const response = await post(server, 'events', { name: 'e', data: '1', channel: 'events-except', socket_id: sender!.socketId });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      assert.equal((await other!.next()).data, '1');
      await sender!.expectSilence(300);
      // The excluded connection is still subscribed: the next event reaches it.
      await post(server, 'events', { name: 'e', data: '2', channel: 'events-except' });
      assert.equal((await sender!.next()).data, '2');
      assert.equal((await other!.next()).data, '2');
    });
  });

  it('excludes the socket on every channel of a multi-channel trigger', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([sender, other]) => {
      for (const client of [sender!, other!]) {
        await join(client, 'events-except-a');
        await join(client, 'events-except-b');
      }
      await post(server, 'events', { name: 'e', data: 'x', channels: ['events-except-a', 'events-except-b'], socket_id: sender!.socketId });
      const channels = [await other!.next(), await other!.next()].map((frame) => frame.channel).sort();
      assert.deepEqual(channels, ['events-except-a', 'events-except-b']);
      await sender!.expectSilence(300);
    });
  });

  it('does not fail when socket_id names no connection', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'events-unknown-socket');
      for (const socketId of ['invalid-socket-id', '1234.5678']) {
        const response = await post(server, 'events', { name: 'e', data: socketId, channel: 'events-unknown-socket', socket_id: socketId });
        assert.equal(response.status, 200);
        assert.equal(response.body, '{}');
        assert.equal((await client!.next()).data, socketId);
      }
    });
  });

  it('returns user_count for presence channels only when info=user_count', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([member, watcher]) => {
      await join(member!, 'presence-events-one', { user_id: 1, user_info: { name: 'Ada' } });
      await join(watcher!, 'events-two');
      const response = await post(server, 'events', {
        name: 'e',
        data: '{}',
        channels: ['presence-events-one', 'events-two'],
        info: 'user_count',
      });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"channels":{"presence-events-one":{"user_count":1},"events-two":{}}}');
    });
  });

  it('returns subscription_count for every channel type when info=subscription_count', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-events-sc', { user_id: '7' });
      await join(b!, 'presence-events-sc', { user_id: '7' });
      await join(c!, 'events-sc');
      const response = await post(server, 'events', {
        name: 'e',
        data: '{}',
        channels: ['presence-events-sc', 'events-sc'],
        info: 'subscription_count',
      });
      assert.equal(response.body, '{"channels":{"presence-events-sc":{"subscription_count":2},"events-sc":{"subscription_count":1}}}');
    });
  });

  it('returns both counts, after delivery, for info=user_count,subscription_count', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-events-both', { user_id: 1 });
      await join(b!, 'presence-events-both', { user_id: 1 });
      await join(c!, 'presence-events-both', { user_id: 2 });
      await a!.nextEvent('pusher_internal:member_added');
      const response = await post(server, 'events', {
        name: 'e',
        data: '{}',
        channels: ['presence-events-both', 'events-nobody-here'],
        info: 'user_count,subscription_count',
      });
      assert.equal(
        response.body,
        '{"channels":{"presence-events-both":{"user_count":2,"subscription_count":3},"events-nobody-here":{"subscription_count":0}}}',
      );
      for (const client of [a!, b!, c!]) assert.equal((await client.nextEvent('e')).channel, 'presence-events-both');
    });
  });

  it('ignores unknown info attributes', async () => {
    const response = await post(server, 'events', { name: 'e', data: 'd', channel: 'events-info-unknown', info: 'bogus' });
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"channels":{"events-info-unknown":{}}}');
  });

  it('accepts a 150 KB body when max_request_size allows it', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'events-large');
      const data = JSON.stringify({ blob: 'x'.repeat(150_000) });
      const response = await post(server, 'events', { name: 'large', data, channel: 'events-large' });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{}');
      const frame = await client!.next(5000);
      assert.equal(frame.data, data);
    });
  });

  it('accepts event names and channels at the limits (200 and 164 characters)', async () => {
    const name = 'e'.repeat(200);
    const channel = `private-${'c'.repeat(156)}`;
    assert.equal(channel.length, 164);
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, channel);
      const response = await post(server, 'events', { name, data: 'd', channel });
      assert.equal(response.status, 200);
      const frame = await client!.next();
      assert.equal(frame.event, name);
      assert.equal(frame.channel, channel);
    });
  });
});
