/**
 * Descriptor exhaustion: a server run under a small open-file limit (256)
 * is filled with WebSocket clients until it refuses more. At the limit new
 * connections are refused at once (the listener is closed), the server does
 * not spin on accept (uWS would retry EMFILE at 100 % CPU), open clients and a
 * keep-alive HTTP connection are still served, one warning is logged, and it
 * accepts again once clients leave.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawSocket, connectClient, join } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import { signedQuery } from '../helpers/sign.js';
import type { RawClient } from '../helpers/ws-client.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0 && existsSync('/proc/self/limits');
const LIMIT = 256;
/** Far more than fit under LIMIT: filling stops at the first refusal. */
const MAX_CLIENTS = 2 * LIMIT;
const WARNING = /WARN: Out of file descriptors \(open-file limit 256\)/;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (100 ticks a second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A WebSocket client, or the error that refused it; bounded, since a connection in a full backlog would wait. */
async function tryConnect(server: StartedServer): Promise<RawClient | Error> {
  const attempt = connectClient(server);
  const timeout = sleep(3000, new Error('no answer within 3 s'), { ref: false });
  const result = await Promise.race([attempt, timeout]).catch((error: Error) => error);
  if (result instanceof Error) void attempt.then((client) => client.close(), () => undefined);
  return result;
}

/** How a new TCP connection ends: 'connected' or the error code, with the time it took. */
function tcpAttempt(server: StartedServer): Promise<{ outcome: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(server.port, server.host);
    const done = (outcome: string) => {
      socket.destroy();
      resolve({ outcome, ms: performance.now() - started });
    };
    socket.setTimeout(3000, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** One request on an open keep-alive connection; `path` is signed unless it is /up. */
async function keepAliveRequest(socket: RawSocket, server: StartedServer, method: string, path: string, body = ''): Promise<number> {
  const query =
    path === '/up' ? '' : `?${new URLSearchParams(signedQuery({ method, path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body }))}`;
  socket.received = '';
  socket.write(
    `${method} ${path}${query} HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return (await socket.response()).status;
}

describe('at the open-file limit', { skip: !hasPrlimit && 'needs prlimit and /proc' }, () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  serverForSuite(
    { wrapper: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`] },
    {
      started: (started) => (server = started),
      stopping: () => clients.forEach((client) => client.close()),
    },
  );

  it('refuses new connections at once, keeps serving the open ones without spinning, and accepts again when some close', async () => {
    const subscriber = await connectClient(server);
    clients.push(subscriber);
    await join(subscriber, 'descriptors');
    const keepAlive = await RawSocket.open(server.port);
    try {
      assert.equal(await keepAliveRequest(keepAlive, server, 'GET', '/up'), 200);

      let refusal: Error | undefined;
      while (!refusal && clients.length < MAX_CLIENTS) {
        const result = await tryConnect(server);
        if (result instanceof Error) refusal = result;
        else clients.push(result);
      }
      assert.ok(refusal, `${clients.length} clients connected under a limit of ${LIMIT} descriptors`);
      assert.ok(clients.length > LIMIT / 2, `refused after only ${clients.length} clients`);

      // Until the server notices (within 250 ms), Node accepts and drops, uWS leaves the client in the backlog;
      // then the listener is closed and the kernel refuses at once.
      await server.waitForOutput(WARNING, 2000);
      const attempt = await tcpAttempt(server);
      assert.equal(attempt.outcome, 'ECONNREFUSED');
      assert.ok(attempt.ms < 500, `refusing took ${attempt.ms} ms`);

      // Open connections are served: the API over the keep-alive connection, a broadcast to the subscriber.
      assert.equal(await keepAliveRequest(keepAlive, server, 'GET', '/up'), 200);
      const event = '{"name":"still-here","data":"1","channels":["descriptors"]}';
      assert.equal(await keepAliveRequest(keepAlive, server, 'POST', `/apps/${DEFAULT_APP.app_id}/events`, event), 200);
      assert.equal((await subscriber.nextEvent('still-here')).data, '1');

      const before = cpuSeconds(server.process.pid!);
      await sleep(1000);
      const used = cpuSeconds(server.process.pid!) - before;
      assert.ok(used < 0.25, `the server used ${used.toFixed(2)} s of CPU in 1 s at the limit`);
      assert.equal(server.output().split('WARN: Out of file descriptors').length - 1, 1, server.output());
    } finally {
      keepAlive.destroy();
    }

    // Half the clients leave: the server listens again.
    for (const client of clients.splice(1, clients.length / 2)) client.close();
    await server.waitForOutput(/INFO: File descriptors are available again: accepting new connections/, 5000);
    const fresh = await connectClient(server);
    clients.push(fresh);
    assert.equal((await fetch(`${server.url}/up`, { signal: AbortSignal.timeout(3000) })).status, 200);
  });
});
