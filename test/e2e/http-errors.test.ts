/**
 * Every HTTP API error status: 400 (body and field problems, naming the
 * field), 401 (authentication), 404, 405 and 413 — each a JSON
 * `{"error": "..."}` with a real status, never a 500 for a client mistake.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { api, connectClient, get, join, post, withClients, type ApiResult } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import { signedQuery } from '../helpers/sign.js';

function errorOf(response: ApiResult): string {
  assert.equal(response.headers.get('content-type'), 'application/json');
  const body = response.json() as { error?: unknown };
  assert.equal(typeof body.error, 'string', response.body);
  return body.error as string;
}

function assertError(response: ApiResult, status: number, message: RegExp, label = ''): void {
  assert.equal(response.status, status, `${label} → ${response.status} ${response.body}`);
  assert.match(errorOf(response), message, label);
}

describe('HTTP API errors', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  describe('400 Bad Request', () => {
    it('rejects a body that is not JSON, or not a JSON object', async () => {
      for (const body of ['{"name":', 'not json', '', '[]', '"a string"', 'null', '42', '{"name":"e"}{}']) {
        assertError(await post(server, 'events', body), 400, /JSON/, JSON.stringify(body));
      }
    });

    it('rejects a body that is not valid UTF-8', async () => {
      const body = Buffer.concat([Buffer.from('{"name":"e","data":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","channel":"c"}')]);
      const response = await rawPost(server, `/apps/${DEFAULT_APP.app_id}/events`, body);
      assert.equal(response.status, 400, response.body);
      assert.match((JSON.parse(response.body) as { error: string }).error, /UTF-8/);
    });

    it('names the missing field: name, data, channels', async () => {
      assertError(await post(server, 'events', { data: 'd', channel: 'c' }), 400, /\bname\b/, 'no name');
      assertError(await post(server, 'events', { name: 'e', channel: 'c' }), 400, /\bdata\b/, 'no data (channel)');
      assertError(await post(server, 'events', { name: 'e', channels: ['c'] }), 400, /\bdata\b/, 'no data (channels)');
      assertError(await post(server, 'events', { name: 'e', data: 'd' }), 400, /\bchannels?\b/, 'no channel');
    });

    it('rejects data that is not a string', async () => {
      for (const data of [{ a: 1 }, ['a'], 42, true, null]) {
        assertError(await post(server, 'events', { name: 'e', data, channel: 'c' }), 400, /\bdata\b.*string/, JSON.stringify(data));
      }
    });

    it('rejects a name that is not a non-empty string, or longer than 200 characters', async () => {
      for (const name of [42, '', null, ['e'], 'e'.repeat(201)]) {
        assertError(await post(server, 'events', { name, data: 'd', channel: 'c' }), 400, /\bname\b/, JSON.stringify(name));
      }
    });

    it('rejects event names in the reserved pusher: namespaces', async () => {
      for (const name of ['pusher:subscribe', 'pusher_internal:member_added']) {
        assertError(await post(server, 'events', { name, data: 'd', channel: 'c' }), 400, /\bname\b/, name);
      }
    });

    it('rejects more than 100 channels and accepts exactly 100', async () => {
      const channels = Array.from({ length: 101 }, (_, i) => `channel-${i}`);
      assertError(await post(server, 'events', { name: 'e', data: 'd', channels }), 400, /100/);
      const ok = await post(server, 'events', { name: 'e', data: 'd', channels: channels.slice(0, 100) });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, '{}');
    });

    it('rejects channel names with characters outside [A-Za-z0-9_-=@,.;], naming the channel', async () => {
      for (const channel of ['bad channel', 'a#b', 'a/b', 'zoë', 'a:b', 'a\\b', '', '#server-to-user-']) {
        const response = await post(server, 'events', { name: 'e', data: 'd', channels: [channel] });
        assertError(response, 400, /channel/, JSON.stringify(channel));
      }
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'bad channel' }), 400, /"bad channel"/);
    });

    it('rejects channel names longer than 164 characters', async () => {
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'c'.repeat(165) }), 400, /164/);
      assert.equal((await post(server, 'events', { name: 'e', data: 'd', channel: 'c'.repeat(164) })).status, 200);
    });

    it('rejects channels/channel of the wrong type', async () => {
      const cases: [unknown, RegExp][] = [
        [{ channels: 'c' }, /channels/],
        [{ channels: [] }, /channels/],
        [{ channels: {} }, /channels/],
        [{ channels: [42] }, /channels\[0\]/],
        [{ channels: ['ok', null] }, /channels\[1\]/],
        [{ channel: 42 }, /channel/],
        [{ channel: ['c'] }, /channel/],
      ];
      for (const [fields, message] of cases) {
        assertError(await post(server, 'events', { name: 'e', data: 'd', ...(fields as object) }), 400, message, JSON.stringify(fields));
      }
    });

    it('rejects socket_id and info of the wrong type, naming them', async () => {
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'c', socket_id: 1234 }), 400, /socket_id/);
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'c', socket_id: ['1.2'] }), 400, /socket_id/);
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'c', info: 1234 }), 400, /\binfo\b/);
      assertError(await post(server, 'events', { name: 'e', data: 'd', channel: 'c', info: ['user_count'] }), 400, /\binfo\b/);
    });

    it('publishes nothing when the request is rejected', async () => {
      await withClients([connectClient(server)], async ([client]) => {
        await join(client!, 'errors-nothing');
        await post(server, 'events', { name: 'e', data: 'd', channels: ['errors-nothing', 'bad channel'] });
        await post(server, 'events', { name: 'e', data: 'd', channel: 'errors-nothing', socket_id: 1 });
        await client!.expectSilence(200);
      });
    });

    it('rejects invalid channel names in GET /channels/{name} and /users', async () => {
      assertError(await get(server, `channels/${encodeURIComponent('bad channel')}`), 400, /channel/);
      assertError(await get(server, `channels/${'c'.repeat(165)}`), 400, /164/);
      assertError(await get(server, `channels/${encodeURIComponent('presence-a b')}/users`), 400, /channel/);
    });

    it('rejects malformed percent-encoding in the path', async () => {
      const path = `/apps/${DEFAULT_APP.app_id}/channels/%E0%A4%A`;
      assertError(await api(server, 'GET', path), 400, /percent-encoding/);
    });
  });

  describe('401 Unauthorized', () => {
    const body = JSON.stringify({ name: 'e', data: 'd', channel: 'c' });
    const path = `/apps/${DEFAULT_APP.app_id}/events`;

    it('rejects a wrong signature', async () => {
      assertError(await api(server, 'POST', path, { body, secret: 'not-the-secret' }), 401, /signature/i);
    });

    it('rejects a request without any auth parameters', async () => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(response.status, 401);
      assert.match((await response.json() as { error: string }).error, /signature/i);
    });

    it('rejects a missing auth_signature', async () => {
      const params = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body });
      delete (params as Record<string, string | undefined>).auth_signature;
      const response = await fetch(`${server.url}${path}?${new URLSearchParams(params)}`, { method: 'POST', body });
      assert.equal(response.status, 401);
    });

    it('rejects a stale or future auth_timestamp (±600 s)', async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const timestamp of [now - 700, now + 700]) {
        assertError(await api(server, 'POST', path, { body, timestamp }), 401, /auth_timestamp.*600/, String(timestamp));
      }
      assert.equal((await api(server, 'POST', path, { body, timestamp: now - 500 })).status, 200);
      assert.equal((await api(server, 'POST', path, { body, timestamp: now + 500 })).status, 200);
    });

    it('rejects an auth_timestamp that is not a number', async () => {
      const params = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body });
      const forged = { ...params, auth_timestamp: 'soon' };
      const response = await fetch(`${server.url}${path}?${new URLSearchParams(forged)}`, { method: 'POST', body });
      assert.equal(response.status, 401);
    });

    it('rejects an auth_key that is not the app key, even with the right secret', async () => {
      assertError(await api(server, 'POST', path, { body, key: 'another-key' }), 401, /auth_key/);
    });

    it('rejects a body_md5 that does not match the body', async () => {
      assertError(await api(server, 'POST', path, { body, bodyMd5: '0'.repeat(32) }), 401, /body_md5|signature/);
    });

    it('rejects a body changed after signing', async () => {
      const params = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body });
      const tampered = body.replace('"d"', '"x"');
      const response = await fetch(`${server.url}${path}?${new URLSearchParams(params)}`, { method: 'POST', body: tampered });
      assert.equal(response.status, 401);
    });

    it('rejects a signature made for another path or method', async () => {
      assert.equal((await api(server, 'POST', path, { body, path: `/apps/${DEFAULT_APP.app_id}/batch_events`, urlPath: path })).status, 401);
      const channelsPath = `/apps/${DEFAULT_APP.app_id}/channels`;
      const params = signedQuery({ method: 'POST', path: channelsPath, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret });
      const response = await fetch(`${server.url}${channelsPath}?${new URLSearchParams(params)}`);
      assert.equal(response.status, 401);
    });

    it('rejects unsigned requests on every signed endpoint', async () => {
      const app = DEFAULT_APP.app_id;
      const endpoints: [string, string][] = [
        ['POST', `/apps/${app}/events`],
        ['POST', `/apps/${app}/batch_events`],
        ['GET', `/apps/${app}/channels`],
        ['GET', `/apps/${app}/channels/c`],
        ['GET', `/apps/${app}/channels/presence-c/users`],
        ['GET', `/apps/${app}/connections`],
        ['POST', `/apps/${app}/users/1/terminate_connections`],
      ];
      for (const [method, endpoint] of endpoints) {
        const response = await fetch(`${server.url}${endpoint}?auth_key=${DEFAULT_APP.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0&auth_signature=${'0'.repeat(64)}`, {
          method,
          body: method === 'POST' ? '{}' : undefined,
        });
        assert.equal(response.status, 401, `${method} ${endpoint}`);
      }
    });
  });

  describe('404 Not Found', () => {
    it('names an unknown app id, before checking the signature', async () => {
      const response = await fetch(`${server.url}/apps/invalid-app-id/events`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 404);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(await response.text(), '{"error":"No matching application for ID [invalid-app-id]."}');
      const signed = await api(server, 'GET', '/apps/999/channels');
      assertError(signed, 404, /^No matching application for ID \[999\]\.$/);
    });

    it('answers unknown routes with {"error":"Not found."}', async () => {
      const app = DEFAULT_APP.app_id;
      for (const path of ['/', '/nope', `/apps/${app}`, `/apps/${app}/`, `/apps/${app}/events/`, `/apps/${app}/channels/a/b`, `/apps/${app}/users/1`, '/up/', '/app']) {
        const response = await fetch(`${server.url}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(await response.text(), '{"error":"Not found."}', path);
      }
    });
  });

  describe('405 Method Not Allowed', () => {
    it('answers a wrong method with Allow and a JSON error', async () => {
      const app = DEFAULT_APP.app_id;
      const cases: [string, string, string][] = [
        ['GET', `/apps/${app}/events`, 'POST'],
        ['PUT', `/apps/${app}/batch_events`, 'POST'],
        ['POST', `/apps/${app}/channels`, 'GET'],
        ['DELETE', `/apps/${app}/channels/c`, 'GET'],
        ['GET', `/apps/${app}/users/1/terminate_connections`, 'POST'],
        ['POST', '/up', 'GET, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const response = await fetch(`${server.url}${path}`, { method });
        assert.equal(response.status, 405, `${method} ${path}`);
        assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
        assert.equal(await response.text(), '{"error":"Method not allowed."}');
      }
    });
  });

  describe('413 Payload Too Large', () => {
    it('rejects a body over max_request_size, naming the setting', async () => {
      const data = 'x'.repeat(10_100);
      const response = await post(server, 'events', { name: 'e', data, channel: 'c' });
      assertError(response, 413, /max_request_size/);
      assert.match(errorOf(response), /10000/);
    });

    it('rejects an oversized chunked body (no Content-Length) the same way', async () => {
      const response = await rawPost(server, `/apps/${DEFAULT_APP.app_id}/events`, Buffer.alloc(20_000, 0x61), { chunked: true });
      assert.equal(response.status, 413);
      assert.match((JSON.parse(response.body) as { error: string }).error, /max_request_size/);
    });

    it('accepts a body of exactly max_request_size bytes', async () => {
      const skeleton = JSON.stringify({ name: 'e', data: '', channel: 'c' });
      const body = JSON.stringify({ name: 'e', data: 'x'.repeat(10_000 - skeleton.length), channel: 'c' });
      assert.equal(Buffer.byteLength(body), 10_000);
      const response = await post(server, 'events', body);
      assert.equal(response.status, 200, response.body);
    });

    it('keeps serving after a rejected oversized request', async () => {
      await post(server, 'events', { name: 'e', data: 'x'.repeat(50_000), channel: 'c' }).catch(() => undefined);
      assert.equal((await fetch(`${server.url}/up`)).status, 200);
    });
  });

  it('never answers 500 to malformed input', async () => {
    const bodies = ['', '{', '[]', 'null', '{"batch":null}', '{"name":{},"data":{},"channels":{}}', '{"__proto__":{"name":"e"}}', '\u0000', '{"channels":["a"],"name":"e","data":"d","info":{}}'];
    for (const path of ['events', 'batch_events', 'users/1/terminate_connections']) {
      for (const body of bodies) {
        const response = await post(server, path, body);
        assert.ok(response.status < 500, `${path} ${JSON.stringify(body)} → ${response.status} ${response.body}`);
        if (response.status !== 200) errorOf(response);
      }
    }
    const query = await get(server, 'channels', { info: '%%%', filter_by_prefix: '\u0000' });
    assert.ok(query.status < 500);
    assert.equal((await fetch(`${server.url}/up`)).status, 200);
  });
});

/** POSTs raw bytes with a valid signature through node:http (optionally chunked, without Content-Length). */
function rawPost(server: StartedServer, path: string, body: Buffer, options: { chunked?: boolean } = {}): Promise<{ status: number; body: string }> {
  const params = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body: body.toString('latin1'), bodyMd5: md5Hex(body) });
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.url}${path}?${new URLSearchParams(params)}`,
      { method: 'POST', headers: options.chunked ? { 'Content-Type': 'application/json' } : { 'Content-Type': 'application/json', 'Content-Length': body.length } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    request.on('error', reject);
    if (options.chunked) {
      for (let offset = 0; offset < body.length; offset += 4096) request.write(body.subarray(offset, offset + 4096));
      request.end();
    } else {
      request.end(body);
    }
  });
}

function md5Hex(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}
