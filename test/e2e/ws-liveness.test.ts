/**
 * Liveness: pusher:ping / pong, WebSocket control frames, the server's own
 * pings to silent connections and the 4201 close when they stay silent.
 * The app pings after 0.3 s of silence and waits 0.6 s for an answer, so
 * "answered" (a second ping after 0.3 s) and "not answered" (4201 after
 * 0.6 s) cannot be confused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { apiClient, channelInfo, eventually } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const LIVE_APP: TestApp = { ...DEFAULT_APP, ping_interval: 0.3, pong_timeout: 0.6 };
const PING = '{"event":"pusher:ping"}';
const PRUNED = '{"event":"pusher:error","data":"{\\"code\\":4201,\\"message\\":\\"Pong reply not received in time\\"}"}';

// Independent connections and the timings above: the tests run side by side to keep the file fast.
describe('liveness', { concurrency: true }, () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async (options: WebSocket.ClientOptions = {}) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${LIVE_APP.key}`, options);
    clients.push(client);
    return client;
  };
  /** Counts WS ping control frames the client receives. */
  const countPings = (client: RawClient) => {
    const state = { count: 0, waiters: [] as (() => void)[] };
    client.ws.on('ping', () => {
      state.count++;
      for (const wake of state.waiters.splice(0)) wake();
    });
    return {
      get count() {
        return state.count;
      },
      next(timeoutMs = 3000): Promise<void> {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('timed out waiting for a WS ping frame')), timeoutMs);
          state.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      },
    };
  };

  serverForSuite({ apps: [LIVE_APP] }, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('answers pusher:ping with exactly {"event":"pusher:pong"}', async () => {
    const client = await connect();
    client.send({ event: 'pusher:ping', data: {} });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
    // Some clients send data as a JSON string or not at all.
    client.send({ event: 'pusher:ping', data: '{}' });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
    client.send({ event: 'pusher:ping' });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  });

  it('answers a WebSocket ping frame with a pong frame carrying the same payload', async () => {
    const client = await connect();
    const pong = new Promise<string>((resolve) => client.ws.once('pong', (data) => resolve(data.toString())));
    client.ws.ping('are-you-there');
    assert.equal(await pong, 'are-you-there');
  });

  it('pings a silent, unsubscribed connection after ping_interval, then closes it with 4201 after the pong timeout', async () => {
    const started = Date.now();
    const client = await connect();
    assert.equal(await client.nextRaw(2000), PING);
    const pingedAfter = Date.now() - started;
    assert.ok(pingedAfter >= 250, `pinged after ${pingedAfter} ms, before ping_interval`);
    assert.equal(await client.nextRaw(2000), PRUNED);
    const { code } = await client.waitForClose(2000);
    assert.equal(code, 4201);
    const closedAfterPing = Date.now() - started - pingedAfter;
    assert.ok(closedAfterPing >= 400, `closed ${closedAfterPing} ms after the ping, before pong_timeout`);
  });

  it('pings subscribed connections too, and pruning unsubscribes them', async () => {
    const client = await connect();
    await client.subscribe('liveness-channel');
    const api = apiClient(server, LIVE_APP);
    assert.equal((await channelInfo(api, 'liveness-channel')).occupied, true);
    assert.equal(await client.nextRaw(2000), PING);
    assert.equal(await client.nextRaw(2000), PRUNED);
    assert.equal((await client.waitForClose(2000)).code, 4201);
    await eventually(async () => assert.equal((await channelInfo(api, 'liveness-channel')).occupied, false));
  });

  it('keeps a connection that answers pusher:ping with pusher:pong', async () => {
    const client = await connect();
    assert.equal(await client.nextRaw(2000), PING);
    client.send({ event: 'pusher:pong', data: {} });
    // Answered: the next thing is a fresh ping after another ping_interval, not the 4201 close.
    assert.equal(await client.nextRaw(2000), PING);
    client.send({ event: 'pusher:pong', data: {} });
    assert.equal(await client.nextRaw(2000), PING);
    assert.equal(client.closeCode, undefined);
  });

  it('counts any inbound frame as activity, even an invalid one', async () => {
    const client = await connect();
    assert.equal(await client.nextRaw(2000), PING);
    client.send('Hi');
    assert.equal(await client.nextRaw(), '{"event":"pusher:error","data":"{\\"code\\":4200,\\"message\\":\\"Invalid message format\\"}"}');
    assert.equal(await client.nextRaw(2000), PING);
    client.send({ event: 'client-whatever', channel: 'private-nope' });
    await client.nextEvent('pusher:error');
    assert.equal(await client.nextRaw(2000), PING);
    assert.equal(client.closeCode, undefined);
  });

  it('counts a WebSocket pong frame as activity', async () => {
    const client = await connect();
    assert.equal(await client.nextRaw(2000), PING);
    client.ws.pong();
    assert.equal(await client.nextRaw(2000), PING, 'pinged again instead of being closed');
  });

  it('pings a client that used a WS ping frame with WS ping frames instead of pusher:ping', async () => {
    const client = await connect();
    const pings = countPings(client);
    const pong = new Promise<void>((resolve) => client.ws.once('pong', () => resolve()));
    client.ws.ping();
    await pong;
    await pings.next(2000);
    // ws answers the server's ping automatically, which keeps the connection alive: pinged again.
    await pings.next(2000);
    assert.equal(client.frames.length, 0, `no pusher:ping text frames: ${client.frames.join(' ')}`);
    assert.equal(client.closeCode, undefined);
  });

  it('closes a control-frame client that does not answer the WS ping with 4201', async () => {
    const client = await connect({ autoPong: false });
    const pings = countPings(client);
    client.ws.ping();
    await pings.next(2000);
    assert.equal(await client.nextRaw(2000), PRUNED);
    assert.equal((await client.waitForClose(2000)).code, 4201);
    assert.equal(pings.count, 1);
  });
});
