/**
 * GET /apps/{id}/channels, /channels/{name} and /connections with hand-signed
 * requests and exact bytes (reference/protocol.md §3.4, §3.5, §3.8;
 * reverb.md §7.2, §7.4, §7.5).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barrier, connectClient, eventually, get, join, post, withClients } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';

/** A second app: its channels and connections are touched by no other test. */
const QUIET_APP: TestApp = { ...DEFAULT_APP, app_id: '654321', key: 'reverb-key-2', secret: 'reverb-secret-2' };

describe('GET /apps/{id}/channels', () => {
  let server: StartedServer;
  serverForSuite({ apps: [DEFAULT_APP, QUIET_APP] }, { started: (started) => (server = started) });

  it('answers {"channels":{}} (an object, never []) when nothing is occupied', async () => {
    const response = await get(server, 'channels');
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"channels":{}}');
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal((await get(server, 'channels', { filter_by_prefix: 'presence-', info: 'user_count' })).body, '{"channels":{}}');
  });

  it('lists every occupied channel with {} attributes when no info is requested', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'test-channel-one');
      await join(b!, 'test-channel-two');
      const response = await get(server, 'channels');
      assert.equal(response.body, '{"channels":{"test-channel-one":{},"test-channel-two":{}}}');
    });
  });

  it('lists only occupied channels: an unsubscribed channel disappears', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'list-occupied-one');
      await join(b!, 'list-occupied-two');
      a!.send({ event: 'pusher:unsubscribe', data: { channel: 'list-occupied-one' } });
      await barrier(a!);
      const response = await get(server, 'channels', { filter_by_prefix: 'list-occupied-' });
      assert.equal(response.body, '{"channels":{"list-occupied-two":{}}}');
    });
  });

  it('returns user_count for presence channels with info=user_count (Content-Length 81)', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'test-channel-one');
      await join(b!, 'presence-test-channel-two', { user_id: 1, user_info: { name: 'Ada' } });
      const response = await eventually(async () => {
        const result = await get(server, 'channels', { info: 'user_count' });
        assert.equal(result.body, '{"channels":{"test-channel-one":{},"presence-test-channel-two":{"user_count":1}}}');
        return result;
      });
      assert.equal(response.headers.get('content-length'), '81');
    });
  });

  it('filters by prefix and reports subscription_count for every channel type', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'presence-filter-a', { user_id: 1 });
      await join(b!, 'presence-filter-a', { user_id: 1 });
      await join(a!, 'presence-filter-b', { user_id: 2 });
      await join(a!, 'filter-public');
      const presence = await get(server, 'channels', { filter_by_prefix: 'presence-filter-', info: 'user_count,subscription_count' });
      assert.equal(
        presence.body,
        '{"channels":{"presence-filter-a":{"user_count":1,"subscription_count":2},"presence-filter-b":{"user_count":1,"subscription_count":1}}}',
      );
      const publicOnly = await get(server, 'channels', { filter_by_prefix: 'filter-', info: 'subscription_count,user_count' });
      assert.equal(publicOnly.body, '{"channels":{"filter-public":{"subscription_count":1}}}');
      const none = await get(server, 'channels', { filter_by_prefix: 'no-such-prefix-' });
      assert.equal(none.body, '{"channels":{}}');
    });
  });

  it('keeps the apps apart', async () => {
    await withClients([connectClient(server, QUIET_APP.key)], async ([client]) => {
      await join(client!, 'quiet-only', undefined, QUIET_APP);
      assert.equal((await get(server, 'channels', { filter_by_prefix: 'quiet-' }, { app: QUIET_APP })).body, '{"channels":{"quiet-only":{}}}');
      assert.equal((await get(server, 'channels', { filter_by_prefix: 'quiet-' })).body, '{"channels":{}}');
    });
  });
});

describe('GET /apps/{id}/channels/{name}', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('answers {"occupied":false} for a channel nobody is subscribed to', async () => {
    assert.equal((await get(server, 'channels/nobody-here')).body, '{"occupied":false}');
    const withInfo = await get(server, 'channels/presence-nobody-here', { info: 'user_count,subscription_count' });
    assert.equal(withInfo.status, 200);
    assert.equal(withInfo.body, '{"occupied":false}');
  });

  it('returns occupied and subscription_count (Content-Length 40)', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'show-public');
      await join(b!, 'show-public');
      const response = await get(server, 'channels/show-public', { info: 'user_count,subscription_count,cache' });
      assert.equal(response.body, '{"occupied":true,"subscription_count":2}');
      assert.equal(response.headers.get('content-length'), '40');
    });
  });

  it('returns only the requested attributes', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'show-only');
      assert.equal((await get(server, 'channels/show-only')).body, '{"occupied":true}');
      assert.equal((await get(server, 'channels/show-only', { info: 'cache' })).body, '{"occupied":true}');
      assert.equal((await get(server, 'channels/show-only', { info: 'subscription_count,user_count' })).body, '{"occupied":true,"subscription_count":1}');
    });
  });

  it('returns user_count and subscription_count for presence channels', async () => {
    await withClients([connectClient(server), connectClient(server), connectClient(server)], async ([a, b, c]) => {
      await join(a!, 'presence-show', { user_id: 123, user_info: { name: 'Ada' } });
      await join(b!, 'presence-show', { user_id: 123, user_info: { name: 'Ada' } });
      await join(c!, 'presence-show', { user_id: '456' });
      assert.equal((await get(server, 'channels/presence-show', { info: 'user_count' })).body, '{"occupied":true,"user_count":2}');
      assert.equal(
        (await get(server, 'channels/presence-show', { info: 'user_count,subscription_count' })).body,
        '{"occupied":true,"user_count":2,"subscription_count":3}',
      );
    });
  });

  it('returns the cached event of a cache channel with info=cache', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'cache-show');
      await client!.nextEvent('pusher:cache_miss');
      assert.equal((await get(server, 'channels/cache-show', { info: 'cache' })).body, '{"occupied":true}');
      assert.equal((await post(server, 'events', { name: 'e', data: '{"some":"data"}', channel: 'cache-show' })).status, 200);
      await client!.nextEvent('e');
      const response = await get(server, 'channels/cache-show', { info: 'subscription_count,cache' });
      assert.equal(response.body, '{"occupied":true,"subscription_count":1,"cache":{"event":"e","data":"{\\"some\\":\\"data\\"}","channel":"cache-show"}}');
    });
  });

  it('accepts channel names with every allowed punctuation, raw or percent-encoded in the URL', async () => {
    const name = 'private-App.Models.User.1=a@b,c;d_e-f';
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, name);
      const raw = await get(server, `channels/${name}`, { info: 'subscription_count' });
      assert.equal(raw.status, 200, raw.body);
      assert.equal(raw.body, '{"occupied":true,"subscription_count":1}');
      // Percent-encoded in the URL, signed either over the decoded or the encoded path.
      const encodedPath = `/apps/${DEFAULT_APP.app_id}/channels/${encodeURIComponent(name)}`;
      const decodedPath = `/apps/${DEFAULT_APP.app_id}/channels/${name}`;
      for (const path of [encodedPath, decodedPath]) {
        const response = await get(server, encodedPath, { info: 'subscription_count' }, { path, urlPath: encodedPath });
        assert.equal(response.status, 200, `${path}: ${response.body}`);
        assert.equal(response.body, '{"occupied":true,"subscription_count":1}');
      }
    });
  });
});

describe('GET /apps/{id}/connections', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('counts open connections (Content-Length 17), once per socket however many channels', async () => {
    assert.equal((await get(server, 'connections')).body, '{"connections":0}');
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'conn-one');
      await join(a!, 'conn-two');
      await join(b!, 'conn-one');
      const response = await get(server, 'connections');
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"connections":2}');
      assert.equal(response.headers.get('content-length'), '17');
      b!.close();
      await eventually(async () => assert.equal((await get(server, 'connections')).body, '{"connections":1}'));
    });
  });
});
