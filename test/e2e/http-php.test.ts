/**
 * Requests exactly as pusher-http-php 7.2.6 (Laravel's broadcaster) sends them
 * (reference/protocol.md §3.1, §3.9, §5.4), against a server with a path
 * prefix: RFC 3986-encoded query values, `channel` for one channel,
 * `Content-Type: application/json` on GET, `body_md5` always on POST, the
 * prefix left out of the signature, PHP-escaped JSON delivered byte-exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barrier, connectClient, join, signin, withClients } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import { hmac, md5 } from '../helpers/sign.js';

const PREFIX = '/ws';

/** PHP's rawurlencode (PHP_QUERY_RFC3986): everything but A-Z a-z 0-9 - _ . ~ is encoded. */
function rawurlencode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

interface PhpResponse {
  status: number;
  body: string;
  headers: Headers;
}

/**
 * pusher-http-php's request: signs `/apps/{id}{subPath}` (no prefix), sends
 * `{prefix}/apps/{id}{subPath}` with the auth params (user params sorted in
 * on GET), then auth_signature, RFC 3986-encoded.
 */
async function php(server: StartedServer, method: 'GET' | 'POST', subPath: string, options: { params?: Record<string, string>; body?: string } = {}): Promise<PhpResponse> {
  const signedPath = `/apps/${DEFAULT_APP.app_id}${subPath}`;
  const params: Record<string, string> = {
    auth_key: DEFAULT_APP.key,
    auth_timestamp: String(Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    ...(method === 'POST' ? { body_md5: md5(options.body ?? '') } : {}),
    ...options.params,
  };
  const sorted = Object.keys(params).sort();
  const toSign = `${method}\n${signedPath}\n${sorted.map((name) => `${name}=${params[name]}`).join('&')}`;
  const query = [...sorted.map((name) => `${name}=${rawurlencode(params[name]!)}`), `auth_signature=${hmac(DEFAULT_APP.secret, toSign)}`].join('&');
  const response = await fetch(`${server.url}${PREFIX}${signedPath}?${query}`, {
    method,
    body: options.body,
    headers: { 'Content-Type': 'application/json', 'X-Pusher-Library': 'pusher-http-php 7.2.6' },
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe('pusher-http-php requests (server path "/ws")', () => {
  let server: StartedServer;
  serverForSuite({ server: { path: PREFIX } }, { started: (started) => (server = started) });

  it('trigger: `channel` singular, PHP-escaped data and a namespaced event name, delivered byte-exact', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX)], async ([client]) => {
      await join(client!, 'private-App.Models.User.1');
      // Exactly what Laravel's broadcaster sends for `OrderShipped` with ['url' => 'http://x/y', 'name' => 'Zoë'].
      const body = String.raw`{"name":"App\\Events\\OrderShipped","data":"{\"url\":\"http:\\\/\\\/x\\\/y\",\"name\":\"Zo\\u00eb\"}","channel":"private-App.Models.User.1","socket_id":"1.2"}`;
      const response = await php(server, 'POST', '/events', { body });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{}');
      const raw = await client!.nextRaw();
      // The data string is relayed unchanged (re-encoded as a JSON string: `\/` stays `\/` once decoded).
      assert.equal(raw, String.raw`{"event":"App\\Events\\OrderShipped","data":"{\"url\":\"http:\\/\\/x\\/y\",\"name\":\"Zo\\u00eb\"}","channel":"private-App.Models.User.1"}`);
      const frame = JSON.parse(raw) as { event: string; data: string };
      assert.equal(frame.event, 'App\\Events\\OrderShipped');
      assert.equal(frame.data, String.raw`{"url":"http:\/\/x\/y","name":"Zo\u00eb"}`);
      assert.deepEqual(JSON.parse(frame.data), { url: 'http://x/y', name: 'Zoë' });
    });
  });

  it('trigger: a Laravel notification (empty payload "[]") reaches the notifiable channel', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX)], async ([client]) => {
      await join(client!, 'private-App.Models.User.7');
      const body = String.raw`{"name":"Illuminate\\Notifications\\Events\\BroadcastNotificationCreated","data":"[]","channel":"private-App.Models.User.7"}`;
      assert.equal((await php(server, 'POST', '/events', { body })).status, 200);
      const frame = await client!.next();
      assert.equal(frame.event, 'Illuminate\\Notifications\\Events\\BroadcastNotificationCreated');
      assert.equal(frame.data, '[]');
    });
  });

  it('trigger: several `channels` with info=user_count,subscription_count in the body', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX)], async ([client]) => {
      await join(client!, 'presence-php-room', { user_id: '1', user_info: { name: 'Ada' } });
      const body = JSON.stringify({ name: 'App\\Events\\Ping', data: '{"a":1}', channels: ['presence-php-room', 'php-empty'], info: 'user_count,subscription_count' });
      const response = await php(server, 'POST', '/events', { body });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{"channels":{"presence-php-room":{"user_count":1,"subscription_count":1},"php-empty":{"subscription_count":0}}}');
    });
  });

  it('triggerBatch: items {name, data, channel[, info][, socket_id]}', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX), connectClient(server, DEFAULT_APP.key, PREFIX)], async ([a, b]) => {
      await join(a!, 'php-batch');
      await join(b!, 'php-batch');
      const body = JSON.stringify({
        batch: [
          { name: 'first', data: '{"n":1}', channel: 'php-batch', info: 'subscription_count' },
          { name: 'second', data: '{"n":2}', channel: 'php-batch', socket_id: a!.socketId },
        ],
      });
      const response = await php(server, 'POST', '/batch_events', { body });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{"batch":[{"subscription_count":2},{}]}');
      assert.deepEqual([(await b!.next()).event, (await b!.next()).event], ['first', 'second']);
      assert.equal((await a!.next()).event, 'first');
      await a!.expectSilence(200);
    });
  });

  it('getChannels: GET with Content-Type, filter_by_prefix and info; {"channels":{}} when empty', async () => {
    const empty = await php(server, 'GET', '/channels', { params: { filter_by_prefix: 'presence-php-list-', info: 'user_count' } });
    assert.equal(empty.status, 200, empty.body);
    assert.equal(empty.body, '{"channels":{}}');
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX)], async ([client]) => {
      await join(client!, 'presence-php-list-a', { user_id: '5' });
      const response = await php(server, 'GET', '/channels', { params: { filter_by_prefix: 'presence-php-list-', info: 'user_count' } });
      assert.equal(response.body, '{"channels":{"presence-php-list-a":{"user_count":1}}}');
    });
  });

  it('getChannelInfo: info=user_count%2Csubscription_count is decoded before signing', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX), connectClient(server, DEFAULT_APP.key, PREFIX)], async ([a, b]) => {
      await join(a!, 'presence-php-info', { user_id: '1' });
      await join(b!, 'presence-php-info', { user_id: '2' });
      const response = await php(server, 'GET', '/channels/presence-php-info', { params: { info: 'user_count,subscription_count' } });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{"occupied":true,"user_count":2,"subscription_count":2}');
    });
  });

  it('getPresenceUsers: ids as the auth endpoint put them (PHP sends strings)', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX), connectClient(server, DEFAULT_APP.key, PREFIX)], async ([a, b]) => {
      await join(a!, 'presence-php-users', { user_id: '1', user_info: { name: 'Ada' } });
      await join(b!, 'presence-php-users', { user_id: '2', user_info: true });
      const response = await php(server, 'GET', '/channels/presence-php-users/users');
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{"users":[{"id":"1"},{"id":"2"}]}');
    });
  });

  it('terminateUserConnections: body "{}" with body_md5 99914b93…', async () => {
    assert.equal(md5('{}'), '99914b932bd37a50b983c5e7c90ae93b');
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX), connectClient(server, DEFAULT_APP.key, PREFIX)], async ([user, other]) => {
      await join(user!, 'presence-php-terminate', { user_id: '12' });
      await join(other!, 'presence-php-terminate', { user_id: '13' });
      const response = await php(server, 'POST', '/users/12/terminate_connections', { body: '{}' });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, '{}');
      assert.equal((await user!.waitForClose()).code, 4009);
      await barrier(other!);
      assert.equal(other!.closeCode, undefined);
    });
  });

  it('sendToUser: `channel` "#server-to-user-<id>" reaches the signed-in user', async () => {
    await withClients([connectClient(server, DEFAULT_APP.key, PREFIX)], async ([client]) => {
      await signin(client!, { id: '12345', user_info: { name: 'Ada' } });
      await join(client!, '#server-to-user-12345');
      const body = JSON.stringify({ name: 'reminder', data: '{"text":"hi"}', channel: '#server-to-user-12345' });
      assert.equal((await php(server, 'POST', '/events', { body })).status, 200);
      assert.equal(await client!.nextRaw(), '{"event":"reminder","data":"{\\"text\\":\\"hi\\"}","channel":"#server-to-user-12345"}');
    });
  });

  it('also accepts a signature over the prefixed path (clients of `reverb:start --path`)', async () => {
    const path = `${PREFIX}/apps/${DEFAULT_APP.app_id}/channels`;
    const timestamp = Math.floor(Date.now() / 1000);
    const query = `auth_key=${DEFAULT_APP.key}&auth_timestamp=${timestamp}&auth_version=1.0`;
    const signature = hmac(DEFAULT_APP.secret, `GET\n${path}\n${query}`);
    const response = await fetch(`${server.url}${path}?${query}&auth_signature=${signature}`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"channels":{}}');
  });

  it('answers 404 without the prefix, and serves /up under it', async () => {
    const response = await fetch(`${server.url}/apps/${DEFAULT_APP.app_id}/channels`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), '{"error":"Not found."}');
    assert.equal((await fetch(`${server.url}/up`)).status, 404);
    const up = await fetch(`${server.url}${PREFIX}/up`);
    assert.equal(up.status, 200);
    assert.equal(await up.text(), '{"health":"OK"}');
    assert.equal((await fetch(`${server.url}/wsx/up`)).status, 404);
  });

  it('rejects a PHP request with a wrong secret as 401, and an unknown app under the prefix as 404', async () => {
    const response = await fetch(`${server.url}${PREFIX}/apps/${DEFAULT_APP.app_id}/channels?auth_key=${DEFAULT_APP.key}&auth_timestamp=1&auth_version=1.0&auth_signature=x`, {
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(response.status, 401);
    const unknown = await fetch(`${server.url}${PREFIX}/apps/nope/channels`);
    assert.equal(unknown.status, 404);
    assert.equal(await unknown.text(), '{"error":"No matching application for ID [nope]."}');
  });
});
