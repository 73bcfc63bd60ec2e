import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pusher } from '../helpers/pusher-js.js';
import { serverForSuite, type StartedServer } from '../helpers/server.js';

describe('reverb start without any configuration', () => {
  let server: StartedServer;
  serverForSuite({ noConfigFile: true, args: ['--host', '127.0.0.1', '--port', '0'] }, { started: (started) => (server = started) });

  it('prints the development app credentials and serves pusher-js with them', async () => {
    assert.match(server.output(), /app_id reverb-dev, key reverb-dev-key, secret reverb-dev-secret/);
    const port = Number(/Starting server on 127\.0\.0\.1:(\d+)/.exec(server.output())![1]);
    const client = new Pusher('reverb-dev-key', { wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], cluster: '' });
    try {
      const socketId = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('pusher-js did not connect')), 5000);
        client.connection.bind('connected', () => {
          clearTimeout(timer);
          resolve(client.connection.socket_id);
        });
      });
      assert.match(socketId, /^\d+\.\d+$/);
    } finally {
      client.disconnect();
    }
  });
});
