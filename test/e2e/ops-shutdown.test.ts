import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Pusher } from '../helpers/pusher-js.js';
import { DEFAULT_APP, freePort, startServer, type StartedServer } from '../helpers/server.js';
import { eventually } from '../helpers/clients.js';
import { signedQuery, signedRequest } from '../helpers/sign.js';

/** Resolves once `check` holds, polling; fails after `timeoutMs` naming `what`. */
function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  return eventually(() => assert.ok(check(), `timed out waiting for ${what}`), timeoutMs);
}

interface WatchedClient {
  readonly pusher: Pusher;
  readonly errorCodes: number[];
  readonly socketIds: string[];
  readonly events: unknown[];
}

function connectClient(port: number): WatchedClient {
  const pusher = new Pusher(DEFAULT_APP.key, { wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], cluster: '' });
  const client: WatchedClient = { pusher, errorCodes: [], socketIds: [], events: [] };
  pusher.connection.bind('error', (error: { data?: { code?: number } }) => client.errorCodes.push(error.data?.code ?? -1));
  pusher.connection.bind('connected', () => client.socketIds.push(pusher.connection.socket_id));
  pusher.subscribe('orders').bind('shipped', (data: unknown) => client.events.push(data));
  return client;
}

/** Publishes `shipped` on `orders` through the HTTP API; resolves to the status. */
async function trigger(server: StartedServer, data: unknown): Promise<number> {
  const body = JSON.stringify({ name: 'shipped', channel: 'orders', data: JSON.stringify(data) });
  const path = `/apps/${DEFAULT_APP.app_id}/events`;
  return (await signedRequest(server.url, { method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body })).status;
}

describe('graceful shutdown', () => {
  it('on SIGTERM closes every client with 4200; pusher-js reconnects to the restarted server on the same port', async () => {
    const port = await freePort();
    let server = await startServer({ server: { port } });
    const clients = [connectClient(port), connectClient(port)];
    try {
      await until('both clients to connect and subscribe', () => clients.every((c) => c.pusher.channel('orders')?.subscribed === true));
      const firstIds = clients.map((c) => c.socketIds[0]);

      const exitCode = await server.stop('SIGTERM');
      assert.equal(exitCode, 0);
      assert.match(server.output(), /Received SIGTERM: gracefully terminating connections\./);
      for (const client of clients) await until('the 4200 error', () => client.errorCodes.includes(4200), 5000);

      server = await startServer({ server: { port } });
      await until('both clients to reconnect', () => clients.every((c) => c.socketIds.length >= 2 && c.pusher.connection.state === 'connected'), 15_000);
      clients.forEach((client, i) => assert.notEqual(client.socketIds[1], firstIds[i]));
      // pusher-js subscribes again by itself: an event reaches both clients.
      await until('resubscription', () => clients.every((c) => c.pusher.channel('orders')?.subscribed === true));
      assert.equal(await trigger(server, { id: 1 }), 200);
      await until('the event on both clients', () => clients.every((c) => c.events.length === 1), 5000);
    } finally {
      for (const client of clients) client.pusher.disconnect();
      await server.stop();
    }
  });

  it('exits 0 on SIGINT', async () => {
    const server = await startServer();
    assert.equal(await server.stop('SIGINT'), 0);
    assert.match(server.output(), /Received SIGINT: gracefully terminating connections\./);
  });

  it('lets an in-flight HTTP API request finish before exiting', async () => {
    const server = await startServer();
    try {
      const body = JSON.stringify({ name: 'shipped', channel: 'orders', data: '{}' });
      const path = `/apps/${DEFAULT_APP.app_id}/events`;
      const query = new URLSearchParams(signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body })).toString();
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${server.url}${path}?${query}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on('error', reject);
        // Half the body now, the rest once the server is shutting down.
        req.write(body.slice(0, 10));
        server.waitForOutput(/gracefully terminating connections/).then(() => setTimeout(() => req.end(body.slice(10)), 200), reject);
      });
      // The request must be in flight (headers read) before the signal.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = server.stop('SIGTERM');
      const result = await response;
      assert.equal(result.status, 200, result.body);
      assert.deepEqual(JSON.parse(result.body), {});
      assert.equal(await exited, 0);
    } finally {
      await server.stop();
    }
  });

  it('exits 0 within shutdown_timeout even when a request never completes', async () => {
    const server = await startServer({ server: { shutdown_timeout: 1 } });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST /apps/${DEFAULT_APP.app_id}/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      assert.equal(await server.stop('SIGTERM'), 0);
      const took = Date.now() - started;
      assert.ok(took < 5000, `took ${took} ms`);
    } finally {
      socket.destroy();
    }
  });
});
