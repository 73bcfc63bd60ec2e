/**
 * The HTTP side of the listener: keep-alive reuse of one connection for
 * several API requests, and slow or half-sent requests that must neither
 * block other requests nor stay open past the server's timeouts
 * (`servers.reverb.http_headers_timeout` / `http_request_timeout`).
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { RawSocket, connectClient, join, parseRawResponse, withClients } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, startServer, type StartedServer } from '../helpers/server.js';
import { signedQuery } from '../helpers/sign.js';

const HEADERS_TIMEOUT = 1;
const REQUEST_TIMEOUT = 2;
/** uWebSockets.js has its own fixed idle timeout for HTTP sockets (about 10 s). */
const closeBound = (server: StartedServer) => (server.transport === 'uws' ? 15_000 : (REQUEST_TIMEOUT + 2) * 1000);

interface AgentResponse {
  status: number;
  body: string;
  reusedSocket: boolean;
  localPort: number;
}

/** One request through `agent`, noting whether the agent reused a socket. */
function send(server: StartedServer, agent: Agent, method: string, path: string, body?: string): Promise<AgentResponse> {
  const signed = path === '/up' ? '' : `?${new URLSearchParams(signedQuery({ method, path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body }))}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}${path}${signed}`, { method, agent, headers: body ? { 'Content-Type': 'application/json' } : {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          reusedSocket: request.reusedSocket,
          localPort: request.socket?.localPort ?? -1,
        }),
      );
    });
    request.setTimeout(5000, () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('HTTP keep-alive', () => {
  let server: StartedServer;
  serverForSuite({ server: { http_headers_timeout: HEADERS_TIMEOUT, http_request_timeout: REQUEST_TIMEOUT } }, { started: (started) => (server = started) });

  it('serves several API requests on one keep-alive connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await withClients([connectClient(server)], async ([client]) => {
        await join(client!, 'keepalive');
        const app = DEFAULT_APP.app_id;
        const responses = [
          await send(server, agent, 'GET', '/up'),
          await send(server, agent, 'POST', `/apps/${app}/events`, '{"name":"e","data":"1","channel":"keepalive"}'),
          await send(server, agent, 'GET', `/apps/${app}/channels`),
          await send(server, agent, 'POST', `/apps/${app}/events`, '{"name":"e"}'),
          await send(server, agent, 'GET', `/apps/${app}/channels/keepalive`),
          await send(server, agent, 'POST', `/apps/${app}/batch_events`, '{"batch":[{"name":"e","data":"2","channel":"keepalive"}]}'),
        ];
        assert.deepEqual(
          responses.map((response) => response.status),
          [200, 200, 200, 400, 200, 200],
        );
        assert.equal(responses[2]!.body, '{"channels":{"keepalive":{}}}');
        // One TCP connection for all of them, the 400 included.
        assert.deepEqual(
          responses.map((response) => response.reusedSocket),
          [false, true, true, true, true, true],
        );
        assert.equal(new Set(responses.map((response) => response.localPort)).size, 1);
        assert.equal((await client!.next()).data, '1');
        assert.equal((await client!.next()).data, '2');
      });
    } finally {
      agent.destroy();
    }
  });

});

/**
 * Each test holds one stalled socket until the server drops it: they run
 * side by side so the suite waits for the timeout once.
 */
describe('HTTP slow and malformed requests', { concurrency: true }, () => {
  let server: StartedServer;
  serverForSuite({ server: { http_headers_timeout: HEADERS_TIMEOUT, http_request_timeout: REQUEST_TIMEOUT } }, { started: (started) => (server = started) });

  it('does not let a half-sent body block other requests, and closes it within the request timeout', async () => {
    const slow = await RawSocket.open(server.port);
    try {
      const path = `/apps/${DEFAULT_APP.app_id}/events`;
      const body = '{"name":"e","data":"d","channel":"slow"}';
      const query = new URLSearchParams(signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body }));
      slow.write(`POST ${path}?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);

      // Meanwhile the server answers everyone else at once.
      const agent = new Agent({ keepAlive: false });
      try {
        for (let i = 0; i < 3; i++) {
          const started = Date.now();
          const response = await send(server, agent, 'POST', path, '{"name":"e","data":"d","channel":"fast"}');
          assert.equal(response.status, 200);
          assert.ok(Date.now() - started < 1000, 'other requests are answered while the slow one is pending');
        }
      } finally {
        agent.destroy();
      }

      await slow.waitForClose(closeBound(server));
      assertTimeoutAnswer(server, slow.received);
    } finally {
      slow.destroy();
    }
  });

  it('closes a connection whose headers never finish within the headers timeout', async () => {
    const slow = await RawSocket.open(server.port);
    try {
      slow.write(`GET /apps/${DEFAULT_APP.app_id}/channels HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
      const response = await fetch(`${server.url}/up`);
      assert.equal(response.status, 200);
      await slow.waitForClose(closeBound(server));
      assertTimeoutAnswer(server, slow.received);
    } finally {
      slow.destroy();
    }
  });

  it('does not count a dropped half-sent request as in flight: shutdown stays prompt', async () => {
    const own = await startServer({ server: { http_headers_timeout: HEADERS_TIMEOUT, http_request_timeout: REQUEST_TIMEOUT, shutdown_timeout: 10 } });
    let stopped = false;
    try {
      const slow = await RawSocket.open(own.port);
      slow.write(`POST /apps/${DEFAULT_APP.app_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"name"`);
      await slow.waitForClose(closeBound(own));
      const started = Date.now();
      assert.equal(await own.stop(), 0);
      stopped = true;
      assert.ok(Date.now() - started < 3000, `shutdown took ${Date.now() - started} ms`);
    } finally {
      if (!stopped) await own.stop();
    }
  });

  it('answers a request Node cannot parse with a JSON 400 and closes the connection', async () => {
    const garbage = await RawSocket.open(server.port);
    try {
      garbage.write('GET /up HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n');
      await garbage.waitForClose(closeBound(server));
      if (garbage.received === '' && server.transport === 'uws') return; // uWS drops it without an answer.
      const response = parseRawResponse(garbage.received);
      assert.ok(response, garbage.received);
      assert.equal(response.status, 400);
      assert.equal(response.headers['content-type'], 'application/json');
      assert.equal(response.body, '{"error":"Bad request."}');
    } finally {
      garbage.destroy();
    }
  });
});

/** A timed-out request gets a JSON 408 (Node) or is simply closed (uWS). */
function assertTimeoutAnswer(server: StartedServer, received: string): void {
  if (received === '' && server.transport === 'uws') return;
  const response = parseRawResponse(received);
  assert.ok(response, `expected a 408 answer, got ${JSON.stringify(received)}`);
  assert.equal(response.status, 408);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.match((JSON.parse(response.body) as { error: string }).error, /timeout/i);
}
