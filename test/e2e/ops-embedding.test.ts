import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Pusher } from '../helpers/pusher-js.js';
import { createServer, type ServerHooks } from '../../src/index.js';
import { eventually } from '../helpers/clients.js';
import { DEFAULT_APP } from '../helpers/server.js';
import { hmac } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  return eventually(() => assert.ok(check(), `timed out waiting for ${what}`), timeoutMs);
}

const CONFIG = {
  servers: { reverb: { host: '127.0.0.1', port: 0 } },
  apps: { provider: 'config', apps: [DEFAULT_APP] },
};

describe('embedding: createServer()', () => {
  it('runs the server in this process and fires the typed hooks in order', async () => {
    const seen: string[] = [];
    const socketIds = new Set<string>();
    const hooks: ServerHooks = {
      connectionOpened: (c) => {
        socketIds.add(c.socketId);
        seen.push(`opened ${c.appId}`);
      },
      subscribed: (c) => seen.push(`subscribed ${c.channel}`),
      messageReceived: (c) => seen.push(`message ${(JSON.parse(c.message) as { event: string }).event}`),
      unsubscribed: (c) => seen.push(`unsubscribed ${c.channel}`),
      connectionClosed: (c) => {
        socketIds.add(c.socketId);
        seen.push(`closed ${typeof c.code}`);
      },
    };
    const server = await createServer({ config: CONFIG, env: {}, hooks });
    const pusher = new Pusher(DEFAULT_APP.key, {
      wsHost: '127.0.0.1',
      wsPort: server.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      cluster: '',
      channelAuthorization: {
        transport: 'ajax',
        endpoint: '',
        customHandler: ({ socketId, channelName }, callback) =>
          callback(null, { auth: `${DEFAULT_APP.key}:${hmac(DEFAULT_APP.secret, `${socketId}:${channelName}`)}` }),
      },
    });
    try {
      const channel = pusher.subscribe('private-orders');
      await until('the subscription', () => channel.subscribed);
      assert.equal(channel.trigger('client-typing', { who: 'ada' }), true);
      await until('the client event', () => seen.includes('message client-typing'));
      pusher.unsubscribe('private-orders');
      await until('the unsubscription', () => seen.some((entry) => entry.startsWith('unsubscribed')));
      pusher.disconnect();
      await until('the close', () => seen.some((entry) => entry.startsWith('closed')));
      assert.deepEqual(seen, [
        `opened ${DEFAULT_APP.app_id}`,
        'message pusher:subscribe',
        'subscribed private-orders',
        'message client-typing',
        'message pusher:unsubscribe',
        'unsubscribed private-orders',
        'closed number',
      ]);
      assert.equal(socketIds.size, 1, 'every hook names the same connection');
    } finally {
      pusher.disconnect();
      await server.close();
    }
  });

  it('close() ends connections with 4200 and stops listening', async () => {
    const server = await createServer({ config: CONFIG, env: {} });
    const client = await RawClient.connect(`ws://127.0.0.1:${server.port}/app/${DEFAULT_APP.key}`);
    assert.equal(server.connections, 1);
    await server.close();
    const error = await client.nextEvent('pusher:error');
    assert.equal(JSON.parse(error.data as string).code, 4200);
    assert.equal((await client.waitForClose()).code, 4200);
    assert.equal(server.connections, 0);
    // Nothing listens any more.
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});
