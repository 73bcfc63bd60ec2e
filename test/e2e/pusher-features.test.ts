/**
 * Pusher's opt-in client features with the real pusher-js: subscription_count
 * events (coalesced per sweep) and authorized connections (closed with 4009
 * unless they sign in or join a private/presence channel in time).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, channelInfo, connectPusherJs, waitFor } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';
import type { Pusher } from '../helpers/pusher-js.js';

const COUNTING: TestApp = { ...DEFAULT_APP, app_id: 'counting', key: 'counting-key', secret: 'counting-secret', subscription_count_events: true };
const STRICT: TestApp = { ...DEFAULT_APP, app_id: 'strict', key: 'strict-key', secret: 'strict-secret', authorized_connections_timeout: 1 };

describe('pusher features', () => {
  let server: StartedServer;
  const pushers: Pusher[] = [];
  const raws: RawClient[] = [];

  serverForSuite({ apps: [DEFAULT_APP, COUNTING, STRICT] }, {
    started: (started) => (server = started),
    stopping: () => {
      for (const pusher of pushers) pusher.disconnect();
      for (const raw of raws) raw.close();
    },
  });

  const pusherJs = async (app: TestApp) => {
    const pusher = await connectPusherJs(server, { app });
    pushers.push(pusher);
    return pusher;
  };

  describe('subscription_count', () => {
    it('tells subscribers the count once per burst, via pusher:subscription_count', async () => {
      const first = await pusherJs(COUNTING);
      const counts: number[] = [];
      const channel = first.subscribe('room');
      channel.bind('pusher:subscription_count', (data: { subscription_count: number }) => counts.push(data.subscription_count));
      await waitFor('the first count', (resolve) => channel.bind('pusher:subscription_count', resolve));
      assert.deepEqual(counts, [1]);
      // A burst of four joins: one message with the final count.
      const others = await Promise.all([1, 2, 3, 4].map(() => pusherJs(COUNTING)));
      for (const other of others) other.subscribe('room');
      await waitFor('count 5', (resolve) => channel.bind('pusher:subscription_count', (data: { subscription_count: number }) => data.subscription_count === 5 && resolve(undefined)), 5000);
      assert.ok(counts.length <= 3, `coalesced: ${JSON.stringify(counts)}`);
      assert.equal(counts.at(-1), 5);
      assert.equal(channel.subscriptionCount, 5);
      others[0]!.unsubscribe('room');
      await waitFor('count 4', (resolve) => channel.bind('pusher:subscription_count', (data: { subscription_count: number }) => data.subscription_count === 4 && resolve(undefined)), 5000);
    });

    it('is off by default and never sent on presence channels', async () => {
      const raw = await RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
      raws.push(raw);
      await raw.subscribe('quiet');
      const counting = await RawClient.connect(`${server.wsUrl}/app/${COUNTING.key}`);
      raws.push(counting);
      await counting.subscribe('presence-room', { key: COUNTING.key, secret: COUNTING.secret, channelData: { user_id: 'u' } });
      await raw.expectSilence(1500);
      await counting.expectSilence(200);
      assert.equal((await channelInfo(apiClient(server), 'quiet', 'subscription_count')).subscription_count, 1);
    });
  });

  describe('authorized connections', () => {
    it('closes a connection that neither signs in nor joins a private channel in time with 4009', async () => {
      const idle = await RawClient.connect(`${server.wsUrl}/app/${STRICT.key}`);
      raws.push(idle);
      await idle.subscribe('public-only');
      const member = await RawClient.connect(`${server.wsUrl}/app/${STRICT.key}`);
      raws.push(member);
      await member.subscribe('private-ok', { key: STRICT.key, secret: STRICT.secret });
      const started = Date.now();
      assert.equal(await idle.nextRaw(4000), '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"Connection not authorized within timeout\\"}"}');
      assert.equal((await idle.waitForClose(3000)).code, 4009);
      assert.ok(Date.now() - started < 3500);
      await member.expectSilence(500);
      assert.equal(member.closeCode, undefined);
    });
  });
});
