/**
 * The WebSocket handshake: connection_established, refusals (unknown key,
 * origin, quota) with their frame and close code, and the 101 headers.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { apiClient, eventually } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const app = (id: string, options: Record<string, unknown>): TestApp => ({ ...DEFAULT_APP, app_id: id, key: `${id}-key`, secret: `${id}-secret`, ...options });

const TIMEOUT_APP = app('timeout', { activity_timeout: 42 });
const EXACT_ORIGIN_APP = app('exact', { allowed_origins: ['laravel.com'] });
const WILDCARD_ORIGIN_APP = app('wildcard', { allowed_origins: ['*.laravel.com'] });
const LOCALHOST_APP = app('localhost', { allowed_origins: 'localhost,*.localhost' });
const LIMITED_APP = app('limited', { max_connections: 1 });

const frame = (code: number, message: string) => JSON.stringify({ event: 'pusher:error', data: JSON.stringify({ code, message }) });

describe('WebSocket connection', () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async (key = DEFAULT_APP.key, options: WebSocket.ClientOptions = {}) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${key}`, options);
    clients.push(client);
    return client;
  };
  /** Opens a socket that the server is expected to refuse; returns its first frame and close. */
  const refused = async (key: string, options: WebSocket.ClientOptions = {}) => {
    const client = new RawClient(`${server.wsUrl}/app/${key}`, options);
    clients.push(client);
    const first = await client.nextRaw();
    const closed = await client.waitForClose();
    return { first, ...closed };
  };

  serverForSuite({ apps: [DEFAULT_APP, TIMEOUT_APP, EXACT_ORIGIN_APP, WILDCARD_ORIGIN_APP, LOCALHOST_APP, LIMITED_APP] }, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('sends connection_established first, with a socket id and the default activity_timeout', async () => {
    const client = new RawClient(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
    clients.push(client);
    const raw = await client.nextRaw();
    const frame = JSON.parse(raw) as { event: string; data: string };
    assert.equal(frame.event, 'pusher:connection_established');
    assert.equal(typeof frame.data, 'string', 'data is a JSON string');
    const data = JSON.parse(frame.data) as { socket_id: string; activity_timeout: number };
    assert.match(data.socket_id, /^\d+\.\d+$/);
    assert.equal(raw, `{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${data.socket_id}\\",\\"activity_timeout\\":30}"}`);
  });

  it('advertises the app activity_timeout', async () => {
    const client = new RawClient(`${server.wsUrl}/app/${TIMEOUT_APP.key}`);
    clients.push(client);
    const data = JSON.parse((await client.next()).data as string) as { activity_timeout: number };
    assert.equal(data.activity_timeout, 42);
  });

  it('gives every connection a unique socket id', async () => {
    const batch = await Promise.all(Array.from({ length: 25 }, () => connect()));
    const ids = new Set(batch.map((client) => client.socketId));
    assert.equal(ids.size, batch.length);
    for (const id of ids) assert.match(id, /^\d+\.\d+$/);
    for (const client of batch) client.close();
  });

  it('refuses an unknown app key with the exact 4001 frame and close code 4001', async () => {
    const result = await refused('no-such-key');
    assert.equal(result.first, '{"event":"pusher:error","data":"{\\"code\\":4001,\\"message\\":\\"Application does not exist\\"}"}');
    assert.equal(result.code, 4001);
  });

  it('answers 404 to a WebSocket upgrade outside /app/{key}', async () => {
    const ws = new WebSocket(`${server.wsUrl}/nope/${DEFAULT_APP.key}`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_request, response: IncomingMessage) => resolve(response.statusCode ?? 0));
      ws.once('open', () => reject(new Error('upgrade unexpectedly accepted')));
      ws.once('error', () => undefined);
    });
    ws.terminate();
    assert.equal(status, 404);
  });

  it('sets X-Powered-By on the 101 response', async () => {
    const ws = new WebSocket(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
    const headers = await new Promise<IncomingMessage['headers']>((resolve, reject) => {
      ws.once('upgrade', (response: IncomingMessage) => resolve(response.headers));
      ws.once('error', reject);
    });
    ws.terminate();
    assert.equal(headers['x-powered-by'], 'Laravel Reverb');
  });

  describe('allowed_origins', () => {
    const rejected: [TestApp, string][] = [
      [EXACT_ORIGIN_APP, 'http://sub.laravel.com'],
      [EXACT_ORIGIN_APP, 'http://localhost'],
      [WILDCARD_ORIGIN_APP, 'http://laravel.com'],
      [LOCALHOST_APP, 'http://example.com'],
    ];
    for (const [target, origin] of rejected) {
      it(`${JSON.stringify(target.allowed_origins)} rejects ${origin} with 4009 "Origin not allowed"`, async () => {
        const result = await refused(target.key, { origin });
        assert.equal(result.first, frame(4009, 'Origin not allowed'));
        assert.equal(result.code, 4009);
      });
    }

    it('rejects a connection without an Origin header when origins are restricted', async () => {
      const result = await refused(EXACT_ORIGIN_APP.key);
      assert.equal(result.first, frame(4009, 'Origin not allowed'));
      assert.equal(result.code, 4009);
    });

    const accepted: [TestApp, string][] = [
      [EXACT_ORIGIN_APP, 'https://laravel.com:8443'],
      [WILDCARD_ORIGIN_APP, 'http://sub.laravel.com'],
      [LOCALHOST_APP, 'http://localhost'],
      [LOCALHOST_APP, 'http://sub.localhost'],
      [DEFAULT_APP, 'http://anything.example'],
    ];
    for (const [target, origin] of accepted) {
      it(`${JSON.stringify(target.allowed_origins)} accepts ${origin}`, async () => {
        const client = await connect(target.key, { origin });
        assert.match(client.socketId, /^\d+\.\d+$/);
        client.close();
      });
    }
  });

  it('refuses connections over max_connections with the 4004 frame and close code 4004, and admits again once one leaves', async () => {
    const first = await connect(LIMITED_APP.key);
    assert.deepEqual(await first.subscribe('quota-channel'), { event: 'pusher_internal:subscription_succeeded', data: '{}', channel: 'quota-channel' });
    const result = await refused(LIMITED_APP.key);
    assert.equal(result.first, frame(4004, 'Application is over connection quota'));
    assert.equal(result.code, 4004);

    first.ws.close();
    await first.waitForClose();
    const api = apiClient(server, LIMITED_APP);
    await eventually(async () => {
      const body = (await (await api.get({ path: '/connections' })).json()) as { connections: number };
      assert.equal(body.connections, 0);
    });
    const again = await connect(LIMITED_APP.key);
    assert.match(again.socketId, /^\d+\.\d+$/);
  });

  it('counts refused sockets nowhere: other apps keep serving', async () => {
    const client = await connect();
    client.send({ event: 'pusher:ping', data: {} });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  });
});
