/**
 * Resource limits on a WebSocket: inbound message size (close 1009) and slow
 * consumers whose unsent output exceeds `max_buffered_output` (close 4100).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, channelInfo, eventually } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;
const TINY_APP: TestApp = { ...DEFAULT_APP, app_id: 'tiny', key: 'tiny-key', secret: 'tiny-secret', max_message_size: 100 };
const LARGE_APP: TestApp = {
  ...DEFAULT_APP,
  app_id: 'large',
  key: 'large-key',
  secret: 'large-secret',
  max_message_size: 1_000_000,
  max_presence_user_info_size: 100_000,
};

/** `{"event":"pusher:ping","data":{"pad":"xxx…"}}` padded to exactly `bytes` bytes. */
function pingOfSize(bytes: number): string {
  const empty = JSON.stringify({ event: 'pusher:ping', data: { pad: '' } });
  return JSON.stringify({ event: 'pusher:ping', data: { pad: 'x'.repeat(bytes - empty.length) } });
}

describe('limits', () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async (target: TestApp = DEFAULT_APP) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${target.key}`);
    clients.push(client);
    return client;
  };

  serverForSuite({ apps: [DEFAULT_APP, TINY_APP, LARGE_APP], server: { max_buffered_output: 65536, max_request_size: 1_000_000 } }, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.close()),
  });

  describe('max_message_size', () => {
    it('accepts a message of exactly max_message_size bytes', async () => {
      const client = await connect(TINY_APP);
      client.send(pingOfSize(100));
      assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
    });

    it('closes with 1009 when a message is one byte over the app limit', async () => {
      const client = await connect(TINY_APP);
      client.send(pingOfSize(101));
      const { code } = await client.waitForClose();
      assert.equal(code, 1009);
      assert.equal(client.frames.length, 0);
    });

    it('closes with 1009 over the default 10 000 bytes', async () => {
      const client = await connect();
      client.send(pingOfSize(10_001));
      assert.equal((await client.waitForClose()).code, 1009);
    });

    it('allows a 20 KB subscribe on an app with a 1 MB limit', async () => {
      const client = await connect(LARGE_APP);
      const channelData = JSON.stringify({ user_id: 'big', user_info: { bio: 'b'.repeat(20_000) } });
      const reply = await client.subscribe('presence-big', { key: LARGE_APP.key, secret: LARGE_APP.secret, channelData });
      assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
    });

    it('cleans up after the 1009 close: member_removed to the others', async () => {
      const watcher = await connect();
      await watcher.subscribe('presence-size', { key, secret, channelData: { user_id: 'w' } });
      const offender = await connect();
      await offender.subscribe('presence-size', { key, secret, channelData: { user_id: 'o' } });
      await watcher.nextEvent('pusher_internal:member_added');
      offender.send(pingOfSize(20_000));
      assert.equal((await offender.waitForClose()).code, 1009);
      assert.equal(await watcher.nextRaw(), '{"event":"pusher_internal:member_removed","data":"{\\"user_id\\":\\"o\\"}","channel":"presence-size"}');
    });
  });

  describe('slow consumers', () => {
    it('closes a client that stops reading with 4100 once max_buffered_output is exceeded; others keep receiving', async () => {
      const api = apiClient(server);
      const slow = await connect();
      const fast = await connect();
      await slow.subscribe('firehose');
      await fast.subscribe('firehose');
      const watcher = await connect();
      await watcher.subscribe('presence-firehose', { key, secret, channelData: { user_id: 'watcher' } });
      await slow.subscribe('presence-firehose', { key, secret, channelData: { user_id: 'slow' } });
      await watcher.nextEvent('pusher_internal:member_added');
      let fastReceived = 0;
      fast.ws.on('message', () => fastReceived++);
      const subscribers = async () => (await channelInfo(api, 'firehose', 'subscription_count')).subscription_count;

      // Stop reading: the kernel buffers fill, then the server's own output queue grows
      // until it passes max_buffered_output (64 KiB here) and the server cuts the client off.
      const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const payload = 'x'.repeat(400_000);
      let published = 0;
      let cutOffBy = -1;
      while (cutOffBy < 0 && published < 200) {
        await api.trigger('firehose', 'big', `${published++}:${payload}`);
        if ((await subscribers()) === 1) cutOffBy = published;
      }
      assert.ok(cutOffBy > 0, `still subscribed after ${published} events of 400 KB`);
      // The slow client left its channels at once: presence members see it go.
      assert.equal(await watcher.nextRaw(), '{"event":"pusher_internal:member_removed","data":"{\\"user_id\\":\\"slow\\"}","channel":"presence-firehose"}');
      // Nothing more is queued for it, however much is published.
      for (let i = 0; i < 5; i++) await api.trigger('firehose', 'big', `${published++}:${payload}`);
      socket.resume();

      const { code } = await slow.waitForClose(10_000);
      assert.equal(code, 4100);
      const events = slow.frames.filter((frame) => frame.startsWith('{"event":"big"'));
      const others = slow.frames.filter((frame) => !frame.startsWith('{"event":"big"'));
      assert.deepEqual(others, ['{"event":"pusher:error","data":"{\\"code\\":4100,\\"message\\":\\"Over capacity: the client is not reading fast enough\\"}"}']);
      const order = events.map((frame) => Number(/"data":"(\d+):/.exec(frame)![1]));
      assert.deepEqual(order, Array.from({ length: order.length }, (_, i) => i), 'a prefix of the stream, in order');
      assert.ok(order.length <= cutOffBy, `the slow client got ${order.length} events, but was cut off by event ${cutOffBy}`);

      // Everybody else got everything, in order.
      await eventually(() => assert.equal(fastReceived, published), 10_000);
      const fastOrder = fast.frames.map((frame) => Number(/"data":"(\d+):/.exec(frame)![1]));
      assert.deepEqual(fastOrder, Array.from({ length: published }, (_, i) => i));
      const probe = await connect();
      probe.send({ event: 'pusher:ping' });
      assert.equal(await probe.nextRaw(), '{"event":"pusher:pong"}');
    });
  });
});
