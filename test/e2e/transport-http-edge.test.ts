/**
 * Requests and messages at the edge of the protocols, on raw sockets: what
 * each transport answers to unusual or malformed HTTP requests (the uWS rows
 * pin the limits of uWebSockets.js v20.30 described in docs/transports.md),
 * and the bound on a WebSocket message sent in fragments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RssSampler } from '../helpers/attack.js';
import { RawSocket } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import WebSocket from 'ws';
import { RawClient } from '../helpers/ws-client.js';

const HOST = 'Host: 127.0.0.1\r\n';
/** How long a request that gets no answer, and a connection that stays, are watched. */
const SILENCE_MS = 500;

/** What a client gets: the status lines, in order, and whether the server then closes the connection. */
interface Outcome {
  readonly answers: readonly number[];
  readonly closed: boolean;
}
const kept = (...answers: number[]): Outcome => ({ answers, closed: false });
const closed = (...answers: number[]): Outcome => ({ answers, closed: true });

const CASES: readonly { what: string; request: string; ws: Outcome; uws: Outcome }[] = [
  {
    what: 'conflicting Content-Length headers',
    request: `POST /up HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`,
    ws: closed(400),
    uws: closed(400),
  },
  {
    what: 'a repeated Content-Length header',
    request: `POST /up HTTP/1.1\r\n${HOST}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    ws: closed(400),
    uws: closed(400),
  },
  // uWS v20.30 parses none of the next five: the request never reaches the server's code, and the
  // connection stays until uWS's idle timeout (about 10 s).
  { what: 'an HTTP/1.0 request', request: 'GET /up HTTP/1.0\r\n\r\n', ws: closed(200), uws: kept() },
  { what: 'an HTTP/1.1 request without Host', request: 'GET /up HTTP/1.1\r\n\r\n', ws: closed(400), uws: kept() },
  {
    what: '60 header fields',
    request: `GET /up HTTP/1.1\r\n${HOST}${Array.from({ length: 59 }, (_, i) => `X-Field-${i}: ${i}\r\n`).join('')}\r\n`,
    ws: kept(200),
    uws: kept(),
  },
  { what: 'a NUL byte in a header value', request: `GET /up HTTP/1.1\r\n${HOST}X-Value: a\0b\r\n\r\n`, ws: closed(400), uws: kept() },
  { what: 'a folded header line (obs-fold)', request: `GET /up HTTP/1.1\r\n${HOST}X-Value: a\r\n b\r\n\r\n`, ws: closed(400), uws: kept() },
  // uWS closes a connection whose next request arrives before the previous one is answered; the API answers asynchronously.
  {
    what: 'two pipelined requests',
    request: `GET /up HTTP/1.1\r\n${HOST}\r\nGET /nowhere HTTP/1.1\r\n${HOST}\r\n`,
    ws: kept(200, 404),
    uws: closed(),
  },
];

/** Resolves on the next pong or the close, whichever comes first (within 3 s). */
function roundTrip(client: RawClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('neither a pong nor a close within 3 s')), 3000);
    const done = () => {
      clearTimeout(timer);
      client.ws.off('pong', done).off('close', done);
      resolve();
    };
    client.ws.once('pong', done).once('close', done);
  });
}

const statuses = (raw: string): number[] => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));

describe('HTTP requests at the edge of the protocol', { concurrency: true }, () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  for (const edge of CASES) {
    it(`${edge.what}: answered as documented`, async () => {
      const expected = server.transport === 'uws' ? edge.uws : edge.ws;
      const socket = await RawSocket.open(server.port);
      try {
        socket.write(edge.request);
        if (expected.closed) await socket.waitForClose(3000);
        else if (expected.answers.length > 0) await socket.until(() => statuses(socket.received).length >= expected.answers.length, 3000, 'the answers');
        else await sleep(SILENCE_MS);
        assert.deepEqual(statuses(socket.received), expected.answers, socket.received);
        assert.equal(socket.closed, expected.closed);
      } finally {
        socket.destroy();
      }
      // Whatever that connection did, the server answers others.
      assert.equal((await fetch(`${server.url}/up`, { signal: AbortSignal.timeout(3000) })).status, 200);
    });
  }
});

describe('a WebSocket message sent in fragments', () => {
  const limit = DEFAULT_APP.max_message_size as number;
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
    clients.push(client);
    return client;
  };
  /** The close code when the server refuses to buffer more: ws decides from the frame header, uWS cuts the TCP connection. */
  const cutOff = () => (server.transport === 'uws' ? 1006 : 1009);
  /**
   * Sends fragments of `size` bytes, never the final one, until `total` bytes
   * or until the server cuts the connection. A ping after each fragment paces
   * the sender to the server: the pong comes once the fragment was read (the
   * kernel would otherwise take megabytes before the server reads any).
   */
  const sendUnfinished = async (client: RawClient, total: number, size: number) => {
    const fragment = 'x'.repeat(size);
    for (let sent = 0; sent < total && client.ws.readyState === WebSocket.OPEN; sent += size) {
      client.ws.send(fragment, { fin: false });
      client.ws.ping();
      await roundTrip(client);
    }
  };

  serverForSuite({}, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('is refused with 1009 when the fragments add up to one byte over max_message_size', async () => {
    const client = await connect();
    const message = JSON.stringify({ event: 'pusher:ping', data: { pad: '' } });
    const padded = message.replace('"pad":""', `"pad":"${'x'.repeat(limit + 1 - message.length)}"`);
    client.ws.send(padded.slice(0, limit / 2), { fin: false });
    client.ws.send(padded.slice(limit / 2), { fin: true });
    assert.equal((await client.waitForClose()).code, 1009);
  });

  it('is cut off once the unfinished part passes the bound (twice max_message_size at most)', async () => {
    const client = await connect();
    await sendUnfinished(client, 3 * limit, 1000);
    assert.equal((await client.waitForClose()).code, cutOff());
  });

  it('cannot make the server hold a megabyte per connection', async () => {
    const attackers = await Promise.all(Array.from({ length: 40 }, () => connect()));
    const sampler = new RssSampler(server.process.pid!);
    try {
      // 1 MB each in 4 KB fragments: 40 MB if the server kept it.
      await Promise.all(attackers.map((attacker) => sendUnfinished(attacker, 1_000_000, 4000)));
      sampler.sample();
      assert.ok(sampler.growth < 20, `the server grew by ${sampler.growth.toFixed(1)} MiB`);
      for (const attacker of attackers) assert.equal((await attacker.waitForClose()).code, cutOff());
    } finally {
      sampler.stop();
    }
  });
});
